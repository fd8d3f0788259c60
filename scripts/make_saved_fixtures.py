#!/usr/bin/env python3
"""Write what a user of this release has saved, for tests/test_saved_models.py to load with later code.

Users keep theme model folders (`feedback themes fit --out`), calibrated sentiment folders (`feedback sentiment fit
--out`) and workspaces (`feedback add`, which stores the theme model as a pickled BLOB). Moving a class to another
module breaks every one of them, so the folders this script wrote, with what each gave when it was written, are
committed under tests/fixtures/saved/ and loaded by the tests of every later change.

Run it again only on purpose (a new format version), never to make a failing test pass:

    python scripts/make_saved_fixtures.py [--out tests/fixtures/saved]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import feedback  # noqa: E402
from feedback.calibration import fit_calibrated  # noqa: E402
from feedback.themes import ThemeModel  # noqa: E402
from feedback.workspace import add, load_frames  # noqa: E402

#: rows of the bundled sample the saved models learn from: enough for a few themes, small enough to commit
ROWS = 400
#: texts the tests tag with the loaded models and compare with what this release gave (kept in expected.json)
PROBES = [
    "I was charged twice this month",
    "The app crashes every time I open it",
    "Love the new invoice templates",
    "I want to cancel, nothing works",
    "",
]


def sample_rows() -> pd.DataFrame:
    return pd.read_csv(REPO / "sample_data" / "feedback.csv", dtype=str, keep_default_na=False).head(ROWS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "saved")
    out = parser.parse_args().out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    expected = {"feedback_version": feedback.__version__}

    rows = sample_rows()
    model = ThemeModel().fit(rows["text"].tolist())
    model.save(out / "themes")
    expected["probes"] = PROBES
    expected["themes"] = model.transform(PROBES)[["theme_id", "theme_label", "theme_ids"]].to_dict("list")

    # CSAT as the label a support team has: 1-2 negative, 3 neutral, 4-5 positive
    rated = rows[rows["csat"] != ""]
    labels = pd.cut(rated["csat"].astype(float), [0, 2, 3, 5], labels=["negative", "neutral", "positive"])
    scorer = fit_calibrated(
        rated["text"].tolist(), labels.astype(str).tolist(), seed=0, source="sample_data/feedback.csv"
    )
    scorer.save(out / "sentiment")
    expected["sentiment"] = [scorer.score(t).label for t in PROBES]

    with tempfile.TemporaryDirectory() as data:
        rows.to_csv(Path(data) / "feedback.csv", index=False)
        add(out / "workspace.sqlite", data)
    (out / "workspace.sqlite.lock").unlink(missing_ok=True)
    stored = load_frames(out / "workspace.sqlite")
    expected["workspace"] = {
        "rows": len(stored.feedback),
        "labels": sorted(t.label for t in stored.theme_model.themes_),
        "probes": stored.theme_model.transform(PROBES)["theme_label"].tolist(),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}: " + ", ".join(sorted(p.name for p in out.iterdir())))


if __name__ == "__main__":
    main()
