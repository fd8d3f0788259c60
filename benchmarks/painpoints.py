#!/usr/bin/env python3
"""Pain points on real customer text nobody here wrote: do the default themes name what customers complain about?

Data (read at run time from ``../shared/data``, never copied into the repository; see each folder's SOURCE.md):

* ``airline_tweets/dev.csv``: 7,152 airline tweets; people labelled each negative tweet's reason
  (``negativereason``). Every tweet goes in, cleaned as ``feedback`` cleans it; scored on the negative tweets with a
  reason ("Can't Tell" dropped), for each reason with at least 100 tweets:
  strict, the best single theme's F1 as a detector of that reason (a theme counts for a tweet when the tweet
  carries it among ``theme_ids``); grouped, the F1 of the union of the themes whose majority reason it is.
  A reason is recognised at F1 >= 0.5. Also NMI of ``theme_id`` against the reasons, K, the share of one-word
  labels and of "other".
* ``cfpb_complaints/complaints.csv``: the 1,532 complaints with a narrative; NMI of ``theme_id`` against ``issue``
  and ``product`` at auto K, and TF-IDF (1-2-grams, English stop words) + KMeans at the same K. For reference,
  what clustering each whole narrative as one document reaches at that K (sublinear TF-IDF, LSA to 100 dimensions,
  KMeans): themes are found over a message's units, so this bounds what the unit themes are compared against.
* ``banking77/train.csv``: 10,003 queries, 77 intents; NMI at auto K and at K=77, on all of them and on a seeded
  sample the size of the held-out test set (3,080), since auto K depends on the corpus.

Labels are used only to score. Every fit is ``ThemeModel()`` with its defaults (``--n-themes`` aside), as
``feedback themes fit`` runs it. NMI is of ``theme_id`` (the themes the report ranks); "sub NMI" of the sub-theme
each text falls in (``subtheme_id``, or its theme where that has none). Prints one table, then per corpus the
taxonomy note and ten labels.

    python benchmarks/painpoints.py [--data-dir ../shared/data] [--only airline cfpb banking77] [--n-themes auto]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import normalized_mutual_info_score
from sklearn.preprocessing import normalize

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feedback.clean import clean_feedback  # noqa: E402
from feedback.themes import ThemeModel  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
#: a reason is scored when at least this many negative tweets carry it
MIN_REASON_TWEETS = 100
RECOGNISED_F1 = 0.5
#: queries in Banking77's held-out test set
BANKING77_TEST_SIZE = 3_080


def cleaned(texts: list[str]) -> list[str]:
    """The texts as ``feedback`` analyses them (HTML entities, PII redaction, control characters)."""
    frame = pd.DataFrame(
        {
            "feedback_id": range(len(texts)),
            "customer_id": range(len(texts)),
            "created_at": "2026-01-01",
            "channel": "email",
            "text": texts,
        }
    )
    return clean_feedback(frame)["clean_text"].astype(str).tolist()


def f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    hits = (predicted & gold).sum()
    return 0.0 if hits == 0 else 2 * hits / (predicted.sum() + gold.sum())


def fit(texts: list[str], n_themes="auto") -> tuple[ThemeModel, pd.DataFrame, float]:
    start = time.perf_counter()
    model = ThemeModel(n_themes=n_themes).fit(texts)
    return model, model.transform(texts), time.perf_counter() - start


def finest(out: pd.DataFrame) -> np.ndarray:
    """Each text's sub-theme, or its theme where that has no sub-themes."""
    return np.where(out["subtheme_id"] != "", out["subtheme_id"], out["theme_id"].astype(str))


def n_subthemes(model: ThemeModel) -> int:
    return sum(len(theme.subthemes) for theme in model.themes_)


def one_word_share(model: ThemeModel) -> float:
    return float(np.mean([len(t.label.split()) == 1 for t in model.themes_])) if model.themes_ else 0.0


def airline(data_dir: Path, n_themes="auto") -> tuple[dict, list[str]]:
    df = pd.read_csv(data_dir / "airline_tweets" / "dev.csv", keep_default_na=False)
    model, out, seconds = fit(cleaned(df["text"].astype(str).tolist()), n_themes)
    scored = ((df["airline_sentiment"] == "negative") & ~df["negativereason"].isin(["", "Can't Tell"])).to_numpy()
    reasons = df["negativereason"].to_numpy()[scored]
    tags = [set(t) for t, keep in zip(out["theme_ids"], scored) if keep]
    themes = sorted({t for tagged in tags for t in tagged})
    carries = {t: np.array([t in tagged for tagged in tags]) for t in themes}
    majority = {t: Counter(reasons[carries[t]]).most_common(1)[0][0] for t in themes}
    labels = {t.theme_id: t.label for t in model.themes_}
    strict, grouped = {}, {}
    for reason, count in Counter(reasons).most_common():
        if count < MIN_REASON_TWEETS:
            continue
        gold = reasons == reason
        strict[reason] = max(((f1(carries[t], gold), labels.get(t, "other")) for t in themes), default=(0.0, "-"))
        grouped[reason] = f1(np.array([any(majority[t] == reason for t in tagged) for tagged in tags]), gold)
    row = {
        "corpus": "airline (dev)" + ("" if n_themes == "auto" else f", K={n_themes}"),
        "K": len(model.themes_),
        "NMI": normalized_mutual_info_score(reasons, out["theme_id"].to_numpy()[scored]),
        "sub": normalized_mutual_info_score(reasons, finest(out)[scored]),
        "subs": n_subthemes(model),
        "strict": f"{sum(v[0] >= RECOGNISED_F1 for v in strict.values())} of {len(strict)}",
        "grouped": f"{sum(v >= RECOGNISED_F1 for v in grouped.values())} of {len(grouped)}",
        "one-word": one_word_share(model),
        "other": float((out["theme_id"] < 0).mean()),
        "s": seconds,
    }
    detail = [
        f"  {reason:28s} strict {score:.2f} ({label})  grouped {grouped[reason]:.2f}"
        for reason, (score, label) in strict.items()
    ]
    return row, detail + [f"  {model.taxonomy_note_}", "  labels: " + "; ".join(t.label for t in model.themes_[:10])]


def cfpb(data_dir: Path, n_themes="auto") -> tuple[dict, list[str]]:
    df = pd.read_csv(data_dir / "cfpb_complaints" / "complaints.csv", keep_default_na=False, dtype=str)
    df = df[df["consumer_complaint_narrative"].str.strip() != ""]
    texts = cleaned(df["consumer_complaint_narrative"].tolist())
    model, out, seconds = fit(texts, n_themes)
    k = max(len(model.themes_), 2)
    baseline = KMeans(k, n_init=4, random_state=0).fit_predict(
        TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2).fit_transform(texts)
    )
    whole = KMeans(k, n_init=4, random_state=0).fit_predict(
        normalize(
            TruncatedSVD(100, random_state=0).fit_transform(
                TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(
                    texts
                )
            )
        )
    )
    scores = {
        column: (
            normalized_mutual_info_score(df[column], out["theme_id"]),
            normalized_mutual_info_score(df[column], baseline),
        )
        for column in ("issue", "product")
    }
    row = {
        "corpus": "CFPB narratives" + ("" if n_themes == "auto" else f", K={n_themes}"),
        "K": len(model.themes_),
        "NMI": scores["issue"][0],
        "baseline": f"tfidf+km issue {scores['issue'][1]:.3f}",
        "sub": normalized_mutual_info_score(df["issue"], finest(out)),
        "subs": n_subthemes(model),
        "one-word": one_word_share(model),
        "other": float((out["theme_id"] < 0).mean()),
        "s": seconds,
    }
    detail = [
        f"  NMI product {scores['product'][0]:.3f} (tfidf+km {scores['product'][1]:.3f})",
        f"  whole narratives as documents (tf-idf, LSA 100, KMeans at K={k}): issue "
        f"{normalized_mutual_info_score(df['issue'], whole):.3f}, product "
        f"{normalized_mutual_info_score(df['product'], whole):.3f}",
        f"  {model.taxonomy_note_}",
        "  labels: " + "; ".join(t.label for t in model.themes_[:10]),
    ]
    return row, detail


def banking77(data_dir: Path, n_themes="auto") -> tuple[list[dict], list[str]]:
    train = pd.read_csv(data_dir / "banking77" / "train.csv", keep_default_na=False)
    # the held-out test set has 3,080 queries: auto K sees a corpus of that size too
    test_sized = train.sample(BANKING77_TEST_SIZE, random_state=0)
    rows, detail = [], []
    for name, df, n_themes in (
        ("train", train, n_themes),
        ("train", train, 77),
        (f"{BANKING77_TEST_SIZE:,}-query sample", test_sized, n_themes),
        (f"{BANKING77_TEST_SIZE:,}-query sample", test_sized, 77),
    ):
        model, out, seconds = fit(df["text"].astype(str).tolist(), n_themes)
        rows.append(
            {
                "corpus": f"Banking77 {name}, K={n_themes}",
                "K": len(model.themes_),
                "NMI": normalized_mutual_info_score(df["category"], out["theme_id"]),
                "sub": normalized_mutual_info_score(df["category"], finest(out)),
                "subs": n_subthemes(model),
                "one-word": one_word_share(model),
                "other": float((out["theme_id"] < 0).mean()),
                "s": seconds,
            }
        )
        if n_themes != 77 and df is train:
            detail += [f"  {model.taxonomy_note_}", "  labels: " + "; ".join(t.label for t in model.themes_[:10])]
    return rows, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--only", nargs="+", choices=("airline", "cfpb", "banking77"), default=("airline", "cfpb", "banking77")
    )
    parser.add_argument("--n-themes", default="auto", help="auto (default), coarser, finer or a number")
    args = parser.parse_args()
    n_themes = int(args.n_themes) if args.n_themes.isdigit() else args.n_themes
    rows, details = [], []
    for name in args.only:
        found, detail = {"airline": airline, "cfpb": cfpb, "banking77": banking77}[name](args.data_dir, n_themes)
        rows.extend(found if isinstance(found, list) else [found])
        details.append((name, detail))
    print(
        "| corpus | K | NMI | sub-themes | sub NMI | strict | grouped | baseline | one-word labels | other | "
        "fit+tag s |"
    )
    print("|---|---:|---:|---:|---:|---|---|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['corpus']} | {row['K']} | {row['NMI']:.3f} | {row['subs']} | {row['sub']:.3f} "
            f"| {row.get('strict', '')} | {row.get('grouped', '')} "
            f"| {row.get('baseline', '')} | {row['one-word']:.0%} | {row['other']:.0%} | {row['s']:.1f} |"
        )
    for name, detail in details:
        print(f"\n{name}")
        print("\n".join(detail))


if __name__ == "__main__":
    main()
