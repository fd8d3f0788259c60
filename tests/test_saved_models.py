"""What users of an earlier release saved still loads and gives what it gave: a theme model folder, a calibrated
sentiment folder and a workspace, written by scripts/make_saved_fixtures.py into tests/fixtures/saved/ (see its
docstring: the classes they pickle must stay importable where they were)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from feedback.calibration import load_scorer
from feedback.themes import ThemeModel
from feedback.workspace import load_frames

SAVED = Path(__file__).parent / "fixtures" / "saved"
EXPECTED = json.loads((SAVED / "expected.json").read_text(encoding="utf-8"))
PROBES = EXPECTED["probes"]


def test_a_saved_theme_model_loads_and_tags_as_it_did():
    out = ThemeModel.load(SAVED / "themes").transform(PROBES)
    assert out[["theme_id", "theme_label", "theme_ids"]].to_dict("list") == EXPECTED["themes"]


def test_a_saved_calibrated_sentiment_model_loads_and_scores_as_it_did():
    assert [load_scorer(SAVED / "sentiment").score(t).label for t in PROBES] == EXPECTED["sentiment"]


def test_a_saved_workspace_loads_with_its_theme_model(tmp_path):
    db = tmp_path / "workspace.sqlite"
    shutil.copy(SAVED / "workspace.sqlite", db)
    stored = load_frames(db)
    assert len(stored.feedback) == EXPECTED["workspace"]["rows"]
    assert sorted(t.label for t in stored.theme_model.themes_) == EXPECTED["workspace"]["labels"]
    assert stored.theme_model.transform(PROBES)["theme_label"].tolist() == EXPECTED["workspace"]["probes"]
