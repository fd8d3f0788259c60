"""The workspace database: incremental, idempotent adds; reports from stored rows; migrations; lock; crash safety."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from feedback import workspace as W
from feedback.cli import main
from feedback.config import Config
from feedback.errors import InputError
from feedback.impact import impact_records
from feedback.ingest import load_dataset
from feedback.pipeline import analyze_dataset, analyze_stored, build_context
from feedback.report import render_report
from feedback.sample import generate_sample

REPO = Path(__file__).resolve().parents[1]
#: the sample starts on a Monday (2026-07-06); weeks 1-2 go to the first export, weeks 3-4 to the second
SPLIT = pd.Timestamp("2026-07-20")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _export(folder: Path, feedback: pd.DataFrame, customers: pd.DataFrame, tickets: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    feedback.to_csv(folder / "feedback.csv", index=False)
    customers.to_csv(folder / "customers.csv", index=False)
    tickets.to_csv(folder / "tickets.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The sample (200 customers, 4 weeks) as one combined export and as two weekly exports.

    Each weekly export carries that fortnight's feedback and tickets plus the full customers snapshot, like a CRM
    export; the second export therefore overlaps the first on every customer.
    """
    root = tmp_path_factory.mktemp("workspace")
    combined = root / "combined"
    generate_sample(combined, customers=200, weeks=4)
    fb, cust, tk = (_read(combined / f"{n}.csv") for n in ("feedback", "customers", "tickets"))
    early_fb = pd.to_datetime(fb["created_at"]) < SPLIT
    early_tk = pd.to_datetime(tk["opened_at"]) < SPLIT
    w1 = _export(root / "w1", fb[early_fb], cust, tk[early_tk])
    w2 = _export(root / "w2", fb[~early_fb], cust, tk[~early_tk])
    # weekly adds: week 1 fits the model, week 2 is tagged with it
    weekly = root / "weekly.sqlite"
    first = W.add(weekly, w1)
    snapshot = root / "after_w1.sqlite"
    shutil.copy(weekly, snapshot)  # the workspace is one file: a copy is a backup
    second = W.add(weekly, w2)
    # one combined add, tagged with the model the weekly workspace fitted on week 1
    con = W.connect(snapshot)
    model, _ = W.latest_model(con)
    con.close()
    once = root / "once.sqlite"
    W.add(once, combined, theme_model=model)
    return {
        "root": root,
        "combined": combined,
        "w1": w1,
        "w2": w2,
        "weekly": weekly,
        "once": once,
        "after_w1": snapshot,
        "first": first,
        "second": second,
        "model": model,
        "n": {
            "feedback": len(fb),
            "w1": int(early_fb.sum()),
            "w2": int((~early_fb).sum()),
            "customers": len(cust),
            "tickets_w2": int((~early_tk).sum()),
        },
    }


def _stored_result(db, config=None):
    stored = W.load_frames(db)
    return analyze_stored(stored.feedback, stored.customers, stored.tickets, config or Config(), stored.theme_model)


def _ranking(result) -> list[tuple]:
    return [
        (r["theme_id"], r["theme_label"], r["mentions"], r["affected_customers"], round(r["priority"], 6))
        for r in impact_records(result.impact)
    ]


def test_weekly_adds_count_inserts_and_unchanged_overlap(exports):
    n = exports["n"]
    assert exports["first"].counts["feedback"] == {"inserted": n["w1"], "updated": 0, "unchanged": 0}
    assert exports["first"].model_fitted and exports["first"].model_version == 1
    second = exports["second"]
    assert second.counts["feedback"] == {"inserted": n["w2"], "updated": 0, "unchanged": 0}
    assert second.counts["customers"] == {"inserted": 0, "updated": 0, "unchanged": n["customers"]}
    assert second.counts["tickets"]["inserted"] == n["tickets_w2"]
    assert not second.model_fitted and second.model_version == 1  # tagged with the stored model
    assert W.info(exports["weekly"])["rows"] == W.info(exports["once"])["rows"]


def test_two_weekly_adds_report_like_one_combined_add(exports):
    """Same theme model (fitted on week 1): identical KPIs, impact ranking and rendered report."""
    weekly, once = _stored_result(exports["weekly"]), _stored_result(exports["once"])
    assert weekly.kpis == once.kpis
    assert _ranking(weekly) and _ranking(weekly) == _ranking(once)
    assert render_report(build_context(weekly)) == render_report(build_context(once))


def test_stored_analysis_equals_analysis_of_the_files(exports):
    """Reading scores and tags back from the database loses nothing: same KPIs and impact as analyzing the export."""
    config = Config()
    direct = analyze_dataset(load_dataset(exports["combined"], config), config, exports["model"])
    stored = _stored_result(exports["weekly"], config)
    assert stored.kpis == direct.kpis
    assert _ranking(stored) == _ranking(direct)


def test_re_adding_changes_nothing(exports, tmp_path):
    db = tmp_path / "ws.sqlite"
    shutil.copy(exports["weekly"], db)
    before = W.load_frames(db).feedback
    result = W.add(db, exports["combined"])  # overlaps both weekly exports completely
    assert result.counts["feedback"] == {"inserted": 0, "updated": 0, "unchanged": exports["n"]["feedback"]}
    assert result.counts["customers"]["unchanged"] == exports["n"]["customers"]
    pd.testing.assert_frame_equal(W.load_frames(db).feedback, before)


def test_changed_row_is_an_update_that_replaces_the_stored_one(exports, tmp_path):
    db = tmp_path / "ws.sqlite"
    shutil.copy(exports["weekly"], db)
    fb = _read(exports["w2"] / "feedback.csv")
    target = fb["feedback_id"].iloc[0]
    fb.loc[0, "text"] = "The export to CSV is broken again, write to me at jane.doe@example.com please."
    changed = _export(
        tmp_path / "w2b", fb, _read(exports["w2"] / "customers.csv"), _read(exports["w2"] / "tickets.csv")
    )
    result = W.add(db, changed)
    assert result.counts["feedback"] == {"inserted": 0, "updated": 1, "unchanged": len(fb) - 1}
    stored = W.load_frames(db).feedback.set_index("feedback_id")
    assert len(stored) == exports["n"]["feedback"]
    assert stored.loc[target, "clean_text"].startswith("The export to CSV is broken again")
    # PII is redacted before it is stored; the raw text is not kept without --keep-raw
    con = sqlite3.connect(db)
    raw, clean = con.execute("SELECT raw_text, clean_text FROM feedback WHERE feedback_id = ?", (target,)).fetchone()
    con.close()
    assert raw is None and "jane.doe@example.com" not in clean and "export to CSV" in clean


def test_keep_raw_stores_the_raw_text(exports, tmp_path):
    db = tmp_path / "ws.sqlite"
    shutil.copy(exports["after_w1"], db)
    fb = _read(exports["w2"] / "feedback.csv").head(5).copy()
    fb.loc[fb.index[0], "text"] = "Call me on 0201 234 5678 about the refund."
    folder = tmp_path / "raw"
    folder.mkdir()
    fb.to_csv(folder / "feedback.csv", index=False)
    assert main(["add", str(folder), "--db", str(db), "--keep-raw"]) == 0
    con = sqlite3.connect(db)
    raw, clean = con.execute(
        "SELECT raw_text, clean_text FROM feedback WHERE feedback_id = ?", (fb["feedback_id"].iloc[0],)
    ).fetchone()
    con.close()
    assert "0201 234 5678" in raw and "0201 234 5678" not in clean


def test_second_writer_gets_a_clear_lock_message(exports, tmp_path, capsys):
    db = tmp_path / "ws.sqlite"
    shutil.copy(exports["after_w1"], db)
    with W.write_lock(db):
        code = main(["add", str(exports["w2"]), "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"workspace {db} is being updated by process {os.getpid()}; try again when it finishes" in err
    assert W.info(db)["rows"]["feedback"] == exports["n"]["w1"]  # nothing written
    with W.write_lock(db):  # released after the first holder: a later writer gets in
        pass


def test_a_lock_file_that_cannot_be_made_is_an_input_error(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder\n")
    with pytest.raises(InputError, match=r"afile/ws\.sqlite: cannot make the workspace's lock file ws\.sqlite\.lock"):
        with W.write_lock(blocker / "ws.sqlite"):
            pytest.fail("locked a workspace under a file")


def test_pii_is_redacted_even_when_the_config_turns_redaction_off(exports, tmp_path):
    db = tmp_path / "ws.sqlite"
    shutil.copy(exports["after_w1"], db)
    fb = _read(exports["w2"] / "feedback.csv").head(1).copy()
    fb["text"] = "Refund me now, mail jane.doe@example.com or call 0201 234 5678."
    fb["subject"] = "From jane.doe@example.com"
    folder = tmp_path / "pii"
    folder.mkdir()
    fb.to_csv(folder / "feedback.csv", index=False)
    W.add(db, folder, Config(redact_pii=False))  # a report may show raw text; the workspace never stores it
    con = sqlite3.connect(db)
    stored = con.execute(
        "SELECT clean_text, subject, raw_text, sentiment_drivers FROM feedback WHERE feedback_id = ?",
        (fb["feedback_id"].iloc[0],),
    ).fetchone()
    con.close()
    assert stored[2] is None
    assert not any("jane.doe@example.com" in v or "234 5678" in v for v in stored[:2] + stored[3:])


#: a new week about something no stored theme covers (written for this test)
GARAGE_OPENERS = ["Since Monday,", "Hi team,", "Honestly,", "Quick note:", "Ugh,", ""]
GARAGE_BODIES = [
    "the parking garage at your Berlin office is flooded",
    "your office parking garage is flooded again",
    "the office garage flooded and my car is stuck",
    "flooded parking garage at the Berlin office",
    "the garage near your office flooded overnight",
    "water everywhere in the office parking garage",
]
GARAGE_TAILS = ["who pays for the damage?", "this is the second time.", "please send someone.", "", ""]


def test_uncovered_week_is_proposed_as_emerging_and_refit_keeps_persisting_ids(exports, tmp_path, capsys):
    db = tmp_path / "ws.sqlite"
    shutil.copy(exports["after_w1"], db)
    customers = _read(exports["w1"] / "customers.csv")["customer_id"].tolist()
    rows = [
        {
            "feedback_id": f"G{i}",
            "customer_id": customers[i * 7 % len(customers)],
            "created_at": f"2026-07-{20 + i % 5} 10:{i:02d}:00",
            "channel": "email",
            "text": f"{GARAGE_OPENERS[i % 6]} {GARAGE_BODIES[i * 5 % 6]}, {GARAGE_TAILS[i % 5]}".strip(),
        }
        for i in range(40)
    ]
    folder = tmp_path / "garage"
    folder.mkdir()
    pd.DataFrame(rows).to_csv(folder / "feedback.csv", index=False)
    assert main(["add", str(folder), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "theme model: version 1\n" in out + "\n"  # tagged with the stored model, not refitted
    assert "possible emerging themes" in out and "garage" in out.split("possible emerging themes")[1]
    before = {t.theme_id: t.label for t in W.load_frames(db).theme_model.themes_}
    assert main(["themes", "refit", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    stored = W.load_frames(db)
    after = {t.theme_id: t for t in stored.theme_model.themes_}
    assert stored.model_version == 2 and "theme model version 2" in out
    kept = [i for i, t in after.items() if t.status == "kept"]
    emerging = [t for t in after.values() if t.status == "emerging"]
    assert len(kept) >= len(before) // 2
    # a kept theme keeps its label while its texts still say it (themes.LABEL_KEEP_SHARE), else takes its own
    from feedback.text import lemma_string

    texts = stored.feedback.groupby("theme_id")["clean_text"].apply(lambda s: [lemma_string(t).split() for t in s])
    for i in kept:
        if after[i].label != before[i]:  # renamed: few of its texts say the old label any more
            words, docs = lemma_string(before[i]).split(), texts.get(i, [])
            assert sum(all(w in doc for w in words) for doc in docs) < 0.1 * len(docs), (before[i], after[i].label)
    assert sum(after[i].label == before[i] for i in kept) >= len(kept) // 2
    assert any("garage" in t.label for t in emerging) and all(t.theme_id > max(before) for t in emerging)
    assert set(stored.feedback["theme_id"]) <= set(after) | {-1}
    printed = {line.split(":")[0]: line for line in out.splitlines() if ":" in line}
    for theme in after.values():  # each theme on the line of its status
        assert f"[{theme.theme_id}] {theme.label}" in printed[theme.status]
    con = sqlite3.connect(db)
    assert con.execute("SELECT DISTINCT model_version FROM feedback").fetchall() == [(2,)]
    con.close()


#: the second `feedback add` process: imports first, then runs the real CLI when the test says go (so the test
#: does not depend on how long a Python start takes on a loaded machine)
SECOND_ADD = (
    "import sys\nfrom feedback import cli, ingest, pipeline, workspace\nprint('ready', flush=True)\n"
    "sys.stdin.readline()\nsys.exit(cli.main(sys.argv[1:]))"
)


def test_second_add_process_gets_a_clear_lock_message(exports, tmp_path):
    """Two real `feedback add` processes: the second is refused while the first holds the workspace."""
    db = tmp_path / "ws.sqlite"
    shutil.copy(exports["after_w1"], db)
    folder = tmp_path / "small"
    folder.mkdir()
    _read(exports["w2"] / "feedback.csv").head(5).to_csv(folder / "feedback.csv", index=False)
    args = ["add", str(folder), "--db", str(db)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    second = subprocess.Popen(
        [sys.executable, "-c", SECOND_ADD, *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # a reader's SHARED lock holds the first writer at its COMMIT (see the killed-add test), lock file held
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM feedback").fetchone()
    first = subprocess.Popen(
        [sys.executable, "-m", "feedback", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert second.stdout.readline().strip() == "ready"
        for line in first.stderr:
            if line.startswith("feedback: stored 5/5 rows"):
                break
        else:
            pytest.fail("the first add ended before writing: " + first.stdout.read())
        second_out, second_err = second.communicate("go\n", timeout=60)
    finally:
        reader.execute("ROLLBACK")  # let the first add commit
        reader.close()
        second.kill() if second.poll() is None else None
    first_out, _ = first.communicate(timeout=60)
    assert second.returncode == 2, second_err
    assert f"workspace {db} is being updated by process {first.pid}; try again when it finishes" in second_err
    assert first.returncode == 0 and "feedback: 5 inserted" in first_out
    assert W.info(db)["rows"]["feedback"] == exports["n"]["w1"] + 5
    assert [a["kind"] for a in W.info(db)["adds"]] == ["add", "add"]  # week 1, then the first process only


OLD_V1_SCHEMA = """
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL, description TEXT NOT NULL);
INSERT INTO schema_version VALUES (1, '2026-01-05 09:00:00', 'feedback, customers, tickets and theme models');
CREATE TABLE feedback (feedback_id TEXT PRIMARY KEY, customer_id TEXT, created_at TEXT, channel TEXT, subject TEXT,
  clean_text TEXT, csat REAL, nps REAL, ces REAL, ticket_id TEXT, language TEXT, quality_issue TEXT, duplicate_of TEXT,
  sentiment REAL, sentiment_label TEXT, sentiment_drivers TEXT, churn_intent INTEGER, churn_phrase TEXT,
  escalation INTEGER, urgency INTEGER, anger REAL, theme_id INTEGER, theme_label TEXT, theme_ids TEXT, themes TEXT,
  theme_score REAL, row_hash TEXT NOT NULL, added_at TEXT);
CREATE INDEX feedback_created_at ON feedback (created_at);
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, segment TEXT, plan TEXT, signup_date TEXT, churned INTEGER,
  churn_date TEXT, monthly_revenue REAL, acquisition_cost REAL, region TEXT, row_hash TEXT NOT NULL, added_at TEXT);
CREATE TABLE tickets (ticket_id TEXT PRIMARY KEY, customer_id TEXT, channel TEXT, opened_at TEXT,
  first_response_at TEXT, resolved_at TEXT, handle_time_minutes REAL, contacts_to_resolve REAL,
  row_hash TEXT NOT NULL, added_at TEXT);
CREATE TABLE theme_models (version INTEGER PRIMARY KEY, created_at TEXT NOT NULL, source TEXT NOT NULL,
  n_themes INTEGER NOT NULL, themes_json TEXT NOT NULL, model BLOB NOT NULL);
INSERT INTO feedback (feedback_id, customer_id, created_at, channel, clean_text, quality_issue, sentiment,
  sentiment_label, theme_id, theme_label, theme_ids, themes, theme_score, row_hash)
  VALUES ('F1', 'C1', '2026-01-05 10:00:00.000000', 'email', 'The refund never arrived.', '', -0.4, 'negative',
          -1, 'other', '[]', '', 0.1, 'abc');
"""


def test_old_schema_is_migrated_and_keeps_its_rows(tmp_path, capsys):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript(OLD_V1_SCHEMA)
    con.close()
    assert main(["db", "info", "--db", str(db)]) == 0
    assert "schema version 6" in capsys.readouterr().out
    con = sqlite3.connect(db)
    assert [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version")] == [1, 2, 3, 4, 5, 6]
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"alerts", "deliveries", "delivery_attempts"} <= tables
    columns = {r[1] for r in con.execute("PRAGMA table_info(feedback)")}
    assert {"raw_text", "model_version", "theme_sentiment", "scorer", "subtheme_id", "subtheme_label"} <= columns
    assert con.execute("SELECT feedback_id, clean_text, raw_text FROM feedback").fetchall() == [
        ("F1", "The refund never arrived.", None)
    ]
    assert con.execute("SELECT COUNT(*) FROM adds").fetchone() == (0,)
    con.close()


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "new.sqlite"
    W.connect(db).close()
    con = sqlite3.connect(db)
    con.execute("INSERT INTO schema_version VALUES (99, '2030-01-01', 'from the future')")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="schema version 99 is newer"):
        W.connect(db)


def test_killed_add_leaves_the_database_as_it_was_and_a_rerun_completes(exports, tmp_path, capsys):
    """Kill `python -m feedback add` inside its transaction (all rows written, commit pending), then check."""
    db = tmp_path / "ws.sqlite"
    shutil.copy(exports["after_w1"], db)
    # a larger export: week 3-4 replicated twice with new feedback and ticket ids
    fb, cust, tk = (_read(exports["w2"] / f"{n}.csv") for n in ("feedback", "customers", "tickets"))
    copies = [
        (
            fb.assign(
                feedback_id=fb["feedback_id"] + f"-{k}",
                ticket_id=fb["ticket_id"].where(fb["ticket_id"] == "", fb["ticket_id"] + f"-{k}"),
            ),
            tk.assign(ticket_id=tk["ticket_id"] + f"-{k}"),
        )
        for k in range(2)
    ]
    big = _export(tmp_path / "big", pd.concat([c[0] for c in copies]), cust, pd.concat([c[1] for c in copies]))
    before = W.info(db)["rows"]
    # A reader holding a SHARED lock makes the writer's COMMIT wait (SQLite needs EXCLUSIVE to commit), so the
    # child is caught deterministically after writing every row and before its commit.
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM feedback").fetchone()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "feedback", "add", str(big), "--db", str(db)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        for line in child.stderr:
            if line.startswith("tickets: stored") and line.split()[2].split("/")[0] == line.split()[2].split("/")[1]:
                break
            assert time.monotonic() < deadline, "add did not reach its last write"
        else:
            pytest.fail("add ended before writing: " + child.stdout.read())
        time.sleep(0.3)  # now inside COMMIT, waiting for the reader
        assert child.poll() is None
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        reader.execute("ROLLBACK")
        reader.close()
    assert Path(f"{db}-journal").exists()  # killed mid-transaction: SQLite's rollback journal was left behind
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    assert W.info(db)["rows"] == before  # nothing of the killed add is visible
    assert W.latest_model(W.connect(db))[1] == 1
    # the lock died with the process: a re-run gets in and completes
    assert main(["add", str(big), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"feedback: {2 * len(fb)} inserted, 0 updated, 0 unchanged" in out
    assert W.info(db)["rows"]["feedback"] == before["feedback"] + 2 * len(fb)


def test_cli_reads_the_workspace(exports, tmp_path, capsys):
    db = str(exports["weekly"])
    assert main(["kpis", "--db", db, "--json"]) == 0
    import json

    kpis = json.loads(capsys.readouterr().out)
    assert [p["period"] for p in kpis["periods"]] == ["2026-W28", "2026-W29", "2026-W30", "2026-W31"]
    assert main(["impact", "--db", db, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["theme_id"] for r in records] == [r[0] for r in _ranking(_stored_result(exports["weekly"]))]
    out = tmp_path / "report.html"
    assert main(["report", "--db", db, "--since", "2026-07-20", "--out", str(out)]) == 0
    assert "outside_period" in capsys.readouterr().err and out.read_text(encoding="utf-8").startswith("<!")
    assert main(["report", str(exports["combined"]), "--db", db, "--out", str(out)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["kpis", "--db", db, "--period", "month", "--since", "2026-07-13", "--json"]) == 0
    monthly = json.loads(capsys.readouterr().out)
    assert [p["period"] for p in monthly["periods"]] == ["2026-07", "2026-08"]
    assert monthly["overall"]["csat"]["n"] < kpis["overall"]["csat"]["n"]  # week 1 left out
    assert main(["impact", "--db", db, "--until", "2026-07-19", "--json"]) == 0
    early = json.loads(capsys.readouterr().out)
    assert sum(r["mentions"] for r in early) < sum(r["mentions"] for r in records)
    assert main(["db", "export", "--db", db, str(tmp_path / "parquet")]) == 0
    exported = pd.read_parquet(tmp_path / "parquet" / "feedback.parquet")
    assert len(exported) == exports["n"]["feedback"] and isinstance(exported["theme_ids"].iloc[0], object)
    assert main(["db", "info", "--db", db]) == 0
    info = capsys.readouterr().out
    assert f"feedback: {exports['n']['feedback']} rows" in info and "theme model: version 1" in info


def test_theme_sentiment_is_stored_with_each_row_and_read_back_as_lists(exports):
    stored = W.load_frames(exports["weekly"]).feedback
    lengths_match = [len(s) == len(t) for s, t in zip(stored["theme_sentiment"], stored["theme_ids"])]
    assert all(lengths_match) and any(len(t) for t in stored["theme_ids"])
    single = stored[stored["theme_ids"].map(len) == 1]
    assert all(s[0] == pytest.approx(v, abs=1e-4) for s, v in zip(single["theme_sentiment"], single["sentiment"]))


def test_rows_stored_before_theme_sentiment_existed_mix_with_new_ones(exports, tmp_path):
    """Old rows hold NULL, new rows JSON: reading them together (pandas types the column as text with NaN)
    must work, impact falls back to the row's score for the old ones, and refit fills them."""
    db = tmp_path / "mixed.sqlite"
    shutil.copy(exports["weekly"], db)
    con = sqlite3.connect(db)
    con.execute("UPDATE feedback SET theme_sentiment = NULL WHERE rowid % 2 = 0")
    con.commit()
    con.close()
    stored = W.load_frames(db).feedback
    assert (stored["theme_sentiment"].map(len) == 0).any() and (stored["theme_sentiment"].map(len) > 0).any()
    result = _stored_result(db)
    assert impact_records(result.impact) and all(
        r["aspect_sentiment"] is not None for r in impact_records(result.impact)
    )
    W.refit(db)
    refitted = W.load_frames(db).feedback
    assert all(len(s) == len(t) for s, t in zip(refitted["theme_sentiment"], refitted["theme_ids"]))


def test_refit_scores_multi_theme_sentences_with_the_given_sentiment_model(exports, tmp_path, labelled_texts):
    from feedback.calibration import load_scorer
    from feedback.themes import tag_themes

    labelled = tmp_path / "labelled.csv"
    pd.DataFrame({"comment": labelled_texts[0], "label": labelled_texts[1]}).to_csv(labelled, index=False)
    calibrated = tmp_path / "calibrated"
    assert (
        main(
            [
                "sentiment",
                "fit",
                str(labelled),
                "--label-column",
                "label",
                "--text-column",
                "comment",
                "--out",
                str(calibrated),
            ]
        )
        == 0
    )
    db = tmp_path / "refit.sqlite"
    shutil.copy(exports["weekly"], db)
    assert main(["themes", "refit", "--db", str(db), "--sentiment-model", str(calibrated)]) == 0
    stored = W.load_frames(db)
    frame = stored.feedback
    multi = (frame["theme_ids"].map(len) > 1).to_numpy()
    assert multi.any()
    expected, _ = tag_themes(frame, stored.theme_model, scorer=load_scorer(calibrated))
    default, _ = tag_themes(frame, stored.theme_model)
    got = [v for row in frame.loc[multi, "theme_sentiment"] for v in row]
    assert got == pytest.approx([v for row in expected.loc[multi, "theme_sentiment"] for v in row], abs=1e-4)
    assert got != pytest.approx([v for row in default.loc[multi, "theme_sentiment"] for v in row], abs=1e-4)


def test_refit_summary_lists_returned_and_split_themes():
    result = W.RefitResult(
        3,
        [(0, "refund")],
        [(7, "garage door")],
        [(2, "export")],
        120,
        returned=[(4, "login")],
        split=[(8, "app crashes on ios", 1)],
    )
    assert result.lines() == [
        "theme model version 3; 120 rows retagged",
        "kept: [0] refund",
        "returned: [4] login",
        "split: [8] app crashes on ios (from [1])",
        "emerging: [7] garage door",
        "gone: [2] export",
    ]
    assert "returned" not in "\n".join(W.RefitResult(1, [], [], [], 0).lines())


def test_rows_scored_by_older_rules_are_named_and_rescored(exports, tmp_path, capsys):
    """After an upgrade, weeks stored by the older rules do not compare with new ones: add and report say so,
    `feedback db rescore` scores every stored row alike (and retags it with the stored model)."""
    from feedback.sentiment import DEFAULT_RULES, SentimentScorer, default_scorer, scorer_identity

    older = tmp_path / "older_rules.toml"  # "an earlier feedback": without the wish rule
    text = Path(DEFAULT_RULES).read_text(encoding="utf-8")
    start = text.index('[[rule]]\nname = "wish"')
    older.write_text(text[:start] + text[text.index("[[rule]]", start + 5) :], encoding="utf-8")
    old_scorer = SentimentScorer(rules_path=older)
    assert scorer_identity(old_scorer) != scorer_identity(default_scorer())
    db = tmp_path / "ws.sqlite"
    W.add(db, exports["w1"], scorer=old_scorer)
    assert main(["add", str(exports["w2"]), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    stored = W.load_frames(db).feedback
    week1 = (stored["scorer"] == scorer_identity(old_scorer)) & ~stored["quality_issue"].isin(W.SKIP_REASONS)
    assert week1.sum() > 100 and f"{week1.sum()} stored rows were scored by other sentiment rules" in out
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "r.html")]) == 0
    assert "feedback db rescore" in capsys.readouterr().err
    assert W.info(db)["scorers"] == {
        scorer_identity(default_scorer()): int((stored["scorer"] != scorer_identity(old_scorer)).sum()),
        scorer_identity(old_scorer): int((stored["scorer"] == scorer_identity(old_scorer)).sum()),
    }
    assert main(["db", "info", "--db", str(db)]) == 0
    assert "run `feedback db rescore`" in capsys.readouterr().out
    assert main(["db", "rescore", "--db", str(db)]) == 0
    assert "rows scored again" in capsys.readouterr().out
    after = W.load_frames(db).feedback
    assert set(after["scorer"]) == {scorer_identity(default_scorer())}
    fresh = [default_scorer().score(t).compound for t in after.loc[week1.to_numpy(), "clean_text"]]
    assert after.loc[week1.to_numpy(), "sentiment"].round(4).tolist() == pytest.approx(
        [round(x, 4) for x in fresh], abs=1e-4
    )
    assert (after["theme_ids"].map(len) == after["theme_sentiment"].map(len)).all()
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "r.html")]) == 0
    assert "rescore" not in capsys.readouterr().err
    assert W.info(db)["adds"][0]["kind"] == "rescore"  # newest first


def test_stored_rows_carry_their_sub_theme_and_the_report_from_the_workspace_shows_it(tmp_path):
    db = tmp_path / "ws.sqlite"
    W.add(db, REPO / "sample_data")
    con = sqlite3.connect(db)
    stored = con.execute(
        "SELECT theme_id, subtheme_id, subtheme_label FROM feedback WHERE subtheme_id != ''"
    ).fetchall()
    con.close()
    assert stored and all(sub.split(".")[0] == str(theme) and label for theme, sub, label in stored)
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "report.html")]) == 0
    assert '<table class="subthemes">' in (tmp_path / "report.html").read_text(encoding="utf-8")
