"""The whole job, one readable orchestration: ingest → clean → sentiment → themes → impact → KPIs → report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .clean import clean_feedback
from .config import Config
from .io.write import write_text
from .impact import EMERGING_EARLY_SHARE, PRIORITY_FORMULA, impact_records, theme_impact
from .ingest import Dataset, load_dataset
from .kpis import KPI_DEFINITIONS, compute_kpis
from .periods import all_periods, period_labels
from .report import PAINPOINT_DEFINITIONS, ReportContext, render_report
from .schema import SKIP_REASONS
from .sentiment import (
    NEGATIVE_AT_OR_BELOW,
    POSITIVE_AT_OR_ABOVE,
    SENTENCE_BASE_WEIGHT,
    SentimentScorer,
    score_sentiment,
)
from .themes import ThemeModel, tag_themes

#: a theme is praise, not a pain point, when its mean sentiment is at least this and few of its mentions are negative
PRAISE_MIN_SENTIMENT = 0.3
PRAISE_MAX_NEGATIVE_SHARE = 0.2
#: quotes are taken from texts of this many words, so they are full thoughts but readable at a glance
QUOTE_WORDS = (5, 80)

METHODS = {
    "sentiment": (
        "VADER (Hutto & Gilbert 2014) scores each sentence; support-language rules (waiting, unresolved repeats, "
        "cancellation intent, escalation, sarcasm; models/sentiment_rules.toml) shift the sentences they match. "
        f"The document score is the mean of sentence scores weighted by {SENTENCE_BASE_WEIGHT} + |score|, with "
        "courtesy-only sentences down-weighted and a sentence opening with 'But'/'However' weighted up. Labels: "
        f"negative ≤ {NEGATIVE_AT_OR_BELOW}, positive ≥ {POSITIVE_AT_OR_ABOVE} (chosen on VADER's human-rated "
        "ground truth; VADER's own are ±0.05)."
    ),
    "impact": (
        "Churn rates compare customers who raised a theme with all other customers; the lift carries a 95% log-normal "
        "interval and a Mantel–Haenszel estimate stratified by segment, so a theme is not blamed for a segment's "
        "churn. "
        "Revenue at risk is the monthly revenue of affected customers times the churn attributable to the theme."
    ),
}


@dataclass
class AnalysisResult:
    """Everything one run computed: the scored rows, the theme model, the impact table and the KPIs."""

    dataset: Dataset
    feedback: pd.DataFrame
    theme_model: ThemeModel
    impact: pd.DataFrame
    kpis: dict
    config: Config

    @property
    def usable(self) -> pd.Series:
        return ~self.feedback["quality_issue"].isin(SKIP_REASONS)


def analyze_feedback(
    feedback: pd.DataFrame,
    config: Config | None = None,
    theme_model: ThemeModel | None = None,
    scorer: SentimentScorer | None = None,
) -> tuple[pd.DataFrame, ThemeModel]:
    """Clean, score and tag a standard feedback frame; fits themes on it when no model is given."""
    config = config or Config()
    # clean: customer's own words, PII redacted, language and quality flags
    frame = clean_feedback(feedback, redact=config.redact_pii, max_chars=config.max_text_chars)
    # sentiment: VADER sentences + support rules
    frame = score_sentiment(frame, scorer=scorer)
    # themes: discover (or reuse) and tag
    frame, model = tag_themes(frame, theme_model or ThemeModel.from_config(config), scorer=scorer)
    return frame, model


def analyze_dataset(
    dataset: Dataset,
    config: Config | None = None,
    theme_model: ThemeModel | None = None,
    scorer: SentimentScorer | None = None,
) -> AnalysisResult:
    """Run every stage on a loaded dataset (``scorer``: e.g. a calibrated model from
    ``feedback.calibration.load_scorer(DIR)``)."""
    config = config or Config()
    frame, model = analyze_feedback(dataset.feedback, config, theme_model, scorer=scorer)
    return _measure(dataset, frame, model, config)


def _measure(dataset: Dataset, frame: pd.DataFrame, model: ThemeModel, config: Config) -> AnalysisResult:
    """The stages after text analysis: impact of every theme and the KPIs."""
    usable = frame[~frame["quality_issue"].isin(SKIP_REASONS)]
    impact = theme_impact(usable, dataset.customers, period=config.period, seed=config.seed)
    kpis = compute_kpis(
        frame[frame["quality_issue"] != "outside_period"],
        dataset.customers,
        dataset.tickets,
        by=config.period,
        min_n=config.min_sample,
    )
    return AnalysisResult(dataset, frame, model, impact, kpis, config)


def analyze_stored(
    feedback: pd.DataFrame,
    customers: pd.DataFrame | None,
    tickets: pd.DataFrame | None,
    config: Config | None = None,
    theme_model: ThemeModel | None = None,
) -> AnalysisResult:
    """Impact and KPIs from rows already cleaned, scored and tagged (a workspace, see ``feedback.workspace``).

    No text is analyzed again: the stored sentiment and theme columns are used as they are. Rows outside
    ``config.since``/``config.until`` are kept, flagged ``outside_period`` and counted, as ``load_dataset`` does.
    """
    from .ingest import _apply_date_window

    config = config or Config()
    frame = feedback.copy()
    frame["quality_issue"] = frame["quality_issue"].astype(object).where(frame["quality_issue"].notna(), "")
    frame.loc[frame["quality_issue"] == "outside_period", "quality_issue"] = ""  # a window is the reader's, not stored
    dataset = Dataset(
        feedback=frame,
        customers=customers,
        tickets=tickets,
        sources={"workspace": "stored rows"},
        rows_read={"feedback": len(frame)},
    )
    _apply_date_window(dataset, config)
    return _measure(dataset, dataset.feedback, theme_model, config)


def run(
    data: str | Path,
    config: Config | None = None,
    theme_model: ThemeModel | None = None,
    scorer: SentimentScorer | None = None,
) -> AnalysisResult:
    """Load a data folder or file and analyze it."""
    config = config or Config()
    return analyze_dataset(load_dataset(data, config), config, theme_model, scorer=scorer)


def _quotes(rows: pd.DataFrame, n: int, prefer: str | None) -> list[str]:
    words = rows["clean_text"].str.split().str.len()
    rows = rows[(words >= QUOTE_WORDS[0]) & (words <= QUOTE_WORDS[1])]
    if prefer == "negative":
        rows = rows.sort_values(["sentiment", "theme_score"], ascending=[True, False], kind="stable")
        rows = rows[rows["theme_score"] >= rows["theme_score"].median()] if len(rows) > 3 * n else rows
    else:
        rows = rows.sort_values("theme_score", ascending=False, kind="stable")
    quotes: list[str] = []
    for text in rows["clean_text"]:
        if not any(_near_duplicate(text, q) for q in quotes):
            quotes.append(text)
        if len(quotes) == n:
            break
    for text in rows["clean_text"]:  # too few distinct texts: fill with exact-distinct ones
        if len(quotes) >= n:
            break
        if text not in quotes:
            quotes.append(text)
    return quotes


#: two quotes whose word sets overlap at least this much (Jaccard) say the same thing; the report shows one
QUOTE_MAX_OVERLAP = 0.6


def _near_duplicate(a: str, b: str) -> bool:
    """True for the same complaint with a name, a typo or a greeting changed.

    >>> _near_duplicate("Thanks for the quick help, Grace was lovely.", "Thanks for the quick help, Ahmed was lovely.")
    True
    >>> _near_duplicate("The refund never arrived.", "The app crashes on start.")
    False
    """
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= QUOTE_MAX_OVERLAP


def _segment_breakdown(customers: pd.DataFrame | None, affected: set[str]) -> list[dict]:
    """Per customer segment: affected customers, their share of the segment, churn of affected vs the others there.

    Shows whether a theme's churn is the theme's or its segment's. Largest affected count first; [] without a
    customers table with a segment column.
    """
    if (
        customers is None
        or not len(customers)
        or "segment" not in customers.columns
        or "churned" not in customers.columns
    ):
        return []
    cust = customers.drop_duplicates("customer_id", keep="last")
    segment = cust["segment"].astype(object).where(cust["segment"].notna(), "unknown").astype(str)
    churned = cust["churned"].astype("boolean").fillna(False).astype(bool)
    hit = cust["customer_id"].astype(str).isin(affected)
    out = []
    for seg in sorted(segment.unique()):
        in_seg = (segment == seg).to_numpy()
        a, others = in_seg & hit.to_numpy(), in_seg & ~hit.to_numpy()
        if not a.any():
            continue
        out.append(
            {
                "segment": seg,
                "customers": int(in_seg.sum()),
                "affected_customers": int(a.sum()),
                "share_of_segment": float(a.sum() / in_seg.sum()),
                "churn_rate_affected": float(churned.to_numpy()[a].mean()),
                "churn_rate_unaffected": float(churned.to_numpy()[others].mean()) if others.any() else None,
            }
        )
    return sorted(out, key=lambda r: (-r["affected_customers"], r["segment"]))


def _subtheme_rows(rows: pd.DataFrame, subthemes: list, is_praise: bool) -> list[dict]:
    """The drill-down of one theme: each sub-theme its texts fall in, most mentioned first, with its customers,
    share of the theme's mentions, negative share and one quote."""
    if not subthemes or "subtheme_id" not in rows.columns or not len(rows):
        return []
    out = []
    for sub in subthemes:
        own = rows[rows["subtheme_id"] == sub.theme_id]
        if not len(own):
            continue
        # the quote says what the sub-theme is about: a text holding one of its top phrases, when one does
        phrases = [phrase.lower() for phrase in sub.top_phrases[:3]]
        saying = own[own["clean_text"].astype(str).str.lower().map(lambda text: any(p in text for p in phrases))]
        out.append(
            {
                "subtheme_id": sub.theme_id,
                "label": sub.label,
                "mentions": int(len(own)),
                "customers": int(own["customer_id"].nunique()),
                "share": float(len(own) / len(rows)),
                "negative_share": float((own["sentiment_label"] == "negative").mean())
                if "sentiment_label" in own.columns
                else None,
                "quote": next(iter(_quotes(saying if len(saying) else own, 1, None if is_praise else "negative")), ""),
            }
        )
    return sorted(out, key=lambda record: (-record["mentions"], str(record["subtheme_id"])))


def build_context(result: AnalysisResult) -> ReportContext:
    """The one object the report templates read, derived from an analysis result."""
    config, frame = result.config, result.feedback
    used = frame[result.usable]
    dated = used[used["created_at"].notna()]
    periods = all_periods(dated["created_at"].min(), dated["created_at"].max(), config.period) if len(dated) else []
    phrases = {t.theme_id: t.top_phrases for t in result.theme_model.themes_}
    kinds = {t.theme_id: getattr(t, "kind", None) for t in result.theme_model.themes_}
    subthemes = {t.theme_id: getattr(t, "subthemes", []) for t in result.theme_model.themes_}
    records = impact_records(result.impact)
    painpoints, praise = [], []
    for record in records:
        rows = used[used["theme_id"] == record["theme_id"]]
        own = record.get("aspect_sentiment")  # what the table shows: the sentiment the theme gets from its texts
        kind = kinds.get(record["theme_id"])
        if kind is None:  # a theme of a model that does not say what its units do: by the sentiment it gets
            is_praise = (own if own is not None else record["mean_sentiment"] or 0) >= PRAISE_MIN_SENTIMENT and (
                record.get("negative_share") or 0
            ) <= PRAISE_MAX_NEGATIVE_SHARE
        else:
            is_praise = kind == "praise"
        record["kind"] = "praise" if is_praise else kind or "pain point"
        record["top_phrases"] = phrases.get(record["theme_id"], [])[:6]
        record["quotes"] = _quotes(rows, config.quotes_per_theme, None if is_praise else "negative")
        record["subthemes"] = _subtheme_rows(rows, subthemes.get(record["theme_id"], []), is_praise)
        tagged = used["theme_ids"].map(lambda ids, tid=record["theme_id"]: tid in ids)  # every tag, as impact counts
        record["segments"] = _segment_breakdown(
            result.dataset.customers, set(used.loc[tagged, "customer_id"].astype(str))
        )
        (praise if is_praise else painpoints).append(record)
    # pain points rank by what they cost (churn, revenue); praise by how many mention it, the ranking's ties kept
    praise.sort(key=lambda record: -record["mentions"])
    labels = period_labels(dated["created_at"], config.period)
    by_period = dated.assign(period=labels.to_numpy()).groupby("period")
    sentiment_trend = []
    for period in periods:
        group = by_period.get_group(period) if period in by_period.groups else dated.iloc[:0]
        sentiment_trend.append(
            {
                "period": period,
                "mean_sentiment": float(group["sentiment"].mean()) if len(group) else None,
                "negative_share": float((group["sentiment_label"] == "negative").mean()) if len(group) else None,
                "n": int(len(group)),
            }
        )
    skipped = used.index.symmetric_difference(frame.index)
    skip_counts = frame.loc[skipped, "quality_issue"].value_counts()
    return ReportContext(
        title=config.title,
        period=config.period,
        date_from=str(dated["created_at"].min().date()) if len(dated) else "",
        date_to=str(dated["created_at"].max().date()) if len(dated) else "",
        rows_read=int(len(frame)),
        rows_used=int(len(used)),
        rows_skipped={str(k): int(v) for k, v in sorted(skip_counts.items())},
        kpis=result.kpis,
        kpi_definitions=KPI_DEFINITIONS,
        painpoints=painpoints,
        priority_formula=PRIORITY_FORMULA,
        painpoint_definitions=PAINPOINT_DEFINITIONS
        | {
            "New": f"an emerging theme: its mean mentions per period in the first two thirds of the periods are below "
            f"{EMERGING_EARLY_SHARE:.0%} of its mean in the last third"
        },
        praise=praise,
        sentiment_trend=sentiment_trend,
        theme_volume={r["theme_label"]: r.get("trend") or [] for r in records},
        periods=periods,
        quality=result.dataset.quality | {k: v for k, v in _note_counts(frame).items()},
        non_english_languages=_language_counts(frame),
        columns_read=_columns_read(result.dataset.feedback),
        methods={**METHODS, "themes": result.theme_model.method_description()},
    )


def _columns_read(feedback: pd.DataFrame) -> list[str]:
    """How the feedback columns were read, as the run summary says it (preset, columns found, date hint)."""
    lines = [f"preset: {feedback.attrs['preset']}"] if feedback.attrs.get("preset") else []
    found = feedback.attrs.get("found_columns")
    return (
        lines
        + ([found.line()] if found is not None else [])
        + ([feedback.attrs["date_hint"]] if feedback.attrs.get("date_hint") else [])
    )


def _note_counts(frame: pd.DataFrame) -> dict[str, int]:
    counts = frame["quality_issue"].value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items()) if k}


def _language_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows flagged non_english by their detected language, most first (ties by code)."""
    if "language" not in frame.columns:
        return {}
    counts = frame.loc[frame["quality_issue"] == "non_english", "language"].astype(str).value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def write_report(
    result: AnalysisResult | ReportContext, out: str | Path, templates_dir: str | Path | None = None
) -> Path:
    """Write the HTML report of an analysis, or of a :class:`ReportContext` (e.g. one :func:`build_context` made
    and a caller changed), to ``out`` as UTF-8; creates its folder. Returns the path."""
    context = result if isinstance(result, ReportContext) else build_context(result)
    return write_text(render_report(context, templates_dir), out)


def summary_lines(frame: pd.DataFrame) -> list[str]:
    """Rows read, used and skipped by reason; the numbers always add up."""
    counts = frame["quality_issue"].value_counts()
    skipped = {k: int(v) for k, v in counts.items() if k in SKIP_REASONS}
    notes = {k: int(v) for k, v in counts.items() if k and k not in SKIP_REASONS}
    used = len(frame) - sum(skipped.values())
    lines = [
        f"rows read: {len(frame)}, used: {used}, skipped: {sum(skipped.values())}"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(skipped.items()))})" if skipped else "")
    ]
    if notes:
        lines.append("rows used with a note: " + ", ".join(f"{k} {v}" for k, v in sorted(notes.items())))
    return lines


__all__ = [
    "AnalysisResult",
    "analyze_feedback",
    "analyze_dataset",
    "analyze_stored",
    "run",
    "build_context",
    "write_report",
    "summary_lines",
]
