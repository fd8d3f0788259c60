"""Calendar periods used by every stage: ISO weeks (``2026-W14``) and months (``2026-04``)."""

from __future__ import annotations

import pandas as pd

PERIODS = ("week", "month")


def period_labels(timestamps: pd.Series, period: str = "week") -> pd.Series:
    """Label each timestamp with its period; missing timestamps get a missing label.

    >>> period_labels(pd.Series(pd.to_datetime(["2026-04-01", "2026-01-01"])), "week").tolist()
    ['2026-W14', '2026-W01']
    >>> period_labels(pd.Series(pd.to_datetime(["2026-04-01"])), "month").tolist()
    ['2026-04']
    """
    ts = pd.to_datetime(timestamps)
    if period == "week":
        iso = ts.dt.isocalendar()
        labels = iso["year"].astype("string") + "-W" + iso["week"].astype("string").str.zfill(2)
    elif period == "month":
        labels = ts.dt.strftime("%Y-%m").astype("string")
    else:
        raise ValueError(f"period must be one of {PERIODS}, got {period!r}")
    return labels.where(ts.notna(), pd.NA).astype(object)


def period_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start (inclusive) and end (exclusive) of a period label.

    >>> period_bounds("2026-W14")
    (Timestamp('2026-03-30 00:00:00'), Timestamp('2026-04-06 00:00:00'))
    >>> period_bounds("2026-02")
    (Timestamp('2026-02-01 00:00:00'), Timestamp('2026-03-01 00:00:00'))
    """
    if "-W" in label:
        year, week = label.split("-W")
        start = pd.Timestamp.fromisocalendar(int(year), int(week), 1)
        return start, start + pd.Timedelta(days=7)
    start = pd.Timestamp(label + "-01")
    return start, start + pd.DateOffset(months=1)


def all_periods(first: pd.Timestamp, last: pd.Timestamp, period: str = "week") -> list[str]:
    """Every period label from ``first`` to ``last`` inclusive, with no gaps (empty periods included).

    >>> all_periods(pd.Timestamp("2026-03-30"), pd.Timestamp("2026-04-14"))
    ['2026-W14', '2026-W15', '2026-W16']
    """
    freq = "W-MON" if period == "week" else "MS"
    start = (
        first.normalize() - pd.Timedelta(days=first.weekday()) if period == "week" else first.normalize().replace(day=1)
    )
    stamps = pd.date_range(start, last, freq=freq)
    return list(dict.fromkeys(period_labels(pd.Series(stamps), period).tolist()))
