"""The weekly loop's news sent once: the alerts of :mod:`feedback.alerts`, stored and delivered.

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
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import pandas as pd

from .alerts import Alert, WatchResult, find_alerts, periods_of
from .config import Config
from .errors import InputError

#: delivery attempts per target in one run, and the wait before the second (doubled each time)
DELIVERY_ATTEMPTS = 3
RETRY_WAIT_SECONDS = 1.0
#: seconds a webhook or SMTP server has to answer
DELIVERY_TIMEOUT_SECONDS = 10.0


def check_targets(targets: list[str], mail_to: str | None) -> None:
    """Refuse a target ``watch`` cannot send to before anything is computed."""
    from email.utils import parseaddr

    if mail_to and not any(urlsplit(t).scheme == "smtp" for t in targets):
        raise InputError(
            "--mail-to names a recipient, but no --notify smtp://HOST:PORT target sends the e-mail",
            fix="add --notify smtp://HOST:PORT (your mail relay), or leave out --mail-to",
        )
    if mail_to and "@" not in parseaddr(mail_to)[1]:
        raise InputError("--mail-to is not an e-mail address", value=mail_to, fix="write it as name@example.com")
    for target in targets:
        parts = urlsplit(target)
        try:
            port = parts.port
        except ValueError:
            raise InputError(
                f"--notify {redacted(target)}: the port is not a number from 1 to 65535",
                fix="write the target as http(s)://HOST[:PORT]/PATH or smtp://HOST:PORT",
            ) from None
        if parts.scheme in ("http", "https"):
            if not parts.hostname:
                raise InputError(
                    f"--notify {redacted(target)}: a webhook URL needs a host",
                    fix="write it as http(s)://HOST[:PORT]/PATH",
                )
            continue
        if parts.scheme == "smtp":
            if not parts.hostname or not port:
                raise InputError(
                    f"--notify {redacted(target)}: an SMTP target needs a host and a port",
                    fix="write it as smtp://HOST:PORT, e.g. smtp://localhost:25",
                )
            if not mail_to or any(c in mail_to for c in "\r\n"):
                raise InputError(
                    f"--notify {redacted(target)}: an e-mail needs one recipient", fix="add --mail-to ADDRESS"
                )
            continue
        raise InputError(
            f"--notify {redacted(target)}: not a target watch can send to",
            fix="give an http(s):// webhook URL or smtp://HOST:PORT (with --mail-to)",
        )


def redacted(target: str) -> str:
    """A target as output shows it: a webhook URL's path and query carry its secret, so only the host is shown.

    >>> redacted("https://hooks.slack.com/services/T000/B000/XXXX"), redacted("smtp://mail.example.com:25")
    ('https://hooks.slack.com/…', 'smtp://mail.example.com:25')
    """
    parts = urlsplit(target)
    if not parts.scheme or not parts.netloc:  # not a URL: nothing to hide, and the user must see what they typed
        return target
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" + (
        "/…" if parts.path.strip("/") or parts.query else ""
    )


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
        raise urllib.error.HTTPError(
            req.full_url, code, f"redirected to {redacted(newurl)}; give that URL", headers, fp
        )


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "feedback-watch"},
    )
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


def deliver(
    send: Callable[[], None],
    attempts: int = DELIVERY_ATTEMPTS,
    wait: float = RETRY_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
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


def watch(
    db: str | Path,
    config: Config | None = None,
    targets: list[str] = (),
    mail_to: str | None = None,
    mail_from: str = "feedback@localhost",
    today: pd.Timestamp | None = None,
    report_hint: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[WatchResult, list[Delivery]]:
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
                plain, html = (
                    render_digest(digest, "txt", alerts=pending),
                    render_digest(digest, "html", alerts=pending),
                )
                send = lambda: _mail(target, mail_to, mail_from, subject, plain, html)  # noqa: E731
            else:
                body = webhook_body(WatchResult(result.period, pending).text(), pending)
                send = lambda: _post(target, body)  # noqa: E731
            error = deliver(send)
            record_delivery(db, key, pending, error)
            deliveries.append(Delivery(redacted(target), len(pending), error))
            if progress is not None:
                progress(
                    f"{redacted(target)}: " + (f"sent {len(pending)} alert(s)" if error is None else f"failed: {error}")
                )
    return result, deliveries
