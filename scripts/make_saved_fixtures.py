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

BAGS = [
    "my bag never arrived",
    "lost my luggage on the connection",
    "my suitcase is still missing",
    "bag lost again after landing",
    "they lost my bag and nobody calls back",
    "luggage missing for three days",
]
HOLD = [
    "on hold for two hours",
    "hold time is over an hour again",
    "waited on hold all morning",
    "phone hold music for ninety minutes",
    "on hold forever and then hung up",
    "stuck on hold for hours",
]
PRAISE = [
    "the crew was wonderful and kind",
    "lovely crew, great flight",
    "great crew, fantastic service",
    "wonderful crew and a lovely trip",
    "amazing crew, loved it",
    "fantastic friendly crew",
]
WHEN = ["", " yesterday", " this week", " at JFK", " in Denver", " on the way home", " last night", " again"]
#: texts the tests tag with the loaded models and compare with what this release gave
PROBES = [
    "my luggage is lost and nobody answers",
    "on hold for three hours today",
    "the crew was lovely",
    "I want to cancel, this is the worst airline",
    "",
]


def corpus() -> list[str]:
    return [f"{t}{when}" for when in WHEN for t in BAGS + HOLD + PRAISE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "saved")
    out = parser.parse_args().out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    expected = {"feedback_version": feedback.__version__}

    model = ThemeModel(min_theme_size=5).fit(corpus())
    model.save(out / "themes")
    expected["themes"] = model.transform(PROBES)[["theme_id", "theme_label", "theme_ids"]].to_dict("list")

    labelled = (
        [(t, "negative") for t in BAGS + HOLD]
        + [(t, "positive") for t in PRAISE]
        + [
            (t, "neutral")
            for t in [
                "what time does boarding start",
                "is there wifi on the plane",
                "how many bags can I bring",
                "where is the lounge",
                "can I change my seat",
                "which terminal is it",
            ]
        ]
    )
    texts, labels = zip(*[(f"{t}{when}", label) for when in WHEN for t, label in labelled])
    scorer = fit_calibrated(list(texts), list(labels), seed=0, source="scripts/make_saved_fixtures.py")
    scorer.save(out / "sentiment")
    expected["sentiment"] = [scorer.score(t).label for t in PROBES]

    with tempfile.TemporaryDirectory() as data:
        texts = corpus()
        pd.DataFrame(
            {
                "feedback_id": [f"F{i}" for i in range(len(texts))],
                "customer_id": [f"C{i % 40}" for i in range(len(texts))],
                "created_at": [f"2026-03-{1 + i % 28:02d}" for i in range(len(texts))],
                "channel": "email",
                "text": texts,
            }
        ).to_csv(Path(data) / "feedback.csv", index=False)
        add(out / "workspace.sqlite", data)
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
