#!/usr/bin/env python3
"""Build ``common_direction.npy`` of the shipped static table (build time only).

Averaged token vectors of customer text all lean one way, whatever the text is about: the register of people
writing to a company, as this table renders it. Measured on four real corpora of four domains (bank queries,
airline tweets, credit complaints, review sentences; ``../shared/data``), their mean unit rows have cosines
0.78-0.91 to one another. That shared direction drowns what tells two units apart, so
:class:`feedback.units.UnitSpace` takes it out of every row (the common-component removal of Arora et al. 2017,
with the component fixed per table instead of per corpus: a corpus where one complaint is most of the texts keeps
that complaint, where its own mean would take it out).

The direction is estimated on text this project wrote, ``sample_data/feedback.csv`` (synthetic messages to an
invoicing product): nothing of the benchmark data goes into ``models/``. Its direction has cosines 0.89-0.91 to
the mean rows of the Banking77, airline and CFPB benchmark corpora, none of which it saw. The texts' units as
:meth:`feedback.themes.ThemeModel.fit` makes them (boilerplate and the brand words of @handles left out), their
corpus-weighted rows (:class:`feedback.units.UnitSpace`), the normalised mean. Deterministic; writes the vector
(float32) and ``COMMON_DIRECTION.md`` with its sha256, which ``feedback/embeddings.py`` checks
(``COMMON_DIRECTION_SHA256``) together with the table it was built for.

    python scripts/build_common_direction.py [--texts sample_data/feedback.csv] [--model models/static-minilm-256]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from feedback.embeddings import COMMON_DIRECTION_FILE, DEFAULT_STATIC_MODEL, sha256_file  # noqa: E402
from feedback.themes import ThemeModel  # noqa: E402
from feedback.units import UnitSpace, brand_pattern, find_boilerplate, message_sentences  # noqa: E402

DEFAULT_TEXTS = REPO_ROOT / "sample_data" / "feedback.csv"


def mean_row(texts: list[str], model_path: Path) -> np.ndarray:
    """The normalised mean of the corpus-weighted rows of the units of ``texts``, as UnitSpace weighs them."""
    model = ThemeModel(taxonomy=None)
    model.boilerplate_ = find_boilerplate(texts, [message_sentences(t) for t in texts])
    model.brand_pattern_ = brand_pattern(texts)
    units, lemmas = model._units(texts)[:2]
    space = UnitSpace(model_path)
    space.fit(units, lemmas)
    rows = space._static().encode(units, token_weights=space.token_weights_)
    mean = rows[np.any(rows != 0, axis=1)].mean(axis=0)
    return mean / np.linalg.norm(mean)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS, help="a CSV with a 'text' column")
    parser.add_argument("--model", type=Path, default=DEFAULT_STATIC_MODEL)
    args = parser.parse_args()
    out = args.model / COMMON_DIRECTION_FILE
    # the table is loaded below, and its loader checks an existing direction: build from the table alone
    with tempfile.TemporaryDirectory() as scratch:
        table = Path(scratch) / args.model.name
        table.mkdir()
        for file in args.model.iterdir():
            if file.is_file() and file.name != COMMON_DIRECTION_FILE:
                os.symlink(file.resolve(), table / file.name)
        texts = pd.read_csv(args.texts, keep_default_na=False)["text"].astype(str).tolist()
        direction = mean_row(texts, table).astype(np.float32)
    partial = out.with_suffix(".partial.npy")
    np.save(partial, direction)
    partial.replace(out)
    digest = sha256_file(out)
    source = (
        args.texts.resolve().relative_to(REPO_ROOT) if args.texts.resolve().is_relative_to(REPO_ROOT) else args.texts
    )
    heading = f"# {COMMON_DIRECTION_FILE}: the direction customer text shares in this table"
    (args.model / "COMMON_DIRECTION.md").write_text(
        f"""{heading}

A unit vector of {len(direction)} float32 that `feedback.units.UnitSpace` takes out of every unit row.
`scripts/build_common_direction.py` wrote it and says why and how.

## Source

The {len(texts):,} messages of `{source}` (sha256 `{sha256_file(args.texts)}`): synthetic customer messages
written for this project (Apache-2.0, like the rest of it). Built for `model.safetensors` sha256
`{sha256_file(args.model / "model.safetensors")}`. The file holds one mean vector, no text.

## Checksum

`{COMMON_DIRECTION_FILE}` sha256 `{digest}`, checked at load (`feedback.embeddings.COMMON_DIRECTION_SHA256`).
""",
        encoding="utf-8",
    )
    print(f"wrote {out} (sha256 {digest}) from {len(texts):,} texts")


if __name__ == "__main__":
    main()
