"""The weekly loop's news: what changed in the latest complete period of a workspace, as alerts sent once.

``feedback watch --db PATH [--notify URL]...`` compares the latest complete period (week or month) with the ones
before it and finds four kinds of alert:

- ``spike``: a theme mentioned more often than its history explains, or whose mentions turned negative more
  often. Each is a one-sided binomial test of the latest period against the rate of the ``BASELINE_PERIODS``
  before it; the p-values of every theme are corrected together (Benjamini-Hochberg, ``ALERT_FDR``).
- ``new_theme``: a theme (almost) absent before and present now. That is either a theme of the stored model
  first seen in the latest period, or a recurring topic among the rows the model leaves as "other": those rows
  are clustered with the same theme discovery (a preview, as ``feedback add`` proposes), and each preview theme
  is tested as above.
- ``kpi_drop``: a KPI that moved significantly for the worse from the previous period (the change tests of
  :mod:`feedback.kpis`).
- ``churn_risk``: a theme whose churn lift crossed ``Config.alert_churn_lift`` in the latest period (on the rows up
  to its end, against the rows up to its start), with the lower end of its interval above 1.

Every alert found is stored in the workspace (table ``alerts``); each ``--notify`` target is sent the alerts it
has not received yet (table ``deliveries``), so a second ``watch`` for the same period sends nothing new, and a
delivery that failed is tried again by the next ``watch``. Targets: an ``http(s)://`` webhook (JSON ``{"text",
"alerts"}``, Slack's incoming-webhook shape) or ``smtp://HOST:PORT`` with ``--mail-to`` (a multipart e-mail: the
plain-text and HTML digest of :mod:`feedback.digest`).
"""
from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from .config import Config
from .errors import InputError
from .periods import all_periods, period_bounds, period_labels
from .schema import OTHER_THEME_ID, SKIP_REASONS

ALERT_KINDS = ("spike", "new_theme", "kpi_drop", "churn_risk")
#: the previous periods a theme's latest period is compared with
BASELINE_PERIODS = 8
#: periods of history a theme needs before its latest period can be a spike or new (fewer: its rate is unknown)
MIN_BASELINE_PERIODS = 3
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
#: "other" rows (latest period and history) needed to look for new topics among them
MIN_OTHER_ROWS = 30
#: delivery attempts per target in one run, and the wait before the second (doubled each time)
DELIVERY_ATTEMPTS = 3
RETRY_WAIT_SECONDS = 1.0
#: seconds a webhook or SMTP server has to answer
DELIVERY_TIMEOUT_SECONDS = 10.0


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

    @property
    def key(self) -> str:
        """What makes an alert the same alert in a later run: its kind, period, theme (or preview label) and KPI."""
        subject = self.theme_id if self.theme_id is not None else (self.theme_label or "")
        return f"{self.kind}|{self.period}|{subject}|{self.kpi or ''}"

    def payload(self) -> dict:
        return {"kind": self.kind, "theme_id": self.theme_id, "theme_label": self.theme_label, "kpi": self.kpi,
                "period": self.period, "value": self.value, "baseline": self.baseline, "p_value": self.p_value}


@dataclass
class WatchResult:
    """What ``watch`` found: the period it looked at, the alerts, and notes on what it could not test."""

    period: str | None
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The alerts as one paragraph a person reads (a webhook's ``text``)."""
        if self.period is None:
            return "feedback watch: no complete period yet."
        if not self.alerts:
            return f"feedback watch, {self.period}: no alerts."
        return f"feedback watch, {self.period}: {len(self.alerts)} alert(s). " + " ".join(a.detail for a in self.alerts)


def benjamini_hochberg(p_values: list[float], rate: float = ALERT_FDR) -> list[bool]:
    """Which of ``p_values`` are discoveries at false-discovery ``rate`` (Benjamini-Hochberg step-up).

    >>> benjamini_hochberg([0.001, 0.04, 0.03, 0.5])
    [True, False, False, False]
    >>> benjamini_hochberg([0.01, 0.02, 0.03, 0.04])
    [True, True, True, True]
    """
    if not p_values:
        return []
    order = np.argsort(p_values, kind="stable")
    ranked = np.asarray(p_values, dtype=float)[order]
    passing = np.flatnonzero(ranked <= rate * np.arange(1, len(ranked) + 1) / len(ranked))
    out = np.zeros(len(p_values), dtype=bool)
    if len(passing):
        out[order[: passing.max() + 1]] = True
    return out.tolist()


def rise_p_value(count: int, trials: int, history_count: float, history_trials: float) -> float:
    """One-sided binomial p-value of ``count`` successes in ``trials`` or more, at the history's rate (with half a
    success added to it, so a theme never seen before has a small rate, not zero).

    >>> round(rise_p_value(30, 800, 10, 6000), 12) < 1e-9, round(rise_p_value(2, 800, 10, 6000), 2)
    (True, 0.41)
    """
    from scipy.stats import binom

    rate = (history_count + 0.5) / (history_trials + 1.0)
    return float(binom.sf(count - 1, trials, min(rate, 1.0))) if trials else 1.0


def latest_complete_period(dates: pd.Series, period: str, today: pd.Timestamp | None = None) -> str | None:
    """The last period that is over: it ended before ``today`` (default: now, UTC), or a later period has rows.

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
    labels = sorted(set(period_labels(dates, period).dropna()))
    complete = [label for i, label in enumerate(labels) if period_bounds(label)[1] <= today or i < len(labels) - 1]
    return complete[-1] if complete else None


def _mentions(frame: pd.DataFrame, periods: pd.Series) -> pd.DataFrame:
    """One row per (row, theme it mentions): ``period``, ``theme_id``, ``negative``."""
    tags = frame["theme_ids"].map(lambda v: list(v) if isinstance(v, (list, tuple)) else [])
    exploded = pd.DataFrame({"period": periods.to_numpy(), "theme_ids": tags.to_numpy(),
                             "negative": (frame["sentiment_label"] == "negative").to_numpy()}).explode("theme_ids")
    exploded = exploded.dropna(subset=["theme_ids"])
    return exploded.assign(theme_id=exploded["theme_ids"].astype(int)).drop(columns="theme_ids")


def _theme_tests(mentions: pd.DataFrame, rows_per_period: pd.Series, latest: str, history: list[str],
                 labels: dict, quotes: dict, preview: bool) -> list[tuple[Alert, float]]:
    """Candidate spike and new-theme alerts (before the correction for many themes) with their p-values."""
    n_latest = int(rows_per_period.get(latest, 0))
    n_history = int(rows_per_period.reindex(history, fill_value=0).sum())
    out = []
    for theme_id, own in mentions.groupby("theme_id"):
        in_latest = own[own["period"] == latest]
        in_history = own[own["period"].isin(history)]
        count, before = len(in_latest), len(in_history)
        if count < MIN_ALERT_MENTIONS:
            continue
        label = labels.get(int(theme_id), str(theme_id))
        subject = None if preview else int(theme_id)
        expected = (before + 0.5) / (n_history + 1.0) * n_latest
        latest_rate = count / max(n_latest, 1)
        history_rate = before / max(n_history, 1)
        new = history_rate <= NEW_THEME_HISTORY_SHARE * latest_rate
        if new or count >= MIN_SPIKE_RATIO * expected:
            p = rise_p_value(count, n_latest, before, n_history)
            where = ("among the messages the theme model leaves as other (not a theme yet: "
                     "`feedback themes refit` makes it one)" if preview else "")
            detail = (f"New theme \"{label}\"{' ' + where if where else ''}: {count} mentions in {latest}, "
                      f"{before} in the {len(history)} periods before." if new else
                      f"\"{label}\" spiked{' ' + where if where else ''}: {count} mentions in {latest}, "
                      f"{expected:.1f} expected from the {len(history)} periods before.")
            out.append((Alert("new_theme" if new else "spike", latest, subject, label, "mentions", float(count),
                              round(float(expected), 2), p, detail, quotes.get(int(theme_id), "")), p))
        negatives, negatives_before = int(in_latest["negative"].sum()), int(in_history["negative"].sum())
        share, share_before = negatives / count, negatives_before / max(before, 1)
        if not new and before and share - share_before >= MIN_NEGATIVE_RISE:
            p = rise_p_value(negatives, count, negatives_before, before)
            out.append((Alert("spike", latest, subject, label, "negative_share", round(share, 4),
                              round(share_before, 4), p,
                              f"\"{label}\" turned negative: {share:.0%} of its {count} mentions in {latest}, "
                              f"{share_before:.0%} before.", quotes.get(int(theme_id), "")), p))
    return out


def _quotes(frame: pd.DataFrame, periods: pd.Series, latest: str, column: str = "theme_id") -> dict[int, str]:
    """The most negative message of each theme in the latest period (its redacted text), for the digest."""
    rows = frame[(periods == latest).to_numpy()]
    rows = rows[rows["clean_text"].astype(str).str.len().between(20, 300)]
    rows = rows.sort_values(["sentiment", "feedback_id"], kind="stable")
    return {int(t): str(text) for t, text in rows.groupby(column, sort=False)["clean_text"].first().items()}


def _preview_themes(frame: pd.DataFrame, periods: pd.Series, window: list[str], config: Config
                    ) -> tuple[pd.DataFrame, dict, dict] | None:
    """Themes among the "other" rows of ``window`` (a preview fit, seeded): their mentions, labels and quotes."""
    others = frame[(frame["theme_id"] == OTHER_THEME_ID).to_numpy() & periods.isin(window).to_numpy()]
    if len(others) < MIN_OTHER_ROWS:
        return None
    texts = others["clean_text"].astype(str).tolist()
    model = config.theme_model().set_params(n_themes="auto", min_theme_size=max(3, len(texts) // 40))
    try:
        tagged = model.fit(texts).transform(texts)
    except (InputError, ValueError):
        return None
    others = others.assign(theme_id=tagged["theme_id"].to_numpy(),
                           theme_ids=[[t] if t != OTHER_THEME_ID else [] for t in tagged["theme_id"].tolist()])
    labels = {t.theme_id: t.label for t in model.themes_}
    other_periods = periods[others.index]
    return _mentions(others, other_periods), labels, _quotes(others, other_periods, window[-1])


def find_alerts(feedback: pd.DataFrame, customers: pd.DataFrame | None, tickets: pd.DataFrame | None, theme_model,
                config: Config | None = None, today: pd.Timestamp | None = None) -> WatchResult:
    """The alerts of the latest complete period of stored, tagged ``feedback`` (see the module's description)."""
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
    labels = {t.theme_id: t.label for t in theme_model.themes_}
    candidates: list[tuple[Alert, float]] = []
    if len(history) < MIN_BASELINE_PERIODS:
        result.notes.append(f"themes: {len(history)} period(s) before {latest}; spikes and new themes need "
                            f"{MIN_BASELINE_PERIODS}")
    else:
        rows_per_period = periods.value_counts()
        candidates += _theme_tests(_mentions(frame, periods), rows_per_period, latest, history, labels,
                                   _quotes(frame, periods, latest), preview=False)
        preview = _preview_themes(frame, periods, [*history, latest], config)
        if preview is not None:
            mentions, preview_labels, quotes = preview
            # a topic the model already names is not new: only preview labels no stored theme has
            preview_labels = {t: label for t, label in preview_labels.items() if label not in set(labels.values())}
            mentions = mentions[mentions["theme_id"].isin(list(preview_labels))]
            candidates += _theme_tests(mentions, rows_per_period, latest, history, preview_labels, quotes,
                                       preview=True)
    kept = benjamini_hochberg([p for _, p in candidates])
    result.alerts += [alert for (alert, _), keep in zip(candidates, kept) if keep]
    result.alerts += _kpi_drops(feedback, customers, tickets, latest, config)
    result.alerts += _churn_risks(frame, customers, latest, labels, config)
    order = {kind: i for i, kind in enumerate(ALERT_KINDS)}
    result.alerts.sort(key=lambda a: (order[a.kind], a.p_value if a.p_value is not None else 1.0, a.key))
    return result


def _kpi_drops(feedback: pd.DataFrame, customers, tickets, latest: str, config: Config) -> list[Alert]:
    """The KPIs that moved significantly for the worse from the period before ``latest`` to it."""
    from .kpis import KPI_DEFINITIONS, change_test, compute_kpis
    from .report import fmt_kpi, fmt_kpi_delta

    kpis = compute_kpis(feedback[feedback["quality_issue"] != "outside_period"], customers, tickets,
                        by=config.period, min_n=config.min_sample)
    entries = kpis.get("periods") or []
    at = next((i for i, e in enumerate(entries) if e.get("period") == latest), None)
    if not at:
        return []
    out = []
    for name, kpi in entries[at].items():
        if not isinstance(kpi, dict) or not kpi.get("change_significant") or kpi.get("delta") is None:
            continue
        definition = KPI_DEFINITIONS.get(name, {})
        worse = kpi["delta"] < 0 if definition.get("higher_is_better", True) else kpi["delta"] > 0
        if not worse:
            continue
        before = entries[at - 1][name]
        test = change_test(name, before, kpi) or {}
        title, unit = definition.get("name", name), definition.get("unit", "")
        p_value = test.get("p_value")
        out.append(Alert("kpi_drop", latest, kpi=name, value=kpi["value"], baseline=before["value"], p_value=p_value,
                         detail=f"{title} got worse in {latest}: {fmt_kpi(kpi['value'], name, unit)}, from "
                                f"{fmt_kpi(before['value'], name, unit)} ({fmt_kpi_delta(kpi['delta'], name, unit)}"
                                f"{'' if p_value is None else f'; p = {p_value:.2g}'})."))
    return out


def _churn_risks(frame: pd.DataFrame, customers, latest: str, labels: dict, config: Config) -> list[Alert]:
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
        out.append(Alert("churn_risk", latest, int(record["theme_id"]), label, "churn_lift", round(float(lift), 3),
                         None if previous is None or pd.isna(previous) else round(float(previous), 3), None,
                         f"Customers who mention \"{label}\" churn {lift:.1f}x as often as the others "
                         f"(95% interval {ci[0]:.1f}-{ci[1]:.1f}), above the {config.alert_churn_lift:g}x threshold."))
    return out


# ------------------------------------------------------------------------------------------- delivery

def check_targets(targets: list[str], mail_to: str | None) -> None:
    """Refuse a target ``watch`` cannot send to before anything is computed."""
    for target in targets:
        scheme = urlsplit(target).scheme
        if scheme in ("http", "https"):
            continue
        if scheme == "smtp":
            parts = urlsplit(target)
            if not parts.hostname or not parts.port:
                raise InputError(f"--notify {target}: an SMTP target needs a host and a port",
                                 fix="write it as smtp://HOST:PORT, e.g. smtp://localhost:25")
            if not mail_to:
                raise InputError(f"--notify {target}: an e-mail needs a recipient", fix="add --mail-to ADDRESS")
            continue
        raise InputError(f"--notify {target}: not a target watch can send to",
                         fix="give an http(s):// webhook URL or smtp://HOST:PORT (with --mail-to)")


def webhook_body(text: str, alerts: list[Alert]) -> bytes:
    return json.dumps({"text": text, "alerts": [a.payload() for a in alerts]}, ensure_ascii=False).encode("utf-8")


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "feedback-watch"})
    with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:  # noqa: S310 - the user's URL
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def _mail(target: str, mail_to: str, mail_from: str, subject: str, plain: str, html: str) -> None:
    parts = urlsplit(target)
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, mail_from, mail_to
    message.set_content(plain)
    message.add_alternative(html, subtype="html")
    with smtplib.SMTP(parts.hostname, parts.port, timeout=DELIVERY_TIMEOUT_SECONDS) as server:
        server.send_message(message)


def deliver(send: Callable[[], None], attempts: int = DELIVERY_ATTEMPTS, wait: float = RETRY_WAIT_SECONDS,
            sleep: Callable[[float], None] = time.sleep) -> str | None:
    """Call ``send`` until it succeeds, at most ``attempts`` times, waiting ``wait`` seconds before the second
    try and twice as long before each next one; None on success, else the last error as text.

    >>> calls = []
    >>> deliver(lambda: calls.append(1) or (_ for _ in ()).throw(OSError("refused")), sleep=lambda s: None)
    'refused'
    >>> len(calls)
    3
    """
    error = None
    for attempt in range(attempts):
        if attempt:
            sleep(wait * 2 ** (attempt - 1))
        try:
            send()
            return None
        except (OSError, smtplib.SMTPException, urllib.error.URLError) as exc:
            error = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
    return error


@dataclass
class Delivery:
    target: str
    alerts: int
    error: str | None = None


def watch(db: str | Path, config: Config | None = None, targets: list[str] = (), mail_to: str | None = None,
          mail_from: str = "feedback@localhost", today: pd.Timestamp | None = None, report_hint: str | None = None,
          progress: Callable[[str], None] | None = None) -> tuple[WatchResult, list[Delivery]]:
    """Find the alerts of the workspace ``db``, store the new ones, and send each target what it has not received.

    Returns what was found and one :class:`Delivery` per target (``error`` set when it failed after
    ``DELIVERY_ATTEMPTS`` tries; its alerts stay pending for the next run)."""
    from .digest import build_digest, render_digest
    from .workspace import load_frames, pending_alerts, record_alerts, record_delivery

    config = config or Config()
    check_targets(list(targets), mail_to)
    stored = load_frames(db)
    result = find_alerts(stored.feedback, stored.customers, stored.tickets, stored.theme_model, config, today)
    record_alerts(db, result.alerts)
    deliveries = []
    digest = None
    for target in targets:
        pending = pending_alerts(db, target)
        if not pending:
            deliveries.append(Delivery(target, 0))
            continue
        text = WatchResult(result.period, pending).text()
        if urlsplit(target).scheme == "smtp":
            if digest is None:
                digest = build_digest(stored, config, result, report_hint=report_hint or f"feedback report --db {db}")
            subject = f"feedback: {len(pending)} alert(s) for {result.period}"
            send = lambda: _mail(target, mail_to, mail_from, subject,  # noqa: E731
                                 render_digest(digest, "txt", alerts=pending), render_digest(digest, "html", alerts=pending))
        else:
            body = webhook_body(text, pending)
            send = lambda: _post(target, body)  # noqa: E731
        error = deliver(send)
        record_delivery(db, target, pending, error)
        deliveries.append(Delivery(target, len(pending), error))
        if progress is not None:
            progress(f"{target}: {'sent ' + str(len(pending)) + ' alert(s)' if error is None else 'failed: ' + error}")
    return result, deliveries


def alert_lines(result: WatchResult) -> list[str]:
    """The alerts as the CLI prints them."""
    if result.period is None:
        return ["no complete period yet", *result.notes]
    lines = [f"period: {result.period}; {len(result.alerts)} alert(s)"]
    lines += [f"  {a.kind:<10} {a.detail}" for a in result.alerts]
    return lines + [f"note: {note}" for note in result.notes]


def alerts_json(result: WatchResult) -> str:
    return json.dumps({"period": result.period, "text": result.text(), "alerts": [a.payload() for a in result.alerts],
                       "notes": result.notes}, ensure_ascii=False)


def stored_alert(row: dict) -> Alert:
    """An :class:`Alert` from a row of the workspace's ``alerts`` table."""
    return Alert(**{k: row[k] for k in asdict(Alert("spike", "")) if k in row})
