"""The workspace's rescore: read-only and missing workspaces give errors, not tracebacks, and each scorer has one
identity, fitted or loaded, so a rescore knows which rows another scorer scored."""

from __future__ import annotations

import sqlite3
from pathlib import Path


from feedback import workspace as W
from feedback.cli import main


def _read_only(monkeypatch):
    """Open every workspace read-only, as for a file without write permission (tests run as root, where chmod does
    not stop writes). Verified by hand with `chattr +i` on the file: the same errors."""
    real = sqlite3.connect

    def connect(path, *args, **kwargs):
        return real(f"file:{Path(path).resolve()}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(W.sqlite3, "connect", connect)


def test_rescore_of_a_read_only_workspace_is_an_error_not_a_traceback(sample_week1, tmp_path, monkeypatch, capsys):
    db = tmp_path / "ws.sqlite"
    W.add(db, sample_week1)
    _read_only(monkeypatch)
    code = main(["db", "rescore", "--db", str(db)])  # raises sqlite3.OperationalError on 63b49f5
    assert code != 0 and "read" in capsys.readouterr().err


def test_a_read_only_workspace_of_the_previous_schema_is_not_called_not_a_workspace(
    sample_week1, tmp_path, monkeypatch, capsys
):
    """Every workspace written before migration 4 needs it; when the file is read-only (a shared or archived copy),
    `report --db` / `db info` / `db rescore` say 'not a feedback workspace (attempt to write a readonly database)'."""
    db = tmp_path / "ws.sqlite"
    W.add(db, sample_week1)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM schema_version WHERE version >= 4")  # as written before migration 4 and later ones
    for column in ("scorer", "subtheme_id", "subtheme_label"):
        con.execute(f"ALTER TABLE feedback DROP COLUMN {column}")
    con.commit()
    con.close()
    _read_only(monkeypatch)
    code = main(["db", "info", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 0 or "not a feedback workspace" not in err, err


def test_calibrated_scorers_fitted_in_python_have_distinct_identities(labelled_texts):
    """scorer_identity of a CalibratedScorer made by fit_calibrated (not loaded from a folder) is just
    'CalibratedScorer': two different models look alike to the workspace (no rescore hint)."""
    from feedback.calibration import fit_calibrated
    from feedback.sentiment import scorer_identity

    texts, labels = labelled_texts
    flipped = ["positive"] * 3 + ["neutral"] * 3 + ["negative"] * 3
    assert scorer_identity(fit_calibrated(texts, labels)) != scorer_identity(fit_calibrated(texts, flipped))


def test_a_calibrated_scorer_has_one_identity_fitted_and_loaded(tmp_path):
    from feedback.calibration import CalibratedScorer, fit_calibrated
    from feedback.sentiment import scorer_identity

    texts = [
        "The app crashes, awful.",
        "Refund never came, terrible.",
        "Where is the export button?",
        "Is there an API?",
        "Great support, thank you!",
        "Love the new dashboard.",
    ]
    scorer = fit_calibrated(texts, ["negative"] * 2 + ["neutral"] * 2 + ["positive"] * 2)
    scorer.save(tmp_path / "model")
    assert scorer_identity(CalibratedScorer.load(tmp_path / "model")) == scorer_identity(scorer)
    assert scorer_identity(scorer).startswith("calibrated-")


def test_rescore_of_a_missing_workspace_creates_nothing(tmp_path, capsys):
    assert main(["db", "rescore", "--db", str(tmp_path / "nothere" / "x.sqlite")]) != 0
    assert "no such workspace" in capsys.readouterr().err and not (tmp_path / "nothere").exists()
