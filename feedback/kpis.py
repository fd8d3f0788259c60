"""Customer-experience KPIs with sample sizes and 95% confidence intervals, overall and per period or group.

:func:`compute_kpis` returns the KPI JSON object that ``feedback kpis`` prints; other tools read these keys::

    {"overall": {KPI: {"value", "n", "ci", "small_sample", ...}},
     "periods": [{"period": "2026-W14", KPI: {..., "delta", "change_significant"}}, ...],
     "group_by": "week", "window": ["2026-03-30T00:00:00", "2026-04-12T00:00:00"] | None}

Rules kept everywhere:

- A KPI whose inputs are absent (table ``None``, column missing, or no non-null value) is
  ``{"value": None, "n": 0, "ci": None, "small_sample": True}`` -- never 0.
- A zero denominator or an undefined value (for example an infinite lifespan when nobody churned)
  gives ``None``, never NaN or inf; every number is a plain Python ``int``/``float``, so
  ``json.dumps(result, allow_nan=False)`` works.
- Periods run without gaps from the first to the last timestamp; an empty period is listed with null
  survey/ticket KPIs and ``n`` 0.
- A change between periods is called significant only by the test named in :data:`CHANGE_TESTS` (and in
  ``KPI_DEFINITIONS[kpi]["change_test"]``): a two-proportion z-test for shares, a Welch t-test for means, a
  normal test on the NPS difference; always two-sided at ``ALPHA`` = 0.05, with no correction for the number
  of periods and KPIs looked at (about one change in twenty is flagged by chance when nothing changed).

Two kinds of customers table:

- *dated* (some ``churn_date`` or ``signup_date`` known): churn_rate is a per-period rate, customers lost in
  the period / customers active at its start.
- *snapshot* (no dates at all, e.g. a CRM export with a churned flag and a tenure): there is no period, so
  churn_rate is the churned share of the table, churned customers / all customers with a churned flag, and
  says so (``"basis": "snapshot"`` on the KPI and a line in ``result["notes"]``). CLV then needs the tenure
  in months (column ``tenure_months``, mappable with ``[columns] tenure_months = "tenure"``): the monthly
  churn hazard is churned customers / total months of tenure (the constant-hazard estimate, in which
  customers still active count their months so far), lifespan = 1 / annualised hazard. Without a tenure
  CLV is null, because a churned share has no time unit.

Each formula is documented on its ``_kpi_*`` function and summarised in :data:`KPI_DEFINITIONS`,
which the report prints in its methods section.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ConfigError, InputError
from .periods import all_periods, period_bounds, period_labels

#: ways to split the KPIs
GROUP_BY = ("week", "month", "segment", "channel")

#: KPI names in output order (the contract's list)
KPI_NAMES = (
    "csat",
    "nps",
    "ces",
    "churn_rate",
    "retention_rate",
    "clv",
    "cac",
    "clv_cac",
    "fcr",
    "aht_minutes",
    "resolution_hours",
    "first_response_hours",
)

#: two-sided confidence level of every interval, and significance level of the change test
CONFIDENCE = 0.95
ALPHA = 0.05
#: the normal quantile for CONFIDENCE (1.95996...)
Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))

#: CSAT: a response of 4 or 5 on the 1-5 scale is "satisfied" (the usual top-2-box definition)
CSAT_SATISFIED_MIN = 4
#: NPS: 9-10 promoters, 0-6 detractors (Reichheld, "The One Number You Need to Grow", HBR 2003)
NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
#: CES: 1-3 on the 1-7 scale counts as "easy"
CES_EASY_MAX = 3
#: FCR: a resolved ticket that needed exactly one contact
FCR_CONTACTS = 1
#: annualisation of a per-period churn rate: periods per year
PERIODS_PER_YEAR = {"week": 52, "month": 12}
DAYS_PER_YEAR = 365.25

#: the KPIs for which the period-over-period change is tested (two-proportion z-test)
PROPORTION_KPIS = ("csat", "fcr", "churn_rate", "retention_rate")
#: the KPIs whose change is tested with Welch's t-test on (mean, sd, n) of each period
MEAN_KPIS = ("ces", "aht_minutes", "resolution_hours", "first_response_hours")

#: the stated test behind every ``change_significant`` flag (None: the change of that KPI is never tested,
#: because it has no sampling distribution here: CLV and CAC:CLV are derived, CAC is per acquired cohort)
CHANGE_TESTS = {
    "proportion": "two-sided two-proportion z-test with pooled standard error, alpha 0.05",
    "mean": "two-sided Welch t-test (unequal variances) from each period's mean, sd and n, alpha 0.05",
    "nps": "two-sided z-test on the NPS difference, se = sqrt(var1/n1 + var2/n2) with "
    "var = p_p + p_d - (p_p - p_d)^2 (NPS/100 scale), alpha 0.05",
}
#: standard name of the optional tenure column (months with the company) of a snapshot customers table
TENURE_COLUMN = "tenure_months"

KPI_DEFINITIONS: dict[str, dict[str, Any]] = {
    "csat": {
        "name": "CSAT",
        "unit": "fraction",
        "higher_is_better": True,
        "ci_method": "Wilson score 95%",
        "formula": "share of CSAT responses (1-5 scale) that are 4 or 5; n = responses",
    },
    "nps": {
        "name": "NPS",
        "unit": "score",
        "higher_is_better": True,
        "ci_method": "normal approximation, variance (p_p + p_d - (p_p - p_d)^2) / n, clipped to [-100, 100]",
        "formula": "100 x (share of promoters 9-10 - share of detractors 0-6); n = responses",
    },
    "ces": {
        "name": "CES",
        "unit": "score",
        "higher_is_better": False,
        "ci_method": "Student t 95%",
        "formula": "mean customer effort score on 1-7 (lower is easier); easy_share = share of 1-3",
    },
    "churn_rate": {
        "name": "Churn rate",
        "unit": "fraction",
        "higher_is_better": False,
        "ci_method": "Wilson score 95%",
        "formula": "customers active at the period start (signed up before it, not yet churned) "
        "whose churn_date falls in the period / customers active at the period start; "
        "a snapshot table without dates: churned customers / all customers (the churned "
        "share, not a per-period rate)",
    },
    "retention_rate": {
        "name": "Retention rate",
        "unit": "fraction",
        "higher_is_better": True,
        "ci_method": "1 - churn rate interval",
        "formula": "1 - churn rate (same customers)",
    },
    "clv": {
        "name": "CLV",
        "unit": "currency",
        "higher_is_better": True,
        "ci_method": "none",
        "formula": "mean monthly revenue x 12 x lifespan in years (x margin if given); "
        "lifespan = 1 / annualised churn rate, annual = 1 - (1 - period churn)^(periods per year); "
        "snapshot table: period churn = monthly hazard = churned / total tenure months, 12 periods "
        "a year; null when nobody churned or (snapshot) no tenure is given",
    },
    "cac": {
        "name": "CAC",
        "unit": "currency",
        "higher_is_better": False,
        "ci_method": "Student t 95%",
        "formula": "sum of acquisition_cost of customers who signed up in the period / number of them "
        "(overall and per segment: over every customer with an acquisition_cost); null when no "
        "acquisition_cost is given",
    },
    "clv_cac": {
        "name": "CLV:CAC",
        "unit": "ratio",
        "higher_is_better": True,
        "ci_method": "none",
        "formula": "CLV / CAC; null when either is null or CAC is 0 (CAC is null when no acquisition_cost is given)",
    },
    "fcr": {
        "name": "First-contact resolution",
        "unit": "fraction",
        "higher_is_better": True,
        "ci_method": "Wilson score 95%",
        "formula": "resolved tickets closed in one contact / resolved tickets",
    },
    "aht_minutes": {
        "name": "Average handle time",
        "unit": "minutes",
        "higher_is_better": False,
        "ci_method": "Student t 95%",
        "formula": "mean handle_time_minutes per ticket",
    },
    "resolution_hours": {
        "name": "Time to resolution",
        "unit": "hours",
        "higher_is_better": False,
        "ci_method": "Student t 95%",
        "formula": "mean hours from opened_at to resolved_at over resolved tickets",
    },
    "first_response_hours": {
        "name": "Time to first response",
        "unit": "hours",
        "higher_is_better": False,
        "ci_method": "Student t 95%",
        "formula": "mean hours from opened_at to first_response_at over answered tickets",
    },
}

#: what supplies each KPI: its table, and the columns it needs there
KPI_INPUTS: dict[str, tuple[str, str]] = {
    "csat": ("feedback", "a csat column (1-5)"),
    "nps": ("feedback", "an nps column (0-10)"),
    "ces": ("feedback", "a ces column (1-7)"),
    "churn_rate": ("customers", "churned, churn_date"),
    "retention_rate": ("customers", "churned, churn_date"),
    "clv": ("customers", "monthly_revenue"),
    "cac": ("customers", "acquisition_cost"),
    "clv_cac": ("customers", "monthly_revenue, acquisition_cost"),
    "fcr": ("tickets", "resolved_at, contacts_to_resolve"),
    "aht_minutes": ("tickets", "handle_time_minutes"),
    "resolution_hours": ("tickets", "opened_at, resolved_at"),
    "first_response_hours": ("tickets", "opened_at, first_response_at"),
}
#: how to add a whole table that is missing
TABLE_SUPPLY = {
    "feedback": "add a csat (1-5), nps (0-10) or ces (1-7) column to the feedback file, or name one with "
    "--rating-column KIND:NAME",
    "customers": "put customers.csv (customer_id, segment, signup_date, churned, churn_date, monthly_revenue, "
    "acquisition_cost) in a data folder beside the feedback file (as feedback.csv)",
    "tickets": "put tickets.csv (ticket_id, customer_id, opened_at, first_response_at, resolved_at, "
    "handle_time_minutes, contacts_to_resolve) in a data folder beside the feedback file",
}


def absent_kpis(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The KPIs no input of the whole dataset supplies (no value and n = 0 overall), grouped by what would
    supply them: ``[{"kpis": [names], "supply": "add customers.csv (...) to the data folder"}]``.

    >>> absent = absent_kpis({"overall": {"csat": {"value": 0.8, "n": 40}, "nps": {"value": None, "n": 0},
    ...                                   "ces": {"value": None, "n": 0}}})
    >>> absent[0]["kpis"], absent[0]["supply"]  # doctest: +NORMALIZE_WHITESPACE
    (['nps', 'ces'], 'add an nps column (0-10) or a ces column (1-7) to the feedback file,
                      or name one with --rating-column KIND:NAME')
    """
    overall = result.get("overall") or {}
    absent = [k for k in KPI_INPUTS if k in overall and overall[k].get("value") is None and not overall[k].get("n")]
    groups = []
    for table in ("feedback", "customers", "tickets"):
        names = [k for k in absent if KPI_INPUTS[k][0] == table]
        if not names:
            continue
        if len(names) == sum(1 for k in KPI_INPUTS if KPI_INPUTS[k][0] == table and k in overall):
            groups.append({"kpis": names, "supply": TABLE_SUPPLY[table]})
            continue
        needs = list(dict.fromkeys(KPI_INPUTS[k][1] for k in names))
        if table == "feedback":
            supply = f"add {' or '.join(needs)} to the feedback file, or name one with --rating-column KIND:NAME"
        else:
            supply = f"add {', '.join(needs)} to {table}.csv"
        groups.append({"kpis": names, "supply": supply})
    return groups


def absent_kpis_line(result: dict[str, Any]) -> str:
    """One line naming the KPIs the data cannot give and what would supply them ("" when none is absent)."""
    groups = absent_kpis(result)
    return "; ".join(f"{', '.join(KPI_DEFINITIONS[k]['name'] for k in g['kpis'])}: {g['supply']}" for g in groups)


for _name, _definition in KPI_DEFINITIONS.items():
    _definition["change_test"] = (
        CHANGE_TESTS["proportion"]
        if _name in PROPORTION_KPIS
        else CHANGE_TESTS["mean"]
        if _name in MEAN_KPIS
        else CHANGE_TESTS["nps"]
        if _name == "nps"
        else None
    )


# --------------------------------------------------------------------------- numbers and intervals


def _num(x: Any) -> float | None:
    """A plain float, or None for None/NaN/inf."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def wilson_ci(successes: int, n: int, z: float = Z) -> list[float] | None:
    """Wilson score interval of a proportion; None when ``n`` is 0.

    >>> [round(v, 3) for v in wilson_ci(8, 10)]
    [0.49, 0.943]
    """
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [max(0.0, centre - half), min(1.0, centre + half)]


def mean_ci(values: np.ndarray) -> list[float] | None:
    """Student t interval of a mean; None with fewer than 2 values.

    >>> [round(v, 3) for v in mean_ci(np.array([1.0, 2.0, 3.0]))]
    [-0.484, 4.484]
    """
    n = len(values)
    if n < 2:
        return None
    mean = float(np.mean(values))
    se = float(np.std(values, ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * se
    return [mean - half, mean + half]


def _kpi(value: Any, n: int, ci: list[float] | None, min_n: int, **extra: Any) -> dict[str, Any]:
    value = _num(value)
    if ci is not None:
        ci = [_num(ci[0]), _num(ci[1])]
        ci = None if value is None or None in ci else ci
    out = {"value": value, "n": int(n), "ci": ci, "small_sample": bool(n < min_n)}
    out.update({k: (_num(v) if isinstance(v, (float, np.floating, np.integer)) else v) for k, v in extra.items()})
    return out


def _absent(min_n: int = 1, **extra: Any) -> dict[str, Any]:
    return _kpi(None, 0, None, min_n, **extra) | {"small_sample": True}


def _proportion(successes: int, n: int, min_n: int) -> dict[str, Any]:
    if n == 0:
        return _absent(min_n)
    return _kpi(successes / n, n, wilson_ci(successes, n), min_n)


def _mean(values: pd.Series, min_n: int, **extra: Any) -> dict[str, Any]:
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    arr = arr[np.isfinite(arr)]
    if len(arr) == 0:
        return _absent(min_n, sd=None, **{k: None for k in extra})
    sd = float(np.std(arr, ddof=1)) if len(arr) > 1 else None
    return _kpi(float(arr.mean()), len(arr), mean_ci(arr), min_n, sd=sd, **extra)


def _column(df: pd.DataFrame | None, name: str) -> pd.Series | None:
    if df is None or name not in df.columns:
        return None
    return df[name]


def _datetimes(series: pd.Series) -> pd.Series:
    ts = pd.to_datetime(series, errors="coerce")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert(None)
    return ts


def _scores(df: pd.DataFrame | None, name: str) -> pd.Series | None:
    col = _column(df, name)
    if col is None:
        return None
    return pd.to_numeric(col, errors="coerce").dropna().astype(float)


# --------------------------------------------------------------------------- survey KPIs (feedback rows)


def _kpi_csat(feedback: pd.DataFrame | None, min_n: int) -> dict[str, Any]:
    """CSAT = share of responses with 4 or 5 on the 1-5 scale; n = responses; Wilson 95% CI."""
    scores = _scores(feedback, "csat")
    if scores is None or scores.empty:
        return _absent(min_n)
    return _proportion(int((scores >= CSAT_SATISFIED_MIN).sum()), len(scores), min_n)


def _kpi_nps(feedback: pd.DataFrame | None, min_n: int) -> dict[str, Any]:
    """NPS = 100 x (share 9-10 - share 0-6), on -100..100; n = responses.

    CI: normal approximation with Var(NPS/100) = (p_p + p_d - (p_p - p_d)^2) / n, clipped to [-100, 100].
    Extra keys: ``promoters`` and ``detractors`` (shares).
    """
    scores = _scores(feedback, "nps")
    if scores is None or scores.empty:
        return _absent(min_n, promoters=None, detractors=None)
    n = len(scores)
    pp = float((scores >= NPS_PROMOTER_MIN).mean())
    pd_ = float((scores <= NPS_DETRACTOR_MAX).mean())
    value = 100 * (pp - pd_)
    se = 100 * math.sqrt(max(pp + pd_ - (pp - pd_) ** 2, 0.0) / n)
    ci = [max(-100.0, value - Z * se), min(100.0, value + Z * se)]
    return _kpi(value, n, ci, min_n, promoters=pp, detractors=pd_)


def _kpi_ces(feedback: pd.DataFrame | None, min_n: int) -> dict[str, Any]:
    """CES = mean effort on 1-7 (lower is easier); t-interval. Extra key ``easy_share`` = share of 1-3."""
    scores = _scores(feedback, "ces")
    if scores is None or scores.empty:
        return _absent(min_n, easy_share=None)
    return _mean(scores, min_n, easy_share=float((scores <= CES_EASY_MAX).mean()))


# --------------------------------------------------------------------------- ticket KPIs


def _hours(tickets: pd.DataFrame | None, end_column: str) -> pd.Series | None:
    opened, end = _column(tickets, "opened_at"), _column(tickets, end_column)
    if opened is None or end is None:
        return None
    return ((_datetimes(end) - _datetimes(opened)).dt.total_seconds() / 3600).dropna()


def _kpi_fcr(tickets: pd.DataFrame | None, min_n: int) -> dict[str, Any]:
    """FCR = resolved tickets with contacts_to_resolve == 1 / resolved tickets (resolved_at not null).

    Resolved tickets without a contacts_to_resolve value are left out of both counts. Wilson 95% CI.
    """
    resolved, contacts = _column(tickets, "resolved_at"), _column(tickets, "contacts_to_resolve")
    if resolved is None or contacts is None:
        return _absent(min_n)
    contacts = pd.to_numeric(contacts, errors="coerce")[_datetimes(resolved).notna()].dropna()
    return _proportion(int((contacts == FCR_CONTACTS).sum()), len(contacts), min_n)


def _kpi_aht(tickets: pd.DataFrame | None, min_n: int) -> dict[str, Any]:
    """AHT = mean handle_time_minutes over tickets that have one; t-interval."""
    col = _column(tickets, "handle_time_minutes")
    return _absent(min_n) if col is None else _mean(col, min_n)


def _kpi_resolution(tickets: pd.DataFrame | None, min_n: int) -> dict[str, Any]:
    """Time to resolution = mean (resolved_at - opened_at) in hours over resolved tickets; t-interval."""
    hours = _hours(tickets, "resolved_at")
    return _absent(min_n) if hours is None else _mean(hours, min_n)


def _kpi_first_response(tickets: pd.DataFrame | None, min_n: int) -> dict[str, Any]:
    """Time to first response = mean (first_response_at - opened_at) in hours over answered tickets; t-interval."""
    hours = _hours(tickets, "first_response_at")
    return _absent(min_n) if hours is None else _mean(hours, min_n)


# --------------------------------------------------------------------------- customer KPIs


def _customer_frame(customers: pd.DataFrame | None) -> pd.DataFrame | None:
    """customers with parsed dates and ``_churn_at`` (churn_date, NaT when not churned).

    A customer flagged churned without a churn_date cannot be placed in time and is dropped from the churn
    KPIs (not from CAC).
    """
    if customers is None:
        return None
    cust = customers.copy()
    for name in ("signup_date", "churn_date"):
        if name in cust.columns:
            cust[name] = _datetimes(cust[name])
    if "churn_date" in cust.columns:
        cust["_churn_at"] = cust["churn_date"]
        if "churned" in cust.columns:
            flag = cust["churned"].astype("boolean").fillna(False).astype(bool)
            cust["_churn_at"] = cust["churn_date"].where(flag)
            cust = cust[~(flag & cust["_churn_at"].isna()).to_numpy()]
    return cust


def _at_risk(cust: pd.DataFrame | None, start: pd.Timestamp) -> pd.DataFrame | None:
    """Customers active at ``start``: signup_date < start and (not churned or churn_date >= start)."""
    if cust is None or "signup_date" not in cust.columns or "_churn_at" not in cust.columns:
        return None
    active = (cust["signup_date"] < start) & (cust["_churn_at"].isna() | (cust["_churn_at"] >= start))
    return cust[active]


def _customer_kpis(
    cust: pd.DataFrame | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    periods_per_year: float | None,
    min_n: int,
    margin: float | None,
    end_inclusive: bool = False,
    acquired_in_window: bool = True,
) -> dict[str, dict[str, Any]]:
    """churn_rate, retention_rate, clv, cac and clv_cac for customers over [start, end).

    churn_rate: customers active at ``start`` whose churn_date falls in [start, end) (``end`` included when
    ``end_inclusive``) / customers active at ``start``; Wilson CI. Customers who sign up inside the period are
    in neither count. retention_rate = 1 - churn_rate, same n, mirrored CI.

    clv = mean monthly_revenue of the at-risk customers x 12 x lifespan (years) [x margin]; lifespan = 1 /
    annual churn, annual churn = 1 - (1 - churn)^periods_per_year. Null when churn is 0 (infinite lifespan)
    or unknown; n = at-risk customers with a revenue; no CI.

    cac = mean acquisition_cost of customers who signed up in [start, end) (all customers when not
    ``acquired_in_window``); t-interval.
    """
    out: dict[str, dict[str, Any]] = {}
    at_risk = _at_risk(cust, start) if start is not None else None
    churn_k = 0
    if at_risk is None or len(at_risk) == 0:
        out["churn_rate"] = _absent(min_n)
        out["retention_rate"] = _absent(min_n)
    else:
        churn_at = at_risk["_churn_at"]
        in_window = (churn_at >= start) & ((churn_at <= end) if end_inclusive else (churn_at < end))
        churn_k = int(in_window.sum())
        out["churn_rate"] = _proportion(churn_k, len(at_risk), min_n)
        c = out["churn_rate"]
        out["retention_rate"] = _kpi(1 - c["value"], c["n"], [1 - c["ci"][1], 1 - c["ci"][0]], min_n)

    revenue = _scores(at_risk, "monthly_revenue")
    churn = out["churn_rate"]["value"]
    if revenue is None or revenue.empty:
        out["clv"] = _absent(min_n)
    else:
        clv = None
        if churn is not None and churn > 0 and periods_per_year:
            annual = 1 - (1 - churn) ** periods_per_year
            clv = float(revenue.mean()) * 12 / annual * (1.0 if margin is None else margin)
        out["clv"] = _kpi(clv, len(revenue), None, min_n)

    cost = _column(cust, "acquisition_cost")
    if cost is None:
        out["cac"] = _absent(min_n)
    elif acquired_in_window:
        if "signup_date" not in cust.columns or start is None:
            out["cac"] = _absent(min_n)
        else:
            acquired = (cust["signup_date"] >= start) & (cust["signup_date"] < end)
            out["cac"] = _mean(cost[acquired], min_n)
    else:
        out["cac"] = _mean(cost, min_n)

    clv_v, cac_v = out["clv"]["value"], out["cac"]["value"]
    ratio = clv_v / cac_v if clv_v is not None and cac_v not in (None, 0) else None
    n = min(out["clv"]["n"], out["cac"]["n"])
    out["clv_cac"] = _kpi(ratio, n, None, min_n) if n else _absent(min_n)
    return out


def is_snapshot(customers: pd.DataFrame | None) -> bool:
    """True for a customers table with a ``churned`` flag but no date to place customers in time.

    That is: no ``churn_date`` at all, and either no ``signup_date`` at all or someone flagged churned (whose
    churn cannot be placed in a period). Such a table gets the snapshot definitions (module docstring).

    >>> is_snapshot(pd.DataFrame({"customer_id": ["a", "b"], "churned": [True, False]}))
    True
    >>> is_snapshot(pd.DataFrame({"customer_id": ["a"], "churned": [True], "churn_date": ["2026-04-01"]}))
    False
    """
    if customers is None or "churned" not in customers.columns or len(customers) == 0:
        return False
    dates = {
        name: (_datetimes(customers[name]).notna().any() if name in customers.columns else False)
        for name in ("signup_date", "churn_date")
    }
    if dates["churn_date"]:
        return False
    return not dates["signup_date"] or bool(_flags(customers["churned"]).any())


def _flags(values: pd.Series) -> pd.Series:
    """Churned flags as a nullable boolean Series (NA where unknown)."""
    return values.astype("boolean")


SNAPSHOT_NOTE = (
    "customers table without dates (a snapshot): churn_rate = churned customers / all customers "
    "with a churned flag (n), the share churned at the time of the export, not a per-period rate; "
    "retention_rate = 1 - that share"
)
SNAPSHOT_CLV_NOTE = (
    "CLV = mean monthly_revenue x 12 x lifespan, lifespan = 1 / (1 - (1 - h)^12) years with "
    "the monthly churn hazard h = churned customers / total tenure months"
)
SNAPSHOT_NO_TENURE_NOTE = (
    f"CLV is null: a snapshot's churned share has no time unit; give the tenure in months "
    f'(column {TENURE_COLUMN}, e.g. [columns] {TENURE_COLUMN} = "tenure") to estimate it'
)
SNAPSHOT_PERIOD_NOTE = "the customers table has no dates: churn, retention, CLV and CAC are not split by period"


def _snapshot_customer_kpis(cust: pd.DataFrame | None, min_n: int, margin: float | None) -> dict[str, dict[str, Any]]:
    """churn_rate, retention_rate, clv, cac and clv_cac of a snapshot customers table (no dates).

    churn_rate = churned / customers with a known churned flag (n), Wilson CI, ``basis`` "snapshot".
    clv = mean monthly_revenue x 12 x lifespan [x margin], lifespan = 1 / annual churn, annual = 1 - (1 - h)^12,
    h = churned / sum of ``tenure_months`` over customers with a tenure and a flag (extra keys
    ``monthly_churn_hazard``, ``lifespan_years`` and ``extrapolated``: True when the lifespan is longer than the
    longest tenure seen, so CLV extrapolates a constant hazard beyond the data); n = customers with a revenue; null
    without a tenure column,
    with no tenure months or when nobody churned. cac = mean acquisition_cost over every customer with one.

    >>> c = pd.DataFrame({"churned": [True, False, False, False], "monthly_revenue": [10.0, 20, 30, 40],
    ...                   "tenure_months": [6, 12, 12, 18]})
    >>> k = _snapshot_customer_kpis(c, 1, None)
    >>> k["churn_rate"]["value"], k["churn_rate"]["n"], round(k["clv"]["value"], 2), k["cac"]["value"]
    (0.25, 4, 1343.77, None)
    """
    if cust is None or "churned" not in cust.columns:
        return _customer_kpis(None, None, None, None, min_n, margin)
    out: dict[str, dict[str, Any]] = {}
    flags = _flags(cust["churned"])
    known = flags.notna().to_numpy()
    churned = flags.fillna(False).astype(bool).to_numpy()
    k, n = int(churned[known].sum()), int(known.sum())
    out["churn_rate"] = _proportion(k, n, min_n) | {"basis": "snapshot"}
    c = out["churn_rate"]
    out["retention_rate"] = (
        _kpi(1 - c["value"], n, [1 - c["ci"][1], 1 - c["ci"][0]], min_n) if n else _absent(min_n)
    ) | {"basis": "snapshot"}

    revenue = _scores(cust, "monthly_revenue")
    tenure = (
        pd.to_numeric(cust[TENURE_COLUMN], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if TENURE_COLUMN in cust.columns
        else None
    )
    hazard = lifespan = clv = longest = None
    if tenure is not None:
        usable = known & np.isfinite(tenure) & (tenure >= 0)
        months = float(tenure[usable].sum())
        longest = float(tenure[usable].max()) / 12 if usable.any() else None
        if months > 0:
            hazard = int(churned[usable].sum()) / months
            if 0 < hazard < 1:
                lifespan = 1 / (1 - (1 - hazard) ** 12)
    if revenue is None or revenue.empty:
        out["clv"] = _absent(min_n)
    else:
        if lifespan is not None:
            clv = float(revenue.mean()) * 12 * lifespan * (1.0 if margin is None else margin)
        out["clv"] = _kpi(clv, len(revenue), None, min_n)
    out["clv"] |= {
        "basis": "snapshot",
        "monthly_churn_hazard": _num(hazard),
        "lifespan_years": _num(lifespan),
        "extrapolated": None if lifespan is None or longest is None else bool(lifespan > longest),
    }

    cost = _column(cust, "acquisition_cost")
    out["cac"] = _absent(min_n) if cost is None else _mean(cost, min_n)
    clv_v, cac_v = out["clv"]["value"], out["cac"]["value"]
    ratio = clv_v / cac_v if clv_v is not None and cac_v not in (None, 0) else None
    n_ratio = min(out["clv"]["n"], out["cac"]["n"])
    out["clv_cac"] = _kpi(ratio, n_ratio, None, min_n) if n_ratio else _absent(min_n)
    return out


def _snapshot_notes(cust: pd.DataFrame | None, by: str) -> list[str]:
    notes = [
        SNAPSHOT_NOTE,
        SNAPSHOT_CLV_NOTE if cust is not None and TENURE_COLUMN in cust.columns else SNAPSHOT_NO_TENURE_NOTE,
    ]
    if by in PERIODS_PER_YEAR:
        notes.append(SNAPSHOT_PERIOD_NOTE)
    return notes


# --------------------------------------------------------------------------- significance and deltas


def significant_change(prev: dict[str, Any], cur: dict[str, Any], alpha: float = ALPHA) -> dict[str, Any]:
    """Two-sided two-proportion z-test (pooled standard error) between two proportion KPI dicts.

    Uses ``value`` (a share 0-1) and ``n`` of each. Returns ``{"z", "p_value", "significant"}``; all None when
    either side has no value or n 0. When both shares are 0 or both 1 the difference is exactly 0: z and
    p_value are None and ``significant`` is False.

    >>> r = significant_change({"value": 0.5, "n": 100}, {"value": 0.7, "n": 100})
    >>> round(r["z"], 2), r["significant"]
    (2.89, True)
    """
    none = {"z": None, "p_value": None, "significant": None}
    if not prev or not cur or prev.get("value") is None or cur.get("value") is None:
        return none
    n1, n2 = int(prev.get("n") or 0), int(cur.get("n") or 0)
    if n1 == 0 or n2 == 0:
        return none
    p1, p2 = float(prev["value"]), float(cur["value"])
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return {"z": None, "p_value": None, "significant": False}
    z = (p2 - p1) / se
    p_value = float(2 * stats.norm.sf(abs(z)))
    return {"z": float(z), "p_value": p_value, "significant": bool(p_value < alpha)}


def significant_mean_change(prev: dict[str, Any], cur: dict[str, Any], alpha: float = ALPHA) -> dict[str, Any]:
    """Two-sided Welch t-test between two mean KPI dicts, from their ``value`` (mean), ``sd`` and ``n``.

    Returns ``{"t", "df", "p_value", "significant"}``; all None when a side lacks a value, has n < 2 or no sd.
    Two periods with zero spread: t and p_value None, ``significant`` True when the means differ.

    >>> r = significant_mean_change({"value": 2.0, "sd": 1.0, "n": 10}, {"value": 3.0, "sd": 1.0, "n": 10})
    >>> round(r["t"], 3), round(r["df"], 1), round(r["p_value"], 4), r["significant"]
    (2.236, 18.0, 0.0382, True)
    """
    none = {"t": None, "df": None, "p_value": None, "significant": None}
    if not prev or not cur or prev.get("value") is None or cur.get("value") is None:
        return none
    n1, n2 = int(prev.get("n") or 0), int(cur.get("n") or 0)
    s1, s2 = prev.get("sd"), cur.get("sd")
    if n1 < 2 or n2 < 2 or s1 is None or s2 is None:
        return none
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    diff = float(cur["value"]) - float(prev["value"])
    if v1 + v2 == 0:
        return {"t": None, "df": None, "p_value": None, "significant": diff != 0}
    t = diff / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / ((v1 * v1 / (n1 - 1) if v1 else 0.0) + (v2 * v2 / (n2 - 1) if v2 else 0.0))
    p_value = float(2 * stats.t.sf(abs(t), df))
    return {"t": float(t), "df": float(df), "p_value": p_value, "significant": bool(p_value < alpha)}


def significant_nps_change(prev: dict[str, Any], cur: dict[str, Any], alpha: float = ALPHA) -> dict[str, Any]:
    """Two-sided z-test on the difference of two NPS KPI dicts (``value``, ``n``, ``promoters``, ``detractors``).

    se = sqrt(var1/n1 + var2/n2) on the NPS/100 scale, var = p_p + p_d - (p_p - p_d)^2. Returns
    ``{"z", "p_value", "significant"}``, all None when a side is missing.

    >>> r = significant_nps_change({"value": 0.0, "n": 100, "promoters": 0.3, "detractors": 0.3},
    ...                            {"value": 30.0, "n": 100, "promoters": 0.5, "detractors": 0.2})
    >>> round(r["z"], 2), r["significant"]
    (2.73, True)
    """
    none = {"z": None, "p_value": None, "significant": None}
    sides = []
    for kpi in (prev, cur):
        if (
            not kpi
            or kpi.get("value") is None
            or not kpi.get("n")
            or kpi.get("promoters") is None
            or kpi.get("detractors") is None
        ):
            return none
        pp, pd_ = float(kpi["promoters"]), float(kpi["detractors"])
        sides.append((pp - pd_, max(pp + pd_ - (pp - pd_) ** 2, 0.0) / int(kpi["n"])))
    (d1, var1), (d2, var2) = sides
    if var1 + var2 == 0:
        return {"z": None, "p_value": None, "significant": d1 != d2}
    z = (d2 - d1) / math.sqrt(var1 + var2)
    p_value = float(2 * stats.norm.sf(abs(z)))
    return {"z": float(z), "p_value": p_value, "significant": bool(p_value < alpha)}


def change_test(name: str, prev: dict[str, Any], cur: dict[str, Any], alpha: float = ALPHA) -> dict[str, Any] | None:
    """The stated test of KPI ``name`` between two periods (see :data:`CHANGE_TESTS`); None when not tested."""
    if name in PROPORTION_KPIS:
        return significant_change(prev, cur, alpha)
    if name in MEAN_KPIS:
        return significant_mean_change(prev, cur, alpha)
    if name == "nps":
        return significant_nps_change(prev, cur, alpha)
    return None


def kpi_moves(kpis: dict[str, Any], period: str | None) -> list[dict[str, Any]]:
    """Each tested KPI of ``period`` (a label of ``kpis["periods"]``, from :func:`compute_kpis` by week or month)
    that has a previous value: ``kpi``, ``name``, ``unit``, ``value``, ``previous``, ``delta``, ``test`` (its
    description), ``p_value``, ``significant`` (at ALPHA, uncorrected) and ``worse`` (the change is for the worse).
    Significant moves for the worse first."""
    entries = kpis.get("periods") or []
    at = next((i for i, e in enumerate(entries) if e.get("period") == period), None)
    if not at:
        return []
    moves = []
    for name in KPI_NAMES:
        kpi, previous = entries[at].get(name), entries[at - 1].get(name)
        if not kpi or not previous or kpi.get("delta") is None or kpi.get("change_significant") is None:
            continue
        definition = KPI_DEFINITIONS[name]
        test = change_test(name, previous, kpi) or {}
        moves.append(
            {
                "kpi": name,
                "name": definition["name"],
                "unit": definition.get("unit", ""),
                "value": kpi["value"],
                "previous": previous["value"],
                "delta": kpi["delta"],
                "test": definition.get("change_test"),
                "p_value": test.get("p_value"),
                "significant": bool(kpi["change_significant"]),
                "worse": kpi["delta"] != 0 and (kpi["delta"] < 0) == definition["higher_is_better"],
            }
        )
    return sorted(moves, key=lambda m: (not (m["significant"] and m["worse"]), not m["significant"], m["kpi"]))


def _add_changes(entries: list[dict[str, Any]], compare: bool) -> None:
    """Add ``delta`` and ``change_significant`` to every KPI of every entry (None for the first or groups).

    ``change_significant`` is the result of :func:`change_test` at ALPHA (True/False), None when the KPI is
    not tested (clv, cac, clv_cac) or a side is missing.
    """
    for i, entry in enumerate(entries):
        prev = entries[i - 1] if compare and i > 0 else None
        for name in KPI_NAMES:
            kpi = entry[name]
            before = prev[name] if prev is not None else None
            if before is None or before["value"] is None or kpi["value"] is None:
                kpi["delta"] = None
            else:
                kpi["delta"] = _num(kpi["value"] - before["value"])
            test = change_test(name, before, kpi) if before is not None else None
            kpi["change_significant"] = None if test is None else test["significant"]


# --------------------------------------------------------------------------- orchestration


def _survey_and_ticket_kpis(
    feedback: pd.DataFrame | None, tickets: pd.DataFrame | None, min_n: int
) -> dict[str, dict[str, Any]]:
    return {
        "csat": _kpi_csat(feedback, min_n),
        "nps": _kpi_nps(feedback, min_n),
        "ces": _kpi_ces(feedback, min_n),
        "fcr": _kpi_fcr(tickets, min_n),
        "aht_minutes": _kpi_aht(tickets, min_n),
        "resolution_hours": _kpi_resolution(tickets, min_n),
        "first_response_hours": _kpi_first_response(tickets, min_n),
    }


def _ordered(kpis: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: kpis[name] for name in KPI_NAMES}


def _timestamps(df: pd.DataFrame | None, *columns: str) -> pd.Series:
    parts = [_datetimes(df[c]) for c in columns if df is not None and c in df.columns]
    return pd.concat(parts, ignore_index=True).dropna() if parts else pd.Series(dtype="datetime64[ns]")


def _window(
    feedback: pd.DataFrame | None, tickets: pd.DataFrame | None, cust: pd.DataFrame | None
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The data window (first, last timestamp): feedback created_at, else tickets opened_at, else customers.

    With customers only, the window starts at the first churn_date (so someone can be active at its start)
    and ends at the last signup or churn date.
    """
    for ts in (_timestamps(feedback, "created_at"), _timestamps(tickets, "opened_at")):
        if len(ts):
            return ts.min(), ts.max()
    churns = _timestamps(cust, "_churn_at")
    every = _timestamps(cust, "signup_date", "_churn_at")
    if len(every) == 0:
        return None
    return (churns.min() if len(churns) else every.min()), every.max()


def _period_range(feedback, tickets, cust) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last timestamp the periods must cover: feedback and tickets together, else customers."""
    ts = pd.concat([_timestamps(feedback, "created_at"), _timestamps(tickets, "opened_at")], ignore_index=True)
    if len(ts):
        return ts.min(), ts.max()
    every = _timestamps(cust, "signup_date", "_churn_at")
    return (every.min(), every.max()) if len(every) else None


def _rows_where(df: pd.DataFrame | None, mask: pd.Series | None) -> pd.DataFrame | None:
    if df is None:
        return None
    if mask is None:
        return df.iloc[0:0]
    return df[mask.fillna(False).astype(bool).to_numpy()]


def compute_kpis(
    feedback: pd.DataFrame | None,
    customers: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    by: str = "week",
    min_n: int = 30,
    margin: float | None = None,
) -> dict[str, Any]:
    """All KPIs overall and per period (``by`` week or month) or per group (``by`` segment or channel).

    Survey KPIs (csat, nps, ces) use feedback rows, placed by ``created_at``; ticket KPIs (fcr, aht_minutes,
    resolution_hours, first_response_hours) use tickets, placed by ``opened_at``; customer KPIs (churn_rate,
    retention_rate, clv, cac, clv_cac) use customers (see :data:`KPI_DEFINITIONS`).

    Overall: survey and ticket KPIs over all rows; churn over the data window (first to last feedback
    ``created_at``, both included; else tickets ``opened_at``; else customer dates), CLV annualised with the
    window length in days, CAC over every customer with an acquisition_cost.

    ``by="segment"``: feedback and tickets get the customer's segment through ``customer_id``; customer KPIs
    are computed per segment over the data window. ``by="channel"``: feedback and tickets by their own
    ``channel``; customers have no channel, so customer KPIs are null per channel. Group entries still use the
    key ``"period"`` for the group name; their ``delta`` and ``change_significant`` are None (groups have no
    order).

    A snapshot customers table (no dates, see :func:`is_snapshot`) gets churned-share definitions overall and
    per segment, null customer KPIs per period, ``"customer_basis": "snapshot"`` and explanatory
    ``"notes"`` (strings the CLI and report print); a dated table gives ``"customer_basis": "dated"``.

    Every KPI dict has ``value``, ``n``, ``ci``, ``small_sample`` (n < ``min_n``); period entries add ``delta``
    (value minus the previous period's value, None when either is None) and ``change_significant`` (two-
    proportion z-test at 0.05 for csat, fcr, churn_rate, retention_rate; Welch t-test for ces and the ticket
    times; z-test on the difference for nps; None for clv, cac, clv_cac -- see :data:`CHANGE_TESTS`).
    ``margin`` (e.g. 0.7) multiplies CLV.

    >>> fb = pd.DataFrame({"created_at": pd.to_datetime(["2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02"]),
    ...                    "csat": [5.0, 4.0, 3.0, 1.0]})
    >>> result = compute_kpis(fb, min_n=3)
    >>> result["overall"]["csat"]["value"], result["overall"]["csat"]["n"], result["periods"][0]["period"]
    (0.5, 4, '2026-W14')
    >>> result["overall"]["churn_rate"]
    {'value': None, 'n': 0, 'ci': None, 'small_sample': True}
    """
    if by not in GROUP_BY:
        raise ConfigError(f"KPIs can be grouped by one of {', '.join(GROUP_BY)}; got {by!r}")
    if not isinstance(min_n, (int, np.integer)) or min_n < 1:
        raise ConfigError(f"min_n must be a whole number of at least 1; got {min_n!r}")
    snapshot = is_snapshot(customers)
    cust = customers.copy() if snapshot else _customer_frame(customers)
    notes = _snapshot_notes(cust, by) if snapshot else []

    # overall
    window = _window(feedback, tickets, None if snapshot else cust)
    if snapshot:
        customer_kpis = _snapshot_customer_kpis(cust, min_n, margin)
    elif window is None:
        customer_kpis = _customer_kpis(cust, None, None, None, min_n, margin)
        customer_kpis["cac"] = _customer_kpis(cust, None, None, None, min_n, margin, acquired_in_window=False)["cac"]
    else:
        start, end = window
        days = max((end - start).total_seconds() / 86400, 1.0)
        customer_kpis = _customer_kpis(
            cust, start, end, DAYS_PER_YEAR / days, min_n, margin, end_inclusive=True, acquired_in_window=False
        )
    overall = _ordered(_survey_and_ticket_kpis(feedback, tickets, min_n) | customer_kpis)

    # periods or groups
    entries: list[dict[str, Any]] = []
    if by in PERIODS_PER_YEAR:
        span = _period_range(feedback, tickets, None if snapshot else cust)
        labels = all_periods(span[0], span[1], by) if span else []
        fb_labels = (
            period_labels(_datetimes(feedback["created_at"]), by)
            if feedback is not None and "created_at" in feedback.columns
            else None
        )
        tk_labels = (
            period_labels(_datetimes(tickets["opened_at"]), by)
            if tickets is not None and "opened_at" in tickets.columns
            else None
        )
        for label in labels:
            start, end = period_bounds(label)
            kpis = _survey_and_ticket_kpis(
                _rows_where(feedback, None if fb_labels is None else fb_labels == label),
                _rows_where(tickets, None if tk_labels is None else tk_labels == label),
                min_n,
            )
            kpis |= _customer_kpis(None if snapshot else cust, start, end, PERIODS_PER_YEAR[by], min_n, margin)
            entries.append({"period": label, **_ordered(kpis)})
        _add_changes(entries, compare=True)
    else:
        fb_groups, tk_groups, cust_groups = _group_keys(feedback, tickets, cust, by)
        names = sorted(
            {str(g) for keys in (fb_groups, tk_groups, cust_groups) if keys is not None for g in keys.dropna().unique()}
        )
        for name in names:
            sub_cust = _rows_where(cust, None if cust_groups is None else cust_groups.astype(object) == name)
            kpis = _survey_and_ticket_kpis(
                _rows_where(feedback, None if fb_groups is None else fb_groups.astype(object) == name),
                _rows_where(tickets, None if tk_groups is None else tk_groups.astype(object) == name),
                min_n,
            )
            if snapshot and by == "segment":
                kpis |= _snapshot_customer_kpis(sub_cust, min_n, margin)
            elif window is None or by == "channel":
                kpis |= _customer_kpis(None, None, None, None, min_n, margin)
            else:
                start, end = window
                days = max((end - start).total_seconds() / 86400, 1.0)
                kpis |= _customer_kpis(
                    sub_cust,
                    start,
                    end,
                    DAYS_PER_YEAR / days,
                    min_n,
                    margin,
                    end_inclusive=True,
                    acquired_in_window=False,
                )
            entries.append({"period": name, **_ordered(kpis)})
        _add_changes(entries, compare=False)

    if snapshot:
        stretched = [
            name
            for name, kpis in [("overall", overall)] + [(e["period"], e) for e in entries]
            if kpis["clv"].get("extrapolated")
        ]
        if stretched:
            notes.append(
                f"CLV of {', '.join(stretched)} rests on a lifespan longer than the longest tenure in the "
                "table: it extrapolates a constant churn hazard, read it as an order of magnitude"
            )
    return {
        "overall": overall,
        "periods": entries,
        "group_by": by,
        "window": None if window is None else [window[0].isoformat(), window[1].isoformat()],
        "customer_basis": None if cust is None else "snapshot" if snapshot else "dated",
        "notes": notes,
    } | {"absent": absent_kpis({"overall": overall})}


def _group_keys(feedback, tickets, cust, by: str):
    """The group name of each feedback row, ticket and customer (None where a table cannot be grouped)."""
    if by == "channel":
        return _column(feedback, "channel"), _column(tickets, "channel"), None
    if cust is None or "segment" not in cust.columns or "customer_id" not in cust.columns:
        raise InputError(
            "KPIs by segment need the customers table with a segment per customer",
            column="segment",
            fix="pass customers with 'customer_id' and 'segment' columns, or group by week, month or channel",
        )
    lookup = cust.drop_duplicates("customer_id").set_index("customer_id")["segment"]

    def segment_of(df):
        ids = _column(df, "customer_id")
        return None if ids is None else ids.map(lookup)

    return segment_of(feedback), segment_of(tickets), cust["segment"]


def kpi_table(result: dict[str, Any], include_overall: bool = False, field: str = "value") -> pd.DataFrame:
    """A table of KPI values: one row per period (or group), one column per KPI; null values become NaN.

    The index is named after ``result["group_by"]`` ("period" when absent). With ``include_overall`` a last
    row "overall" is added. ``field`` picks what the cells hold: "value" (default) or "n" (the denominators).

    >>> table = kpi_table({"overall": {"csat": {"value": 0.5, "n": 4, "ci": None}},
    ...                    "periods": [{"period": "2026-W14", "csat": {"value": 0.5, "n": 4, "ci": None}}]})
    >>> table.loc["2026-W14", "csat"]
    np.float64(0.5)
    """
    names = [k for k in KPI_NAMES if k in result.get("overall", {})] or list(KPI_NAMES)
    rows, index = [], []
    for entry in result.get("periods", []):
        index.append(entry["period"])
        rows.append([(entry.get(k) or {}).get(field) for k in names])
    if include_overall:
        index.append("overall")
        rows.append([(result["overall"].get(k) or {}).get(field) for k in names])
    table = pd.DataFrame(rows, index=pd.Index(index, name=result.get("group_by", "period")), columns=names, dtype=float)
    return table
