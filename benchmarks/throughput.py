"""Throughput: `feedback analyze` vs the naive pipeline a user would write today, time and peak memory.

Run by hand (minutes; 1,000,000 rows take a while and need ~1 GB of disk):

    python benchmarks/throughput.py                            # 100,000 rows: feedback analyze vs naive, the ratio
    python benchmarks/throughput.py --rows 1000000 --no-naive  # the 1M targets: analyze (< 10 min, < 4 GB) and report
    python benchmarks/throughput.py --rows 1000000 --no-naive --report

Data: the airline tweets of ``../shared/data/airline_tweets/dev.csv`` (7,152 real tweets, read at run time, never
copied into the repo) replicated with variation to ``--rows`` rows in a temporary folder: the @handle changes, a
flight number, a short customer-style sentence from a small list may be added before or after, sentences may be
swapped, and each row gets a customer id and a date over ~6 months. So texts repeat the way support messages do
(the same complaint in many words, many identical short sentences) but rows are not copies of each other.

Each run is a separate process (``feedback analyze`` through its console entry point; the naive pipeline as a
``python -c`` script), so peak memory is that process tree's own, sampled every 0.1 s with psutil (falls back to
the parent's ru_maxrss without psutil), two ways: the largest sum of RSS over the process and its children, and
the largest sum of PSS (proportional set size, Linux). Forked workers share the parent's pages (the loaded models,
the libraries) copy-on-write: the RSS sum counts those pages once per process, the PSS sum once in all, so PSS is
the memory the run really takes from the machine and RSS an upper bound.

The naive pipeline (measured here before this file existed: ≈54 s at 100k, 44 s of it in KMeans):
pandas.read_csv → df.text.apply(SentimentIntensityAnalyzer().polarity_scores) → TfidfVectorizer →
KMeans(k=20, n_init=10) → groupby(cluster) mean sentiment, each with its defaults as the issue names them (until
2026-11-24 this script gave TfidfVectorizer ``stop_words="english"``, which the issue does not: 43% fewer
non-zeros, and KMeans 7.0 s instead of 17.2 s on these 100,000 rows).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
#: short sentences customers add around a complaint; shared by many rows, as in real support traffic
EXTRAS = [
    "Thanks.",
    "Please help.",
    "Still waiting.",
    "This is ridiculous!",
    "Any update?",
    "Thank you so much!",
    "Not happy.",
    "Third time this month.",
    "Can someone call me back?",
    "Great service as always.",
    "I want a refund.",
    "Why is this so hard?",
    "Fix it please.",
    "Unbelievable.",
    "Love you guys!",
]
HANDLES = ["@united", "@AmericanAir", "@SouthwestAir", "@JetBlue", "@USAirways", "@VirginAmerica", "@delta"]
CHANNELS = ["social", "email", "chat", "survey", "review"]

NAIVE = r"""
import sys, time
import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.cluster import KMeans
t = {}
s = time.perf_counter(); df = pd.read_csv(sys.argv[1]); t["read"] = time.perf_counter() - s
s = time.perf_counter(); sia = SentimentIntensityAnalyzer()
df["sentiment"] = df.text.apply(lambda x: sia.polarity_scores(x)["compound"]); t["vader"] = time.perf_counter() - s
s = time.perf_counter(); X = TfidfVectorizer().fit_transform(df.text); t["tfidf"] = time.perf_counter() - s
s = time.perf_counter(); df["cluster"] = KMeans(n_clusters=20, n_init=10, random_state=42).fit_predict(X)
t["kmeans"] = time.perf_counter() - s
s = time.perf_counter()
out = df.groupby("cluster")["sentiment"].agg(["mean", "size"])
t["groupby"] = time.perf_counter() - s
print(" ".join(f"{k}={v:.1f}s" for k, v in t.items()), file=sys.stderr)
"""


def make_rows(data_dir: Path, rows: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` feedback rows from the airline tweets, replicated with variation (see the module docstring)."""
    base = pd.read_csv(data_dir / "airline_tweets" / "dev.csv", usecols=["text"])["text"].astype(str).to_numpy()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(base), rows)
    kind = rng.integers(0, 6, rows)
    extra = rng.integers(0, len(EXTRAS), rows)
    handle = rng.integers(0, len(HANDLES), rows)
    flight = rng.integers(100, 2999, rows)
    texts = []
    for i in range(rows):
        text = base[pick[i]]
        if text.startswith("@"):
            text = HANDLES[handle[i]] + text[text.find(" ") :] if " " in text else HANDLES[handle[i]]
        k = kind[i]
        if k == 1:
            text = f"{text} {EXTRAS[extra[i]]}"
        elif k == 2:
            text = f"{EXTRAS[extra[i]]} {text}"
        elif k == 3:
            text = f"{text} Flight {flight[i]}."
        elif k == 4:
            parts = text.split(". ")
            text = ". ".join(parts[::-1]) if len(parts) > 1 else f"{text} {EXTRAS[extra[i]]}"
        texts.append(text)
    start = np.datetime64("2026-01-01T00:00")
    minutes = np.sort(rng.integers(0, 180 * 24 * 60, rows))
    return pd.DataFrame(
        {
            "feedback_id": [f"F{i:07d}" for i in range(rows)],
            "customer_id": [f"C{c:06d}" for c in rng.integers(0, max(rows // 5, 1), rows)],
            "created_at": pd.Series(start + minutes.astype("timedelta64[m]")).dt.strftime("%Y-%m-%d %H:%M"),
            "channel": np.array(CHANNELS)[rng.integers(0, len(CHANNELS), rows)],
            "text": texts,
        }
    )


def _tree_memory(pid: int) -> tuple[int, int]:
    """Sum of RSS and sum of PSS (RSS where PSS is not available) over a process and its children."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0, 0
    rss = pss = 0
    for p in procs:
        try:
            info = p.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        except psutil.AccessDenied:
            try:
                info = p.memory_info()
                rss, pss = rss + info.rss, pss + info.rss
            except psutil.Error:
                pass
        except psutil.Error:
            pass
    return rss, pss


def measure(cmd: list[str], label: str) -> dict:
    """Run ``cmd``; wall time, peak memory of its process tree, exit code, last stderr lines."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO)
    peak = [0, 0]
    stop = threading.Event()

    def sample() -> None:
        try:
            import psutil  # noqa: F401
        except ImportError:
            return
        while not stop.is_set():
            rss, pss = _tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    seconds = time.perf_counter() - start
    if not peak[0]:
        peak[0] = peak[1] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if proc.returncode:
        print(err, file=sys.stderr)
    return {
        "run": label,
        "seconds": seconds,
        "peak_mb": peak[0] / 2**20,
        "peak_pss_mb": peak[1] / 2**20,
        "rc": proc.returncode,
        "notes": " | ".join(line.strip() for line in err.strip().splitlines()[-14:]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA, help="The shared data folder (default ../shared/data)."
    )
    parser.add_argument("--rows", type=int, default=100_000, help="Rows to generate (default 100,000).")
    parser.add_argument("--workers", type=int, default=None, help="--workers for feedback (default: all cores).")
    parser.add_argument("--no-naive", action="store_true", help="Skip the naive pipeline (for the 1M runs).")
    parser.add_argument("--report", action="store_true", help="Also time `feedback report` on the same rows.")
    parser.add_argument("--keep", type=Path, help="Write the generated data here and keep it (default: a temp dir).")
    args = parser.parse_args(argv)
    if not (args.data_dir / "airline_tweets" / "dev.csv").exists():
        parser.error(f"{args.data_dir}/airline_tweets/dev.csv not found; pass --data-dir")
    with tempfile.TemporaryDirectory(prefix="feedback-throughput-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        data = folder / "feedback.csv"
        t = time.perf_counter()
        make_rows(args.data_dir, args.rows).to_csv(data, index=False)
        print(
            f"generated {args.rows:,} rows ({data.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
        exe = [sys.executable, "-m", "feedback"]
        workers = ["--workers", str(args.workers)] if args.workers else []
        results = []
        if not args.no_naive:
            results.append(measure([sys.executable, "-c", NAIVE, str(data)], "naive (pandas+VADER+TF-IDF+KMeans20)"))
        results.append(
            measure(exe + ["analyze", str(data), "--out", str(folder / "out.parquet"), *workers], "feedback analyze")
        )
        if args.report:
            results.append(
                measure(
                    exe + ["report", str(folder), "--out", str(folder / "report.html"), *workers], "feedback report"
                )
            )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nrows: {args.rows:,}; machine: {os.cpu_count()} cores; load average at the end: {load:.1f}\n")
    print("| run | time (s) | rows/s | peak memory, RSS sum (MB) | peak memory, PSS sum (MB) | exit |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['run']} | {r['seconds']:.1f} | {args.rows / r['seconds']:,.0f} | {r['peak_mb']:,.0f} | "
            f"{r['peak_pss_mb']:,.0f} | {r['rc']} |"
        )
    naive = next((r for r in results if r["run"].startswith("naive")), None)
    analyze = next(r for r in results if r["run"] == "feedback analyze")
    if naive:
        print(f"\nspeed-up of analyze over naive: {naive['seconds'] / analyze['seconds']:.2f}x")
    for r in results:
        print(f"\n{r['run']}: {r['notes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
