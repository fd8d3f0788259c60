#!/usr/bin/env python3
"""Theme discovery benchmark: NMI/ARI against labels, auto-K, "other" share, seed stability, speed and memory.

Data (read at run time, never copied into the repository; see each folder's SOURCE.md):

* ``banking77/train.csv``: 10,003 online-banking queries, 77 intents (``category``, CC BY 4.0).
* ``cfpb_complaints/complaints.csv``: the 1,532 rows with a ``consumer_complaint_narrative`` (public domain);
  ``product`` and ``issue`` are weak labels.

Labels are used only to score; no method sees them. Methods, each fitted with two seeds:

* ``tfidf+kmeans``: the plain baseline, TF-IDF (1–2-grams, English stop words) + KMeans, K = number of labels.
* ``ThemeModel(...)``: ``feedback.ThemeModel`` through its public API (each ``embeddings`` backend it accepts).
* ``static``: ``feedback.embeddings`` static MiniLM table + ``feedback.clustering`` (k-NN Ward), K fixed and auto.
* ``minilm``: the full all-MiniLM-L6-v2 + the same clustering, when ``feedback[embeddings]`` is installed.

Also 100,000 short texts (Banking77 ×10 with small edits) fitted and tagged with ``static``.

Columns: NMI and ARI against the labels ("other" counted as one more cluster), K (themes found), other %
(share labelled other), seed ARI (agreement of the two seeds' labels), fit+tag seconds (the first seed;
embedding included; tagging = embedding the texts again and assigning them), texts/s, peak MB (rise of the
process's resident memory during the run, sampled every 20 ms).

    python benchmarks/themes.py [--data-dir ../shared/data] [--seeds 1 2] [--skip-minilm] [--skip-100k]
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feedback import clustering, embeddings  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
#: texts in the scaling run (issue 6 / 12 target: fit + tag in under 60 s on 2 cores)
SCALE_N = 100_000


# ------------------------------------------------------------------------------------------------- data
def load_banking77(data_dir: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    df = pd.read_csv(data_dir / "banking77" / "train.csv", keep_default_na=False)
    return df["text"].astype(str).tolist(), {"intent": df["category"].to_numpy()}


def load_cfpb(data_dir: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    df = pd.read_csv(data_dir / "cfpb_complaints" / "complaints.csv", keep_default_na=False, dtype=str)
    df = df[df["consumer_complaint_narrative"].str.strip() != ""]
    return df["consumer_complaint_narrative"].tolist(), {"product": df["product"].to_numpy(),
                                                         "issue": df["issue"].to_numpy()}


PREFIXES = ("", "", "Hi, ", "Hello, ", "Quick question: ", "Hey there, ", "Please help: ")
SUFFIXES = ("", "", " Thanks", " Thank you!", " Please help.", " ASAP", "??")


def replicate(texts: list[str], n: int, seed: int = 0) -> list[str]:
    """``n`` texts: copies of ``texts`` with a random greeting, sign-off, case change or dropped word."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        words = texts[i % len(texts)].split()
        if len(words) > 4 and rng.random() < 0.3:
            del words[int(rng.integers(len(words)))]
        text = " ".join(words)
        if rng.random() < 0.3:
            text = text.lower()
        out.append(PREFIXES[rng.integers(len(PREFIXES))] + text + SUFFIXES[rng.integers(len(SUFFIXES))])
    return out


# ---------------------------------------------------------------------------------------------- measuring
class PeakRSS:
    """Highest resident memory of this process while the block runs, minus the level at its start (MB)."""

    def __enter__(self):
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _watch(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())
        self.mb = (self.peak - self.start) / 1e6


def timed(fn):
    with PeakRSS() as mem:
        started = time.perf_counter()
        labels, k = fn()
        seconds = time.perf_counter() - started
    return np.asarray(labels), k, seconds, mem.mb


# ------------------------------------------------------------------------------------------------- methods
def run_baseline(texts, k, seed):
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", dtype=np.float32).fit_transform(texts)
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(matrix)
    return model.predict(matrix), k


def run_theme_model(texts, k, seed, backend):
    import feedback

    params = {"n_themes": k, "seed": seed}
    if backend is not None:
        params["embeddings"] = backend
    model = feedback.ThemeModel(**params).fit(texts)
    tagged = model.transform(texts)
    return tagged["theme_id"].to_numpy(), len(model.themes_)


def run_embedding(texts, k, seed, backend, cache):
    # the full MiniLM is slow: its vectors are computed once and reused for the second seed (time of seed 1)
    if backend == "minilm" and "minilm" in cache:
        vectors = cache["minilm"]
    else:
        vectors = embeddings.embed(texts, backend=backend)
        if backend == "minilm":
            cache["minilm"] = vectors
    labels, centroids = clustering.cluster_embeddings(vectors, k, seed)
    if backend == "static":  # tagging: embed again, assign to the learned centroids
        labels, _ = clustering.assign(embeddings.embed(texts, backend=backend), centroids)
    return labels, len(centroids)


def theme_model_backends() -> list[str | None]:
    import feedback

    parameters = inspect.signature(feedback.ThemeModel.__init__).parameters
    if "embeddings" not in parameters:
        return [None]
    backends = ["tfidf", "static"] + (["minilm"] if embeddings.minilm_available() else [])
    return backends


# ---------------------------------------------------------------------------------------------------- run
def evaluate(name, fn, seeds, labels: dict[str, np.ndarray], n_texts: int) -> dict:
    runs = [timed(lambda s=s: fn(s)) for s in seeds]
    first = runs[0][0]
    row = {"method": name}
    for label_name, truth in labels.items():
        row[f"NMI {label_name}"] = np.mean([normalized_mutual_info_score(truth, r[0]) for r in runs])
        row[f"ARI {label_name}"] = np.mean([adjusted_rand_score(truth, r[0]) for r in runs])
    row["K"] = "/".join(str(r[1]) for r in runs) if len({r[1] for r in runs}) > 1 else runs[0][1]
    row["other %"] = 100 * float(np.mean(first < 0))
    row["seed ARI"] = adjusted_rand_score(first, runs[1][0]) if len(runs) > 1 else float("nan")
    row["fit+tag s"] = runs[0][2]
    row["texts/s"] = n_texts / runs[0][2]
    row["peak MB"] = runs[0][3]
    return row


def benchmark(dataset: str, texts, labels, k: int, seeds, with_minilm: bool) -> pd.DataFrame:
    rows = []
    cache: dict = {}
    print(f"\n## {dataset}: {len(texts):,} texts, K = {k} for fixed-K methods", flush=True)
    rows.append(evaluate(f"tfidf+kmeans K={k} (baseline)", lambda s: run_baseline(texts, k, s), seeds, labels, len(texts)))
    print(f"  {rows[-1]['method']} done", flush=True)
    for backend in theme_model_backends():
        name = "ThemeModel" + (f"(embeddings={backend!r})" if backend else "")
        for n_themes in ("auto", k):
            rows.append(evaluate(f"{name} n_themes={n_themes}", lambda s: run_theme_model(texts, n_themes, s, backend),
                                 seeds, labels, len(texts)))
            print(f"  {rows[-1]['method']} done", flush=True)
    for backend in ["static"] + (["minilm"] if with_minilm else []):
        for n in (k, "auto"):
            rows.append(evaluate(f"{backend} + k-NN Ward K={n}", lambda s: run_embedding(texts, n, s, backend, cache),
                                 seeds, labels, len(texts)))
            print(f"  {rows[-1]['method']} done", flush=True)
    return pd.DataFrame(rows)


def scale_run(texts, seeds) -> pd.DataFrame:
    big = replicate(texts, SCALE_N)
    rows = []
    for n in ("auto", 77):
        runs = [timed(lambda s=s: run_embedding(big, n, s, "static", {})) for s in seeds]
        rows.append({"method": f"static + k-NN Ward K={n}", "texts": len(big), "K": runs[0][1],
                     "other %": 100 * float(np.mean(runs[0][0] < 0)),
                     "seed ARI": adjusted_rand_score(runs[0][0], runs[1][0]) if len(runs) > 1 else float("nan"),
                     "fit+tag s (median)": float(np.median([r[2] for r in runs])),
                     "texts/s": len(big) / float(np.median([r[2] for r in runs])),
                     "peak MB": max(r[3] for r in runs)})
        print(f"  {rows[-1]['method']} done", flush=True)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="folder holding banking77/ and cfpb_complaints/")
    parser.add_argument("--seeds", type=int, nargs=2, default=(1, 2), help="the two seeds compared (default 1 2)")
    parser.add_argument("--skip-minilm", action="store_true", help="do not run the full MiniLM even if installed")
    parser.add_argument("--skip-100k", action="store_true", help="do not run the 100,000-text scaling test")
    parser.add_argument("--only", choices=("banking77", "cfpb", "100k"), help="run one part only")
    args = parser.parse_args(argv)
    with_minilm = embeddings.minilm_available() and not args.skip_minilm
    pd.set_option("display.width", 250, "display.max_columns", 30, "display.precision", 3)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start (timings are noisy when shared)")
    embeddings.load_static_model()  # load once, outside the timings (as in a long-running process)
    bank_texts, bank_labels = load_banking77(args.data_dir)
    if args.only in (None, "banking77"):
        print(benchmark("banking77/train.csv", bank_texts, bank_labels, 77, args.seeds, with_minilm).to_string(index=False))
    if args.only in (None, "cfpb"):
        texts, labels = load_cfpb(args.data_dir)
        k = len(set(labels["product"]))
        print(benchmark("cfpb_complaints/complaints.csv (narratives)", texts, labels, k, args.seeds, with_minilm)
              .to_string(index=False))
    if args.only in (None, "100k") and not args.skip_100k:
        print(f"\n## {SCALE_N:,} short texts (banking77 ×{SCALE_N // len(bank_texts)} with edits)")
        print(scale_run(bank_texts, args.seeds).to_string(index=False))
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
