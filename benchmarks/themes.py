#!/usr/bin/env python3
"""Theme discovery benchmark: NMI/ARI against labels, auto-K, "other" share, seed stability, speed and memory.

Data (read at run time, never copied into the repository; see each folder's SOURCE.md):

* ``banking77/train.csv``: 10,003 online-banking queries, 77 intents (``category``, CC BY 4.0).
* ``cfpb_complaints/complaints.csv``: the 1,532 rows with a ``consumer_complaint_narrative`` (public domain);
  ``product`` and ``issue`` are weak labels.

Labels are used only to score; no method sees them. Methods, each fitted with two seeds:

* ``tfidf+kmeans``: the plain baseline, TF-IDF (1–2-grams, English stop words) + KMeans, K = number of labels.
* ``ThemeModel(...)``: ``feedback.ThemeModel`` through its public API (each ``embeddings`` backend it accepts),
  and ``static`` once more without the default taxonomy (``taxonomy=None``) to show what the guide changes.
* ``static``: ``feedback.embeddings`` static MiniLM table + ``feedback.clustering`` (k-NN Ward), K fixed and auto.
* ``minilm``: the full all-MiniLM-L6-v2 + the same clustering, when ``feedback[embeddings]`` is installed.

Also 100,000 short texts (Banking77 ×10 with small edits) fitted and tagged with ``static`` (ThemeModel, the
product path, and the bare embedding + clustering).

Columns: NMI and ARI against the labels ("other" counted as one more cluster), K (themes found), other %
(share labelled other), multi % (share tagged with more than one theme: every text of these datasets has one
label, so each extra theme is a wrong one; ThemeModel only), seed ARI (agreement of the two seeds' labels), fit+tag
seconds (the first seed;
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
    return df["consumer_complaint_narrative"].tolist(), {
        "product": df["product"].to_numpy(),
        "issue": df["issue"].to_numpy(),
    }


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
        labels, k, *multi = fn()
        seconds = time.perf_counter() - started
    return np.asarray(labels), k, seconds, mem.mb, multi[0] if multi else float("nan")


# ------------------------------------------------------------------------------------------------- methods
def run_baseline(texts, k, seed):
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", dtype=np.float32).fit_transform(texts)
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(matrix)
    return model.predict(matrix), k


class MiniLMCache:
    """Text -> full-MiniLM vector memo for one benchmark row, so the second seed does not embed again.

    The full model embeds ~250 texts/s (hundreds of seconds per run on Banking77); the first seed of each row
    pays for every text it embeds (its fit+tag time includes embedding), the second reuses the vectors. Cleared
    before every row. The static table is never cached: it is timed in full on every run.
    """

    def __init__(self):
        self.vectors: dict[str, np.ndarray] = {}
        self._embed = embeddings.embed

    def clear(self):
        self.vectors.clear()

    def embed(self, texts, backend="static", batch_size=None):
        texts = ["" if t is None else str(t) for t in texts]
        if backend != "minilm":
            return self._embed(texts, backend=backend, batch_size=batch_size)
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            self.vectors.update(zip(missing, self._embed(missing, backend="minilm", batch_size=batch_size)))
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


MINILM_CACHE = MiniLMCache()
embeddings.embed = MINILM_CACHE.embed  # ThemeModel imports embed from feedback.embeddings at call time


def run_theme_model(texts, k, seed, backend, **extra):
    import feedback

    params = {"n_themes": k, "seed": seed, **extra}
    if backend is not None:
        params["embeddings"] = backend
    model = feedback.ThemeModel(**params).fit(texts)
    tagged = model.transform(texts)
    return tagged["theme_id"].to_numpy(), len(model.themes_), float((tagged["theme_ids"].map(len) > 1).mean())


def run_embedding(texts, k, seed, backend, cache):
    # the full MiniLM is slow: its vectors are computed once per row and reused for the second seed (MiniLMCache)
    vectors = embeddings.embed(texts, backend=backend)
    labels, centroids = clustering.cluster_embeddings(vectors, k, seed)
    if backend == "static":  # tagging: embed again, assign to the learned centroids
        labels, _ = clustering.assign(embeddings.embed(texts, backend=backend), centroids)
    return labels, len(centroids)


def theme_model_backends(with_minilm: bool = True) -> list[str | None]:
    import feedback

    parameters = inspect.signature(feedback.ThemeModel.__init__).parameters
    if "embeddings" not in parameters:
        return [None]
    backends = ["tfidf", "static"] + (["minilm"] if with_minilm and embeddings.minilm_available() else [])
    return backends


# ---------------------------------------------------------------------------------------------------- run
def evaluate(name, fn, seeds, labels: dict[str, np.ndarray], n_texts: int) -> dict:
    MINILM_CACHE.clear()
    runs = [timed(lambda s=s: fn(s)) for s in seeds]
    first = runs[0][0]
    row = {"method": name}
    for label_name, truth in labels.items():
        row[f"NMI {label_name}"] = np.mean([normalized_mutual_info_score(truth, r[0]) for r in runs])
        row[f"ARI {label_name}"] = np.mean([adjusted_rand_score(truth, r[0]) for r in runs])
    row["K"] = "/".join(str(r[1]) for r in runs) if len({r[1] for r in runs}) > 1 else runs[0][1]
    row["other %"] = 100 * float(np.mean(first < 0))
    row["multi %"] = 100 * runs[0][4]
    row["seed ARI"] = adjusted_rand_score(first, runs[1][0]) if len(runs) > 1 else float("nan")
    row["fit+tag s"] = runs[0][2]
    row["texts/s"] = n_texts / runs[0][2]
    row["peak MB"] = runs[0][3]
    return row


def benchmark(dataset: str, texts, labels, k: int, seeds, with_minilm: bool) -> pd.DataFrame:
    rows = []
    cache: dict = {}
    print(f"\n## {dataset}: {len(texts):,} texts, K = {k} for fixed-K methods", flush=True)
    rows.append(
        evaluate(f"tfidf+kmeans K={k} (baseline)", lambda s: run_baseline(texts, k, s), seeds, labels, len(texts))
    )
    print(f"  {rows[-1]['method']} done", flush=True)
    for backend in theme_model_backends(with_minilm):
        name = "ThemeModel" + (f"(embeddings={backend!r})" if backend else "")
        for n_themes in ("auto", k):
            rows.append(
                evaluate(
                    f"{name} n_themes={n_themes}",
                    lambda s: run_theme_model(texts, n_themes, s, backend),
                    seeds,
                    labels,
                    len(texts),
                )
            )
            print(f"  {rows[-1]['method']} done", flush=True)
    # the default taxonomy (models/taxonomy.toml) guides discovery; without it, the embeddings alone
    for n_themes in ("auto", k):
        rows.append(
            evaluate(
                f"ThemeModel(embeddings='static', taxonomy=None) n_themes={n_themes}",
                lambda s: run_theme_model(texts, n_themes, s, "static", taxonomy=None),
                seeds,
                labels,
                len(texts),
            )
        )
        print(f"  {rows[-1]['method']} done", flush=True)
    # how texts get their theme: the neighbours' vote (MiniLM's default) on the static table, against its centroids
    for n_themes in ("auto", k):
        rows.append(
            evaluate(
                f"ThemeModel(embeddings='static', assignment='neighbours') n_themes={n_themes}",
                lambda s: run_theme_model(texts, n_themes, s, "static", assignment="neighbours"),
                seeds,
                labels,
                len(texts),
            )
        )
        print(f"  {rows[-1]['method']} done", flush=True)
    for backend in ["static"] + (["minilm"] if with_minilm else []):
        for n in (k, "auto"):
            rows.append(
                evaluate(
                    f"{backend} + k-NN Ward K={n}",
                    lambda s: run_embedding(texts, n, s, backend, cache),
                    seeds,
                    labels,
                    len(texts),
                )
            )
            print(f"  {rows[-1]['method']} done", flush=True)
    return pd.DataFrame(rows)


def scale_run(texts, seeds) -> pd.DataFrame:
    big = replicate(texts, SCALE_N)
    rows = []
    methods = [
        (f"ThemeModel(embeddings='static') n_themes={n}", lambda s, n=n: run_theme_model(big, n, s, "static"))
        for n in ("auto", 77)
    ]
    methods += [
        (f"static + k-NN Ward K={n}", lambda s, n=n: run_embedding(big, n, s, "static", {})) for n in ("auto", 77)
    ]
    for name, fn in methods:
        runs = [timed(lambda s=s: fn(s)) for s in seeds]
        rows.append(
            {
                "method": name,
                "texts": len(big),
                "K": runs[0][1],
                "other %": 100 * float(np.mean(runs[0][0] < 0)),
                "multi %": 100 * runs[0][4],
                "seed ARI": adjusted_rand_score(runs[0][0], runs[1][0]) if len(runs) > 1 else float("nan"),
                "fit+tag s (median)": float(np.median([r[2] for r in runs])),
                "texts/s": len(big) / float(np.median([r[2] for r in runs])),
                "peak MB": max(r[3] for r in runs),
            }
        )
        print(f"  {rows[-1]['method']} done", flush=True)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA, help="folder holding banking77/ and cfpb_complaints/"
    )
    parser.add_argument("--seeds", type=int, nargs=2, default=(1, 2), help="the two seeds compared (default 1 2)")
    parser.add_argument("--skip-minilm", action="store_true", help="do not run the full MiniLM even if installed")
    parser.add_argument("--skip-100k", action="store_true", help="do not run the 100,000-text scaling test")
    parser.add_argument("--only", choices=("banking77", "cfpb", "100k"), help="run one part only")
    args = parser.parse_args(argv)
    with_minilm = embeddings.minilm_available() and not args.skip_minilm
    pd.set_option("display.width", 250, "display.max_columns", 30, "display.precision", 3)
    print(
        f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start (timings are noisy when "
        f"shared)"
    )
    embeddings.load_static_model()  # load once, outside the timings (as in a long-running process)
    bank_texts, bank_labels = load_banking77(args.data_dir)
    if args.only in (None, "banking77"):
        print(
            benchmark("banking77/train.csv", bank_texts, bank_labels, 77, args.seeds, with_minilm).to_string(
                index=False
            )
        )
    if args.only in (None, "cfpb"):
        texts, labels = load_cfpb(args.data_dir)
        k = len(set(labels["product"]))
        print(
            benchmark(
                "cfpb_complaints/complaints.csv (narratives)", texts, labels, k, args.seeds, with_minilm
            ).to_string(index=False)
        )
    if args.only in (None, "100k") and not args.skip_100k:
        print(f"\n## {SCALE_N:,} short texts (banking77 ×{SCALE_N // len(bank_texts)} with edits)")
        print(scale_run(bank_texts, args.seeds).to_string(index=False))
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
