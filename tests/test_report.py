"""Tests for feedback.report: the page structure, escaping, formatting, determinism, overrides and exports.

The HTML is parsed with the standard library's html.parser into a small tree; no regex on markup.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import jinja2
import pytest

from feedback.errors import InputError
from feedback.report import (
    MISSING,
    ReportContext,
    context_field_help,
    csv_safe,
    default_template_dirs,
    export_tables,
    fmt_ci,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_signed,
    make_environment,
    render_report,
)
from feedback.pipeline import write_report

XSS_QUOTE = (
    "I hate this <script>alert(1)</script> and <img src=x onerror=alert(1)> "
    "see javascript:alert(1) or {{ 7*7 }} http://evil.example/x"
)

# --------------------------------------------------------------------------------------------------
# A tiny DOM built with html.parser
# --------------------------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None" = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs):
        for n in self.iter():
            if tag is not None and n.tag != tag:
                continue
            if cls is not None and cls not in n.attrs.get("class", "").split():
                continue
            if any(n.attrs.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            yield n

    def find(self, tag=None, cls=None, **attrs):
        return next(self.find_all(tag, cls, **attrs), None)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def own_text(self) -> str:
        return "".join(c for c in self.children if isinstance(c, str))


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        assert node is not self.root, f"unbalanced </{tag}>"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def visible_text(root: Node) -> str:
    """All text outside <script>, <style> and <title>/<desc> of SVGs is included; script/style excluded."""
    parts = []

    def walk(node):
        if node.tag in ("script", "style"):
            return
        for c in node.children:
            parts.append(c) if isinstance(c, str) else walk(c)

    walk(root)
    return " ".join(parts)


# --------------------------------------------------------------------------------------------------
# A small context, built by hand
# --------------------------------------------------------------------------------------------------


def painpoint(label, *, theme_id, mentions, affected, sentiment, lift, ci, revenue, priority, **extra):
    record = {
        "theme_id": theme_id,
        "theme_label": label,
        "mentions": mentions,
        "affected_customers": affected,
        "mean_sentiment": sentiment,
        "churn_rate_affected": 0.2,
        "churn_rate_unaffected": 0.1,
        "churn_lift": lift,
        "churn_lift_ci": ci,
        "revenue_at_risk": revenue,
        "priority": priority,
    }
    record.update(extra)
    return record


def make_context(**overrides) -> ReportContext:
    periods = ["2026-W12", "2026-W13", "2026-W14"]
    kpi = lambda v, n, ci=None: {"value": v, "n": n, "ci": ci}  # noqa: E731
    values = dict(
        title="Weekly customer feedback",
        period="week",
        date_from="2026-03-16",
        date_to="2026-04-05",
        rows_read=1200,
        rows_used=1150,
        rows_skipped={"empty_text": 30, "duplicate": 20},
        kpis={
            "overall": {
                "csat": kpi(4.1, 900, [4.0, 4.2]),
                "churn_rate": kpi(0.05, 800, [0.04, 0.06]),
                "clv": kpi(None, 800),
            },  # customers given, but a value that cannot be computed
            "periods": [
                {"period": "2026-W12", "csat": kpi(4.0, 300), "churn_rate": kpi(0.04, 250), "clv": kpi(None, 0)},
                {"period": "2026-W13", "csat": kpi(float("nan"), 0), "churn_rate": kpi(0.05, 260), "clv": kpi(None, 0)},
                {"period": "2026-W14", "csat": kpi(4.3, 12), "churn_rate": kpi(0.06, 290), "clv": kpi(None, 0)},
            ],
        },
        kpi_definitions={
            "csat": {"name": "CSAT", "formula": "mean of csat scores (1–5)", "unit": "score"},
            "churn_rate": {"name": "Churn rate", "formula": "churned customers / customers", "unit": "fraction"},
            "clv": {"name": "Customer lifetime value", "formula": "monthly_revenue / churn_rate", "unit": "USD"},
        },
        painpoints=[
            painpoint(
                "slow refunds",
                theme_id=3,
                mentions=140,
                affected=1234,
                sentiment=-0.52,
                lift=1.523,
                ci=[1.1, 2.049],
                revenue=12500.0,
                priority=0.91,
                share_customers=0.12,
                trend=[{"period": "2026-W13", "mentions": 30}, {"period": "2026-W14", "mentions": 55}],
                emerging=True,
                top_phrases=["refund took weeks", "still waiting"],
                quotes=[XSS_QUOTE, "second quote", "third quote", "fourth quote not shown"],
                top_segments=[{"segment": "SMB", "affected_customers": 800, "churn_rate_affected": 0.25}],
            ),
            painpoint(
                "app crashes",
                theme_id=1,
                mentions=300,
                affected=90,
                sentiment=-0.3,
                lift=None,
                ci=None,
                revenue=None,
                priority=0.5,
                trend=[{"period": "2026-W13", "mentions": 80}, {"period": "2026-W14", "mentions": 60}],
            ),
            painpoint(
                '=HYPERLINK("http://x")',
                theme_id=7,
                mentions=20,
                affected=15,
                sentiment=float("nan"),
                lift=0.8,
                ci=[0.4912, 0.9381],
                revenue=300.0,
                priority=0.1,
            ),
        ],
        priority_formula="affected_customers × (churn_lift − 1) × monthly revenue",
        praise=[
            {"theme_label": "friendly staff", "mentions": 75, "mean_sentiment": 0.71, "quotes": ["Anna was great"]}
        ],
        sentiment_trend=[
            {"period": p, "mean_sentiment": s, "negative_share": ns, "n": n}
            for p, s, ns, n in zip(periods, [0.1, None, -0.2], [0.2, None, 0.4], [300, 0, 400])
        ],
        theme_volume={
            f"theme {i}": [{"period": p, "mentions": i * 10 + j} for j, p in enumerate(periods)] for i in range(1, 9)
        },
        periods=periods,
        quality={"empty_text": 30, "non_english": 12},
        non_english_languages={"es": 7, "de": 3, "fr": 2},
        methods={
            "sentiment": "VADER compound score.",
            "themes": "TF-IDF + NMF.",
            "impact": "Risk ratio with Wilson CI.",
        },
    )
    values.update(overrides)
    return ReportContext(**values)


@pytest.fixture(scope="module")
def context() -> ReportContext:
    return make_context()


@pytest.fixture(scope="module")
def html(context) -> str:
    return render_report(context)


@pytest.fixture(scope="module")
def dom(html) -> Node:
    return parse(html)


def painpoint_rows(dom: Node) -> list[Node]:
    table = dom.find("table", cls="painpoints")
    return [tb.find("tr", cls="pp-row") for tb in table.find_all("tbody", cls="pp")]


# --------------------------------------------------------------------------------------------------
# Structure and numbers
# --------------------------------------------------------------------------------------------------


def test_painpoint_table_order_equals_priority_order(dom, context):
    shown = [row.find("th", cls="theme").own_text().strip() for row in painpoint_rows(dom)]
    assert shown == [p["theme_label"] for p in context.painpoints]
    ranks = [row.find("td", cls="rank").text.strip() for row in painpoint_rows(dom)]
    assert ranks == ["1", "2", "3"]


def test_painpoint_numbers_are_formatted(dom):
    first = painpoint_rows(dom)[0]
    assert first.find("td", cls="affected").own_text().strip() == "1,234"
    assert first.find("td", cls="mentions").text.strip() == "140"
    assert first.find("td", cls="sentiment").text.strip() == "−0.52"
    assert first.find("span", cls="lift-value").text == "1.52"
    assert first.find("span", cls="ci").text == "[1.10–2.05]"
    assert first.find("td", cls="revenue").text.strip() == "$12,500"
    assert "rising" in first.find("td", cls="trend").text
    assert first.find("span", cls="new").text == "new"
    assert first.find("td", cls="affected").attrs["data-sort"] == "1234.0"


def test_missing_values_render_as_dash(dom, html):
    second, third = painpoint_rows(dom)[1], painpoint_rows(dom)[2]
    assert second.find("span", cls="lift-value").text == MISSING
    assert second.find("span", cls="ci").text == MISSING
    assert second.find("td", cls="revenue").text.strip() == MISSING
    assert second.find("td", cls="revenue").attrs["data-sort"] == ""
    assert third.find("td", cls="sentiment").text.strip() == MISSING
    clv = dom.find("li", data_kpi="clv")
    assert clv.find("p", cls="tile-value").text.strip() == MISSING
    words = set(re.findall(r"\w+", visible_text(dom)))
    assert not words & {"None", "nan", "NaN", "null", "undefined"}


def test_details_rows_work_without_javascript(dom):
    for tbody in dom.find("table", cls="painpoints").find_all("tbody", cls="pp"):
        assert tbody.find("details") is not None
        assert tbody.find("summary") is not None
    first = dom.find("tbody", id="pp-1")
    quotes = [b.text for b in first.find_all("blockquote")]
    assert len(quotes) == 3 and "fourth quote not shown" not in quotes
    assert [li.text for li in first.find("ul", cls="phrases").find_all("li")] == ["refund took weeks", "still waiting"]
    segment = first.find("table", cls="segments").find("tbody").find("tr")
    assert [c.text for c in segment.children if isinstance(c, Node)] == ["SMB", "800", "25.0%"]


def test_kpi_tiles_show_delta_with_words_not_only_colour(dom):
    churn = dom.find("li", data_kpi="churn_rate")
    assert churn.find("p", cls="tile-value").text.strip() == "6.0%"
    delta = churn.find("p", cls="tile-delta").text
    assert "▲" in delta and "+1.0 pp" in delta and "(worse)" in delta
    assert churn.find("svg", cls="spark") is not None
    csat = dom.find("li", data_kpi="csat")
    assert csat.find("span", cls="small") is not None  # n=12 < 30
    assert "no previous value" in csat.find("p", cls="tile-delta").text  # previous period is NaN


def test_every_th_has_scope(dom):
    assert all(th.attrs.get("scope") in ("col", "row") for th in dom.find_all("th"))


def test_charts_are_inline_svg_with_title_desc_and_table_fallback(dom):
    for chart_id in ("chart-sentiment", "chart-volume", "chart-lift"):
        svg = dom.find("svg", id=chart_id)
        assert svg is not None, chart_id
        assert svg.find("title") is not None and svg.find("desc") is not None
        figure = svg.parent
        assert figure.find("details", cls="fallback").find("table") is not None
    legend = [t.text for t in dom.find("svg", id="chart-volume").find_all("text", cls="legend")]
    assert len(legend) == 7 and legend[-1].startswith("7. all other themes (2)")
    assert dom.find("svg", id="chart-lift").find("line", cls="ref") is not None


def test_sections_and_quality_link(dom):
    assert dom.find("a", href="#data-quality") is not None
    quality = dom.find("section", id="data-quality")
    assert "non english" in quality.text and "50 skipped" in dom.find("header").text
    methods = dom.find("section", id="methods").text
    for text in (
        "churned customers / customers",
        "monthly_revenue / churn_rate",
        "VADER compound score.",
        "affected_customers × (churn_lift − 1) × monthly revenue",
    ):
        assert text in methods
    assert "Anna was great" in dom.find("section", id="praise").text


# --------------------------------------------------------------------------------------------------
# Safety: escaping, no network, CSP
# --------------------------------------------------------------------------------------------------


def test_hostile_quote_is_text(dom):
    scripts = list(dom.find_all("script"))
    assert len(scripts) == 1
    js = (default_template_dirs()[0] / "report.js").read_text(encoding="utf-8")
    assert scripts[0].text.strip() == js.strip()
    assert not list(dom.find_all("img"))
    for node in dom.iter():
        assert not any(name.startswith("on") for name in node.attrs), node.tag
    quote = dom.find("tbody", id="pp-1").find("blockquote")
    assert quote.text == XSS_QUOTE
    assert "{{ 7*7 }}" in quote.text and "49" not in quote.text


def test_no_external_urls_in_attributes(dom):
    for node in dom.iter():
        for name in ("src", "href", "xlink:href", "action", "formaction", "poster", "data"):
            value = node.attrs.get(name, "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "javascript:")), (node.tag, value[:60])
    assert dom.find("link") is None


def test_csp_meta_tag_allows_only_the_shipped_script(dom):
    metas = [m for m in dom.find_all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert len(metas) == 1
    policy = dict(part.strip().split(" ", 1) for part in metas[0].attrs["content"].split(";"))
    script = dom.find("script").text
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert policy == {
        "default-src": "'none'",
        "style-src": "'unsafe-inline'",
        "script-src": f"'sha256-{digest}'",
        "img-src": "data:",
        "form-action": "'none'",
        "base-uri": "'none'",
    }
    assert "unsafe-inline" not in policy["script-src"]  # an injected handler would not run


def test_csp_hash_follows_a_user_script_override(tmp_path, context):
    (tmp_path / "report.js").write_text("console.log('custom');\n", encoding="utf-8")
    dom = parse(render_report(context, tmp_path))
    digest = base64.b64encode(hashlib.sha256(b"console.log('custom');\n").digest()).decode()
    assert dom.find("script").text == "console.log('custom');\n"
    assert f"'sha256-{digest}'" in dom.find("meta", http_equiv="Content-Security-Policy").attrs["content"]


def test_autoescape_is_forced_and_undefined_is_strict():
    env = make_environment()
    assert env.autoescape is True
    assert env.undefined is jinja2.StrictUndefined


def test_template_using_unknown_field_fails(tmp_path, context):
    (tmp_path / "_praise.html").write_text("{{ ctx.not_a_field }}", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        render_report(context, tmp_path)


# --------------------------------------------------------------------------------------------------
# Determinism, overrides, files
# --------------------------------------------------------------------------------------------------


def test_rendering_is_deterministic(context, html):
    assert render_report(context) == html
    assert render_report(make_context()) == html


def test_user_templates_dir_overrides_a_partial(tmp_path, context):
    (tmp_path / "_praise.html").write_text(
        '<section id="praise"><p class="custom">{{ ctx.praise|length }} praised themes</p></section>', encoding="utf-8"
    )
    dom = parse(render_report(context, templates_dir=tmp_path))
    assert dom.find("p", cls="custom").text == "1 praised themes"
    assert dom.find("ul", cls="praise") is None
    assert dom.find("table", cls="painpoints") is not None  # the other defaults still apply


def test_missing_templates_dir_is_a_clear_error(tmp_path, context):
    with pytest.raises(InputError, match="templates folder not found.*Fix: pass an existing folder"):
        render_report(context, tmp_path / "nope")


def test_non_english_rows_are_shown_by_language(dom):
    quality = dom.find("section", id="data-quality")
    rows = {
        " ".join(row.find("th").text.split()): row.find("td").text
        for row in quality.find_all("tr")
        if row.find("th", scope="row") is not None
    }
    assert rows["non english (es 7, de 3, fr 2)"] == "12"
    assert rows["empty text"] == "30"


def test_non_english_without_languages_is_shown_alone():
    quality = parse(render_report(make_context(non_english_languages={}))).find("section", id="data-quality")
    labels = [" ".join(row.find("th").text.split()) for row in quality.find_all("tr")]
    assert "non english" in labels and quality.find("span", cls="by-language") is None


def test_write_report(tmp_path, context, html):
    out = write_report(context, tmp_path / "sub" / "report.html")
    assert out.read_text(encoding="utf-8") == html
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # written whole, no part file left


def test_every_context_field_is_documented():
    assert all(help_text for help_text in context_field_help().values())


def test_empty_context_renders():
    dom = parse(render_report(ReportContext()))
    assert dom.find("section", id="data-quality") is not None
    assert dom.find("table", cls="painpoints") is None


# --------------------------------------------------------------------------------------------------
# Filters and exports
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [fmt_pct, fmt_num, fmt_money, fmt_signed, fmt_ci])
@pytest.mark.parametrize("missing", [None, float("nan")])
def test_filters_show_dash_for_missing(func, missing):
    assert func(missing) == MISSING


@pytest.mark.parametrize(
    "func, value, expected",
    [
        (fmt_pct, 0.123, "12.3%"),
        (fmt_num, 1234567, "1,234,567"),
        (fmt_money, 1234.4, "$1,234"),
        (fmt_signed, 0.5, "+0.50"),
        (fmt_ci, [0.49, 0.94], "[0.49–0.94]"),
    ],
)
def test_filters_format(func, value, expected):
    assert func(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("normal text", "normal text"),
        (-0.5, -0.5),
        (None, ""),
    ],
)
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected


def test_export_tables_csv_is_safe_and_json_is_valid(context):
    tables = export_tables(context)
    rows = list(csv.DictReader(io.StringIO(tables["painpoints.csv"])))
    assert [r["theme_label"] for r in rows] == ["slow refunds", "app crashes", '\'=HYPERLINK("http://x")']
    assert rows[0]["affected_customers"] == "1234" and rows[0]["churn_lift_ci_low"] == "1.1"
    assert rows[1]["churn_lift"] == "" and rows[2]["mean_sentiment"] == ""
    pps = json.loads(tables["painpoints.json"])
    assert pps[2]["mean_sentiment"] is None and pps[0]["quotes"][0] == XSS_QUOTE
    kpis = list(csv.DictReader(io.StringIO(tables["kpis.csv"])))
    assert {"scope": "overall", "kpi": "csat", "value": "4.1", "n": "900", "ci_low": "4.0", "ci_high": "4.2"} in kpis
    assert json.loads(tables["kpis.json"])["periods"][1]["csat"]["value"] is None


def test_download_links_are_data_uris(dom, context):
    tables = export_tables(context)
    links = list(dom.find("p", cls="downloads").find_all("a"))
    assert [a.attrs["download"] for a in links] == list(tables)
    for a in links:
        href = a.attrs["href"]
        kind = "text/csv" if a.attrs["download"].endswith(".csv") else "application/json"
        prefix = f"data:{kind};charset=utf-8,"
        assert href.startswith(prefix)
        assert unquote(href[len(prefix) :]) == tables[a.attrs["download"]]


def test_numpy_values_render_like_plain_python(context, html):
    np = pytest.importorskip("numpy")
    records = []
    for p in context.painpoints:
        r = dict(p)
        r["affected_customers"] = np.int64(r["affected_customers"])
        r["mean_sentiment"] = np.float64(r["mean_sentiment"])
        r["churn_lift_ci"] = None if r["churn_lift_ci"] is None else np.array(r["churn_lift_ci"])
        if "quotes" in r:
            r["quotes"] = np.array(r["quotes"], dtype=object)
        records.append(r)
    assert render_report(make_context(painpoints=records)) == html
    assert export_tables(make_context(painpoints=records)) == export_tables(context)


# --------------------------------------------------------------------------------------------------
# At a glance, segments, KPI units, definitions
# --------------------------------------------------------------------------------------------------


def test_at_a_glance_names_the_top_pain_points_and_worse_kpis(dom):
    summary = dom.find("section", id="summary")
    items = [li.text for li in summary.find("ol", cls="glance-list").find_all("li")]
    assert len(items) == 3
    assert "slow refunds" in items[0] and "1,234 customers" in items[0] and "$12,500" in items[0]
    assert "rising" in items[0] and summary.find("a", href="#pp-1") is not None
    worse = summary.find("ul", cls="glance-list").text
    assert "Churn rate" in worse and "+1.0 pp" in worse and "CSAT" not in worse  # CSAT has no previous value
    assert "friendly staff" in summary.text


def test_at_a_glance_leaves_out_questions_and_links_each_pain_point_to_its_rank():
    ask = painpoint(
        "change the currency",
        theme_id=7,
        mentions=300,
        affected=290,
        sentiment=0.1,
        lift=1.2,
        ci=[0.9, 1.5],
        revenue=900.0,
        priority=0.99,
        kind="question",
        emerging=True,
    )
    hurts = [
        painpoint(
            f"problem {i}",
            theme_id=i,
            mentions=100 - i,
            affected=90 - i,
            sentiment=-0.4,
            lift=1.5,
            ci=[1.1, 2.0],
            revenue=100.0,
            priority=0.9 - i / 10,
            kind="pain point",
            emerging=i == 1,
        )
        for i in range(3)
    ]
    root = parse(render_report(make_context(painpoints=[ask] + hurts)))
    glance = root.find("section", id="summary").find("ol", cls="glance-list")
    items = list(glance.find_all("li"))
    assert [li.find("strong").text for li in items] == ["problem 0", "problem 1", "problem 2"]
    assert [li.find("a").attrs["href"] for li in items] == ["#pp-2", "#pp-3", "#pp-4"]
    # nor is an emerging question a new pain point
    heading = next(h for h in root.find("section", id="summary").find_all("h3") if h.text == "New pain points")
    siblings = [c for c in heading.parent.children if not isinstance(c, str)]
    listed = siblings[siblings.index(heading) + 1]
    assert [(a.text, a.attrs["href"]) for a in listed.find_all("a")] == [("problem 1", "#pp-3")]
    # the table still ranks the question, badged
    first = painpoint_rows(root)[0]
    assert "change the currency" in first.text and first.find("span", cls="question") is not None


def test_segment_breakdown_in_the_details(tmp_path, context):
    records = [dict(p) for p in context.painpoints]
    records[0]["segments"] = [
        {
            "segment": "smb",
            "customers": 800,
            "affected_customers": 120,
            "share_of_segment": 0.15,
            "churn_rate_affected": 0.5,
            "churn_rate_unaffected": 0.25,
        },
        {
            "segment": "<b>ent</b>",
            "customers": 90,
            "affected_customers": 9,
            "share_of_segment": 0.1,
            "churn_rate_affected": 0.1,
            "churn_rate_unaffected": None,
        },
    ]
    dom = parse(render_report(make_context(painpoints=records)))
    rows = list(dom.find("tbody", id="pp-1").find("table", cls="segments").find("tbody").find_all("tr"))
    cells = [[c.text for c in r.children if isinstance(c, Node)] for r in rows]
    assert cells == [["smb", "120", "15.0%", "50.0%", "25.0%"], ["<b>ent</b>", "9", "10.0%", "10.0%", MISSING]]


def test_kpi_ci_is_in_the_kpis_unit_and_tiny_deltas_read_no_change():
    kpi = lambda v, n, ci=None: {"value": v, "n": n, "ci": ci}  # noqa: E731
    ctx = make_context(
        kpis={
            "overall": {},
            "periods": [
                {"period": "2026-W13", "fcr": kpi(0.7761, 400), "ces": kpi(2.521, 100)},
                {"period": "2026-W14", "fcr": kpi(0.7763, 380, [0.7321, 0.8152]), "ces": kpi(2.523, 114, [2.25, 2.79])},
            ],
        },
        kpi_definitions={"fcr": {"name": "FCR", "unit": "fraction"}, "ces": {"name": "CES", "unit": "score"}},
    )
    dom = parse(render_report(ctx))
    fcr, ces = dom.find("li", data_kpi="fcr"), dom.find("li", data_kpi="ces")
    assert "95% CI [73.2–81.5%]" in fcr.find("p", cls="tile-n").text
    assert "no change vs 2026-W13" in fcr.find("p", cls="tile-delta").text
    assert "▲" not in fcr.find("p", cls="tile-delta").text and "better" not in fcr.find("p", cls="tile-delta").text
    assert "no change" in ces.find("p", cls="tile-delta").text


def test_methods_define_every_painpoint_column(dom):
    methods = dom.find("section", id="methods")
    assert dom.find("h3", id="methods-priority") is not None
    defined = [th.text for th in methods.find("table", cls="definitions").find("tbody").find_all("th")]
    for column in (
        "Affected customers",
        "Mentions",
        "Mean sentiment",
        "Churn lift",
        "Revenue at risk (per month)",
        "Trend",
        "New",
    ):
        assert column in defined


def test_painpoint_sentiment_is_what_the_theme_gets_from_its_texts_when_known():
    """aspect_sentiment (sentence-level for multi-theme texts) is shown and sorted on; mean_sentiment otherwise."""
    context = make_context()
    context.painpoints[0]["aspect_sentiment"] = -0.71
    rows = painpoint_rows(parse(render_report(context)))
    assert rows[0].find("td", cls="sentiment").text.strip() == "−0.71"
    assert rows[0].find("td", cls="sentiment").attrs["data-sort"] == "-0.71"
    assert rows[1].find("td", cls="sentiment").text.strip() == "−0.30"  # no aspect_sentiment: the mean
    exported = list(csv.DictReader(io.StringIO(export_tables(context)["painpoints.csv"])))
    assert exported[0]["aspect_sentiment"] == "-0.71" and exported[0]["mean_sentiment"] == "-0.52"


def test_a_theme_with_sub_themes_shows_them_in_its_drill_down_escaped():
    subthemes = [
        {
            "subtheme_id": "3.1",
            "label": "refund <b>late</b>",
            "mentions": 90,
            "customers": 80,
            "share": 0.64,
            "negative_share": 0.9,
            "quote": XSS_QUOTE,
        },
        {
            "subtheme_id": "3.2",
            "label": "partial refund",
            "mentions": 50,
            "customers": 45,
            "share": 0.36,
            "negative_share": None,
            "quote": "only half came back",
        },
    ]
    record = painpoint(
        "slow refunds",
        theme_id=3,
        mentions=140,
        affected=120,
        sentiment=-0.5,
        lift=1.5,
        ci=[1.1, 2.0],
        revenue=100.0,
        priority=0.9,
        subthemes=subthemes,
    )
    page = render_report(make_context(painpoints=[record]))
    root = parse(page)
    table = root.find("table", cls="subthemes")
    rows = [
        [cell.text.strip() for cell in tr.children if not isinstance(cell, str)]
        for tr in table.find("tbody").find_all("tr")
    ]
    assert [row[:5] for row in rows] == [
        ["refund <b>late</b>", "90", "64.0%", "80", "90.0%"],
        ["partial refund", "50", "36.0%", "45", "—"],
    ]
    assert rows[0][5] == XSS_QUOTE  # shown as text: the markup is escaped, not parsed
    assert "<b>late</b>" not in page and "&lt;b&gt;late&lt;/b&gt;" in page
    assert root.find("summary").text.startswith("Sub-themes, phrases")
    # a theme without sub-themes has no such table
    assert parse(render_report(make_context())).find("table", cls="subthemes") is None


def test_a_themes_score_impact_shows_in_its_drill_down_with_its_interval():
    record = painpoint(
        "slow refunds",
        theme_id=3,
        mentions=140,
        affected=120,
        sentiment=-0.5,
        lift=1.5,
        ci=[1.1, 2.0],
        revenue=100.0,
        priority=0.9,
        nps_impact=-2.345,
        nps_impact_ci=[-3.5, -1.25],
        csat_impact=-0.0321,
        csat_impact_ci=[-0.05, -0.01],
        ces_impact=None,
        ces_impact_ci=None,
    )
    root = parse(render_report(make_context(painpoints=[record])))
    assert root.find("dd", cls="impact-nps").text == "−2.3 [−3.5 – −1.2]"
    assert root.find("dd", cls="impact-csat").text == "−0.032 [−0.050 – −0.010]"
    assert root.find("dd", cls="impact-ces") is None  # no CES: no line
    assert "NPS, CSAT and CES impact" in visible_text(root)


def _impact_context(**nps_by_label):
    """Pain points with the given NPS impacts (None: no rated response); CSAT impacts on the first only."""
    records = []
    for rank, (label, impact) in enumerate(nps_by_label.items(), 1):
        ci = None if impact is None else [impact - 1.0, impact + 1.0]
        records.append(
            painpoint(
                label.replace("_", " "),
                theme_id=rank,
                mentions=100 * rank,
                affected=50 * rank,
                sentiment=-0.5,
                lift=1.5,
                ci=[1.1, 2.0],
                revenue=100.0,
                priority=1.0 / rank,
                nps_impact=impact,
                nps_impact_ci=ci,
                csat_impact=-0.05 if rank == 1 else None,
                csat_impact_ci=None,
            )
        )
    return make_context(painpoints=records)


def test_the_painpoint_table_has_a_score_impact_column_that_sorts_by_its_value():
    root = parse(render_report(_impact_context(slow_refunds=-4.26, login_fails=None, great_app=2.0)))
    header = [th.text.strip() for th in root.find("table", cls="painpoints").find("thead").find_all("th")]
    assert "NPS impact [95% CI]" in header  # NPS first: CSAT is shown only when no theme has an NPS impact
    cells = [row.find("td", cls="impact") for row in painpoint_rows(root)]
    assert [c.text.strip() for c in cells] == ["−4.3 [−5.3 – −3.3]", "—", "+2.0 [1.0–3.0]"]
    assert [c.attrs["data-sort"] for c in cells][0] == "-4.26"
    assert all(td.attrs["colspan"] == "9" for td in root.find_all("td") if "colspan" in td.attrs)
    exported = list(csv.DictReader(io.StringIO(export_tables(_impact_context(a=-4.26, b=None))["painpoints.csv"])))
    assert [(r["nps_impact"], r["nps_impact_ci_low"], r["nps_impact_ci_high"]) for r in exported] == [
        ("-4.26", "-5.26", "-3.26"),
        ("", "", ""),
    ]
    assert exported[0]["csat_impact"] == "-0.05" and exported[0]["ces_impact"] == ""
    csat_only = _impact_context(slow_refunds=None)
    assert "CSAT impact [95% CI]" in visible_text(parse(render_report(csat_only)))
    # no score at all: no column, no impact charts, the detail row spans the 8 columns
    plain = parse(render_report(make_context()))
    assert plain.find("td", cls="impact") is None and plain.find("svg", id="chart-impact") is None
    assert plain.find("svg", id="chart-waterfall") is None
    assert {td.attrs["colspan"] for td in plain.find_all("td") if "colspan" in td.attrs} == {"8"}


def test_impact_chart_puts_one_dot_per_rated_theme_below_or_above_the_zero_line():
    page = render_report(_impact_context(slow_refunds=-4.26, login_fails=None, great_app=2.0))
    root = parse(page)
    svg = root.find("svg", id="chart-impact")
    assert svg.find("title").text == "NPS impact against affected customers"
    dots = list(svg.find_all("circle", cls="dot"))
    assert [d.attrs["data-rank"] for d in dots] == ["1", "3"]  # the theme without an impact is not drawn
    zero = float(svg.find("line", cls="ref").attrs["y1"])
    assert float(dots[0].attrs["cy"]) > zero > float(dots[1].attrs["cy"])  # SVG's y grows downwards
    assert "good" in dots[1].attrs["class"] and "good" not in dots[0].attrs["class"]
    assert float(dots[0].attrs["cx"]) < float(dots[1].attrs["cx"])  # 50 then 150 affected customers
    assert len(list(svg.find_all("line", cls="whisker"))) == 2
    fallback = list(svg.parent.find("details", cls="fallback").find("tbody").find_all("tr"))
    assert [r.find("th").text for r in fallback] == ["1. slow refunds", "3. great app"]


def test_waterfall_steps_by_each_impact_largest_first_and_ends_at_their_sum():
    root = parse(render_report(_impact_context(a=-1.0, b=-4.0, c=2.0, d=None)))
    svg = root.find("svg", id="chart-waterfall")
    labels = [t.text for t in svg.find_all("text", cls="label")]
    assert labels == ["2. b", "3. c", "1. a", "sum of the 3 pain points"]
    bars = list(svg.find_all("rect"))
    assert [b.attrs["class"] for b in bars] == ["step-worse", "step-better", "step-worse", "step-total"]
    left = lambda b: float(b.attrs["x"])  # noqa: E731
    right = lambda b: float(b.attrs["x"]) + float(b.attrs["width"])  # noqa: E731
    zero = float(svg.find("line", cls="ref").attrs["x1"])
    # -4 from zero, +2 back, -1 more: each bar starts where the last one ended; the total spans zero to -3
    assert right(bars[0]) == pytest.approx(zero) and left(bars[1]) == pytest.approx(left(bars[0]))
    assert right(bars[1]) == pytest.approx(left(bars[2]) + (right(bars[2]) - left(bars[2])))
    assert right(bars[3]) == pytest.approx(zero) and left(bars[3]) == pytest.approx(left(bars[2]))
    assert [t.text for t in svg.find_all("text", cls="tick")][-1] == "−3.0"


def test_impact_charts_escape_theme_labels():
    page = render_report(_impact_context(**{"<script>alert(1)</script>": -2.0}))
    assert "<script>alert(1)</script>" not in page
    root = parse(page)
    assert root.find("svg", id="chart-waterfall").find("text", cls="label").text.startswith("1. <script>")
