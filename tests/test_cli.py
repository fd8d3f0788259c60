"""The CLI through its real entry point: exit codes, messages, output files."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
TEXTS = (
    ["my refund was not received", "still waiting for my refund", "where is my refund after two weeks"] * 6
    + ["the app crashes on startup", "app keeps crashing when I scan", "mobile app crashed again"] * 6
    + ['=HYPERLINK("http://evil.example","x") my refund is late', "", "mail me at jane@example.com, refund?"]
)


def feedback(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "feedback", *args], capture_output=True, text=True, input=stdin, timeout=900
    )  # generous: a loaded CI machine is slow to import


@pytest.fixture(scope="module")
def feedback_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "feedback.csv"
    pd.DataFrame(
        {
            "feedback_id": [f"F{i}" for i in range(len(TEXTS))],
            "customer_id": [f"C{i % 9}" for i in range(len(TEXTS))],
            "created_at": pd.date_range("2026-03-02", periods=len(TEXTS), freq="12h").astype(str),
            "channel": "email",
            "text": TEXTS,
        }
    ).to_csv(path, index=False)
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
    assert scored.loc[36, "text"].startswith("=HYPERLINK")  # the user's own text, as given
    guarded = tmp_path / "guarded.csv"
    assert (
        feedback("analyze", str(feedback_csv), "--out", str(guarded), "--n-themes", "2", "--csv-safe").returncode == 0
    )
    assert pd.read_csv(guarded, keep_default_na=False).loc[36, "text"].startswith("'=HYPERLINK")  # for a spreadsheet
    # one number per theme tag, as a JSON array (a leading "-" would otherwise meet the formula guard)
    per_tag = [json.loads(v) for v in scored["theme_sentiment"]]
    assert [len(v) for v in per_tag] == [len(str(t).split("; ")) if str(t) else 0 for t in scored["theme_ids"]]
    assert any(v and v[0] < 0 for v in per_tag)
    assert "jane@example.com" not in scored["clean_text"].str.cat()


def test_analyze_takes_a_data_folder_like_report(feedback_csv, tmp_path):
    """`feedback report FOLDER` works, so users type `feedback analyze FOLDER` too: its feedback table is read."""
    out = tmp_path / "scored.csv"
    run = feedback("analyze", str(feedback_csv.parent), "--out", str(out), "--n-themes", "2")
    assert run.returncode == 0, run.stderr
    assert "rows read: 39, used: 38" in run.stderr and len(pd.read_csv(out)) == len(TEXTS)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x", encoding="utf-8")
    run = feedback("analyze", str(empty), "--out", str(out))
    assert run.returncode == 2 and "no feedback.csv" in run.stderr and "notes.txt" in run.stderr


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".json"])
def test_analyze_output_format_follows_the_suffix(feedback_csv, tmp_path, suffix):
    out = tmp_path / f"scored{suffix}"
    assert feedback("analyze", str(feedback_csv), "--out", str(out), "--n-themes", "2").returncode == 0
    frame = pd.read_parquet(out) if suffix == ".parquet" else pd.read_json(out, lines=suffix == ".jsonl")
    assert len(frame) == len(TEXTS)


def test_missing_text_column_is_exit_2_with_a_fix(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("Comment,Score\nA1,3\n", encoding="utf-8")  # no column of free text to take as the text
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
    assert "'auto', 'coarser' or 'finer'" in run.stderr


def test_themes_fit_takes_a_coarser_or_finer_granularity(feedback_csv, tmp_path):
    for granularity in ("coarser", "finer"):
        model = tmp_path / granularity
        run = feedback("themes", "fit", str(feedback_csv), "--out", str(model), "--n-themes", granularity)
        assert run.returncode == 0, run.stderr
        assert json.loads((model / "themes.json").read_text())["params"]["n_themes"] == granularity


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
    names = {
        "csat",
        "nps",
        "ces",
        "churn_rate",
        "retention_rate",
        "clv",
        "cac",
        "clv_cac",
        "fcr",
        "aht_minutes",
        "resolution_hours",
        "first_response_hours",
    }
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
    assert list(records[0])[:11] == [
        "theme_id",
        "theme_label",
        "mentions",
        "affected_customers",
        "mean_sentiment",
        "churn_rate_affected",
        "churn_rate_unaffected",
        "churn_lift",
        "churn_lift_ci",
        "revenue_at_risk",
        "priority",
    ]
    assert [r["priority"] for r in records] == sorted((r["priority"] for r in records), reverse=True)
    # the score impact of each theme with its interval, null for a theme without a rated response (a theme only
    # raised by e-mail has no NPS: surveys carry it)
    for score in ("nps", "csat", "ces"):
        rated = [r for r in records if r[f"{score}_impact"] is not None]
        assert len(rated) >= len(records) - 2
        assert all(isinstance(r[f"{score}_impact"], float) and len(r[f"{score}_impact_ci"]) == 2 for r in rated)
        assert all(r[f"{score}_impact_ci"] is None for r in records if r[f"{score}_impact"] is None)


def test_same_input_gives_byte_identical_report(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    assert feedback("report", str(SAMPLE), "--out", str(a)).returncode == 0
    assert feedback("report", str(SAMPLE), "--out", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()


def test_sample_command_reproduces_the_shipped_feedback(tmp_path):
    run = feedback("sample", "--out", str(tmp_path / "s"), "--customers", "100", "--weeks", "2")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "s" / "feedback.csv").exists()


# ------------------------------------------------------------------------------------------ errors a user meets
# In-process through `feedback.cli.main` (the console script's function): one interpreter, fast.


def run_main(capsys, *args) -> tuple[int, str, str]:
    from feedback.cli import main

    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_file_of_two_messages_is_scored_with_no_themes(tmp_path, capsys):
    data = tmp_path / "two.csv"
    pd.DataFrame({"text": ["the app crashes on every start", "my refund never arrived"]}).to_csv(data, index=False)
    code, _, err = run_main(capsys, "analyze", data, "--out", tmp_path / "o.csv", "--workers", "1")
    assert code == 0 and "themes: 0 (no themes: 2 text(s)" in err
    out = pd.read_csv(tmp_path / "o.csv")
    assert out["sentiment_label"].notna().all() and (out["theme_id"] == -1).all()


def test_a_misspelled_text_column_is_named_with_the_close_match(tmp_path, capsys):
    data = tmp_path / "c.csv"
    pd.DataFrame({"id": [1], "comment": ["broken"]}).to_csv(data, index=False)
    code, _, err = run_main(capsys, "analyze", data, "--text-column", "Comment", "--out", tmp_path / "o.csv")
    assert code == 2 and "no column 'Comment' (named by --text-column)" in err and "did you mean 'comment'" in err
    code, _, err = run_main(
        capsys, "analyze", data, "--text-column", "comment", "--id-column", "nope", "--out", tmp_path / "o.csv"
    )
    assert code == 2 and "no column 'nope' (named by --id-column)" in err


def test_report_takes_a_text_column_too(tmp_path, capsys):
    data = tmp_path / "c.csv"
    pd.DataFrame({"id": [1, 2], "comment": ["the app crashes", "refund please"]}).to_csv(data, index=False)
    code, _, err = run_main(
        capsys, "report", data, "--text-column", "comment", "--out", tmp_path / "r.html", "--workers", "1", "--quiet"
    )
    assert code == 0 and (tmp_path / "r.html").stat().st_size > 0


def test_out_that_is_a_folder_and_an_empty_window_are_one_line_errors(tmp_path, capsys, feedback_csv):
    code, _, err = run_main(capsys, "report", feedback_csv, "--out", tmp_path, "--workers", "1", "--quiet")
    assert code == 2 and "is a folder" in err and "Traceback" not in err
    code, _, err = run_main(
        capsys, "report", feedback_csv, "--since", "2026-09-01", "--until", "2026-08-01", "--out", tmp_path / "r.html"
    )
    assert code == 2 and "--since 2026-09-01 is after --until 2026-08-01" in err


def test_rows_outside_the_window_are_outside_whatever_else_is_wrong(tmp_path):
    # an empty text written before --since belongs to no KPI and no count of the report
    from feedback.config import Config
    from feedback.ingest import load_dataset

    data = tmp_path / "f.csv"
    pd.DataFrame(
        {
            "feedback_id": ["a", "b", "c"],
            "created_at": ["2026-01-05", "2026-02-02", "2026-02-03"],
            "text": ["", "fine", ""],
            "csat": [1, 5, 4],
        }
    ).to_csv(data, index=False)
    rows = load_dataset(data, Config(since="2026-02-01")).feedback.set_index("feedback_id")["quality_issue"]
    assert rows.to_dict() == {"a": "outside_period", "b": "", "c": "empty_text"}


def test_sample_refuses_a_negative_size(tmp_path, capsys):
    code, _, err = run_main(capsys, "sample", "--out", tmp_path / "s", "--weeks", "-1")
    assert code == 2 and "at least one customer and one week" in err


def test_score_refuses_empty_text_and_binary_files(tmp_path, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("  \n"))
    code, _, err = run_main(capsys, "score")
    assert code == 2 and "standard input: no text to score" in err
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x7fELF\x00\x00\x01")
    code, _, err = run_main(capsys, "score", binary)
    assert code == 2 and "a binary file, not text" in err


def test_a_header_without_rows_is_a_one_line_error_naming_the_file(tmp_path, capsys):
    data = tmp_path / "header_only.csv"
    data.write_text("id,text\n")
    code, _, err = run_main(capsys, "analyze", data, "--out", tmp_path / "o.csv", "--workers", "1")
    assert code == 2 and f"{data}: no rows to analyze" in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["themes", "fit"], ["sentiment", "fit", "--label-column", "label"]])
def test_out_that_is_a_file_stops_a_fit_before_it_runs(tmp_path, capsys, monkeypatch, command):
    data = tmp_path / "small.csv"
    pd.DataFrame({"text": TEXTS[:6], "label": ["negative", "positive"] * 3}).to_csv(data, index=False)
    monkeypatch.setattr("feedback.pipeline.analyze_feedback", lambda *a, **k: pytest.fail("the fit ran"))
    monkeypatch.setattr("feedback.calibration.fit_calibrated", lambda *a, **k: pytest.fail("the fit ran"))
    for out in (data, data / "model"):  # the file itself, or a folder under it
        code, _, err = run_main(capsys, *command, data, "--out", out)
        assert code == 2 and f"{data}: a file, not a folder to write into" in err and "--out " in err
    code, _, err = run_main(capsys, "sample", "--out", data)
    assert code == 2 and "a file, not a folder" in err


@pytest.mark.parametrize("damage", ["garbage pickle", "truncated pickle", "invalid json"])
def test_a_damaged_model_folder_is_a_one_line_error_naming_the_file(tmp_path, capsys, damage):
    import pickle

    themes, sentiment = tmp_path / "themes_model", tmp_path / "sentiment_model"
    pickled = {
        "garbage pickle": b"\x80\x09garbage",  # pickle raises ValueError: unsupported protocol 9
        "truncated pickle": pickle.dumps(list(range(1000)))[:100],
    }.get(damage, pickle.dumps([]))
    for folder, meta, model in ((themes, "themes.json", "model.pkl"), (sentiment, "meta.json", "model.joblib")):
        folder.mkdir()
        (folder / meta).write_text('{"format_version": 1, "format": 1' + ("" if damage == "invalid json" else "}"))
        (folder / model).write_bytes(pickled)
    broken = "themes.json" if damage == "invalid json" else "model.pkl"
    code, _, err = run_main(capsys, "themes", "show", themes)
    assert code == 2 and f"{themes / broken}: " in err and "feedback themes fit" in err, err
    text = tmp_path / "message.txt"
    text.write_text("my refund never arrived")
    broken = "meta.json" if damage == "invalid json" else "model.joblib"
    code, _, err = run_main(capsys, "score", text, "--sentiment-model", sentiment)
    assert code == 2 and f"{sentiment / broken}: " in err and "feedback sentiment fit" in err, err


def test_themes_fit_reads_a_data_folder_like_analyze(feedback_csv, tmp_path, capsys):
    """`feedback themes fit FOLDER` learns from the folder's feedback.csv; it used to read the folder's e-mails
    (none) and save a model of 0 themes fitted on 0 rows."""
    from feedback.ingest import load_feedback

    assert len(load_feedback(feedback_csv.parent)[0]) == len(TEXTS)
    code, out, err = run_main(capsys, "themes", "fit", feedback_csv.parent, "--out", tmp_path / "q3", "--n-themes", "2")
    assert code == 0 and "2 themes; saved to" in err and "refund" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "feedback.csv").write_text("text\n")
    code, _, err = run_main(capsys, "themes", "fit", empty, "--out", tmp_path / "q4")
    assert code == 2 and f"{empty / 'feedback.csv'}: no rows to learn themes from" in err


def test_a_fit_of_no_themes_says_why_and_show_says_so(tmp_path, capsys):
    one, six = tmp_path / "one.csv", tmp_path / "six.csv"
    pd.DataFrame({"text": ["the app crashes"]}).to_csv(one, index=False)
    pd.DataFrame(
        {
            "text": [
                "the app crashes every day",
                "my refund is late again",
                "login fails with error",
                "shipping took three weeks",
                "the price went up a lot",
                "support never answers the phone",
            ]
        }
    ).to_csv(six, index=False)
    code, _, err = run_main(capsys, "themes", "fit", one, "--out", tmp_path / "m1")
    assert code == 0 and "0 themes; saved to" in err and "1 text(s) with content words, themes need at least 4" in err
    code, out, _ = run_main(capsys, "themes", "show", tmp_path / "m1")
    assert code == 0 and "no themes: 1 text(s) with content words" in out
    # enough texts, but no two alike: no fit note, the reason is the group size no group reached
    code, _, err = run_main(capsys, "themes", "fit", six, "--out", tmp_path / "m6")
    assert code == 0 and "0 themes; saved to" in err and "no themes: no group of at least 3 similar texts" in err
    code, out, _ = run_main(capsys, "themes", "show", tmp_path / "m6")
    assert code == 0 and "no themes: no group of at least 3 similar texts" in out
    code, _, err = run_main(capsys, "analyze", six, "--out", tmp_path / "o.csv", "--workers", "1", "--quiet")
    assert code == 0 and "themes: 0 (no themes: no group of at least 3 similar texts" in err


@pytest.mark.parametrize("seed", [7, 35])
def test_a_binary_file_is_refused_in_one_short_line(tmp_path, capsys, seed):
    """Random bytes named .csv used to give a long list of mojibake column names (seed 35) or a quoting error (7)."""
    import random

    data = tmp_path / "bin.csv"
    data.write_bytes(random.Random(seed).randbytes(2048))
    for command in (["themes", "fit", data, "--out", tmp_path / "m"], ["analyze", data, "--out", tmp_path / "o.csv"]):
        code, _, err = run_main(capsys, *command)
        assert code == 2 and f"{data}: a binary file, not a text table. Fix: " in err and len(err) < 250, err
    # text with a stray NUL from a broken export, and UTF-16 text, are still read
    stray = tmp_path / "stray.csv"
    stray.write_bytes(b"text\n" + "\n".join(TEXTS[:6]).encode() + b"\x00\n")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text("text\n" + "\n".join(TEXTS[:6]) + "\n", encoding="utf-16-le")
    for path in (stray, utf16):
        code, _, err = run_main(capsys, "analyze", path, "--out", tmp_path / "o.csv", "--workers", "1", "--quiet")
        assert code == 0 and "rows read: 6" in err, err
    message = tmp_path / "message.txt"  # `score` shares the check: UTF-16 text is read, not refused as binary
    message.write_text("I have waited three weeks. I want to cancel my account.", encoding="utf-16")
    code, out, err = run_main(capsys, "score", message)
    assert code == 0 and out.startswith("negative"), err


def test_a_feature_set_named_twice_is_used_once(tmp_path, capsys):
    from feedback.calibration import CalibratedScorer

    data = tmp_path / "labelled.csv"
    pd.DataFrame({"text": TEXTS[:18], "label": ["negative", "neutral", "positive"] * 6}).to_csv(data, index=False)
    code, _, err = run_main(
        capsys,
        "sentiment",
        "fit",
        data,
        "--label-column",
        "label",
        "--out",
        tmp_path / "s",
        "--features",
        "embeddings",
        "embeddings",
    )
    assert code == 0, err
    scorer = CalibratedScorer.load(tmp_path / "s")
    assert scorer.meta["features"] == ["embeddings"] and scorer.model.features == ("embeddings",)


def test_refit_help_names_the_add_command(capsys):
    with pytest.raises(SystemExit):
        run_main(capsys, "themes", "refit", "--help")
    help_text = " ".join(capsys.readouterr().out.split())  # as one line, whatever the terminal width
    assert "`feedback add --sentiment-model`" in help_text and "db add" not in help_text
