"""The CLI through its real entry point: exit codes, messages, output files."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
TEXTS = (["my refund was not received", "still waiting for my refund", "where is my refund after two weeks"] * 6
         + ["the app crashes on startup", "app keeps crashing when I scan", "mobile app crashed again"] * 6
         + ["=HYPERLINK(\"http://evil.example\",\"x\") my refund is late", "", "mail me at jane@example.com, refund?"])


def feedback(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "feedback", *args], capture_output=True, text=True, input=stdin,
                          timeout=300)


@pytest.fixture(scope="module")
def feedback_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "feedback.csv"
    pd.DataFrame({"feedback_id": [f"F{i}" for i in range(len(TEXTS))], "customer_id": [f"C{i % 9}" for i in range(len(TEXTS))],
                  "created_at": pd.date_range("2026-03-02", periods=len(TEXTS), freq="12h").astype(str),
                  "channel": "email", "text": TEXTS}).to_csv(path, index=False)
    return path


def test_help_lists_every_command():
    out = feedback("--help")
    assert out.returncode == 0
    for command in ("report", "analyze", "score", "themes", "kpis", "impact", "sample"):
        assert command in out.stdout


@pytest.mark.parametrize("command", ["report", "analyze", "score", "kpis", "impact", "sample"])
def test_every_subcommand_has_help(command):
    out = feedback(command, "--help")
    assert out.returncode == 0 and "usage:" in out.stdout


def test_analyze_writes_rows_with_the_contract_columns(feedback_csv, tmp_path):
    out = tmp_path / "scored.csv"
    run = feedback("analyze", str(feedback_csv), "--out", str(out), "--n-themes", "2")
    assert run.returncode == 0, run.stderr
    assert "rows read: 39, used: 38, skipped: 1 (empty_text 1)" in run.stderr
    scored = pd.read_csv(out, keep_default_na=False)
    assert len(scored) == len(TEXTS)
    for column in ("sentiment", "sentiment_label", "theme_id", "theme_label", "themes"):
        assert column in scored.columns
    assert scored.loc[36, "text"].startswith("'=HYPERLINK")  # formula injection neutralized
    assert "jane@example.com" not in scored["clean_text"].str.cat()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".json"])
def test_analyze_output_format_follows_the_suffix(feedback_csv, tmp_path, suffix):
    out = tmp_path / f"scored{suffix}"
    assert feedback("analyze", str(feedback_csv), "--out", str(out), "--n-themes", "2").returncode == 0
    frame = pd.read_parquet(out) if suffix == ".parquet" else pd.read_json(out, lines=suffix == ".jsonl")
    assert len(frame) == len(TEXTS)


def test_missing_text_column_is_exit_2_with_a_fix(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("Comment,Score\nthe app is slow every single morning,3\n", encoding="utf-8")
    run = feedback("analyze", str(path), "--out", str(tmp_path / "o.csv"))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "no column 'text'" in run.stderr and "--text-column 'Comment'" in run.stderr


def test_missing_data_folder_is_exit_2(tmp_path):
    run = feedback("report", str(tmp_path / "nope"), "--out", str(tmp_path / "r.html"))
    assert run.returncode == 2 and "no such file or folder" in run.stderr and "Traceback" not in run.stderr


def test_bad_option_value_is_exit_2(feedback_csv, tmp_path):
    run = feedback("analyze", str(feedback_csv), "--out", str(tmp_path / "o.csv"), "--n-themes", "many")
    assert run.returncode == 2 and "n_themes" in run.stderr


def test_unknown_output_suffix_is_exit_2(feedback_csv, tmp_path):
    run = feedback("analyze", str(feedback_csv), "--out", str(tmp_path / "o.xyz"))
    assert run.returncode == 2 and ".xyz" in run.stderr


def test_score_reads_stdin_and_prints_json():
    run = feedback("score", "-", "--json", stdin="I have been waiting 3 weeks. I want to cancel my account.")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["label"] == "negative" and result["churn_intent"] is True
    assert "I want to cancel my account." in result["drivers"]


def test_themes_fit_show_and_reuse(feedback_csv, tmp_path):
    model = tmp_path / "model"
    assert feedback("themes", "fit", str(feedback_csv), "--out", str(model), "--n-themes", "2").returncode == 0
    shown = feedback("themes", "show", str(model))
    assert shown.returncode == 0 and "refund" in shown.stdout and "phrases:" in shown.stdout
    out = tmp_path / "o.csv"
    assert feedback("analyze", str(feedback_csv), "--out", str(out), "--themes", str(model)).returncode == 0


def test_themes_show_of_a_wrong_folder_is_exit_2(tmp_path):
    run = feedback("themes", "show", str(tmp_path))
    assert run.returncode == 2 and "feedback themes fit" in run.stderr


def test_kpis_json_contract(tmp_path):
    run = feedback("kpis", str(SAMPLE), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    names = {"csat", "nps", "ces", "churn_rate", "retention_rate", "clv", "cac", "clv_cac", "fcr", "aht_minutes",
             "resolution_hours", "first_response_hours"}
    assert names <= set(result["overall"])
    assert result["periods"][0]["period"].startswith("2026-W")
    assert 0 <= result["overall"]["csat"]["value"] <= 1


def test_kpis_of_feedback_without_scores_are_null(feedback_csv):
    result = json.loads(feedback("kpis", str(feedback_csv), "--json").stdout)
    assert result["overall"]["csat"]["value"] is None
    assert result["overall"]["churn_rate"]["value"] is None


def test_report_and_impact_on_the_sample(tmp_path):
    out = tmp_path / "report.html"
    run = feedback("report", str(SAMPLE), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 10_000
    impact = feedback("impact", str(SAMPLE), "--json")
    records = json.loads(impact.stdout)
    assert list(records[0])[:11] == ["theme_id", "theme_label", "mentions", "affected_customers", "mean_sentiment",
                                     "churn_rate_affected", "churn_rate_unaffected", "churn_lift", "churn_lift_ci",
                                     "revenue_at_risk", "priority"]
    assert [r["priority"] for r in records] == sorted((r["priority"] for r in records), reverse=True)


def test_same_input_gives_byte_identical_report(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    assert feedback("report", str(SAMPLE), "--out", str(a)).returncode == 0
    assert feedback("report", str(SAMPLE), "--out", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()


def test_sample_command_reproduces_the_shipped_feedback(tmp_path):
    run = feedback("sample", "--out", str(tmp_path / "s"), "--customers", "100", "--weeks", "2")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "s" / "feedback.csv").exists()
