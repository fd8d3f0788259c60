"""Theme impact: which pain points cost customers and money, ranked by one transparent priority.

Input is the feedback table after the ``sentiment`` and ``themes`` stages (see ``schema.py``) and,
optionally, the customers table. The output has one row per theme (the "other" theme -1 excluded);
a text counts for every theme in its ``theme_ids`` list.

Churn statistics are per customer over the whole data window (``customers.churned``):

* *affected* customers mentioned the theme at least once; *unaffected* are all other customers of the
  customers table (including those who never wrote). Customers missing from the customers table count
  in ``mentions``/``affected_customers`` but are left out of every churn and revenue figure.
* ``churn_lift`` is the crude risk ratio affected/unaffected with a 95 % log-normal CI
  ``exp(ln RR ± 1.96·sqrt(1/a − 1/n1 + 1/c − 1/n2))`` (None when a or c is 0).
* ``churn_lift_adjusted`` is the Mantel–Haenszel risk ratio stratified by ``customers.segment`` with a
  Greenland–Robins 95 % CI: a theme that only looks churny because it is mentioned mostly by a high-churn
  segment gets an adjusted lift near 1.
* ``churn_excess`` = churn_rate_affected × (1 − 1/churn_lift_adjusted): the share of affected customers
  whose churn is attributable to the theme (0 when the adjusted lift is ≤ 1 or undefined).
* ``revenue_at_risk`` = Σ monthly_revenue of affected customers × churn_excess (monthly revenue).
* ``value_of_fixing`` = affected customers × churn_excess (churned customers avoided) × mean CLV of the
  affected customers, with CLV = monthly_revenue × 12 × min(1 / annual churn rate, 5 years).

No random numbers are drawn: every interval is analytical, so ``seed`` is accepted only for API symmetry
with the other stages.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from feedback.errors import InputError
from feedback.periods import all_periods, period_labels
from feedback.schema import OTHER_THEME_ID

#: z value of a two-sided 95 % normal interval
Z95 = 1.959963984540054
#: weight of the volume ("pain") term of the priority, in months of revenue per unhappy affected customer;
#: 0.05 means 240 negative-affected customers weigh as much as one customer lost for a year
NEGATIVE_WEIGHT = 0.05
#: months of revenue lost per churned customer in the priority (one year)
MONTHS_LOST_PER_CHURN = 12
#: CLV lifespan cap in years (a near-zero churn rate would otherwise give an infinite CLV)
MAX_LIFESPAN_YEARS = 5.0
#: a theme is emerging when its mean mentions per period in the first 2/3 of the periods is below this share of
#: its mean in the last third (and the last third holds at least ``min_mentions`` mentions)
EMERGING_EARLY_SHARE = 0.10
#: number of segments listed in ``top_segments``
TOP_SEGMENTS = 3

PRIORITY_FORMULA = (
    "priority = affected_customers_known × churn_excess × mean_monthly_revenue × 12"
    " + 0.05 × affected_customers × negative_share × mean_monthly_revenue, where"
    " churn_excess = churn_rate_affected × (1 − 1/churn_lift_adjusted) (0 when the segment-adjusted lift ≤ 1),"
    " affected_customers_known = affected customers present in the customers table and"
    " mean_monthly_revenue = mean monthly_revenue of all customers (1 when no customers table is given)."
    " In words: a year of revenue for every customer the theme is expected to drive away, plus 0.05 month of"
    " revenue for every customer who complained about it."
)

#: the impact JSON contract (CONTRACT.md), in order; extras follow
CONTRACT_COLUMNS = (
    "theme_id", "theme_label", "mentions", "affected_customers", "mean_sentiment", "churn_rate_affected",
    "churn_rate_unaffected", "churn_lift", "churn_lift_ci", "revenue_at_risk", "priority",
)
EXTRA_COLUMNS = (
    "share_customers", "negative_share", "churn_lift_adjusted", "churn_lift_adjusted_ci", "churn_excess",
    "value_of_fixing", "csat_delta", "nps_delta", "trend", "trend_slope", "emerging", "top_segments",
)
COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS
#: columns that are None when no customers table is given
CHURN_COLUMNS = (
    "churn_rate_affected", "churn_rate_unaffected", "churn_lift", "churn_lift_ci", "revenue_at_risk",
    "churn_lift_adjusted", "churn_lift_adjusted_ci", "churn_excess", "value_of_fixing", "top_segments",
)


# ---------------------------------------------------------------------------------------------- statistics
def risk_ratio(a: int, n1: int, c: int, n2: int) -> tuple[float | None, list[float] | None]:
    """Risk ratio (a/n1)/(c/n2) with its 95 % log-normal CI; None where undefined.

    >>> rr, ci = risk_ratio(3, 5, 1, 10)
    >>> round(rr, 6), [round(x, 3) for x in ci]
    (6.0, [0.818, 43.997])
    >>> risk_ratio(0, 5, 1, 10)
    (0.0, None)
    >>> risk_ratio(1, 5, 0, 10)
    (None, None)
    """
    if n1 <= 0 or n2 <= 0 or c <= 0:
        return None, None
    rr = (a / n1) / (c / n2)
    if a <= 0:
        return rr, None
    se = math.sqrt(max(1 / a - 1 / n1 + 1 / c - 1 / n2, 0.0))
    log_rr = math.log(rr)
    return rr, [math.exp(log_rr - Z95 * se), math.exp(log_rr + Z95 * se)]


def mantel_haenszel_rr(strata: list[tuple[int, int, int, int]]) -> tuple[float | None, list[float] | None]:
    """Mantel–Haenszel risk ratio over strata ``(a, n1, c, n2)`` with the Greenland–Robins 95 % CI.

    A stratum with nobody exposed or nobody unexposed carries no information and is skipped.

    >>> rr, ci = mantel_haenszel_rr([(2, 4, 2, 4), (0, 0, 1, 10)])
    >>> rr
    1.0
    >>> mantel_haenszel_rr([(3, 5, 1, 10)])[0]
    6.0
    """
    r_sum = s_sum = var_num = 0.0
    for a, n1, c, n2 in strata:
        n = n1 + n2
        if n1 <= 0 or n2 <= 0:
            continue
        r_sum += a * n2 / n
        s_sum += c * n1 / n
        var_num += (n1 * n2 * (a + c) - a * c * n) / n**2
    if s_sum <= 0:
        return None, None
    rr = r_sum / s_sum
    if r_sum <= 0:
        return rr, None
    se = math.sqrt(max(var_num / (r_sum * s_sum), 0.0))
    log_rr = math.log(rr)
    return rr, [math.exp(log_rr - Z95 * se), math.exp(log_rr + Z95 * se)]


def _slope(values: list[float]) -> float | None:
    """Least-squares slope of ``values`` against 0, 1, 2, …; None with fewer than two points."""
    if len(values) < 2:
        return None
    x = np.arange(len(values), dtype=float)
    y = np.asarray(values, dtype=float)
    x -= x.mean()
    return float((x * (y - y.mean())).sum() / (x * x).sum())


def _is_emerging(counts: list[int], min_mentions: int) -> bool:
    """Near-silent in the first 2/3 of the periods (< 10 % of its later mean) and >= min_mentions in the last third."""
    k = len(counts)
    if k < 3:
        return False
    n_early = int(round(2 * k / 3))
    early, late = counts[:n_early], counts[n_early:]
    if not late or sum(late) < min_mentions:
        return False
    return float(np.mean(early)) < EMERGING_EARLY_SHARE * float(np.mean(late))


def _nps_score(scores: pd.Series) -> float | None:
    """NPS on -100..100 from 0–10 ratings; None without ratings."""
    scores = scores.dropna()
    if scores.empty:
        return None
    return float(100 * ((scores >= 9).mean() - (scores <= 6).mean()))


def _mean(series: pd.Series) -> float | None:
    series = pd.to_numeric(series, errors="coerce").dropna()
    return float(series.mean()) if len(series) else None


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


# ---------------------------------------------------------------------------------------------- inputs
def _theme_tags(feedback: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, str]]:
    """Long table (row, theme_id) of every tag except "other", and a theme id -> label map."""
    if "theme_ids" in feedback.columns:
        tag_lists = [list(t) if isinstance(t, (list, tuple, np.ndarray)) else [] for t in feedback["theme_ids"]]
    elif "theme_id" in feedback.columns:
        tag_lists = [[t] for t in feedback["theme_id"]]
    else:
        raise InputError(
            "the feedback table has no theme columns", column="theme_ids",
            fix="run the themes stage first (it adds theme_id, theme_label and theme_ids)",
        )
    labels: dict[int, str] = {}
    if "theme_id" in feedback.columns and "theme_label" in feedback.columns:
        for tid, label in zip(feedback["theme_id"], feedback["theme_label"]):
            if pd.notna(tid) and isinstance(label, str):
                labels.setdefault(int(tid), label)
    if "themes" in feedback.columns:
        for tags, joined in zip(tag_lists, feedback["themes"]):
            names = joined.split("; ") if isinstance(joined, str) and joined else []
            if len(names) == len(tags):
                for tid, label in zip(tags, names):
                    labels.setdefault(int(tid), label)
    rows, ids = [], []
    for i, tags in enumerate(tag_lists):
        for tid in dict.fromkeys(int(t) for t in tags if pd.notna(t)):  # a row counts once per theme
            if tid != OTHER_THEME_ID:
                rows.append(i)
                ids.append(tid)
    return pd.DataFrame({"row": rows, "theme_id": ids}, dtype="int64"), labels


def _prepare_customers(customers: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("customer_id", "churned") if c not in customers.columns]
    if missing:
        raise InputError(
            f"the customers table has no column {missing[0]!r}", column=missing[0],
            fix="pass a customers table with customer_id and churned (see schema.CUSTOMERS_REQUIRED)",
        )
    out = pd.DataFrame({"customer_id": customers["customer_id"].astype(str).to_numpy()})
    out["churned"] = customers["churned"].astype("boolean").fillna(False).astype(bool).to_numpy()
    revenue = customers["monthly_revenue"] if "monthly_revenue" in customers.columns else pd.Series(np.nan, index=customers.index)
    out["monthly_revenue"] = pd.to_numeric(revenue, errors="coerce").to_numpy(dtype=float)
    segment = customers["segment"] if "segment" in customers.columns else pd.Series("all", index=customers.index)
    out["segment"] = segment.astype(object).where(segment.notna(), "unknown").astype(str).to_numpy()
    for col in ("signup_date", "churn_date"):
        out[col] = pd.to_datetime(customers[col]).to_numpy() if col in customers.columns else pd.NaT
    return out.drop_duplicates("customer_id", keep="last").reset_index(drop=True)


def annual_churn_rate(customers: pd.DataFrame, window_end: pd.Timestamp | None) -> float | None:
    """Churns per customer-year: churned customers / years observed (signup to churn date or window end).

    Falls back to the plain churned share (read as a yearly rate) when signup dates are missing.
    """
    if customers.empty:
        return None
    churned = int(customers["churned"].sum())
    signup = pd.to_datetime(customers["signup_date"])
    end = pd.to_datetime(customers["churn_date"]).where(customers["churned"], pd.NaT)
    if window_end is not None:
        end = end.fillna(window_end)
    years = ((end - signup).dt.days / 365.25).clip(lower=0)
    known = years.notna().to_numpy()
    if known.any() and years[known].sum() > 0:
        return int(customers["churned"].to_numpy()[known].sum()) / float(years[known].sum())
    return churned / len(customers)


# ---------------------------------------------------------------------------------------------- main
def theme_impact(
    feedback: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    period: str = "week",
    min_mentions: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per theme with volume, sentiment, churn lift, revenue at risk and priority, highest priority first.

    ``min_mentions`` is the volume a theme needs in the last third of the periods to be flagged ``emerging``;
    every theme is reported whatever its volume. ``seed`` is unused (all intervals are analytical).

    >>> fb = pd.DataFrame({"customer_id": ["a", "b"], "created_at": pd.to_datetime(["2026-04-01", "2026-04-02"]),
    ...                    "theme_ids": [[1], [1, 2]], "sentiment": [-0.5, 0.5]})
    >>> theme_impact(fb)[["theme_id", "mentions", "affected_customers", "mean_sentiment"]].to_dict("records")
    [{'theme_id': 1, 'mentions': 2, 'affected_customers': 2, 'mean_sentiment': 0.0}, {'theme_id': 2, 'mentions': 1, 'affected_customers': 1, 'mean_sentiment': 0.5}]
    """
    del seed  # deterministic
    if "customer_id" not in feedback.columns:
        raise InputError("the feedback table has no column 'customer_id'", column="customer_id",
                         fix="map your customer id column to customer_id at ingest")
    fb = feedback.reset_index(drop=True)
    tags, labels = _theme_tags(fb)
    if tags.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "theme_id" else object) for c in COLUMNS})

    cust_ids = fb["customer_id"].astype(object).where(fb["customer_id"].notna(), None)
    cust_ids = cust_ids.map(lambda x: None if x is None else str(x))
    tags["customer_id"] = cust_ids.to_numpy()[tags["row"].to_numpy()]
    writers = cust_ids.dropna().nunique()

    sentiment = pd.to_numeric(fb["sentiment"], errors="coerce") if "sentiment" in fb.columns else None
    negative = (fb["sentiment_label"] == "negative") if "sentiment_label" in fb.columns else None
    csat = pd.to_numeric(fb["csat"], errors="coerce") if "csat" in fb.columns else None
    nps = pd.to_numeric(fb["nps"], errors="coerce") if "nps" in fb.columns else None

    # periods: every period between the first and last text, empty ones included
    if "created_at" in fb.columns and pd.to_datetime(fb["created_at"]).notna().any():
        created = pd.to_datetime(fb["created_at"])
        row_period = period_labels(created, period)
        periods = all_periods(created.min(), created.max(), period)
        window_end = created.max()
    else:
        row_period, periods, window_end = pd.Series([None] * len(fb), dtype=object), [], None
    rows_per_period = row_period.value_counts().reindex(periods, fill_value=0)

    cust = _prepare_customers(customers) if customers is not None else None
    if cust is not None:
        if cust["churn_date"].notna().any():
            latest = cust["churn_date"].max()
            window_end = latest if window_end is None else max(window_end, latest)
        revenue_known = cust["monthly_revenue"].dropna()
        mean_revenue = float(revenue_known.mean()) if len(revenue_known) else 1.0  # no revenue: count customers
        rate = annual_churn_rate(cust, window_end)
        lifespan = MAX_LIFESPAN_YEARS if not rate else min(1.0 / rate, MAX_LIFESPAN_YEARS)
        cust["clv"] = cust["monthly_revenue"] * 12 * lifespan
    else:
        mean_revenue = 1.0

    records = []
    for theme_id, group in tags.groupby("theme_id", sort=True):
        rows = group["row"].to_numpy()
        in_theme = np.zeros(len(fb), dtype=bool)
        in_theme[rows] = True
        affected = set(group["customer_id"].dropna())
        rec: dict[str, Any] = {
            "theme_id": int(theme_id),
            "theme_label": labels.get(int(theme_id), f"theme {theme_id}"),
            "mentions": int(len(rows)),
            "affected_customers": len(affected),
            "mean_sentiment": _mean(sentiment[in_theme]) if sentiment is not None else None,
            "share_customers": len(affected) / writers if writers else None,
            "negative_share": float(negative[in_theme].mean()) if negative is not None else None,
            "csat_delta": _delta(_mean(csat[in_theme]), _mean(csat[~in_theme])) if csat is not None else None,
            "nps_delta": _delta(_nps_score(nps[in_theme]), _nps_score(nps[~in_theme])) if nps is not None else None,
        }
        counts = row_period[in_theme].value_counts().reindex(periods, fill_value=0)
        rec["trend"] = [{"period": p, "mentions": int(n)} for p, n in counts.items()]
        shares = [(n / t if t else 0.0) for n, t in zip(counts.to_numpy(), rows_per_period.to_numpy())]
        rec["trend_slope"] = _slope(shares)
        rec["emerging"] = _is_emerging([int(n) for n in counts.to_numpy()], min_mentions)

        if cust is None:
            rec.update(dict.fromkeys(CHURN_COLUMNS))
            lost = 0.0
        else:
            rec.update(_churn_figures(cust, affected))
            lost = rec.pop("_lost")
        neg = rec["negative_share"] if rec["negative_share"] is not None else 1.0
        rec["priority"] = float(lost * mean_revenue * MONTHS_LOST_PER_CHURN
                                + NEGATIVE_WEIGHT * len(affected) * neg * mean_revenue)
        records.append(rec)

    out = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    out = out.sort_values(["priority", "theme_id"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)


def _churn_figures(cust: pd.DataFrame, affected: set[str]) -> dict[str, Any]:
    """Churn and revenue columns of one theme; ``_lost`` is the expected number of customers lost to it."""
    exposed = cust["customer_id"].isin(affected).to_numpy()
    churned = cust["churned"].to_numpy()
    a, n1 = int((churned & exposed).sum()), int(exposed.sum())
    c, n2 = int((churned & ~exposed).sum()), int((~exposed).sum())
    lift, lift_ci = risk_ratio(a, n1, c, n2)

    strata = []
    for _, seg in cust.assign(_exposed=exposed).groupby("segment", sort=True):
        e, ch = seg["_exposed"].to_numpy(), seg["churned"].to_numpy()
        strata.append((int((ch & e).sum()), int(e.sum()), int((ch & ~e).sum()), int((~e).sum())))
    lift_adj, lift_adj_ci = mantel_haenszel_rr(strata)

    rate_a = a / n1 if n1 else None
    if rate_a is None:
        excess = None
    elif lift_adj is None or lift_adj <= 1:
        excess = 0.0
    else:
        excess = rate_a * (1 - 1 / lift_adj)
    lost = n1 * (excess or 0.0)
    affected_cust = cust[exposed]
    revenue = float(affected_cust["monthly_revenue"].sum()) * excess if excess is not None else None
    clv = affected_cust["clv"].dropna()
    value = lost * float(clv.mean()) if excess is not None and len(clv) else (0.0 if excess is not None else None)

    top = []
    if n1:
        by_seg = affected_cust.groupby("segment", sort=True)["churned"].agg(["size", "mean"])
        by_seg = by_seg.sort_values("size", ascending=False, kind="mergesort").head(TOP_SEGMENTS)
        top = [{"segment": str(s), "affected_customers": int(r["size"]), "churn_rate_affected": float(r["mean"])}
               for s, r in by_seg.iterrows()]
    return {
        "churn_rate_affected": rate_a,
        "churn_rate_unaffected": c / n2 if n2 else None,
        "churn_lift": lift,
        "churn_lift_ci": lift_ci,
        "revenue_at_risk": revenue,
        "churn_lift_adjusted": lift_adj,
        "churn_lift_adjusted_ci": lift_adj_ci,
        "churn_excess": excess,
        "value_of_fixing": value,
        "top_segments": top,
        "_lost": lost,
    }


# ---------------------------------------------------------------------------------------------- JSON
def _plain(value: Any) -> Any:
    """Plain JSON-safe Python value: numpy scalars unwrapped, NaN/NA/inf -> None, containers converted."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def impact_records(df: pd.DataFrame) -> list[dict]:
    """The impact table as JSON-ready dicts: contract keys first, then the extras; no NaN, ints as int.

    >>> impact_records(pd.DataFrame({"theme_id": [3], "mentions": [np.int64(2)], "churn_lift": [np.nan]}))[0]["churn_lift"]
    """
    ordered = [c for c in COLUMNS if c in df.columns] + [c for c in df.columns if c not in COLUMNS]
    records = []
    for row in df[ordered].to_dict("records"):
        rec = {k: _plain(v) for k, v in row.items()}
        for key in ("theme_id", "mentions", "affected_customers"):
            if isinstance(rec.get(key), float):
                rec[key] = int(rec[key])
        records.append(rec)
    return records
