"""Alerts: what changed in the latest complete period of a workspace (the news of the weekly loop).

``feedback watch --db PATH [--notify URL]...`` compares the latest complete period (week or month) with the ones
before it and finds four kinds of alert:

- ``spike``: a theme mentioned more often than its history explains, or whose mentions turned negative more
  often. Mentions: the conditional binomial test of two Poisson rates (of the latest period's and the
  ``BASELINE_PERIODS`` before's, given their sizes); negative share: Fisher's exact test. One-sided; the p-values
  of every theme are corrected together (Benjamini-Hochberg, ``ALERT_FDR``), then an alert needs a rise worth
  reading (``MIN_ALERT_MENTIONS``, ``MIN_SPIKE_RATIO``, ``MIN_NEGATIVE_RISE``).
- ``new_theme``: a theme (almost) absent before and present now. That is either a theme of the stored model
  first seen in the latest period, or a recurring topic among the rows the model leaves as "other": those rows
  are clustered with the same theme discovery (a preview, as ``feedback add`` proposes), and each preview theme
  is tested as above.
- ``kpi_drop``: a KPI that moved for the worse from the previous period, significantly by its change test
  (:mod:`feedback.kpis`) once the tests of every KPI are corrected together (Benjamini-Hochberg, ``ALERT_FDR``).
- ``churn_risk``: a theme whose churn lift crossed ``Config.alert_churn_lift`` in the latest period (on the rows up
  to its end, against the rows up to its start), with the lower end of its interval above 1.

:mod:`feedback.watch` stores the alerts and sends them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .config import Config
from .kpis import compute_kpis
from .periods import all_periods, period_bounds, period_labels
from .schema import OTHER_THEME_ID, SKIP_REASONS

ALERT_KINDS = ("spike", "new_theme", "kpi_drop", "churn_risk")
#: the previous periods a theme's latest period is compared with
BASELINE_PERIODS = 8
#: periods with rows, and rows, the history needs before a theme can spike or be new (less: its rate is unknown)
MIN_BASELINE_PERIODS = 3
MIN_BASELINE_ROWS = 100
#: false-discovery rate of the spike and new-theme tests, Benjamini-Hochberg across all themes tested
ALERT_FDR = 0.05
#: fewest mentions in the latest period for a spike or a new theme: three complaints are not news
MIN_ALERT_MENTIONS = 5
#: a spike in mentions is at least this many times what the history predicts: a 10% rise of a large theme can
#: be significant and still not worth a message
MIN_SPIKE_RATIO = 1.5
#: a rise of a theme's negative share is at least this much (absolute) to be a spike
MIN_NEGATIVE_RISE = 0.15
#: a theme is new, not a spike, when its rate in the history was at most this share of its latest rate
NEW_THEME_HISTORY_SHARE = 0.1


@dataclass
class Alert:
    """One alert. ``payload()`` is what a webhook receives for it."""

    kind: str
    period: str
    theme_id: int | None = None
    theme_label: str | None = None
    kpi: str | None = None
    value: float | None = None
    baseline: float | None = None
    p_value: float | None = None
    #: one sentence a person reads
    detail: str = ""
    #: a message of the theme in the latest period (redacted), for the digest
    quote: str = ""
    #: the key it is stored under, when read back from the workspace
    alert_key: str | None = None

    @property
    def key(self) -> str:
        """What makes an alert the same alert in a later run: its period, theme (id, or label for a topic no theme
        holds yet) and measure. Not its kind: a rise found a spike one day and a new theme the next, when late rows
        arrived, is one piece of news."""
        if self.alert_key is not None:
            return self.alert_key
        subject = self.theme_id if self.theme_id is not None else (self.theme_label or "")
        kind = "theme" if self.kind in ("spike", "new_theme") else self.kind
        return f"{kind}|{self.period}|{subject}|{self.kpi or ''}"

    def payload(self) -> dict:
        return {
            "kind": self.kind,
            "theme_id": self.theme_id,
            "theme_label": self.theme_label,
            "kpi": self.kpi,
            "period": self.period,
            "value": self.value,
            "baseline": self.baseline,
            "p_value": self.p_value,
        }


@dataclass
class WatchResult:
    """What ``watch`` found: the period it looked at, the alerts, and notes on what it could not test."""

    period: str | None
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The alerts as one paragraph a person reads (a webhook's ``text``)."""
        if self.period is None and not self.alerts:
            return "feedback watch: no complete period yet."
        if not self.alerts:
            return f"feedback watch, {self.period}: no alerts."
        return f"feedback watch, {periods_of(self.alerts)}: {len(self.alerts)} alert(s). " + " ".join(
            a.detail for a in self.alerts
        )


def periods_of(alerts: list[Alert]) -> str:
    """The periods some alerts are about, as a reader sees them: "2026-W37", or "2026-W36, 2026-W37".

    >>> periods_of([Alert("spike", "2026-W37"), Alert("kpi_drop", "2026-W36"), Alert("spike", "2026-W37")])
    '2026-W36, 2026-W37'
    """
    return ", ".join(sorted({a.period for a in alerts}))


def fdr_discoveries(p_values: list[float], rate: float = ALERT_FDR) -> list[bool]:
    """Which of ``p_values`` are discoveries at false-discovery ``rate`` (Benjamini-Hochberg,
    ``scipy.stats.false_discovery_control``).

    >>> fdr_discoveries([0.001, 0.04, 0.03, 0.5])
    [True, False, False, False]
    >>> fdr_discoveries([0.01, 0.02, 0.03, 0.04])
    [True, True, True, True]
    """
    if not p_values:
        return []
    from scipy.stats import false_discovery_control

    return (false_discovery_control(np.asarray(p_values, dtype=float)) <= rate).tolist()


def mentions_p_value(count: int, rows: int, count_before: int, rows_before: int) -> float:
    """One-sided p-value that a theme's rate of mentions per row rose: ``count`` of ``rows`` now, ``count_before``
    of ``rows_before`` before. The conditional test of two Poisson rates: given the ``count + count_before``
    mentions, how likely that ``count`` or more fall in the latest period, whose share of the rows is
    ``rows / (rows + rows_before)``.

    >>> mentions_p_value(30, 800, 10, 6000) < 1e-12, round(mentions_p_value(2, 800, 10, 6000), 2)
    (True, 0.42)
    """
    from scipy.stats import binomtest

    if not count or not rows or not rows_before:
        return 1.0
    return float(binomtest(count, count + count_before, rows / (rows + rows_before), alternative="greater").pvalue)


def share_p_value(hits: int, n: int, hits_before: int, n_before: int) -> float:
    """One-sided p-value that a share rose from ``hits_before / n_before`` to ``hits / n`` (Fisher's exact test).

    >>> round(share_p_value(3, 5, 0, 5), 3)
    0.083
    """
    from scipy.stats import fisher_exact

    if not n or not n_before:
        return 1.0
    return float(fisher_exact([[hits, n - hits], [hits_before, n_before - hits_before]], alternative="greater")[1])


def latest_complete_period(dates: pd.Series, period: str, today: pd.Timestamp | None = None) -> str | None:
    """The last period with rows that ended by ``today`` (default: today, UTC). Only the calendar says a period is
    over: one row dated in the future by a wrong clock must not close the week in progress.

    >>> dates = pd.Series(pd.to_datetime(["2026-03-30", "2026-04-07"]))
    >>> latest_complete_period(dates, "week", pd.Timestamp("2026-04-08"))
    '2026-W14'
    >>> latest_complete_period(dates, "week", pd.Timestamp("2026-04-13"))
    '2026-W15'
    """
    dates = pd.to_datetime(dates).dropna()
    if not len(dates):
        return None
    today = (today or pd.Timestamp.now(tz="UTC").tz_localize(None)).normalize()
    complete = [label for label in set(period_labels(dates, period).dropna()) if period_bounds(label)[1] <= today]
    return max(complete) if complete else None


def _mentions(frame: pd.DataFrame, periods: pd.Series) -> pd.DataFrame:
    """One row per (row, theme it mentions): ``period``, ``theme_id``, ``negative``."""
    tags = frame["theme_ids"].map(lambda v: list(v) if isinstance(v, (list, tuple)) else [])
    exploded = pd.DataFrame(
        {
            "period": periods.to_numpy(),
            "theme_ids": tags.to_numpy(),
            "negative": (frame["sentiment_label"] == "negative").to_numpy(),
        }
    ).explode("theme_ids")
    exploded = exploded.dropna(subset=["theme_ids"])
    return exploded.assign(theme_id=exploded["theme_ids"].astype(int)).drop(columns="theme_ids")


def _theme_tests(
    mentions: pd.DataFrame,
    rows_per_period: pd.Series,
    latest: str,
    history: list[str],
    labels: dict,
    quotes: dict,
    preview: bool,
) -> list[tuple[Alert | None, float]]:
    """Every theme's tests of the latest period against the history: (the alert it makes if the test is a
    discovery, or None when the rise is too small to report; its p-value). All p-values go into the correction
    for many themes, whether or not their rise is worth an alert."""
    n_latest = int(rows_per_period.get(latest, 0))
    n_history = int(rows_per_period.reindex(history, fill_value=0).sum())
    where = (
        (
            " among the messages the theme model leaves as other (not a theme yet: feedback themes refit, or "
            "themes add, makes it one)"
        )
        if preview
        else ""
    )
    out: list[tuple[Alert | None, float]] = []
    for theme_id, own in mentions.groupby("theme_id"):
        in_latest = own[own["period"] == latest]
        in_history = own[own["period"].isin(history)]
        count, before = len(in_latest), len(in_history)
        label = labels.get(int(theme_id), str(theme_id))
        subject = None if preview else int(theme_id)
        quote = quotes.get(int(theme_id), "")
        expected = before / n_history * n_latest
        new = before / n_history <= NEW_THEME_HISTORY_SHARE * count / max(n_latest, 1)
        alert = None
        if count >= MIN_ALERT_MENTIONS and (new or count >= MIN_SPIKE_RATIO * expected):
            detail = (
                f'"{label}" is new{where}: {count} mentions in {latest}, {before} in all {len(history)} '
                f"periods before ({expected:.1f} expected at their rate)."
                if new
                else f'"{label}" spiked{where}: {count} mentions in {latest}, {expected:.1f} expected from the '
                f"{len(history)} periods before."
            )
            alert = Alert(
                "new_theme" if new else "spike",
                latest,
                subject,
                label,
                "mentions",
                float(count),
                round(float(expected), 2),
                None,
                detail,
                quote,
            )
        out.append((alert, mentions_p_value(count, n_latest, before, n_history)))
        if not count or not before:
            continue
        negatives, negatives_before = int(in_latest["negative"].sum()), int(in_history["negative"].sum())
        share, share_before = negatives / count, negatives_before / before
        alert = None
        if not new and count >= MIN_ALERT_MENTIONS and share - share_before >= MIN_NEGATIVE_RISE:
            alert = Alert(
                "spike",
                latest,
                subject,
                label,
                "negative_share",
                round(share, 4),
                round(share_before, 4),
                None,
                f'"{label}" turned negative: {share:.0%} of its {count} mentions in {latest}, '
                f"{share_before:.0%} before.",
                quote,
            )
        out.append((alert, share_p_value(negatives, count, negatives_before, before)))
    for alert, p_value in out:
        if alert is not None:
            alert.p_value = p_value
    return out


def _quotes(frame: pd.DataFrame, periods: pd.Series, latest: str, column: str = "theme_id") -> dict[int, str]:
    """The most negative message of each theme in the latest period (its redacted text), for the digest."""
    rows = frame[(periods == latest).to_numpy()]
    rows = rows[rows["clean_text"].astype(str).str.len().between(20, 300)]
    rows = rows.sort_values(["sentiment", "feedback_id"], kind="stable")
    return {int(t): str(text) for t, text in rows.groupby(column, sort=False)["clean_text"].first().items()}


def _preview_themes(
    frame: pd.DataFrame, periods: pd.Series, window: list[str], config: Config
) -> tuple[pd.DataFrame, dict, dict] | None:
    """Themes among the "other" rows of ``window`` (the preview fit ``feedback add`` proposes themes with):
    their mentions, labels and quotes."""
    from .themes import preview_model

    others = frame[(frame["theme_id"] == OTHER_THEME_ID).to_numpy() & periods.isin(window).to_numpy()]
    texts = others["clean_text"].astype(str).tolist()
    model = preview_model(texts, config)
    if model is None:
        return None
    tagged = model.transform(texts)["theme_id"].tolist()
    others = others.assign(theme_id=tagged, theme_ids=[[t] if t != OTHER_THEME_ID else [] for t in tagged])
    other_periods = periods[others.index]
    return (
        _mentions(others, other_periods),
        {t.theme_id: t.label for t in model.themes_},
        _quotes(others, other_periods, window[-1]),
    )


def find_alerts(
    feedback: pd.DataFrame,
    customers: pd.DataFrame | None,
    tickets: pd.DataFrame | None,
    theme_model,
    config: Config | None = None,
    today: pd.Timestamp | None = None,
    kpis: dict | None = None,
) -> WatchResult:
    """The alerts of the latest complete period of stored, tagged ``feedback`` (see the module's description);
    ``kpis``: the KPIs of the same rows by ``config.period``, when already computed."""
    config = config or Config()
    period = config.period
    frame = feedback[~feedback["quality_issue"].isin(SKIP_REASONS)].reset_index(drop=True)
    periods = period_labels(frame["created_at"], period)
    latest = latest_complete_period(frame["created_at"], period, today)
    result = WatchResult(latest)
    if latest is None:
        result.notes.append("no complete period yet: nothing to compare")
        return result
    known = all_periods(pd.to_datetime(frame["created_at"]).min(), period_bounds(latest)[0], period)
    history = [p for p in known if p < latest][-BASELINE_PERIODS:]
    rows_per_period = periods.value_counts()
    with_rows = [p for p in history if rows_per_period.get(p, 0)]
    labels = {t.theme_id: t.label for t in theme_model.themes_}
    quotes = _quotes(frame, periods, latest)
    tests: list[tuple[Alert | None, float]] = []
    history_rows = int(rows_per_period.reindex(history, fill_value=0).sum())
    if len(with_rows) < MIN_BASELINE_PERIODS or history_rows < MIN_BASELINE_ROWS:
        result.notes.append(
            f"themes: {len(with_rows)} period(s) with {history_rows} row(s) before {latest}; "
            f"spikes and new themes need {MIN_BASELINE_PERIODS} periods and {MIN_BASELINE_ROWS} rows"
        )
    else:
        tests += _theme_tests(
            _mentions(frame, periods), rows_per_period, latest, history, labels, quotes, preview=False
        )
        preview = _preview_themes(frame, periods, [*history, latest], config)
        if preview is not None:
            mentions, preview_labels, preview_quotes = preview
            # a topic the model already names is not new: only preview labels no stored theme has
            preview_labels = {t: label for t, label in preview_labels.items() if label not in set(labels.values())}
            mentions = mentions[mentions["theme_id"].isin(list(preview_labels))]
            tests += _theme_tests(
                mentions, rows_per_period, latest, history, preview_labels, preview_quotes, preview=True
            )
    discoveries = fdr_discoveries([p for _, p in tests])
    result.alerts += [alert for (alert, _), found in zip(tests, discoveries) if found and alert is not None]
    if kpis is None:
        kpis = compute_kpis(
            feedback[feedback["quality_issue"] != "outside_period"],
            customers,
            tickets,
            by=config.period,
            min_n=config.min_sample,
        )
    result.alerts += _kpi_drops(kpis, latest)
    result.alerts += _churn_risks(frame, customers, latest, labels, quotes, config)
    order = {kind: i for i, kind in enumerate(ALERT_KINDS)}
    result.alerts.sort(key=lambda a: (order[a.kind], a.p_value if a.p_value is not None else 1.0, a.key))
    return result


def _kpi_drops(kpis: dict, latest: str) -> list[Alert]:
    """The KPIs that moved for the worse from the period before ``latest`` to it, significantly once the tests
    of every KPI are corrected together."""
    from .kpis import kpi_moves
    from .report import fmt_kpi, fmt_kpi_delta

    # retention is one minus churn: one fact, one alert
    moves = [m for m in kpi_moves(kpis, latest) if m["p_value"] is not None and m["kpi"] != "retention_rate"]
    out = []
    for move, found in zip(moves, fdr_discoveries([m["p_value"] for m in moves])):
        if not (found and move["worse"]):
            continue
        name, unit = move["kpi"], move["unit"]
        out.append(
            Alert(
                "kpi_drop",
                latest,
                kpi=name,
                value=move["value"],
                baseline=move["previous"],
                p_value=move["p_value"],
                detail=f"{move['name']} got worse in {latest}: {fmt_kpi(move['value'], name, unit)}, from "
                f"{fmt_kpi(move['previous'], name, unit)} ({fmt_kpi_delta(move['delta'], name, unit)}; "
                f"p = {move['p_value']:.2g}).",
            )
        )
    return out


def _churn_risks(
    frame: pd.DataFrame, customers, latest: str, labels: dict, quotes: dict, config: Config
) -> list[Alert]:
    """Themes whose churn lift reached ``config.alert_churn_lift`` with the rows up to the end of ``latest``, and
    was below it with the rows before ``latest`` (or had none)."""
    from .impact import theme_impact

    if customers is None or "churned" not in customers.columns:
        return []
    start, end = period_bounds(latest)
    dates = pd.to_datetime(frame["created_at"])
    now = theme_impact(frame[(dates < end).to_numpy()], customers, period=config.period, seed=config.seed)
    before = theme_impact(frame[(dates < start).to_numpy()], customers, period=config.period, seed=config.seed)
    lift_before = dict(zip(before["theme_id"], before["churn_lift"])) if len(before) else {}
    out = []
    for record in now.to_dict("records"):
        lift, ci = record.get("churn_lift"), record.get("churn_lift_ci")
        if lift is None or pd.isna(lift) or lift < config.alert_churn_lift or not ci or ci[0] is None or ci[0] <= 1:
            continue
        previous = lift_before.get(record["theme_id"])
        if previous is not None and not pd.isna(previous) and previous >= config.alert_churn_lift:
            continue
        label = labels.get(int(record["theme_id"]), record.get("theme_label"))
        out.append(
            Alert(
                "churn_risk",
                latest,
                int(record["theme_id"]),
                label,
                "churn_lift",
                round(float(lift), 3),
                None if previous is None or pd.isna(previous) else round(float(previous), 3),
                None,
                f'Customers who mention "{label}" churn {lift:.1f}x as often as the others '
                f"(95% interval {ci[0]:.1f}-{ci[1]:.1f}), above the {config.alert_churn_lift:g}x threshold.",
                quotes.get(int(record["theme_id"]), ""),
            )
        )
    return out


def stored_alert(row: dict) -> Alert:
    """An :class:`Alert` from a row of the workspace's ``alerts`` table."""
    return Alert(**{k: row[k] for k in asdict(Alert("spike", "")) if k in row})


def alert_lines(result: WatchResult) -> list[str]:
    """The alerts as the CLI prints them."""
    if result.period is None:
        return result.notes or ["no complete period yet"]
    lines = [f"period: {result.period}; {len(result.alerts)} alert(s)"]
    lines += [f"  {a.kind:<10} {a.detail}" for a in result.alerts]
    return lines + [f"note: {note}" for note in result.notes]


def alerts_json(result: WatchResult) -> str:
    return json.dumps(
        {
            "period": result.period,
            "text": result.text(),
            "alerts": [a.payload() for a in result.alerts],
            "notes": result.notes,
        },
        ensure_ascii=False,
    )
