"""The weekly HTML report: one self-contained, deterministic page built from one :class:`ReportContext`.

The page is rendered by Jinja2 from ``templates/`` (``base.html`` + ``report.html`` + partials ``_*.html``);
a user ``templates_dir`` overrides any default template, including ``report.css`` and ``report.js``.
Charts are inline SVG built here in Python (no chart library, no network). Autoescaping is always on;
every piece of customer text reaches the page escaped, including inside the SVG.

Security and portability rules the page follows:

* a Content-Security-Policy meta tag allows inline CSS, the one inline script by its SHA-256 hash (so an
  injected ``<script>`` or ``onerror=`` handler would not run even if escaping failed) and ``data:`` images;
* no external URL: CSS and JS are inlined, downloads are ``data:`` URIs;
* CSV downloads pass every cell through :func:`csv_safe` (formula injection).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from feedback.errors import InputError

from .io.write import csv_safe, csv_text
from .kpis import absent_kpis, absent_kpis_line
from .resources import TEMPLATES_DIR
from .schema import is_missing

__all__ = [
    "ReportContext",
    "render_report",
    "csv_safe",
    "export_tables",
    "make_environment",
    "default_template_dirs",
]

#: What the page shows for a missing value (None, NaN, pd.NA): never "None" or "nan".
MISSING = "—"

#: A KPI tile whose current-period ``n`` is below this gets a "small sample" marker.
#: Rule of thumb (n < 30: the normal approximation behind most CIs is shaky), not a test.
SMALL_SAMPLE_N = 30

#: Number of themes drawn separately in the stacked theme-volume chart; the rest are summed.
TOP_THEMES_IN_VOLUME_CHART = 6

#: Quotes shown per pain point / praise theme.
QUOTES_SHOWN = 3

#: Order of KPI tiles (the KPI JSON contract); KPIs not listed here follow in the order found.
KPI_ORDER = (
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
#: KPIs where a decrease is an improvement (used for the "better"/"worse" words next to a delta).
LOWER_IS_BETTER = frozenset({"ces", "churn_rate", "cac", "aht_minutes", "resolution_hours", "first_response_hours"})
#: KPIs stored as fractions 0–1, shown as percentages; deltas shown in percentage points.
RATE_KPIS = frozenset({"churn_rate", "retention_rate", "fcr"})
#: KPIs in dollars.
MONEY_KPIS = frozenset({"clv", "cac"})
#: Suffix shown after a KPI value.
KPI_SUFFIX = {"aht_minutes": " min", "resolution_hours": " h", "first_response_hours": " h", "clv_cac": "×"}
#: Decimals shown for non-rate, non-money KPIs (default 2).
KPI_DIGITS = {"nps": 1, "aht_minutes": 1, "resolution_hours": 1, "first_response_hours": 1}

#: Okabe–Ito palette (colour-blind safe); the last entry is for "all other themes".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999")


#: Definitions of the pain-point columns shown in Methods (the impact module's formulas, in words and symbols).
#: ``build_context`` may pass its own (e.g. with the exact thresholds of the impact stage).
PAINPOINT_DEFINITIONS = {
    "Affected customers": "distinct customers with at least one text tagged with the theme (a text can carry "
    "several themes); the share is affected customers ÷ customers who wrote feedback",
    "Mentions": "texts tagged with the theme",
    "Mean sentiment": "mean sentiment the theme gets from its texts, from −1 (very negative) to +1 (very positive): a "
    "text's score when the theme is its only one; when a text raises several themes, the score of "
    "its sentences about this theme, scored together (so praise for one part of a message does not "
    "soften a complaint about another)",
    "Churn lift": "churn_rate_affected ÷ churn_rate_unaffected, where churn rates are the share of customers "
    "with churned = true among customers who raised the theme and among all other customers; "
    "95% interval exp(ln RR ± 1.96·√(1/a − 1/n₁ + 1/c − 1/n₂))",
    "Adjusted churn lift": "Mantel–Haenszel risk ratio stratified by customer segment (Greenland–Robins 95% interval)",
    "Revenue at risk (per month)": "Σ monthly_revenue of affected customers × churn_excess, with churn_excess = "
    "churn_rate_affected × (1 − 1/adjusted churn lift), 0 when the adjusted lift ≤ 1",
    "Trend": "mentions in the latest period compared with the period before (▲ rising, ▼ falling, → flat)",
    "New": "an emerging theme: almost absent in the first two thirds of the periods, present in the last third",
    "Negative share": "share of the theme's texts labelled negative",
    "NPS, CSAT and CES impact": "the overall score minus the score of the responses without the theme (what the "
    "theme moves the headline score by; for CES, where more is more effort, a positive "
    "impact is a cost), with a seeded bootstrap 95% interval that resamples the theme's "
    "responses and the others apart",
}


@dataclass
class ReportContext:
    """Everything the report templates see. Templates receive it as ``ctx`` and nothing else holds data.

    Helper functions registered in the Jinja environment (``kpi_tiles``, ``sentiment_chart`` …) only
    derive views from this object. Each field's ``metadata["help"]`` documents it (a test checks that).
    """

    # Page title, e.g. "Customer feedback — week 2026-W14".
    title: str = field(default="Customer feedback report", metadata={"help": "Page title and <h1>."})
    # "week" or "month": the period the labels in ``periods`` use.
    period: str = field(default="week", metadata={"help": 'Period of the labels: "week" or "month".'})
    # First and last day covered, as shown (ISO dates recommended: "2026-03-30").
    date_from: str = field(default="", metadata={"help": "First day covered (ISO date string)."})
    date_to: str = field(default="", metadata={"help": "Last day covered (ISO date string)."})
    # Feedback rows read from the input, used in the analysis, and skipped (reason -> count).
    rows_read: int = field(default=0, metadata={"help": "Feedback rows read from the input."})
    rows_used: int = field(default=0, metadata={"help": "Feedback rows used in the analysis."})
    rows_skipped: dict = field(
        default_factory=dict, metadata={"help": "Rows dropped, reason -> count, e.g. {'empty_text': 3}."}
    )
    # The KPI JSON contract: {"overall": {KPI: {value, n, ci}}, "periods": [{"period": label, KPI: {...}}]}.
    kpis: dict = field(
        default_factory=lambda: {"overall": {}, "periods": []},
        metadata={"help": "KPI JSON contract dict (overall + per-period values)."},
    )
    # KPI -> {"name", "formula", "unit"}: shown in Methods and used for tile names.
    kpi_definitions: dict = field(default_factory=dict, metadata={"help": 'KPI -> {"name", "formula", "unit"}.'})
    # Impact records, highest priority first (the impact JSON contract plus optional extras; see module doc).
    painpoints: list = field(
        default_factory=list,
        metadata={
            "help": "Impact records, highest priority first, plus optional extras (kind, top_phrases, "
            "quotes, segments, subthemes: [{subtheme_id, label, mentions, customers, "
            "share, negative_share, quote}])."
        },
    )
    # How "priority" is computed, in words or a formula.
    priority_formula: str = field(default="", metadata={"help": "How the priority that ranks pain points is computed."})
    # Column name -> definition of every pain-point column, shown in Methods.
    painpoint_definitions: dict = field(
        default_factory=lambda: dict(PAINPOINT_DEFINITIONS),
        metadata={"help": "Pain-point column -> its definition or formula (Methods)."},
    )
    # Positive themes: {"theme_label", "mentions", "mean_sentiment", "quotes"}.
    praise: list = field(
        default_factory=list,
        metadata={
            "help": 'Praise themes, most mentioned first: {"theme_label", "mentions", "mean_sentiment", "quotes"}.'
        },
    )
    # One entry per period: {"period", "mean_sentiment", "negative_share", "n"}.
    sentiment_trend: list = field(
        default_factory=list, metadata={"help": 'Per period: {"period", "mean_sentiment", "negative_share", "n"}.'}
    )
    # theme_label -> [{"period", "mentions"}]; periods with no mention may be omitted (counted as 0).
    theme_volume: dict = field(
        default_factory=dict, metadata={"help": 'theme_label -> list of {"period", "mentions"}.'}
    )
    # All period labels in order, gaps included (feedback.periods.all_periods).
    periods: list = field(default_factory=list, metadata={"help": "All period labels in order, empty ones included."})
    # Quality flags: reason -> count, e.g. {"empty_text": 3, "non_english": 12}.
    quality: dict = field(default_factory=dict, metadata={"help": "Quality flags, reason -> count."})
    # The rows flagged non_english by the language detected, most first, e.g. {"es": 7, "de": 3, "fr": 2}.
    non_english_languages: dict = field(
        default_factory=dict,
        metadata={"help": "Rows flagged non_english, detected language (ISO 639 code) -> count, most first."},
    )
    # How the feedback file's columns were read,
    # e.g. ["columns found: text = 'verified_reviews' ...", "preset: zendesk"].
    columns_read: list = field(
        default_factory=list,
        metadata={
            "help": "Lines on how the feedback file's columns were read: the preset, the columns found from the "
            "values, "
            "a hint for a date column left unused."
        },
    )
    # Method notes: {"sentiment": "...", "themes": "...", "impact": "..."} (any keys, shown in order).
    methods: dict = field(
        default_factory=dict, metadata={"help": 'Method notes by stage: "sentiment", "themes", "impact".'}
    )
    # Free text in the footer. No timestamps by default: the same input must give the same bytes.
    generated_note: str = field(
        default="", metadata={"help": "Footer note; empty by default (output is deterministic)."}
    )


# --------------------------------------------------------------------------------------------------
# Formatting filters: every one shows MISSING for None / NaN.
# --------------------------------------------------------------------------------------------------


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage.

    >>> fmt_pct(0.123), fmt_pct(1), fmt_pct(None)
    ('12.3%', '100.0%', '—')
    """
    if is_missing(value):
        return MISSING
    return f"{float(value) * 100:.{digits}f}%"


def fmt_num(value: Any, digits: int | None = None) -> str:
    """A number with thousands separators; integers without decimals unless ``digits`` is given.

    >>> fmt_num(1234567), fmt_num(1234.5), fmt_num(0.5, 1), fmt_num(float("nan"))
    ('1,234,567', '1,234.50', '0.5', '—')
    """
    if is_missing(value):
        return MISSING
    number = float(value)
    if digits is None:
        digits = 0 if number.is_integer() else 2
    return f"{number:,.{digits}f}"


def fmt_money(value: Any, digits: int = 0) -> str:
    """Dollars with thousands separators.

    >>> fmt_money(1234.4), fmt_money(-50), fmt_money(None)
    ('$1,234', '-$50', '—')
    """
    if is_missing(value):
        return MISSING
    number = float(value)
    sign = "-" if number < 0 and round(abs(number), digits) != 0 else ""
    return f"{sign}${abs(number):,.{digits}f}"


def fmt_signed(value: Any, digits: int = 2) -> str:
    """A number with an explicit sign (a real minus sign for negatives).

    >>> fmt_signed(0.1234), fmt_signed(-0.5), fmt_signed(0), fmt_signed(None)
    ('+0.12', '−0.50', '0.00', '—')
    """
    if is_missing(value):
        return MISSING
    text = f"{abs(float(value)):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return text
    return ("+" if float(value) > 0 else "−") + text


def _bounds(value: Any) -> tuple[float, float] | None:
    """An interval's two ends as floats, or None when it is missing or either end is."""
    if is_missing(value):
        return None
    try:
        lo, hi = value
    except (TypeError, ValueError):
        return None
    if is_missing(lo) or is_missing(hi):
        return None
    return float(lo), float(hi)


def fmt_ci(value: Any, digits: int = 2) -> str:
    """A confidence interval ``[lo, hi]``.

    >>> fmt_ci([0.4912, 0.9381]), fmt_ci(None), fmt_ci([None, 1]), fmt_ci([-3.5, -1.25], 1)
    ('[0.49–0.94]', '—', '—', '[−3.5 – −1.2]')
    """
    bounds = _bounds(value)
    if bounds is None:
        return MISSING
    lo, hi = bounds
    if lo >= 0:
        return f"[{lo:,.{digits}f}–{hi:,.{digits}f}]"
    # a negative bound: real minus signs, and spaces around the dash so "−3.5 – −1.2" does not read as one number
    return f"[{fmt_signed(lo, digits).lstrip('+')} – {fmt_signed(hi, digits).lstrip('+')}]"


def fmt_kpi_ci(value: Any, kpi: str, unit: str = "") -> str:
    """A KPI's confidence interval in the KPI's own unit (percent for rates, dollars for money).

    >>> fmt_kpi_ci([0.7612, 0.8534], "csat", "fraction"), fmt_kpi_ci([24.41, 48.72], "nps"), fmt_kpi_ci(None, "nps")
    ('[76.1–85.3%]', '[24.4–48.7]', '—')
    >>> fmt_kpi_ci([1200, 1350.4], "cac")
    '[$1,200–$1,350]'
    """
    bounds = _bounds(value)
    if bounds is None:
        return MISSING
    lo, hi = bounds
    kind = _kpi_kind(kpi, unit)
    if kind == "rate":
        return f"[{lo * 100:.1f}–{hi * 100:.1f}%]"
    if kind == "money":
        return f"[{fmt_money(lo)}–{fmt_money(hi)}]"
    digits = KPI_DIGITS.get(kpi, 2)
    return f"[{lo:,.{digits}f}–{hi:,.{digits}f}]"


def kpi_delta_is_zero(value: Any, kpi: str, unit: str = "") -> bool:
    """True when a KPI change rounds to zero at the precision it is shown with (so no arrow, "no change").

    >>> kpi_delta_is_zero(0.0004, "fcr"), kpi_delta_is_zero(0.004, "ces"), kpi_delta_is_zero(0.3, "clv")
    (True, True, True)
    >>> kpi_delta_is_zero(0.006, "fcr"), kpi_delta_is_zero(0.006, "ces")
    (False, False)
    """
    if is_missing(value):
        return False
    kind = _kpi_kind(kpi, unit)
    if kind == "rate":
        return round(abs(float(value)) * 100, 1) == 0
    if kind == "money":
        return round(abs(float(value))) == 0
    return round(abs(float(value)), KPI_DIGITS.get(kpi, 2)) == 0


def fmt_label(value: Any) -> str:
    """A snake_case reason as words.

    >>> fmt_label("non_english")
    'non english'
    """
    return MISSING if is_missing(value) else str(value).replace("_", " ")


def fmt_kpi(value: Any, kpi: str, unit: str = "") -> str:
    """A KPI value formatted for its kind (rate, money, score).

    >>> fmt_kpi(0.051, "churn_rate"), fmt_kpi(1520, "clv"), fmt_kpi(42.0, "nps"), fmt_kpi(None, "csat")
    ('5.1%', '$1,520', '42.0', '—')
    """
    if is_missing(value):
        return MISSING
    kind = _kpi_kind(kpi, unit)
    if kind == "rate":
        return fmt_pct(value)
    if kind == "money":
        return fmt_money(value)
    return fmt_num(value, KPI_DIGITS.get(kpi, 2)) + KPI_SUFFIX.get(kpi, "")


def fmt_kpi_delta(value: Any, kpi: str, unit: str = "") -> str:
    """A change in a KPI: percentage points for rates.

    >>> fmt_kpi_delta(0.012, "churn_rate"), fmt_kpi_delta(-3, "nps"), fmt_kpi_delta(None, "nps")
    ('+1.2 pp', '−3.0', '—')
    """
    if is_missing(value):
        return MISSING
    kind = _kpi_kind(kpi, unit)
    if kind == "rate":
        return fmt_signed(float(value) * 100, 1) + " pp"
    if kind == "money":
        text = fmt_money(abs(float(value)))
        return text if round(float(value)) == 0 else ("+" if value > 0 else "−") + text
    return fmt_signed(value, KPI_DIGITS.get(kpi, 2)) + KPI_SUFFIX.get(kpi, "")


def _kpi_kind(kpi: str, unit: str = "") -> str:
    unit = (unit or "").lower()
    if kpi in RATE_KPIS or unit in ("fraction", "rate", "share", "%", "percent", "proportion"):
        return "rate"
    if kpi in MONEY_KPIS or unit in ("$", "usd", "money", "currency", "dollars"):
        return "money"
    return "number"


def _finalize(value: Any) -> Any:
    """Applied by Jinja to every ``{{ … }}`` output: missing values become MISSING."""
    return MISSING if is_missing(value) else value


def _sort_key(value: Any) -> str:
    """Value for a ``data-sort`` attribute: a plain number, or "" when missing (sorted last by report.js)."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(float(value))
    return str(value)


# --------------------------------------------------------------------------------------------------
# Derived views the templates call (pure functions of the context)
# --------------------------------------------------------------------------------------------------


def kpi_tiles(ctx: ReportContext) -> list[dict]:
    """One tile per KPI the data supplies (the others are named by :func:`absent_kpis_line`): value of the latest
    period (or overall when there are no periods), delta vs the previous period, the series for the sparkline, n,
    and the overall value."""
    overall = (ctx.kpis or {}).get("overall") or {}
    per_period = (ctx.kpis or {}).get("periods") or []
    names = [k for k in KPI_ORDER if k in overall or k in ctx.kpi_definitions]
    names += [k for k in list(overall) + list(ctx.kpi_definitions) if k not in names]
    absent = {k for group in absent_kpis(ctx.kpis or {}) for k in group["kpis"]}
    names = [k for k in dict.fromkeys(names) if k not in absent]
    tiles = []
    for key in names:
        definition = ctx.kpi_definitions.get(key) or {}
        unit = definition.get("unit", "")
        series = [((p.get(key) or {}).get("value"), p.get("period", "")) for p in per_period]
        whole = overall.get(key) or {}
        if per_period:
            current = per_period[-1].get(key) or {}
            previous = (per_period[-2].get(key) or {}) if len(per_period) > 1 else {}
        else:
            current, previous = whole, {}
        value, before = current.get("value"), previous.get("value")
        delta = None if is_missing(value) or is_missing(before) else float(value) - float(before)
        if delta is None:
            direction, verdict = "none", ""
        elif kpi_delta_is_zero(delta, key, unit):
            direction, verdict = "flat", "no change"
        else:
            direction = "up" if delta > 0 else "down"
            better = (delta < 0) if key in LOWER_IS_BETTER else (delta > 0)
            verdict = "better" if better else "worse"
        n = current.get("n") or 0
        tiles.append(
            {
                "key": key,
                "name": definition.get("name") or fmt_label(key),
                "unit": unit,
                "value": value,
                "ci": current.get("ci"),
                "n": n,
                "small_sample": (not is_missing(value)) and n < SMALL_SAMPLE_N,
                "delta": delta,
                "direction": direction,
                "verdict": verdict,
                "current_period": per_period[-1].get("period", "") if per_period else "",
                "overall_value": whole.get("value"),
                "overall_n": whole.get("n") or 0,
                "previous_period": per_period[-2].get("period", "") if len(per_period) > 1 else "",
                "n_periods": len(per_period),
                "sparkline": sparkline(
                    [v for v, _ in series],
                    [p for _, p in series],
                    definition.get("name") or key,
                    formatter=lambda v, key=key, unit=unit: fmt_kpi(v, key, unit),
                ),
            }
        )
    return tiles


def what_hurts_most(painpoints: Sequence[Mapping], n: int | None = None) -> list[tuple[int, Mapping]]:
    """The first ``n`` pain points (all when None) with their rank in the table (from 1), questions left out: a
    question is ranked in the table, badged, but what hurts most is the problems customers report.

    >>> what_hurts_most([{"kind": "question"}, {"kind": "pain point"}, {}], 2)
    [(2, {'kind': 'pain point'}), (3, {})]
    """
    return [(rank, p) for rank, p in enumerate(painpoints, 1) if p.get("kind") != "question"][:n]


def trend_info(trend: Sequence[Mapping] | None) -> dict:
    """Direction of a pain point's mentions: last period vs the one before.

    >>> trend_info([{"period": "a", "mentions": 4}, {"period": "b", "mentions": 9}])["direction"]
    'up'
    >>> trend_info(None)["direction"]
    'none'
    """
    points = [t for t in (trend or []) if not is_missing(t.get("mentions"))]
    if len(points) < 2:
        return {"direction": "none", "change": None, "arrow": "", "text": "no trend", "last": None, "previous": None}
    last, previous = float(points[-1]["mentions"]), float(points[-2]["mentions"])
    change = last - previous
    if change > 0:
        arrow, direction, text = "▲", "up", "rising"
    elif change < 0:
        arrow, direction, text = "▼", "down", "falling"
    else:
        arrow, direction, text = "→", "flat", "flat"
    return {"direction": direction, "change": change, "arrow": arrow, "text": text, "last": last, "previous": previous}


def sparkline(
    values: Sequence[Any], labels: Sequence[str] = (), name: str = "", formatter: Callable[[Any], str] | None = None
) -> Markup:
    """A tiny inline SVG line; gaps for missing values. Empty Markup when fewer than two values exist.

    ``formatter`` writes each value in the text alternative as the tile shows it ("79.7%", "$32,500").
    """
    width, height, pad = 120.0, 32.0, 3.0
    present = [float(v) for v in values if not is_missing(v)]
    if len(present) < 2:
        return Markup("")
    lo, hi = min(present), max(present)
    span = hi - lo or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    segments: list[list[str]] = [[]]
    last_xy = ""
    for i, v in enumerate(values):
        if is_missing(v):
            if segments[-1]:
                segments.append([])
            continue
        x = pad + i * step
        y = height - pad - (float(v) - lo) / span * (height - 2 * pad)
        last_xy = (f"{x:.1f}", f"{y:.1f}")
        segments[-1].append(f"{x:.1f},{y:.1f}")
    parts = [Markup('<polyline points="{}"/>').format(" ".join(s)) for s in segments if len(s) > 1]
    parts += [Markup('<circle cx="{}" cy="{}" r="2"/>').format(*s[0].split(",")) for s in segments if len(s) == 1]
    show = formatter or _plain
    described = ", ".join(f"{lab}: {show(v)}" for v, lab in zip(values, labels or [""] * len(values)))
    label = f"{name} over {len(values)} periods — {described}"
    return Markup(
        '<svg class="spark" viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="{label}" focusable="false">'
        '<title>{label}</title>{parts}<circle class="last" cx="{lx}" cy="{ly}" r="2.5"/></svg>'
    ).format(w=width, h=height, label=label, parts=Markup("").join(parts), lx=last_xy[0], ly=last_xy[1])


def _plain(value: Any) -> str:
    return MISSING if is_missing(value) else f"{float(value):.3g}"


def _short(text: Any, limit: int = 28) -> str:
    text = fmt_label(text) if is_missing(text) else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg_open(chart_id: str, width: float, height: float, title: str, desc: str) -> Markup:
    return Markup(
        '<svg class="chart" id="{id}" viewBox="0 0 {w:.0f} {h:.0f}" role="img" '
        'aria-labelledby="{id}-title {id}-desc" focusable="false">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
    ).format(id=chart_id, w=width, h=height, title=title, desc=desc)


def tick_indices(count: int, max_ticks: int = 8) -> list[int]:
    """Which of ``count`` period positions get an axis label: evenly spaced, anchored on the latest period
    (the one a reader looks for), so the last two labels never collide.

    >>> tick_indices(12), tick_indices(3), tick_indices(0)
    ([1, 3, 5, 7, 9, 11], [0, 1, 2], [])
    """
    if count <= 0:
        return []
    every = max(1, math.ceil(count / max_ticks))
    return [i for i in range(count) if (count - 1 - i) % every == 0]


def sentiment_chart(ctx: ReportContext) -> Markup:
    """Line chart of mean sentiment per period, with a zero line. Empty when there is no data."""
    rows = ctx.sentiment_trend or []
    values = [r.get("mean_sentiment") for r in rows]
    present = [float(v) for v in values if not is_missing(v)]
    if not present:
        return Markup("")
    width, height, left, right, top, bottom = 640.0, 260.0, 48.0, 36.0, 16.0, 40.0
    bound = max(0.25, math.ceil(max(abs(v) for v in present) / 0.25) * 0.25)
    bound = min(bound, 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def y_of(v: float) -> float:
        return top + (bound - v) / (2 * bound) * plot_h

    step = plot_w / max(len(rows) - 1, 1)
    x_of = (lambda i: left + i * step) if len(rows) > 1 else (lambda i: left + plot_w / 2)
    out = [
        _svg_open(
            "chart-sentiment",
            width,
            height,
            "Mean sentiment per period",
            f"Mean sentiment (−1 very negative to +1 very positive) for {len(rows)} periods, "
            f"from {fmt_signed(present[0])} to {fmt_signed(present[-1])}. Data table below.",
        )
    ]
    for tick in (-bound, -bound / 2, 0.0, bound / 2, bound):
        y = y_of(tick)
        out.append(
            Markup(
                '<line class="{cls}" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
                '<text class="tick" x="{tx:.1f}" y="{ty:.1f}" text-anchor="end">{label}</text>'
            ).format(
                cls="zero" if tick == 0 else "grid",
                x1=left,
                x2=width - right,
                y=y,
                tx=left - 6,
                ty=y + 4,
                label=f"{tick:+g}".replace("-", "−") if tick else "0",
            )
        )
    ticks = set(tick_indices(len(rows)))
    for i, r in enumerate(rows):
        if i in ticks:
            out.append(
                Markup('<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{label}</text>').format(
                    x=x_of(i), y=height - bottom + 18, label=r.get("period", "")
                )
            )
    segment: list[str] = []
    lines = []
    for i, v in enumerate(values):
        if is_missing(v):
            if len(segment) > 1:
                lines.append(segment)
            segment = []
            continue
        segment.append(f"{x_of(i):.1f},{y_of(float(v)):.1f}")
    if len(segment) > 1:
        lines.append(segment)
    for seg in lines:
        out.append(Markup('<polyline class="line" points="{}"/>').format(" ".join(seg)))
    for i, r in enumerate(rows):
        v = values[i]
        if is_missing(v):
            continue
        out.append(
            Markup('<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5"><title>{t}</title></circle>').format(
                x=x_of(i),
                y=y_of(float(v)),
                t=f"{r.get('period', '')}: {fmt_signed(v)} (negative {fmt_pct(r.get('negative_share'))}, "
                f"n={fmt_num(r.get('n'))})",
            )
        )
    out.append(Markup("</svg>"))
    return Markup("").join(out)


def theme_volume_series(ctx: ReportContext) -> dict:
    """Stacked-bar data: the top themes by total mentions (ties by label) and "all other themes".

    Returns {"periods": [...], "series": [{"label", "values": [...], "total", "color"}], "totals": [...]}.
    """
    periods = list(ctx.periods) or sorted({p.get("period", "") for pts in ctx.theme_volume.values() for p in pts})
    counts: dict[str, list[float]] = {}
    for label, points in ctx.theme_volume.items():
        by_period: dict[str, float] = {}
        for p in points or []:
            m = p.get("mentions")
            if not is_missing(m):
                by_period[p.get("period", "")] = by_period.get(p.get("period", ""), 0.0) + float(m)
        counts[str(label)] = [by_period.get(p, 0.0) for p in periods]
    ranked = sorted(counts, key=lambda k: (-sum(counts[k]), k))
    top, rest = ranked[:TOP_THEMES_IN_VOLUME_CHART], ranked[TOP_THEMES_IN_VOLUME_CHART:]
    series = [
        {"label": k, "values": counts[k], "total": sum(counts[k]), "color": PALETTE[i]} for i, k in enumerate(top)
    ]
    if rest:
        values = [sum(counts[k][i] for k in rest) for i in range(len(periods))]
        series.append(
            {"label": f"all other themes ({len(rest)})", "values": values, "total": sum(values), "color": PALETTE[-1]}
        )
    totals = [sum(s["values"][i] for s in series) for i in range(len(periods))]
    return {"periods": periods, "series": series, "totals": totals}


def _nice_max(value: float) -> float:
    """Round an axis maximum up to 1, 2, 2.5 or 5 times a power of ten.

    >>> _nice_max(37), _nice_max(0), _nice_max(101)
    (40.0, 1.0, 200.0)
    """
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 4, 5, 10):
        if value <= m * power:
            return float(m * power)
    return float(10 * power)


def theme_volume_chart(ctx: ReportContext) -> Markup:
    """Stacked bars of mentions per period; stack order bottom→top equals the legend order."""
    data = theme_volume_series(ctx)
    periods, series, totals = data["periods"], data["series"], data["totals"]
    if not periods or not series or not any(totals):
        return Markup("")
    width, left, right, top, bottom = 640.0, 48.0, 16.0, 16.0, 40.0
    legend_rows = math.ceil(len(series) / 2)
    height = 260.0 + legend_rows * 20
    plot_w, plot_h = width - left - right, 260.0 - top - bottom
    y_max = _nice_max(max(totals))
    slot = plot_w / len(periods)
    bar_w = max(2.0, slot * 0.7)
    out = [
        _svg_open(
            "chart-volume",
            width,
            height,
            "Mentions per theme per period",
            f"Stacked bars: mentions of the top {len(series)} themes in each of {len(periods)} periods; "
            "each bar stacks the themes bottom to top in legend order. Data table below.",
        )
    ]
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        out.append(
            Markup(
                '<line class="grid" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
                '<text class="tick" x="{tx:.1f}" y="{ty:.1f}" text-anchor="end">{label}</text>'
            ).format(x1=left, x2=width - right, y=y, tx=left - 6, ty=y + 4, label=fmt_num(y_max * frac))
        )
    ticks = set(tick_indices(len(periods)))
    for i, period in enumerate(periods):
        x = left + i * slot + (slot - bar_w) / 2
        base = top + plot_h
        for s in series:
            v = s["values"][i]
            if v <= 0:
                continue
            h = v / y_max * plot_h
            base -= h
            out.append(
                Markup(
                    '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{c}">'
                    "<title>{t}</title></rect>"
                ).format(x=x, y=base, w=bar_w, h=h, c=s["color"], t=f"{period} — {s['label']}: {fmt_num(v)}")
            )
        if i in ticks:
            out.append(
                Markup('<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{label}</text>').format(
                    x=left + i * slot + slot / 2, y=top + plot_h + 18, label=period
                )
            )
    for j, s in enumerate(series):
        lx = left + (j % 2) * (plot_w / 2)
        ly = 260.0 + (j // 2) * 20
        out.append(
            Markup(
                '<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" fill="{c}"/>'
                '<text class="legend" x="{tx:.1f}" y="{ty:.1f}">{n}. {label} ({total})</text>'
            ).format(
                x=lx,
                y=ly - 10,
                c=s["color"],
                tx=lx + 18,
                ty=ly,
                n=j + 1,
                label=_short(s["label"], 34),
                total=fmt_num(s["total"]),
            )
        )
    out.append(Markup("</svg>"))
    return Markup("").join(out)


def lift_chart(ctx: ReportContext) -> Markup:
    """Churn lift per pain point: dot = estimate, whisker = confidence interval, dashed line at 1.0."""
    rows = ctx.painpoints or []
    if not rows:
        return Markup("")
    highs = [1.0]
    for r in rows:
        ci = r.get("churn_lift_ci")
        highs += [
            float(v)
            for v in ([r.get("churn_lift")] + (list(ci) if ci and not is_missing(ci) else []))
            if not is_missing(v)
        ]
    x_max = max(2.0, math.ceil(max(highs) * 1.05 * 2) / 2)
    width, left, right, top, row_h = 640.0, 200.0, 24.0, 24.0, 26.0
    height = top + row_h * len(rows) + 36
    plot_w = width - left - right

    def x_of(v: float) -> float:
        return left + max(0.0, min(v, x_max)) / x_max * plot_w

    out = [
        _svg_open(
            "chart-lift",
            width,
            height,
            "Churn lift per pain point",
            "For each pain point, the churn rate of affected customers divided by that of unaffected "
            "customers (dot) with its confidence interval (line). 1.0 means no difference. Data table below.",
        )
    ]
    tick_step = 0.5 if x_max <= 4 else (1.0 if x_max <= 10 else math.ceil(x_max / 10))
    t = 0.0
    while t <= x_max + 1e-9:
        out.append(
            Markup(
                '<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{y1:.1f}" y2="{y2:.1f}"/>'
                '<text class="tick" x="{x:.1f}" y="{ty:.1f}" text-anchor="middle">{label}</text>'
            ).format(x=x_of(t), y1=top - 8, y2=height - 30, ty=height - 14, label=f"{t:g}")
        )
        t += tick_step
    out.append(
        Markup(
            '<line class="ref" x1="{x:.1f}" x2="{x:.1f}" y1="{y1:.1f}" y2="{y2:.1f}"/>'
            '<text class="tick ref-label" x="{x:.1f}" y="{ty:.1f}" text-anchor="middle">1.0 = no difference'
            "</text>"
        ).format(x=x_of(1.0), y1=top - 8, y2=height - 30, ty=top - 10)
    )
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        label = r.get("theme_label", "")
        out.append(
            Markup('<text class="label" x="{x:.1f}" y="{y:.1f}" text-anchor="end">{n}. {label}</text>').format(
                x=left - 8, y=y + 4, n=i + 1, label=_short(label)
            )
        )
        lift, ci = r.get("churn_lift"), r.get("churn_lift_ci")
        tip = f"{label}: lift {fmt_num(lift, 2)} {fmt_ci(ci)}"
        if not is_missing(ci) and ci and not any(is_missing(v) for v in ci):
            out.append(
                Markup(
                    '<line class="whisker" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}">'
                    "<title>{t}</title></line>"
                ).format(x1=x_of(float(ci[0])), x2=x_of(float(ci[1])), y=y, t=tip)
            )
        if is_missing(lift):
            out.append(
                Markup('<text class="tick" x="{x:.1f}" y="{y:.1f}">no estimate</text>').format(x=left + 4, y=y + 4)
            )
        else:
            out.append(
                Markup('<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="5"><title>{t}</title></circle>').format(
                    x=x_of(float(lift)), y=y, t=tip
                )
            )
    out.append(Markup("</svg>"))
    return Markup("").join(out)


#: pain points drawn as their own bar in the impact waterfall; the rest are summed into one
WATERFALL_BARS = 10
#: pain points whose dot in the impact chart carries its rank (the highest ranked)
IMPACT_CHART_NUMBERED = 10


def impact_score(ctx: ReportContext) -> dict | None:
    """The score whose impact the pain-point table and the impact charts show: NPS, else CSAT, else CES, the first
    that a pain point has an impact on (``{"key", "name", "digits"}``); None when none has."""
    for key, name, digits in IMPACT_SCORES:
        if any(not is_missing(p.get(f"{key}_impact")) for p in ctx.painpoints or []):
            return {"key": key, "name": name, "digits": digits}
    return None


def _impact_rows(ctx: ReportContext, score: dict) -> list[tuple[int, dict, float]]:
    """(rank, record, impact) of the pain points with an impact on ``score``, in table order."""
    return [
        (rank, p, float(p[f"{score['key']}_impact"]))
        for rank, p in enumerate(ctx.painpoints or [], 1)
        if not is_missing(p.get(f"{score['key']}_impact"))
    ]


def impact_chart(ctx: ReportContext) -> Markup:
    """Impact against volume: one dot per pain point at (affected customers, its score impact), the whisker its
    95% interval, a line at zero impact; the first ``IMPACT_CHART_NUMBERED`` carry their rank in the table.
    Empty without a score impact."""
    score = impact_score(ctx)
    rows = _impact_rows(ctx, score) if score else []
    if not rows:
        return Markup("")
    key, name, digits = score["key"], score["name"], score["digits"]
    ends = [0.0] + [v for _, p, impact in rows for v in (impact, *(_bounds(p.get(f"{key}_impact_ci")) or ()))]
    reach = max(abs(v) for v in ends) * 1.1 or 1.0
    most = max(float(p.get("affected_customers") or 0) for _, p, _ in rows)
    step = 10 ** math.floor(math.log10(most)) / 2 if most > 0 else 1.0
    x_max = math.ceil(most / step) * step if most > 0 else 1.0  # 541 -> 550: the dots use the width
    width, left, right, top, bottom = 640.0, 64.0, 24.0, 20.0, 48.0
    height = 320.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(v: float) -> float:
        return left + max(0.0, v) / x_max * plot_w

    def y_of(v: float) -> float:
        return top + (reach - v) / (2 * reach) * plot_h

    out = [
        _svg_open(
            "chart-impact",
            width,
            height,
            f"{name} impact against affected customers",
            f"One dot per pain point, numbered as in the table: across, how many customers it affects; "
            f"up or down, how far it moves the overall {name} (the {name} minus the {name} without its "
            f"responses), with its 95% interval. Below the line, it lowers the {name}. Data table below.",
        )
    ]
    for frac in (0, 0.5, 1):
        x = left + plot_w * frac
        out.append(
            Markup(
                '<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{y1:.1f}" y2="{y2:.1f}"/>'
                '<text class="tick" x="{x:.1f}" y="{ty:.1f}" text-anchor="middle">{label}</text>'
            ).format(x=x, y1=top, y2=top + plot_h, ty=top + plot_h + 16, label=fmt_num(x_max * frac))
        )
    for v in (-reach, 0.0, reach):
        out.append(
            Markup('<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="end">{label}</text>').format(
                x=left - 6, y=y_of(v) + 4, label=fmt_signed(v, digits)
            )
        )
    out.append(
        Markup('<line class="ref" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>').format(
            x1=left, x2=left + plot_w, y=y_of(0.0)
        )
    )
    out.append(
        Markup(
            '<text class="label" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">Affected customers</text>'
            '<text class="label" x="12" y="{ym:.1f}" text-anchor="middle" transform="rotate(-90 12 {ym:.1f})">'
            "{name} impact</text>"
        ).format(x=left + plot_w / 2, y=height - 8, ym=top + plot_h / 2, name=name)
    )
    for rank, p, impact in rows:
        x, y = x_of(float(p.get("affected_customers") or 0)), y_of(impact)
        ci = p.get(f"{key}_impact_ci")
        tip = (
            f"{rank}. {p.get('theme_label', '')}: {name} impact {fmt_signed(impact, digits)} {fmt_ci(ci, digits)}, "
            f"{fmt_num(p.get('affected_customers'))} customers"
        )
        bounds = _bounds(ci)
        if bounds:
            out.append(
                Markup(
                    '<line class="whisker" x1="{x:.1f}" x2="{x:.1f}" y1="{y1:.1f}" y2="{y2:.1f}">'
                    "<title>{t}</title></line>"
                ).format(x=x, y1=y_of(bounds[0]), y2=y_of(bounds[1]), t=tip)
            )
        out.append(
            Markup(
                '<circle class="dot{good}" cx="{x:.1f}" cy="{y:.1f}" r="5" data-rank="{rank}">'
                "<title>{t}</title></circle>"
            ).format(good=" good" if (impact < 0) == (key == "ces") and impact != 0 else "", x=x, y=y, rank=rank, t=tip)
        )
        if rank <= IMPACT_CHART_NUMBERED:  # the small themes crowd near the origin: their numbers are in the table
            out.append(
                Markup('<text class="tick" x="{x:.1f}" y="{y:.1f}">{rank}</text>').format(x=x + 7, y=y - 6, rank=rank)
            )
    out.append(Markup("</svg>"))
    return Markup("").join(out)


def waterfall_chart(ctx: ReportContext) -> Markup:
    """Waterfall of the pain points' score impacts: from zero, each bar steps by one theme's impact (largest
    first; beyond ``WATERFALL_BARS`` the rest are one bar), and the last bar is their sum. Empty without a score
    impact."""
    score = impact_score(ctx)
    rows = _impact_rows(ctx, score) if score else []
    if not rows:
        return Markup("")
    key, name, digits = score["key"], score["name"], score["digits"]
    rows = sorted(rows, key=lambda row: (-abs(row[2]), row[0]))
    steps = [(f"{rank}. {p.get('theme_label', '')}", impact) for rank, p, impact in rows[:WATERFALL_BARS]]
    if len(rows) > WATERFALL_BARS:
        steps.append(
            (f"all other pain points ({len(rows) - WATERFALL_BARS})", sum(r[2] for r in rows[WATERFALL_BARS:]))
        )
    total = sum(impact for _, impact in steps)
    levels, level = [0.0], 0.0
    for _, impact in steps:
        level += impact
        levels.append(level)
    low, high = min(levels), max(levels)
    span = (high - low) * 1.1 or 1.0
    width, left, right, top, row_h = 640.0, 220.0, 72.0, 24.0, 24.0
    n_bars = len(steps) + 1
    height = top + row_h * n_bars + 30
    plot_w = width - left - right
    origin = low - (span - (high - low)) / 2

    def x_of(v: float) -> float:
        return left + (v - origin) / span * plot_w

    out = [
        _svg_open(
            "chart-waterfall",
            width,
            height,
            f"{name} impact of each pain point, added up",
            f"Waterfall: from zero, each bar moves by one pain point's {name} impact (the {name} minus the "
            f"{name} without its responses), largest first; the last bar is the sum. Each impact is measured "
            "with only that pain point's responses left out, so the sum is not their combined effect. "
            "Data table below.",
        )
    ]
    out.append(
        Markup(
            '<line class="ref" x1="{x:.1f}" x2="{x:.1f}" y1="{y1:.1f}" y2="{y2:.1f}"/>'
            '<text class="tick" x="{x:.1f}" y="{ty:.1f}" text-anchor="middle">0</text>'
        ).format(x=x_of(0.0), y1=top - 6, y2=top + row_h * n_bars, ty=top - 10)
    )
    for i, (label, impact) in enumerate(steps + [(f"sum of the {len(rows)} pain points", total)]):
        last = i == len(steps)
        start, end = (0.0, total) if last else (levels[i], levels[i + 1])
        y = top + row_h * i
        lo, hi = sorted((x_of(start), x_of(end)))
        worse = impact > 0 if key == "ces" else impact < 0
        out.append(
            Markup(
                '<text class="label" x="{lx:.1f}" y="{ty:.1f}" text-anchor="end">{label}</text>'
                '<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}">'
                "<title>{t}</title></rect>"
                '<text class="tick" x="{vx:.1f}" y="{ty:.1f}">{value}</text>'
            ).format(
                lx=left - 8,
                ty=y + row_h / 2 + 4,
                label=_short(label, 34),
                cls=("step-total" if last else "step-worse" if worse else "step-better"),
                x=lo,
                y=y + 4,
                w=max(hi - lo, 1.0),
                h=row_h - 8,
                t=f"{label}: {fmt_signed(impact, digits)}",
                vx=max(hi, x_of(0.0)) + 6,
                value=fmt_signed(impact, digits),
            )
        )
    out.append(Markup("</svg>"))
    return Markup("").join(out)


# --------------------------------------------------------------------------------------------------
# CSV / JSON export
# --------------------------------------------------------------------------------------------------


#: the scores whose impact per theme the report shows (key, name, decimals), in order of preference
IMPACT_SCORES = (("nps", "NPS", 1), ("csat", "CSAT", 3), ("ces", "CES", 3))
#: Pain-point CSV columns (contract keys, then optional scalar extras); lists and CIs are flattened.
PAINPOINT_CSV_COLUMNS = (
    "rank",
    "theme_id",
    "theme_label",
    "mentions",
    "affected_customers",
    "share_customers",
    "mean_sentiment",
    "aspect_sentiment",
    "negative_share",
    "churn_rate_affected",
    "churn_rate_unaffected",
    "churn_lift",
    "churn_lift_ci_low",
    "churn_lift_ci_high",
    "churn_lift_adjusted",
    "churn_lift_adjusted_ci_low",
    "churn_lift_adjusted_ci_high",
    "revenue_at_risk",
    "value_of_fixing",
    "csat_delta",
    "emerging",
    "priority",
    "top_phrases",
    *(f"{score}_impact{part}" for score, _, _ in IMPACT_SCORES for part in ("", "_ci_low", "_ci_high")),
)


def _native(value: Any) -> Any:
    """Plain Python containers and numbers: tuples and numpy arrays become lists, numpy scalars Python numbers.

    NaN stays NaN (the filters show it as MISSING). Applied to the context before rendering and exporting,
    so templates never meet an ndarray (whose truth value is ambiguous).

    >>> _native({"ci": (1, 2), "x": [None]})
    {'ci': [1, 2], 'x': [None]}
    """
    if isinstance(value, Mapping):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_native(v) for v in value]
    if isinstance(value, (str, bytes, bool, int, float)) or value is None:
        return value
    if hasattr(value, "tolist"):  # numpy array or scalar
        return _native(value.tolist())
    return value


def _jsonable(value: Any) -> Any:
    """Plain JSON types; NaN/NA -> None; numpy scalars -> Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if is_missing(value):
        return None
    if isinstance(value, (bool, str, int, float)):
        return value
    if hasattr(value, "tolist"):  # numpy array or scalar
        return _jsonable(value.tolist())
    return str(value)


def _ci_part(ci: Any, i: int) -> Any:
    if is_missing(ci) or not ci:
        return None
    try:
        return ci[i]
    except (IndexError, TypeError):
        return None


def export_tables(ctx: ReportContext) -> dict[str, str]:
    """CSV and JSON text of the pain-point table and the KPI table.

    Keys: "painpoints.csv", "painpoints.json", "kpis.csv", "kpis.json". Every CSV cell goes through
    :func:`csv_safe`. The KPI CSV is long: one row per (scope, kpi) where scope is "overall" or a period.

    >>> sorted(export_tables(ReportContext()))
    ['kpis.csv', 'kpis.json', 'painpoints.csv', 'painpoints.json']
    """
    ctx = _normalised(ctx)
    pp_rows = []
    for rank, p in enumerate(ctx.painpoints, start=1):
        record = dict(p)
        record.update(
            rank=rank,
            churn_lift_ci_low=_ci_part(p.get("churn_lift_ci"), 0),
            churn_lift_ci_high=_ci_part(p.get("churn_lift_ci"), 1),
            churn_lift_adjusted_ci_low=_ci_part(p.get("churn_lift_adjusted_ci"), 0),
            churn_lift_adjusted_ci_high=_ci_part(p.get("churn_lift_adjusted_ci"), 1),
            top_phrases="; ".join(str(x) for x in (p.get("top_phrases") or [])),
            **{
                f"{score}_impact_ci_{end}": _ci_part(p.get(f"{score}_impact_ci"), i)
                for score, _, _ in IMPACT_SCORES
                for i, end in enumerate(("low", "high"))
            },
        )
        pp_rows.append([record.get(c) for c in PAINPOINT_CSV_COLUMNS])
    kpi_rows = []
    overall = (ctx.kpis or {}).get("overall") or {}
    scopes = [("overall", overall)] + [(p.get("period", ""), p) for p in (ctx.kpis or {}).get("periods") or []]
    for scope, values in scopes:
        for key, entry in values.items():
            if key == "period" or not isinstance(entry, Mapping):
                continue
            ci = entry.get("ci")
            kpi_rows.append([scope, key, entry.get("value"), entry.get("n"), _ci_part(ci, 0), _ci_part(ci, 1)])
    return {
        "painpoints.csv": csv_text(PAINPOINT_CSV_COLUMNS, _jsonable(pp_rows)),
        "painpoints.json": json.dumps(_jsonable(ctx.painpoints), indent=2, ensure_ascii=False, allow_nan=False),
        "kpis.csv": csv_text(("scope", "kpi", "value", "n", "ci_low", "ci_high"), _jsonable(kpi_rows)),
        "kpis.json": json.dumps(_jsonable(ctx.kpis), indent=2, ensure_ascii=False, allow_nan=False),
    }


_MEDIA_TYPES = {".csv": "text/csv;charset=utf-8", ".json": "application/json;charset=utf-8"}


def data_uri(filename: str, text: str) -> str:
    """A percent-encoded ``data:`` URI for a download link (not a network request).

    >>> data_uri("a.csv", "x,y\\r\\n")
    'data:text/csv;charset=utf-8,x%2Cy%0D%0A'
    """
    return f"data:{_MEDIA_TYPES[Path(filename).suffix]}," + quote(text, safe="")


def downloads(ctx: ReportContext) -> list[dict]:
    """Download links for the report: [{"filename", "href", "label"}]."""
    labels = {
        "painpoints.csv": "Pain points (CSV)",
        "painpoints.json": "Pain points (JSON)",
        "kpis.csv": "KPIs (CSV)",
        "kpis.json": "KPIs (JSON)",
    }
    return [
        {"filename": name, "href": data_uri(name, text), "label": labels.get(name, name)}
        for name, text in export_tables(ctx).items()
    ]


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def default_template_dirs() -> list[Path]:
    """Where the default templates are (``feedback.resources.TEMPLATES_DIR``: the repository's top-level
    ``templates/``, or ``feedback/templates`` in an installed wheel); empty when that folder is missing."""
    return [TEMPLATES_DIR] if TEMPLATES_DIR.is_dir() else []


def make_environment(templates_dir: str | Path | None = None) -> jinja2.Environment:
    """The Jinja environment: autoescape forced on, StrictUndefined, user templates before the defaults."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        user = Path(templates_dir)
        if not user.is_dir():
            raise InputError(
                "templates folder not found",
                path=user,
                fix="pass an existing folder whose templates override the defaults, or omit it",
            )
        loaders.append(jinja2.FileSystemLoader(str(user)))
    defaults = default_template_dirs()
    if not defaults:
        raise InputError(
            "default report templates not found",
            path=TEMPLATES_DIR,
            fix="reinstall feedback so that its templates are included, or pass templates_dir",
        )
    loaders.extend(jinja2.FileSystemLoader(str(d)) for d in defaults)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # always: customer text is hostile until proven otherwise
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=fmt_pct,
        num=fmt_num,
        money=fmt_money,
        signed=fmt_signed,
        ci=fmt_ci,
        label=fmt_label,
        kpi=fmt_kpi,
        kpi_delta=fmt_kpi_delta,
        kpi_ci=fmt_kpi_ci,
        sortkey=_sort_key,
    )

    def asset(name: str) -> str:
        """Text of a trusted static file (report.css / report.js) found through the same loaders."""
        source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        return source

    def csp_hash(text: str) -> str:
        """CSP source for one inline script: only this exact text may run (inline event handlers never)."""
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"

    env.globals.update(
        asset=asset,
        csp_hash=csp_hash,
        kpi_tiles=kpi_tiles,
        absent_kpis_line=absent_kpis_line,
        trend_info=trend_info,
        what_hurts_most=what_hurts_most,
        sentiment_chart=sentiment_chart,
        theme_volume_chart=theme_volume_chart,
        theme_volume_series=theme_volume_series,
        lift_chart=lift_chart,
        impact_chart=impact_chart,
        waterfall_chart=waterfall_chart,
        impact_score=impact_score,
        downloads=downloads,
        is_missing=is_missing,
        MISSING=MISSING,
        SMALL_SAMPLE_N=SMALL_SAMPLE_N,
        QUOTES_SHOWN=QUOTES_SHOWN,
    )
    return env


def render_report(context: ReportContext, templates_dir: str | Path | None = None) -> str:
    """Render the report page. Deterministic: the same context gives the same string.

    ``templates_dir``: a folder whose files override the default templates of the same name
    (e.g. only ``_praise.html``, or ``report.css``).
    """
    if not isinstance(context, ReportContext):
        raise TypeError(f"render_report needs a ReportContext, got {type(context).__name__}")
    env = make_environment(templates_dir)
    return env.get_template("report.html").render(ctx=_normalised(context))


def _normalised(context: ReportContext) -> ReportContext:
    """A copy of the context holding only plain Python values (see :func:`_native`)."""
    return replace(context, **{f.name: _native(getattr(context, f.name)) for f in fields(ReportContext)})


def context_field_help() -> dict[str, str]:
    """Each ReportContext field and its help line (for docs and the docs-in-sync test)."""
    return {f.name: f.metadata.get("help", "") for f in fields(ReportContext)}
