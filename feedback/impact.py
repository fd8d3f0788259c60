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
* ``churn_lift_vs_writers`` compares the affected customers with a second group: customers of the customers
  table who wrote feedback (any theme, or none) but never this theme. People who write to support churn
  more than silent customers, so ``churn_lift`` (vs everyone else) mixes "complained at all" with "complained
  about this"; ``churn_lift_vs_writers`` isolates the second. Same risk ratio and log-normal CI; None when no
  other writer is in the customers table.

Driver analysis (how a theme moves the scores), over feedback rows with a score (a row counts for every theme
it is tagged with):

* ``csat_delta`` = mean CSAT (1–5) of rows tagged with the theme − mean CSAT of all other rows with a CSAT,
  ``csat_delta_ci`` its Welch 95 % CI (unequal variances, Welch–Satterthwaite df) and ``csat_delta_p`` the
  Welch t-test p-value; ``csat_n`` = tagged rows with a CSAT. Reads: "texts about X score CSAT 1.1 lower".
* ``csat_coef`` = coefficient of the theme's 0/1 indicator in one OLS regression of CSAT on the indicators of
  all themes (a text can carry several) plus segment dummies (the customer's ``segment`` when a customers
  table with two or more segments is given, "unknown" for customers not in it), with a 95 % CI
  ``csat_coef_ci`` from cluster-robust standard errors (CR1, clustered by customer, t with G − 1 df): the
  CSAT difference of a text about X against a text in the same segment without X, other themes held fixed.
  None when the indicator has no scored row or is collinear with others.
* ``nps_delta``/``nps_delta_ci``/``nps_coef``/``nps_coef_ci``: the same on NPS points, coding each 0–10
  answer +100 (9–10), 0 (7–8), −100 (0–6), whose mean is the NPS; ``nps_delta`` is the NPS of tagged rows
  minus the NPS of the others.

Every column (``COLUMN_DEFINITIONS`` has a line on each, with its type): ``theme_id`` (int), ``theme_label``
(str), ``mentions``, ``affected_customers`` (int); ``mean_sentiment``, ``aspect_sentiment`` (the sentiment the
theme gets from its texts: a text's score when the theme is its only one, else the mean score of the text's
sentences about it; from the ``theme_sentiment`` column), ``churn_rate_affected``,
``churn_rate_unaffected``, ``churn_lift``, ``revenue_at_risk``, ``priority``, ``share_customers``,
``negative_share``, ``churn_lift_adjusted``, ``churn_excess``, ``value_of_fixing``, ``churn_rate_other_writers``,
``churn_lift_vs_writers``, ``csat_n``, ``csat_delta``, ``csat_delta_p``, ``csat_coef``, ``nps_n``, ``nps_delta``,
``nps_coef``, ``trend_slope``, ``nps_impact``, ``csat_impact``, ``ces_impact`` (numbers, None when undefined;
``csat_n``/``nps_n`` None without that score column, never NaN in ``impact_records``); intervals
``churn_lift_ci``, ``churn_lift_adjusted_ci``, ``churn_lift_vs_writers_ci``, ``csat_delta_ci``, ``csat_coef_ci``,
``nps_delta_ci``, ``nps_coef_ci``, ``nps_impact_ci``, ``csat_impact_ci``, ``ces_impact_ci`` ([low, high] or None);
``emerging`` (bool); ``trend`` (list of
{period, mentions}) and ``top_segments`` (list of {segment, affected_customers, churn_rate_affected}).
``NUMERIC_COLUMNS`` lists the number columns, any of which the report may sort by.

Score impact (Thematic's and Chattermill's definition: "the overall score minus the score with that theme's
respondents removed"): ``nps_impact``, ``csat_impact`` and ``ces_impact``, each with a seeded bootstrap 95%
interval (``*_impact_ci``; :func:`score_impact`). They say what a theme costs the headline score, where
``*_delta`` says how much lower its texts score: a small theme of very unhappy texts has a large delta and a small
impact. The only random numbers are that bootstrap's, drawn from ``seed``; every other interval is analytical.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

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

#: the keys of the impact JSON (``feedback impact --json``) that other tools read, in order; extras follow
CONTRACT_COLUMNS = (
    "theme_id",
    "theme_label",
    "mentions",
    "affected_customers",
    "mean_sentiment",
    "churn_rate_affected",
    "churn_rate_unaffected",
    "churn_lift",
    "churn_lift_ci",
    "revenue_at_risk",
    "priority",
)
EXTRA_COLUMNS = (
    "aspect_sentiment",
    "share_customers",
    "negative_share",
    "churn_lift_adjusted",
    "churn_lift_adjusted_ci",
    "churn_excess",
    "value_of_fixing",
    "churn_rate_other_writers",
    "churn_lift_vs_writers",
    "churn_lift_vs_writers_ci",
    "csat_n",
    "csat_delta",
    "csat_delta_ci",
    "csat_delta_p",
    "csat_coef",
    "csat_coef_ci",
    "nps_n",
    "nps_delta",
    "nps_delta_ci",
    "nps_coef",
    "nps_coef_ci",
    "trend",
    "trend_slope",
    "emerging",
    "top_segments",
    "nps_impact",
    "nps_impact_ci",
    "csat_impact",
    "csat_impact_ci",
    "ces_impact",
    "ces_impact_ci",
)
COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS
#: columns that are None when no customers table is given
CHURN_COLUMNS = (
    "churn_rate_affected",
    "churn_rate_unaffected",
    "churn_lift",
    "churn_lift_ci",
    "revenue_at_risk",
    "churn_lift_adjusted",
    "churn_lift_adjusted_ci",
    "churn_excess",
    "value_of_fixing",
    "top_segments",
    "churn_rate_other_writers",
    "churn_lift_vs_writers",
    "churn_lift_vs_writers_ci",
)
#: columns holding one number (or None): the report may sort the ranking by any of them
NUMERIC_COLUMNS = (
    "theme_id",
    "mentions",
    "affected_customers",
    "mean_sentiment",
    "aspect_sentiment",
    "churn_rate_affected",
    "churn_rate_unaffected",
    "churn_lift",
    "revenue_at_risk",
    "priority",
    "share_customers",
    "negative_share",
    "churn_lift_adjusted",
    "churn_excess",
    "value_of_fixing",
    "churn_rate_other_writers",
    "churn_lift_vs_writers",
    "csat_n",
    "csat_delta",
    "csat_delta_p",
    "csat_coef",
    "nps_n",
    "nps_delta",
    "nps_coef",
    "trend_slope",
    "nps_impact",
    "csat_impact",
    "ces_impact",
)
#: columns holding a 95 % interval [low, high] (or None)
INTERVAL_COLUMNS = (
    "churn_lift_ci",
    "churn_lift_adjusted_ci",
    "churn_lift_vs_writers_ci",
    "csat_delta_ci",
    "csat_coef_ci",
    "nps_delta_ci",
    "nps_coef_ci",
    "nps_impact_ci",
    "csat_impact_ci",
    "ces_impact_ci",
)
#: bootstrap resamples of each score impact's interval
IMPACT_BOOTSTRAP_ROUNDS = 2_000

#: one line per column: (type, definition); the report's methods section may print it
COLUMN_DEFINITIONS: dict[str, tuple[str, str]] = {
    "theme_id": ("int", "theme number (-1 'other' is never listed)"),
    "theme_label": ("str", "theme name"),
    "mentions": ("int", "texts tagged with the theme (a text can carry several themes)"),
    "affected_customers": ("int", "distinct customers with at least one such text"),
    "mean_sentiment": ("float|None", "mean compound sentiment (-1..1) of those texts"),
    "churn_rate_affected": ("float|None", "churned share of affected customers found in the customers table"),
    "churn_rate_unaffected": ("float|None", "churned share of every other customer of the table, silent ones included"),
    "churn_lift": ("float|None", "churn_rate_affected / churn_rate_unaffected (risk ratio)"),
    "churn_lift_ci": ("[float, float]|None", "95% log-normal interval of churn_lift"),
    "revenue_at_risk": ("float|None", "monthly revenue of affected customers x churn_excess"),
    "priority": ("float", PRIORITY_FORMULA),
    "share_customers": ("float|None", "affected customers / customers who wrote feedback"),
    "aspect_sentiment": (
        "float|None",
        "mean sentiment the theme gets from its texts: a text's score when the "
        "theme is its only one, else the mean score of its sentences about the theme",
    ),
    "negative_share": ("float|None", "share of the theme's texts labelled negative"),
    "churn_lift_adjusted": ("float|None", "Mantel-Haenszel risk ratio stratified by segment"),
    "churn_lift_adjusted_ci": ("[float, float]|None", "Greenland-Robins 95% interval of churn_lift_adjusted"),
    "churn_excess": ("float|None", "churn_rate_affected x (1 - 1/churn_lift_adjusted), 0 when the adjusted lift <= 1"),
    "value_of_fixing": ("float|None", "affected customers x churn_excess x mean CLV of affected customers"),
    "churn_rate_other_writers": ("float|None", "churned share of customers who wrote feedback but not about the theme"),
    "churn_lift_vs_writers": ("float|None", "churn_rate_affected / churn_rate_other_writers (risk ratio)"),
    "churn_lift_vs_writers_ci": ("[float, float]|None", "95% log-normal interval of churn_lift_vs_writers"),
    "csat_n": ("int|None", "texts tagged with the theme that carry a CSAT"),
    "csat_delta": ("float|None", "mean CSAT of tagged texts - mean CSAT of the other texts (1-5 points)"),
    "csat_delta_ci": ("[float, float]|None", "Welch 95% interval of csat_delta"),
    "csat_delta_p": ("float|None", "two-sided Welch t-test p-value of csat_delta"),
    "csat_coef": ("float|None", "OLS coefficient of the theme on CSAT, other themes and segment held fixed"),
    "csat_coef_ci": ("[float, float]|None", "95% interval of csat_coef, cluster-robust by customer (CR1)"),
    "nps_n": ("int|None", "texts tagged with the theme that carry an NPS answer"),
    "nps_delta": ("float|None", "NPS of tagged texts - NPS of the other texts (points)"),
    "nps_delta_ci": ("[float, float]|None", "Welch 95% interval of nps_delta (answers coded +100/0/-100)"),
    "nps_coef": ("float|None", "OLS coefficient of the theme on the coded NPS answer (points), as csat_coef"),
    "nps_coef_ci": ("[float, float]|None", "95% interval of nps_coef, cluster-robust by customer (CR1)"),
    "trend": ("list", "mentions per period, every period of the data, empty ones as 0"),
    "trend_slope": ("float|None", "least-squares slope of the theme's share of texts per period"),
    "emerging": ("bool", "almost absent in the first 2/3 of the periods, present in the last third"),
    "top_segments": ("list|None", "largest segments among affected customers, with their churn rate"),
    "nps_impact": (
        "float|None",
        "overall NPS - the NPS of the responses without the theme (points): what the "
        "theme takes off (negative) or adds to the score; None without a rated response in the theme",
    ),
    "nps_impact_ci": ("[float, float]|None", "bootstrap 95% interval of nps_impact (percentile, seeded)"),
    "csat_impact": ("float|None", "overall mean CSAT - the mean CSAT without the theme's responses (1-5 points)"),
    "csat_impact_ci": ("[float, float]|None", "bootstrap 95% interval of csat_impact"),
    "ces_impact": (
        "float|None",
        "overall mean CES - the mean CES without the theme's responses (1-7; more is "
        "more effort, so a positive impact is the theme's cost)",
    ),
    "ces_impact_ci": ("[float, float]|None", "bootstrap 95% interval of ces_impact"),
}


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


def welch_difference(x: np.ndarray, y: np.ndarray) -> tuple[float | None, list[float] | None, float | None]:
    """mean(x) − mean(y) with its Welch 95 % CI and two-sided p-value; None parts where undefined.

    The difference is None when a side is empty; CI and p need two values on each side and some spread.

    >>> d, ci, p = welch_difference(np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0, 5.0, 6.0]))
    >>> d, [round(v, 3) for v in ci], round(p, 4)
    (-2.5, [-4.732, -0.268], 0.0346)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) == 0 or len(y) == 0:
        return None, None, None
    diff = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return diff, None, None
    v1, v2 = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    if v1 + v2 == 0:
        return diff, None, None
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / ((v1 * v1 / (len(x) - 1)) + (v2 * v2 / (len(y) - 1)))
    half = float(stats.t.ppf(0.975, df)) * se
    p_value = float(2 * stats.t.sf(abs(diff) / se, df))
    return diff, [diff - half, diff + half], p_value


def ols_cluster(y: np.ndarray, X: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS of ``y`` on ``X`` (include the constant yourself) with cluster-robust CR1 95 % intervals.

    Columns that are constant zero or linear combinations of earlier columns are dropped; their coefficient
    and interval are NaN. CR1: V = (X'X)⁻¹ [Σ_g X_g' e_g e_g' X_g] (X'X)⁻¹ × G/(G−1) × (n−1)/(n−k), t with
    G − 1 df. Returns (coef, low, high), each of length X.shape[1].

    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> coef, lo, hi = ols_cluster(np.array([4.0, 5, 4, 2, 3, 2]), X, np.arange(6))
    >>> [round(float(c), 3) for c in coef]
    [4.333, -2.0]
    """
    n, k_all = X.shape
    keep: list[int] = []
    for j in range(k_all):
        if not X[:, j].any():
            continue
        trial = keep + [j]
        if np.linalg.matrix_rank(X[:, trial]) == len(trial):
            keep = trial
    coef = np.full(k_all, np.nan)
    low, high = coef.copy(), coef.copy()
    k = len(keep)
    groups, codes = np.unique(clusters, return_inverse=True)
    g = len(groups)
    if k == 0 or n <= k or g < 2:
        return coef, low, high
    Xk = X[:, keep]
    xtx_inv = np.linalg.inv(Xk.T @ Xk)
    beta = xtx_inv @ Xk.T @ y
    resid = y - Xk @ beta
    scores = np.zeros((g, k))
    np.add.at(scores, codes, Xk * resid[:, None])
    meat = scores.T @ scores
    cov = xtx_inv @ meat @ xtx_inv * (g / (g - 1)) * ((n - 1) / (n - k))
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    half = float(stats.t.ppf(0.975, g - 1)) * se
    coef[keep], low[keep], high[keep] = beta, beta - half, beta + half
    return coef, low, high


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


def score_impact(
    inside: np.ndarray, outside: np.ndarray, rng: np.random.Generator, rounds: int = IMPACT_BOOTSTRAP_ROUNDS
) -> tuple[float | None, list[float] | None]:
    """The overall mean of ``inside`` and ``outside`` together minus the mean of ``outside`` alone (what the
    ``inside`` responses move the score by), and its bootstrap 95% percentile interval.

    Each group is resampled on its own with its size kept (a stratified bootstrap), as multinomial draws over its
    distinct values: a score takes a handful of values (1-5, or NPS coded +100/0/-100), so ``rounds`` resamples of
    any number of responses cost the same. (None, None) when either group is empty.

    >>> impact, ci = score_impact(np.array([1.0, 1.0]), np.array([5.0, 5.0]), np.random.default_rng(0))
    >>> impact, ci
    (-2.0, [-2.0, -2.0])
    """
    if not len(inside) or not len(outside):
        return None, None
    total = len(inside) + len(outside)
    impact = float((inside.sum() + outside.sum()) / total - outside.mean())

    def resampled_sums(values: np.ndarray) -> np.ndarray:
        distinct, counts = np.unique(values, return_counts=True)
        return rng.multinomial(len(values), counts / len(values), size=rounds) @ distinct

    sums_in, sums_out = resampled_sums(inside), resampled_sums(outside)
    draws = (sums_in + sums_out) / total - sums_out / len(outside)
    low, high = np.percentile(draws, [2.5, 97.5])
    return impact, [float(low), float(high)]


def _nps_points(scores: pd.Series) -> pd.Series:
    """Each 0–10 answer coded +100 (9–10), 0 (7–8), −100 (0–6); NaN stays NaN. Their mean is the NPS."""
    coded = pd.Series(0.0, index=scores.index)
    coded[scores >= 9] = 100.0
    coded[scores <= 6] = -100.0
    return coded.where(scores.notna())


def _mean(series: pd.Series) -> float | None:
    series = pd.to_numeric(series, errors="coerce").dropna()
    return float(series.mean()) if len(series) else None


# ---------------------------------------------------------------------------------------------- inputs
def _theme_tags(feedback: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, str]]:
    """Long table (row, theme_id, sentiment) of every tag except "other", and a theme id -> label map.

    ``sentiment`` is what the tag gets from its row: ``theme_sentiment`` when the row has it, else the row's score.
    """
    if "theme_ids" in feedback.columns:
        tag_lists = [list(t) if isinstance(t, (list, tuple, np.ndarray)) else [] for t in feedback["theme_ids"]]
    elif "theme_id" in feedback.columns:
        tag_lists = [[t] for t in feedback["theme_id"]]
    else:
        raise InputError(
            "the feedback table has no theme columns",
            column="theme_ids",
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
    row_sentiment = (
        pd.to_numeric(feedback["sentiment"], errors="coerce").tolist()
        if "sentiment" in feedback.columns
        else [np.nan] * len(feedback)
    )
    per_tag = feedback["theme_sentiment"].tolist() if "theme_sentiment" in feedback.columns else [None] * len(feedback)
    rows, ids, sentiments = [], [], []
    for i, tags in enumerate(tag_lists):
        values = (
            per_tag[i]
            if isinstance(per_tag[i], (list, tuple, np.ndarray)) and len(per_tag[i]) == len(tags)
            else [row_sentiment[i]] * len(tags)
        )  # stored before theme_sentiment existed: the row's score
        seen = set()
        for t, value in zip(tags, values):
            if pd.isna(t) or int(t) in seen or int(t) == OTHER_THEME_ID:  # a row counts once per theme
                continue
            seen.add(int(t))
            rows.append(i)
            ids.append(int(t))
            sentiments.append(np.nan if value is None else float(value))
    return pd.DataFrame(
        {
            "row": pd.Series(rows, dtype="int64"),
            "theme_id": pd.Series(ids, dtype="int64"),
            "sentiment": pd.Series(sentiments, dtype="float64"),
        }
    ), labels


def _prepare_customers(customers: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("customer_id", "churned") if c not in customers.columns]
    if missing:
        raise InputError(
            f"the customers table has no column {missing[0]!r}",
            column=missing[0],
            fix="pass a customers table with customer_id and churned (see schema.CUSTOMERS_REQUIRED)",
        )
    out = pd.DataFrame({"customer_id": customers["customer_id"].astype(str).to_numpy()})
    out["churned"] = customers["churned"].astype("boolean").fillna(False).astype(bool).to_numpy()
    revenue = (
        customers["monthly_revenue"]
        if "monthly_revenue" in customers.columns
        else pd.Series(np.nan, index=customers.index)
    )
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
    every theme is reported whatever its volume. ``seed`` seeds the bootstrap of the score impacts (each theme's
    own stream, so a theme's interval does not depend on the others).

    >>> fb = pd.DataFrame({"customer_id": ["a", "b"], "created_at": pd.to_datetime(["2026-04-01", "2026-04-02"]),
    ...                    "theme_ids": [[1], [1, 2]], "sentiment": [-0.5, 0.5]})
    >>> theme_impact(fb)[["theme_id", "mentions", "affected_customers", "mean_sentiment"]].to_dict("list")
    {'theme_id': [1, 2], 'mentions': [2, 1], 'affected_customers': [2, 1], 'mean_sentiment': [0.0, 0.5]}
    """
    if "customer_id" not in feedback.columns:
        raise InputError(
            "the feedback table has no column 'customer_id'",
            column="customer_id",
            fix="map your customer id column to customer_id at ingest",
        )
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
    ces = pd.to_numeric(fb["ces"], errors="coerce") if "ces" in fb.columns else None

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
    writer_ids = set(cust_ids.dropna())
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

    # driver analysis: one regression per score over every theme indicator (+ segment), shared by all themes
    scores = {"csat": csat, "nps": _nps_points(nps) if nps is not None else None}
    drivers = {
        name: _drivers(values, tags, fb, cust, cust_ids) for name, values in scores.items() if values is not None
    }

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
            "aspect_sentiment": _mean(group["sentiment"]) if sentiment is not None else None,
            "share_customers": len(affected) / writers if writers else None,
            "negative_share": float(negative[in_theme].mean()) if negative is not None else None,
        }
        for name, values in scores.items():
            if values is None:
                rec.update(
                    dict.fromkeys((f"{name}_n", f"{name}_delta", f"{name}_delta_ci", f"{name}_coef", f"{name}_coef_ci"))
                )
                continue
            inside, outside = values[in_theme].dropna().to_numpy(), values[~in_theme].dropna().to_numpy()
            diff, ci, p_value = welch_difference(inside, outside)
            coef, coef_ci = drivers[name].get(int(theme_id), (None, None))
            rec.update(
                {
                    f"{name}_n": len(inside),
                    f"{name}_delta": diff,
                    f"{name}_delta_ci": ci,
                    f"{name}_coef": coef,
                    f"{name}_coef_ci": coef_ci,
                }
            )
            if name == "csat":
                rec["csat_delta_p"] = p_value
        rec.setdefault("csat_delta_p", None)
        # what the theme's responses move each score by: overall minus without them
        for position, (name, values) in enumerate((("nps", scores["nps"]), ("csat", csat), ("ces", ces))):
            impact = ci = None
            if values is not None:
                rng = np.random.default_rng([seed, int(theme_id) + 1, position])  # theme ids start at -1 ("other")
                impact, ci = score_impact(
                    values[in_theme].dropna().to_numpy(dtype=float),
                    values[~in_theme].dropna().to_numpy(dtype=float),
                    rng,
                )
            rec[f"{name}_impact"], rec[f"{name}_impact_ci"] = impact, ci
        counts = row_period[in_theme].value_counts().reindex(periods, fill_value=0)
        rec["trend"] = [{"period": p, "mentions": int(n)} for p, n in counts.items()]
        shares = [(n / t if t else 0.0) for n, t in zip(counts.to_numpy(), rows_per_period.to_numpy())]
        rec["trend_slope"] = _slope(shares)
        rec["emerging"] = _is_emerging([int(n) for n in counts.to_numpy()], min_mentions)

        if cust is None:
            rec.update(dict.fromkeys(CHURN_COLUMNS))
            lost = 0.0
        else:
            rec.update(_churn_figures(cust, affected, writer_ids))
            lost = rec.pop("_lost")
        neg = rec["negative_share"] if rec["negative_share"] is not None else 1.0
        rec["priority"] = float(
            lost * mean_revenue * MONTHS_LOST_PER_CHURN + NEGATIVE_WEIGHT * len(affected) * neg * mean_revenue
        )
        records.append(rec)

    out = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    for name in NUMERIC_COLUMNS:  # None -> NaN, so every number column has a numeric dtype and sorts
        out[name] = pd.to_numeric(out[name], errors="coerce")
    out = out.sort_values(["priority", "theme_id"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)


def _churn_figures(cust: pd.DataFrame, affected: set[str], writers: set[str]) -> dict[str, Any]:
    """Churn and revenue columns of one theme; ``_lost`` is the expected number of customers lost to it.

    ``writers``: ids of every customer who wrote feedback, for the comparison with the other writers.
    """
    exposed = cust["customer_id"].isin(affected).to_numpy()
    churned = cust["churned"].to_numpy()
    a, n1 = int((churned & exposed).sum()), int(exposed.sum())
    c, n2 = int((churned & ~exposed).sum()), int((~exposed).sum())
    lift, lift_ci = risk_ratio(a, n1, c, n2)
    other_writers = cust["customer_id"].isin(writers).to_numpy() & ~exposed
    c_w, n_w = int((churned & other_writers).sum()), int(other_writers.sum())
    lift_w, lift_w_ci = risk_ratio(a, n1, c_w, n_w)

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
        top = [
            {"segment": str(s), "affected_customers": int(r["size"]), "churn_rate_affected": float(r["mean"])}
            for s, r in by_seg.iterrows()
        ]
    return {
        "churn_rate_affected": rate_a,
        "churn_rate_unaffected": c / n2 if n2 else None,
        "churn_lift": lift,
        "churn_lift_ci": lift_ci,
        "revenue_at_risk": revenue,
        "churn_rate_other_writers": c_w / n_w if n_w else None,
        "churn_lift_vs_writers": lift_w,
        "churn_lift_vs_writers_ci": lift_w_ci,
        "churn_lift_adjusted": lift_adj,
        "churn_lift_adjusted_ci": lift_adj_ci,
        "churn_excess": excess,
        "value_of_fixing": value,
        "top_segments": top,
        "_lost": lost,
    }


def _drivers(
    values: pd.Series, tags: pd.DataFrame, fb: pd.DataFrame, cust: pd.DataFrame | None, cust_ids: pd.Series
) -> dict[int, tuple[float | None, list[float] | None]]:
    """theme id -> (coefficient, 95 % CI) of its indicator in the OLS of ``values`` on all theme indicators.

    Rows without a value are left out. Segment dummies (first segment in sort order as the baseline) join the
    regression when ``cust`` has two or more segments; customers not in it are segment "unknown". Standard
    errors are clustered by customer (a row without a customer id is its own cluster). See :func:`ols_cluster`.
    """
    scored = values.notna().to_numpy()
    if scored.sum() < 3:
        return {}
    theme_order = sorted(int(t) for t in tags["theme_id"].unique())
    position = {t: j for j, t in enumerate(theme_order)}
    indicators = np.zeros((len(fb), len(theme_order)))
    indicators[tags["row"].to_numpy(), tags["theme_id"].map(position).to_numpy()] = 1.0
    columns = [np.ones((len(fb), 1)), indicators]
    if cust is not None and cust["segment"].nunique() >= 2:
        lookup = dict(zip(cust["customer_id"], cust["segment"]))
        segment = np.array([lookup.get(c, "unknown") if c is not None else "unknown" for c in cust_ids], dtype=object)
        levels = sorted(set(segment))
        columns.append(
            np.column_stack([(segment == level).astype(float) for level in levels[1:]])
            if len(levels) > 1
            else np.zeros((len(fb), 0))
        )
    X = np.hstack(columns)[scored]
    clusters = np.array([c if c is not None else f"\x00row{i}" for i, c in enumerate(cust_ids)], dtype=object)[scored]
    coef, low, high = ols_cluster(values.to_numpy(dtype=float)[scored], X, clusters.astype(str))
    out: dict[int, tuple[float | None, list[float] | None]] = {}
    for theme, j in position.items():
        b, lo, hi = coef[1 + j], low[1 + j], high[1 + j]
        out[theme] = (
            None if not np.isfinite(b) else float(b),
            None if not (np.isfinite(lo) and np.isfinite(hi)) else [float(lo), float(hi)],
        )
    return out


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

    >>> record = impact_records(pd.DataFrame({"theme_id": [3], "mentions": [np.int64(2)], "churn_lift": [np.nan]}))[0]
    >>> record["churn_lift"] is None, type(record["mentions"]).__name__
    (True, 'int')
    """
    ordered = [c for c in COLUMNS if c in df.columns] + [c for c in df.columns if c not in COLUMNS]
    records = []
    for row in df[ordered].to_dict("records"):
        rec = {k: _plain(v) for k, v in row.items()}
        for key in ("theme_id", "mentions", "affected_customers", "csat_n", "nps_n"):
            if isinstance(rec.get(key), float):
                rec[key] = int(rec[key])
        records.append(rec)
    return records
