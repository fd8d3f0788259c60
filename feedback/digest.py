"""The weekly digest: the few things a support lead reads on Monday, in Markdown, plain text or HTML.

``feedback digest --db PATH --out digest.md|.txt|.html`` (and the body of ``feedback watch``'s e-mail):

- the top 3 pain points with affected customers, churn lift and revenue at risk, each with one quote;
- what is new or growing: the alerts of the latest complete period (:mod:`feedback.alerts`), with a quote;
- the KPI moves from the period before, with their change tests;
- where the full report is.

Quotes are the stored, redacted text. The HTML is rendered with autoescaping on; Markdown escapes the characters
that would make a quote into a link, a heading or emphasis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from .config import Config
from .errors import InputError
from .io.write import write_text
from .resources import TEMPLATES_DIR

#: pain points the digest lists
DIGEST_PAINPOINTS = 3
FORMATS = {".md": "md", ".markdown": "md", ".txt": "txt", ".html": "html", ".htm": "html"}
#: what turns text into markup mid-line (emphasis, code, links, HTML, tables) ...
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
#: ... and at the start of a line, as a quote is (a heading, a list item, a rule)
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))")


@dataclass
class Digest:
    """What the digest says; :func:`render_digest` writes it out."""

    title: str
    period: str | None
    #: "week" or "month"
    period_kind: str = "week"
    #: the span the pain points are ranked over: every stored row ("2026-07-06 to 2026-09-13")
    span: str = ""
    painpoints: list[dict] = field(default_factory=list)
    alerts: list = field(default_factory=list)
    kpi_moves: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report_hint: str = ""


def markdown_text(value) -> str:
    """Text that Markdown shows as written, on one line: the characters that would make it markup escaped.

    >>> markdown_text("see [this](http://x.example) *now*")
    'see \\\\[this\\\\](http://x.example) \\\\*now\\\\*'
    >>> markdown_text("# not a heading"), markdown_text("1. not a list")
    ('\\\\# not a heading', '1\\\\. not a list')
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
    match = _MARKDOWN_LINE_START.match(text)
    if match is None:
        return text
    if match.group(2).isdigit():
        end = match.end()
        return text[:end] + "\\" + text[end:]
    return text[: match.start(2)] + "\\" + text[match.start(2) :]


def change_test_name(description: str | None) -> str:
    """The name of a KPI change test, without its details.

    >>> change_test_name("two-sided Welch t-test (unequal variances) from each period's mean, sd and n, alpha 0.05")
    'two-sided Welch t-test'
    """
    return re.split(r" \(| with | from |, ", description or "", maxsplit=1)[0]


def build_digest(stored, config: Config | None = None, watched=None, report_hint: str = "") -> Digest:
    """The digest of a workspace's stored rows (``feedback.workspace.load_frames``); ``watched`` is the
    ``feedback.alerts.WatchResult`` of the same rows (found here when None)."""
    from .kpis import kpi_moves
    from .pipeline import analyze_stored, build_context
    from .report import what_hurts_most
    from .alerts import find_alerts

    config = config or Config()
    result = analyze_stored(stored.feedback, stored.customers, stored.tickets, config, stored.theme_model)
    if watched is None:  # the same rows: the KPIs analyze_stored computed are the ones watch tests
        watched = find_alerts(
            stored.feedback, stored.customers, stored.tickets, stored.theme_model, config, kpis=result.kpis
        )
    context = build_context(result)
    painpoints = []
    for rank, (_, p) in enumerate(what_hurts_most(context.painpoints, DIGEST_PAINPOINTS), 1):
        quotes = p.get("quotes") or []
        painpoints.append(
            {
                "rank": rank,
                "label": p.get("theme_label"),
                "affected_customers": p.get("affected_customers"),
                "churn_lift": p.get("churn_lift"),
                "churn_lift_ci": p.get("churn_lift_ci"),
                "revenue_at_risk": p.get("revenue_at_risk"),
                "quote": quotes[0] if quotes else "",
            }
        )
    dates = pd.to_datetime(stored.feedback["created_at"]).dropna()
    span = f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}" if len(dates) else ""
    return Digest(
        title=config.title,
        period=watched.period,
        period_kind=config.period,
        span=span,
        painpoints=painpoints,
        alerts=list(watched.alerts),
        kpi_moves=kpi_moves(result.kpis, watched.period),
        notes=list(watched.notes),
        report_hint=report_hint,
    )


def _environment(html: bool) -> jinja2.Environment:
    from .report import fmt_ci, fmt_kpi, fmt_kpi_delta, fmt_money, fmt_num, fmt_signed

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=fmt_num,
        money=fmt_money,
        signed=fmt_signed,
        ci=fmt_ci,
        kpi=fmt_kpi,
        kpi_delta=fmt_kpi_delta,
        md=markdown_text,
        p=lambda v: "—" if v is None else f"{float(v):.2g}",
        first_words=change_test_name,
        oneline=lambda v: " ".join(str(v).split()),
    )
    return env


def render_digest(digest: Digest, fmt: str, alerts: list | None = None) -> str:
    """The digest as ``fmt`` ("md", "txt" or "html"); ``alerts`` replaces its alerts (an e-mail lists the ones
    it delivers)."""
    if fmt not in FORMATS.values():
        raise ValueError(f"fmt must be one of md, txt, html; got {fmt!r}")
    # a KPI that got worse is in the KPI moves already
    shown = [a for a in (digest.alerts if alerts is None else alerts) if a.kind != "kpi_drop"]
    return _environment(fmt == "html").get_template(f"digest.{fmt}").render(d=digest, alerts=shown)


def write_digest(digest: Digest, out: str | Path) -> Path:
    """Write the digest in the format its file extension names (.md, .txt, .html)."""
    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the digest's format from {out.name!r}", path=out, fix="end --out in .md, .txt or .html"
        )
    return write_text(render_digest(digest, fmt), out)
