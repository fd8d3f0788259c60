"""Sentiment benchmark: plain VADER vs feedback default vs feedback calibrated, on real labelled data.

Run by hand from the repository root (reads ../shared/data, never copies it):

    python benchmarks/sentiment.py                       # the full table (5-fold CV takes a few minutes)
    python benchmarks/sentiment.py --no-calibrated       # quick: VADER vs default and throughput only
    python benchmarks/sentiment.py --choose-thresholds   # the grid search behind the default thresholds
    python benchmarks/sentiment.py --features minilm     # calibrated column with the full MiniLM features
    python benchmarks/sentiment.py --features minilm --split-seeds 1 2   # ... and two more fold splits of airline
                                                         # (needs feedback[embeddings]; ~3 min per 7k texts)

Files and how they are scored
* airline_tweets/dev.csv (3 classes): accuracy and macro-F1. HELD OUT: nothing in the default was tuned on it.
* uci_sentences/amazon.csv, yelp.csv (binary 1/0): a neutral prediction counts as wrong (accuracy over all rows);
  "F1" is the macro-F1 over the two classes with neutral predictions counted as errors for both.
* vader_ground_truth/*.csv (mean human rating -4..4): Pearson and Spearman correlation of the score with
  mean_rating, and 3-class macro-F1 with rating ≥ 0.5 positive, ≤ -0.5 negative, else neutral. The default's
  thresholds were chosen on these files (--choose-thresholds), so their 3-class figures are not held out.
* Calibrated: stratified 5-fold cross-validation on the file itself (seed 42), with the optional feature sets
  named by --features (as `feedback sentiment fit --features`; default none). Nothing is tuned on the test folds:
  the model's settings are fixed defaults. With --embeddings, the airline rows also get "calibrated + embeddings":
  the same model plus the static sentence embedding (issue 12). Embeddings are cached per text within a run.
* Throughput: documents per CPU-second (time.process_time, one process, one thread), median of --repeats runs
  on the airline texts, with a fresh scorer each run (sentence cache cold).
* Rule engine: the support rules as compiled regexes vs the same phrases as a spaCy Matcher, on the same texts.
"""

from __future__ import annotations

import argparse
import html
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback import sentiment as fs  # noqa: E402
from feedback.calibration import cross_validate  # noqa: E402

VGT_FILES = ("tweets", "amazon_reviews", "movie_reviews", "nyt_editorials")
#: vader_ground_truth 3-class cut on the mean human rating (-4..4)
RATING_CUT = 0.5


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False)


def vgt_classes(ratings) -> np.ndarray:
    r = np.asarray(ratings, dtype=float)
    return np.where(r >= RATING_CUT, "positive", np.where(r <= -RATING_CUT, "negative", "neutral"))


def labels(scores, lo, hi) -> np.ndarray:
    s = np.asarray(scores)
    return np.where(s <= lo, "negative", np.where(s >= hi, "positive", "neutral"))


def score_plain(texts):
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(t)["compound"] for t in texts])


def score_default(texts, scorer=None):
    scorer = scorer or fs.SentimentScorer()
    docs = scorer.score_many(texts)
    return np.array([d.compound for d in docs]), np.array([d.label for d in docs])


def three_class(y, pred) -> tuple[float, float]:
    return accuracy_score(y, pred), f1_score(y, pred, average="macro", labels=["negative", "neutral", "positive"])


def binary(y, pred) -> tuple[float, float]:
    # neutral predictions are errors: they match neither class
    return accuracy_score(y, pred), f1_score(y, pred, average="macro", labels=["negative", "positive"])


def throughput(fn, texts, repeats) -> float:
    rates = []
    for _ in range(repeats):
        run = fn()
        start = time.process_time()
        run(texts)
        rates.append(len(texts) / (time.process_time() - start))
    return statistics.median(rates)


def rule_engine_benchmark(texts, repeats) -> list[tuple[str, float]]:
    """Regex vs spaCy Matcher on the same phrases: churn intent and unresolved-repeat phrases."""
    import re

    import spacy
    from spacy.matcher import Matcher

    regex = re.compile(
        r"\bcancel(?:l?ing|l?ed)? (?:my|our|the) (?:account|subscription|plan|membership)\b|"
        r"\bstill (?:not|broken|waiting|charged|missing)\b|\bnot (?:been )?(?:fixed|resolved|working)\b|"
        r"\bno (?:reply|response|answer|update|help)\b",
        re.I,
    )
    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    matcher.add(
        "churn",
        [
            [
                {"LOWER": {"IN": ["cancel", "canceling", "cancelling", "canceled", "cancelled"]}},
                {"LOWER": {"IN": ["my", "our", "the"]}},
                {"LOWER": {"IN": ["account", "subscription", "plan", "membership"]}},
            ]
        ],
    )
    matcher.add(
        "unresolved",
        [
            [{"LOWER": "still"}, {"LOWER": {"IN": ["not", "broken", "waiting", "charged", "missing"]}}],
            [{"LOWER": "not"}, {"LOWER": "been", "OP": "?"}, {"LOWER": {"IN": ["fixed", "resolved", "working"]}}],
            [{"LOWER": "no"}, {"LOWER": {"IN": ["reply", "response", "answer", "update", "help"]}}],
        ],
    )
    docs = list(nlp.pipe(texts))
    out = [
        ("regex on strings", throughput(lambda: lambda ts: [regex.search(t) for t in ts], texts, repeats)),
        ("Matcher on ready Docs", throughput(lambda: lambda ts: [matcher(d) for d in docs], texts, repeats)),
        ("tokenize + Matcher", throughput(lambda: lambda ts: [matcher(d) for d in nlp.pipe(ts)], texts, repeats)),
    ]
    agree = sum(bool(regex.search(t)) == bool(matcher(d)) for t, d in zip(texts, docs)) / len(texts)
    out.append(("agreement regex vs Matcher (share of texts)", agree))
    return out


def choose_thresholds(data: Path) -> None:
    """Grid search of the label thresholds on vader_ground_truth only (mean 3-class macro-F1 over its files)."""
    scorer = fs.SentimentScorer()
    sets = []
    for name in VGT_FILES:
        frame = read(data / "vader_ground_truth" / f"{name}.csv")
        sets.append((vgt_classes(frame["mean_rating"]), score_default(frame["text"].tolist(), scorer)[0]))
    grid = np.round(np.arange(-0.6, 0.61, 0.05), 2)
    results = []
    for lo in grid:
        for hi in grid:
            if hi > lo:
                f1s = [three_class(y, labels(s, lo, hi))[1] for y, s in sets]
                results.append((float(np.mean(f1s)), float(lo), float(hi), f1s))
    results.sort(reverse=True)
    print("mean macro-F1 over vader_ground_truth files | negative ≤ | positive ≥ | per file", VGT_FILES)
    for mean, lo, hi, f1s in results[:8]:
        print(f"{mean:.4f} | {lo:+.2f} | {hi:+.2f} | " + " ".join(f"{f:.3f}" for f in f1s))
    vader = [three_class(y, labels(s, -0.05, 0.05))[1] for y, s in sets]
    print(f"at VADER's ±0.05: {np.mean(vader):.4f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"), help="Folder of the labelled data.")
    parser.add_argument("--no-calibrated", action="store_true", help="Skip the 5-fold calibrated runs.")
    parser.add_argument("--repeats", type=int, default=5, help="Throughput runs (median is reported).")
    parser.add_argument(
        "--embeddings",
        action="store_true",
        help="Also cross-validate the calibrated model with static embedding features (airline only).",
    )
    parser.add_argument(
        "--features",
        nargs="*",
        default=[],
        choices=["embeddings", "minilm"],
        metavar="SET",
        help="Optional feature sets of the calibrated column (as `feedback sentiment fit --features`).",
    )
    parser.add_argument(
        "--split-seeds",
        nargs="*",
        type=int,
        default=[],
        metavar="SEED",
        help="Also cross-validate the airline calibrated model with these fold-split seeds (besides "
        "42) and print each macro-F1 and the mean: how much the figure owes to one split.",
    )
    parser.add_argument(
        "--choose-thresholds", action="store_true", help="Print the threshold grid on vader_ground_truth."
    )
    args = parser.parse_args(argv)
    data = Path(args.data_dir)
    if args.choose_thresholds:
        choose_thresholds(data)
        return 0
    features = tuple(args.features)
    rows = []

    def add(file, n, metric, plain, default, calibrated=None, embedded=None):
        row = {
            "file": file,
            "rows": n,
            "metric": metric,
            "plain VADER": plain,
            "feedback default": default,
            "feedback calibrated (5-fold CV)": calibrated,
        }
        if args.embeddings:
            row["calibrated + embeddings (5-fold CV)"] = embedded
        rows.append(row)

    # airline tweets: 3 classes, held out
    air = read(data / "airline_tweets" / "dev.csv")
    texts = [html.unescape(t) for t in air["text"]]  # Twitter's HTML escaping (SOURCE.md quirks)
    y = air["airline_sentiment"].to_numpy()
    plain = three_class(y, labels(score_plain(texts), fs.VADER_NEGATIVE_AT_OR_BELOW, fs.VADER_POSITIVE_AT_OR_ABOVE))
    default = three_class(y, score_default(texts)[1])
    cal = (None, None)
    if not args.no_calibrated:
        start = time.perf_counter()
        cv = cross_validate(texts, list(y), folds=5, seed=42, features=features)
        cal = (cv["accuracy"], cv["macro_f1"])
        cv_seconds = time.perf_counter() - start
        split_f1 = {42: cv["macro_f1"]}
        for split_seed in args.split_seeds:
            split_f1[split_seed] = cross_validate(texts, list(y), folds=5, seed=split_seed, features=features)[
                "macro_f1"
            ]
    emb = (None, None)
    if args.embeddings:
        cv = cross_validate(texts, list(y), folds=5, seed=42, features=("embeddings",))
        emb = (cv["accuracy"], cv["macro_f1"])
    add("airline_tweets/dev.csv", len(y), "accuracy (3 classes)", plain[0], default[0], cal[0], emb[0])
    add("airline_tweets/dev.csv", len(y), "macro-F1 (3 classes)", plain[1], default[1], cal[1], emb[1])

    # uci sentences: binary; neutral predictions are errors
    for name in ("amazon", "yelp"):
        frame = read(data / "uci_sentences" / f"{name}.csv")
        texts_u = frame["text"].tolist()
        yu = np.where(frame["label"].astype(int) == 1, "positive", "negative")
        plain = binary(yu, labels(score_plain(texts_u), fs.VADER_NEGATIVE_AT_OR_BELOW, fs.VADER_POSITIVE_AT_OR_ABOVE))
        default = binary(yu, score_default(texts_u)[1])
        cal = (None, None)
        if not args.no_calibrated:
            cv = cross_validate(texts_u, list(yu), folds=5, seed=42, features=features)
            cal = (cv["accuracy"], cv["macro_f1"])
        add(f"uci_sentences/{name}.csv", len(yu), "accuracy (binary, neutral = wrong)", plain[0], default[0], cal[0])
        add(f"uci_sentences/{name}.csv", len(yu), "macro-F1 (binary, neutral = wrong)", plain[1], default[1], cal[1])

    # vader ground truth: correlation and 3 classes
    for name in VGT_FILES:
        frame = read(data / "vader_ground_truth" / f"{name}.csv")
        texts_v, rating = frame["text"].tolist(), frame["mean_rating"].astype(float).to_numpy()
        yv = vgt_classes(rating)
        sp_, (sd, ld) = score_plain(texts_v), score_default(texts_v)
        cal = None
        if not args.no_calibrated:
            cal = cross_validate(texts_v, list(yv), folds=5, seed=42, features=features)["macro_f1"]
        add(
            f"vader_ground_truth/{name}.csv",
            len(yv),
            "Pearson r with mean_rating",
            pearsonr(sp_, rating)[0],
            pearsonr(sd, rating)[0],
        )
        add(
            f"vader_ground_truth/{name}.csv",
            len(yv),
            "Spearman rho with mean_rating",
            spearmanr(sp_, rating)[0],
            spearmanr(sd, rating)[0],
        )
        add(
            f"vader_ground_truth/{name}.csv",
            len(yv),
            "macro-F1 (3 classes, ±0.5 rating) *",
            three_class(yv, labels(sp_, fs.VADER_NEGATIVE_AT_OR_BELOW, fs.VADER_POSITIVE_AT_OR_ABOVE))[1],
            three_class(yv, ld)[1],
            cal,
        )

    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 220, "display.max_columns", 10, "display.max_colwidth", 40):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-"))
    print("* the default's label thresholds were chosen on vader_ground_truth (see --choose-thresholds)")
    if not args.no_calibrated:
        print(
            f"calibrated features: VADER + support rules + word/char n-grams{''.join(' + ' + f for f in features)}; "
            f"airline 5-fold CV took {cv_seconds:.0f} s wall (embedding included)"
        )
        if len(split_f1) > 1:
            print(
                "airline calibrated macro-F1 by fold-split seed: "
                + ", ".join(f"{k}: {v:.3f}" for k, v in split_f1.items())
                + f"; mean {np.mean(list(split_f1.values())):.3f}"
            )

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    def plain_run():
        analyzer = SentimentIntensityAnalyzer()
        return lambda ts: [analyzer.polarity_scores(t) for t in ts]

    def default_run():
        scorer = fs.SentimentScorer()
        return scorer.score_many

    print(
        f"\nthroughput on airline_tweets/dev.csv ({len(texts)} texts), docs per CPU-second, median of {args.repeats}:"
    )
    # interleaved: each repeat times VADER then the default back to back, so load changes on a shared machine hit
    # both alike; the median of the per-pair ratios is the robust figure
    pairs = [(throughput(plain_run, texts, 1), throughput(default_run, texts, 1)) for _ in range(args.repeats)]
    print(f"  plain VADER        {statistics.median(p for p, _ in pairs):>9,.0f}")
    print(f"  feedback default   {statistics.median(d for _, d in pairs):>9,.0f}")
    print(f"  default / VADER    {statistics.median(d / p for p, d in pairs):>9.2f}  (median of interleaved pairs)")
    print("rule engine, texts per CPU-second (same phrases):")
    for name, value in rule_engine_benchmark(texts, args.repeats):
        print(f"  {name:<44} {value:>9,.2f}" if value <= 1 else f"  {name:<44} {value:>9,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
