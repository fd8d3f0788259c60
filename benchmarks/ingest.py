"""Ingest throughput and peak memory: streaming a large CSV in chunks vs reading it whole.

Run by hand (the machine's load changes the timings; quote medians of several runs)::

    python benchmarks/ingest.py --rows 1000000 --mode stream        # generates /tmp/feedback-bench-1000000.csv
    python benchmarks/ingest.py --rows 1000000 --mode whole
    python benchmarks/ingest.py --real --mode stream     # ../shared/data/cfpb_complaints/complaints.csv

``--mode`` runs one mode per process so the peak resident memory (``ru_maxrss``) belongs to that mode alone.
The generated CSV is synthetic (ids, dates, scores and short template sentences with quoted commas, line breaks,
accents and emoji); it measures the reader, not text quality, and is never committed. With ``--file`` any real
export can be measured instead; ``--data-dir`` (default ``../shared/data`` next to the repository) is where
``--real`` looks for the CFPB complaints file.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feedback.ingest import iter_feedback_chunks, load_feedback  # noqa: E402

SENTENCES = [
    "The export fails, again",
    "Charged twice this month",
    "Love the new dashboard 😀",
    "Café app crashes on login",
    "Refund still missing\nafter two weeks",
    'Support was "helpful", thanks',
    "Bank sync breaks every Monday",
]


def generate(path: Path, rows: int, seed: int = 42) -> None:
    """Write a synthetic feedback CSV of ``rows`` rows (about 90 bytes per row)."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("feedback_id,customer_id,created_at,channel,text,csat\n")
        for i in range(rows):
            text = rng.choice(SENTENCES).replace('"', '""')
            fh.write(
                f"F{i},C{rng.randrange(50_000)},2026-{1 + i % 12:02d}-{1 + i % 28:02d} 10:{i % 60:02d}:00,"
                f'{rng.choice(["email", "chat", "survey"])},"{text}",{1 + i % 5}\n'
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="Rows to generate when no --file (default 1,000,000)."
    )
    parser.add_argument("--file", type=Path, help="Measure this CSV instead of a generated one.")
    parser.add_argument("--real", action="store_true", help="Measure DATA_DIR/cfpb_complaints/complaints.csv.")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data", help="Labelled data folder.")
    parser.add_argument("--text-column", help="Column holding the text, if not 'text'.")
    parser.add_argument("--mode", choices=["stream", "whole"], default="stream", help="Chunked reader or one read.")
    parser.add_argument("--chunksize", type=int, default=100_000, help="Rows per chunk in stream mode.")
    args = parser.parse_args(argv)

    if args.real:
        path = args.data_dir / "cfpb_complaints" / "complaints.csv"
        args.text_column = args.text_column or "consumer_complaint_narrative"
    elif args.file:
        path = args.file
    else:
        path = Path(f"/tmp/feedback-bench-{args.rows}.csv")
        if not path.exists():
            started = time.perf_counter()
            generate(path, args.rows)
            print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    baseline = peak_rss_mb()
    started = time.perf_counter()
    rows, first_chunk_s = 0, None
    if args.mode == "stream":
        for chunk in iter_feedback_chunks(path, chunksize=args.chunksize, text_column=args.text_column):
            rows += len(chunk)
            first_chunk_s = first_chunk_s or time.perf_counter() - started
    else:
        frame, _ = load_feedback(path, text_column=args.text_column)
        rows = len(frame)
    elapsed = time.perf_counter() - started
    print(
        f"file: {path} ({path.stat().st_size / 1e6:.0f} MB)  mode: {args.mode}"
        + (f"  chunksize: {args.chunksize}" if args.mode == "stream" else "")
    )
    print(
        f"rows: {rows:,}  time: {elapsed:.1f} s  rows/s: {rows / elapsed:,.0f}"
        + (f"  first chunk after: {first_chunk_s:.2f} s" if first_chunk_s else "")
    )
    print(f"peak RSS: {peak_rss_mb():.0f} MB (after imports: {baseline:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
