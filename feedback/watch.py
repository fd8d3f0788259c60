"""The weekly loop's news: what changed in the latest complete period of a workspace, as alerts sent once.

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

Every alert found is stored in the workspace (table ``alerts``). Each ``--notify`` target is sent the latest
period's alerts it has not received, and any earlier one whose delivery to it failed (table ``deliveries``): a
second ``watch`` for the same period sends nothing new, and a failed delivery is tried again by the next
``watch``. Delivery is at least once: a send that succeeded but could not be recorded is sent again. Targets: an
``http(s)://`` webhook (JSON ``{"text", "alerts"}``, Slack's incoming-webhook shape) or ``smtp://HOST:PORT`` with
``--mail-to`` (a multipart e-mail: the plain-text and HTML digest of :mod:`feedback.digest`). The workspace keeps a
hash of each target, not the URL (a webhook URL is a secret), and output shows it without its path.
"""
from __future__ import annotations

import hashlib
import http.client
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
        if self.period is None and not self.alerts:
            return "feedback watch: no complete period yet."
        if not self.alerts:
            return f"feedback watch, {self.period}: no alerts."
        return f"feedback watch, {periods_of(self.alerts)}: {len(self.alerts)} alert(s). " + \
            " ".join(a.detail for a in self.alerts)


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
    exploded = pd.DataFrame({"period": periods.to_numpy(), "theme_ids": tags.to_numpy(),
                             "negative": (frame["sentiment_label"] == "negative").to_numpy()}).explode("theme_ids")
    exploded = exploded.dropna(subset=["theme_ids"])
    return exploded.assign(theme_id=exploded["theme_ids"].astype(int)).drop(columns="theme_ids")


def _theme_tests(mentions: pd.DataFrame, rows_per_period: pd.Series, latest: str, history: list[str],
                 labels: dict, quotes: dict, preview: bool) -> list[tuple[Alert | None, float]]:
    """Every theme's tests of the latest period against the history: (the alert it makes if the test is a
    discovery, or None when the rise is too small to report; its p-value). All p-values go into the correction
    for many themes, whether or not their rise is worth an alert."""
    n_latest = int(rows_per_period.get(latest, 0))
    n_history = int(rows_per_period.reindex(history, fill_value=0).sum())
    where = (" among the messages the theme model leaves as other (not a theme yet: feedback themes refit, or "
             "themes add, makes it one)") if preview else ""
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
            detail = (f"\"{label}\" is new{where}: {count} mentions in {latest}, {before} in all {len(history)} "
                      f"periods before ({expected:.1f} expected at their rate)." if new else
                      f"\"{label}\" spiked{where}: {count} mentions in {latest}, {expected:.1f} expected from the "
                      f"{len(history)} periods before.")
            alert = Alert("new_theme" if new else "spike", latest, subject, label, "mentions", float(count),
                          round(float(expected), 2), None, detail, quote)
        out.append((alert, mentions_p_value(count, n_latest, before, n_history)))
        if not count or not before:
            continue
        negatives, negatives_before = int(in_latest["negative"].sum()), int(in_history["negative"].sum())
        share, share_before = negatives / count, negatives_before / before
        alert = None
        if not new and count >= MIN_ALERT_MENTIONS and share - share_before >= MIN_NEGATIVE_RISE:
            alert = Alert("spike", latest, subject, label, "negative_share", round(share, 4), round(share_before, 4),
                          None, f"\"{label}\" turned negative: {share:.0%} of its {count} mentions in {latest}, "
                                f"{share_before:.0%} before.", quote)
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


def _preview_themes(frame: pd.DataFrame, periods: pd.Series, window: list[str], config: Config
                    ) -> tuple[pd.DataFrame, dict, dict] | None:
    """Themes among the "other" rows of ``window`` (the preview fit ``feedback add`` proposes themes with):
    their mentions, labels and quotes."""
    from .workspace import preview_model

    others = frame[(frame["theme_id"] == OTHER_THEME_ID).to_numpy() & periods.isin(window).to_numpy()]
    texts = others["clean_text"].astype(str).tolist()
    model = preview_model(texts, config)
    if model is None:
        return None
    tagged = model.transform(texts)["theme_id"].tolist()
    others = others.assign(theme_id=tagged, theme_ids=[[t] if t != OTHER_THEME_ID else [] for t in tagged])
    other_periods = periods[others.index]
    return (_mentions(others, other_periods), {t.theme_id: t.label for t in model.themes_},
            _quotes(others, other_periods, window[-1]))


def find_alerts(feedback: pd.DataFrame, customers: pd.DataFrame | None, tickets: pd.DataFrame | None, theme_model,
                config: Config | None = None, today: pd.Timestamp | None = None, kpis: dict | None = None) -> WatchResult:
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
        result.notes.append(f"themes: {len(with_rows)} period(s) with {history_rows} row(s) before {latest}; "
                            f"spikes and new themes need {MIN_BASELINE_PERIODS} periods and {MIN_BASELINE_ROWS} rows")
    else:
        tests += _theme_tests(_mentions(frame, periods), rows_per_period, latest, history, labels, quotes,
                              preview=False)
        preview = _preview_themes(frame, periods, [*history, latest], config)
        if preview is not None:
            mentions, preview_labels, preview_quotes = preview
            # a topic the model already names is not new: only preview labels no stored theme has
            preview_labels = {t: label for t, label in preview_labels.items() if label not in set(labels.values())}
            mentions = mentions[mentions["theme_id"].isin(list(preview_labels))]
            tests += _theme_tests(mentions, rows_per_period, latest, history, preview_labels, preview_quotes,
                                  preview=True)
    discoveries = fdr_discoveries([p for _, p in tests])
    result.alerts += [alert for (alert, _), found in zip(tests, discoveries) if found and alert is not None]
    if kpis is None:
        kpis = compute_kpis(feedback[feedback["quality_issue"] != "outside_period"], customers, tickets,
                            by=config.period, min_n=config.min_sample)
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
        out.append(Alert("kpi_drop", latest, kpi=name, value=move["value"], baseline=move["previous"],
                         p_value=move["p_value"],
                         detail=f"{move['name']} got worse in {latest}: {fmt_kpi(move['value'], name, unit)}, from "
                                f"{fmt_kpi(move['previous'], name, unit)} ({fmt_kpi_delta(move['delta'], name, unit)}; "
                                f"p = {move['p_value']:.2g})."))
    return out


def _churn_risks(frame: pd.DataFrame, customers, latest: str, labels: dict, quotes: dict,
                 config: Config) -> list[Alert]:
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
                         f"(95% interval {ci[0]:.1f}-{ci[1]:.1f}), above the {config.alert_churn_lift:g}x threshold.",
                         quotes.get(int(record["theme_id"]), "")))
    return out


# ------------------------------------------------------------------------------------------- delivery

def check_targets(targets: list[str], mail_to: str | None) -> None:
    """Refuse a target ``watch`` cannot send to before anything is computed."""
    from email.utils import parseaddr

    if mail_to and not any(urlsplit(t).scheme == "smtp" for t in targets):
        raise InputError("--mail-to names a recipient, but no --notify smtp://HOST:PORT target sends the e-mail",
                         fix="add --notify smtp://HOST:PORT (your mail relay), or leave out --mail-to")
    if mail_to and "@" not in parseaddr(mail_to)[1]:
        raise InputError("--mail-to is not an e-mail address", value=mail_to, fix="write it as name@example.com")
    for target in targets:
        parts = urlsplit(target)
        try:
            port = parts.port
        except ValueError:
            raise InputError(f"--notify {redacted(target)}: the port is not a number from 1 to 65535",
                             fix="write the target as http(s)://HOST[:PORT]/PATH or smtp://HOST:PORT") from None
        if parts.scheme in ("http", "https"):
            if not parts.hostname:
                raise InputError(f"--notify {redacted(target)}: a webhook URL needs a host",
                                 fix="write it as http(s)://HOST[:PORT]/PATH")
            continue
        if parts.scheme == "smtp":
            if not parts.hostname or not port:
                raise InputError(f"--notify {redacted(target)}: an SMTP target needs a host and a port",
                                 fix="write it as smtp://HOST:PORT, e.g. smtp://localhost:25")
            if not mail_to or any(c in mail_to for c in "\r\n"):
                raise InputError(f"--notify {redacted(target)}: an e-mail needs one recipient",
                                 fix="add --mail-to ADDRESS")
            continue
        raise InputError(f"--notify {redacted(target)}: not a target watch can send to",
                         fix="give an http(s):// webhook URL or smtp://HOST:PORT (with --mail-to)")


def redacted(target: str) -> str:
    """A target as output shows it: a webhook URL's path and query carry its secret, so only the host is shown.

    >>> redacted("https://hooks.slack.com/services/T000/B000/XXXX"), redacted("smtp://mail.example.com:25")
    ('https://hooks.slack.com/…', 'smtp://mail.example.com:25')
    """
    parts = urlsplit(target)
    if not parts.scheme or not parts.netloc:  # not a URL: nothing to hide, and the user must see what they typed
        return target
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" + ("/…" if parts.path.strip("/") or parts.query else "")


def target_key(target: str, mail_to: str | None = None) -> str:
    """What the workspace records deliveries under: a hash of the target (its URL may be a secret) and, for
    e-mail, of the recipient (a new recipient has received nothing yet)."""
    identity = f"{target} {mail_to}" if urlsplit(target).scheme == "smtp" else target
    return f"{redacted(target)} sha256:{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:16]}"


def webhook_body(text: str, alerts: list[Alert]) -> bytes:
    return json.dumps({"text": text, "alerts": [a.payload() for a in alerts]}, ensure_ascii=False).encode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that answers a redirect has not taken the alerts (urllib would repeat a POST as a bodiless GET)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirected to {redacted(newurl)}; give that URL", headers, fp)


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "feedback-watch"})
    with urllib.request.build_opener(_NoRedirect).open(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
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
        except (OSError, smtplib.SMTPException, http.client.HTTPException, ValueError) as exc:
            # OSError covers urllib's URLError and HTTPError, refused connections and timeouts
            error = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
    return error


@dataclass
class Delivery:
    #: the target as output shows it (:func:`redacted`)
    target: str
    alerts: int
    error: str | None = None


def default_report_hint(db: str | Path) -> str:
    """Where the full report is, when the user did not say: the command that writes it."""
    return f"feedback report --db {db} --out report.html"


def watch(db: str | Path, config: Config | None = None, targets: list[str] = (), mail_to: str | None = None,
          mail_from: str = "feedback@localhost", today: pd.Timestamp | None = None, report_hint: str | None = None,
          progress: Callable[[str], None] | None = None) -> tuple[WatchResult, list[Delivery]]:
    """Find the alerts of the workspace ``db``, store the new ones, and send each target what it has not received.

    Holds the workspace's write lock throughout, so two runs never send the same alerts. Returns what was found
    and one :class:`Delivery` per target (``error`` set when it failed after ``DELIVERY_ATTEMPTS`` tries; its
    alerts stay pending for the next run)."""
    from .digest import build_digest, render_digest
    from .workspace import load_frames, pending_alerts, record_alerts, record_delivery, write_lock

    config = config or Config()
    check_targets(list(targets), mail_to)
    with write_lock(db):
        stored = load_frames(db, config)
        result = find_alerts(stored.feedback, stored.customers, stored.tickets, stored.theme_model, config, today)
        record_alerts(db, result.alerts)
        deliveries = []
        digest = None
        for target in targets:
            key = target_key(target, mail_to)
            pending = pending_alerts(db, key, result.period)
            if not pending:
                deliveries.append(Delivery(redacted(target), 0))
                continue
            if urlsplit(target).scheme == "smtp":
                if digest is None:
                    digest = build_digest(stored, config, result, report_hint or default_report_hint(db))
                subject = f"feedback: {len(pending)} alert(s) for {periods_of(pending)}"
                plain, html = render_digest(digest, "txt", alerts=pending), render_digest(digest, "html", alerts=pending)
                send = lambda: _mail(target, mail_to, mail_from, subject, plain, html)  # noqa: E731
            else:
                body = webhook_body(WatchResult(result.period, pending).text(), pending)
                send = lambda: _post(target, body)  # noqa: E731
            error = deliver(send)
            record_delivery(db, key, pending, error)
            deliveries.append(Delivery(redacted(target), len(pending), error))
            if progress is not None:
                progress(f"{redacted(target)}: " + (f"sent {len(pending)} alert(s)" if error is None else f"failed: {error}"))
    return result, deliveries


def alert_lines(result: WatchResult) -> list[str]:
    """The alerts as the CLI prints them."""
    if result.period is None:
        return result.notes or ["no complete period yet"]
    lines = [f"period: {result.period}; {len(result.alerts)} alert(s)"]
    lines += [f"  {a.kind:<10} {a.detail}" for a in result.alerts]
    return lines + [f"note: {note}" for note in result.notes]


def alerts_json(result: WatchResult) -> str:
    return json.dumps({"period": result.period, "text": result.text(), "alerts": [a.payload() for a in result.alerts],
                       "notes": result.notes}, ensure_ascii=False)


def stored_alert(row: dict) -> Alert:
    """An :class:`Alert` from a row of the workspace's ``alerts`` table."""
    return Alert(**{k: row[k] for k in asdict(Alert("spike", "")) if k in row})
