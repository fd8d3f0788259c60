"""The report in a real browser: headless Debian Chromium driven by Selenium (see tests/browser.py).

Checks what only a browser can: no console errors (CSP violations included), no network request, click-to-sort
reorders the rows, details expand, hostile customer text stays text and runs nothing, the page reads without
JavaScript, it fits a phone, and a screenshot is not blank. Skipped, with the reason, when Chromium, chromedriver
or Selenium is missing (``.ci/run`` installs them).
"""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import pytest

from feedback.report import render_report

_HERE = Path(__file__).resolve().parent


def _load(name: str):
    """Import a sibling test module by path (pytest runs with --import-mode=importlib: tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_feedback_tests_{name}", _HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


browser = _load("browser")
report_tests = _load("test_report")
XSS_QUOTE = report_tests.XSS_QUOTE
#: A theme label that is itself hostile: it reaches a <th>, SVG <text>/<title> and an id-free attribute.
XSS_LABEL = '<img src=x onerror=alert("label")>{{ 7*7 }}<a href="javascript:alert(2)">x</a>'

REASON = browser.unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"headless browser unavailable: {REASON}")

#: Installed before any page script: records alert/confirm/prompt instead of blocking the page.
TRAP_DIALOGS = (
    "window.__dialogs = [];"
    "['alert', 'confirm', 'prompt'].forEach(function (n) {"
    "  window[n] = function (m) { window.__dialogs.push(n + ':' + m); }; });"
)


def hostile_context():
    painpoints = [dict(p) for p in report_tests.make_context().painpoints]
    painpoints[1]["theme_label"] = XSS_LABEL
    painpoints[1]["quotes"] = [XSS_QUOTE, '"><svg onload=alert(3)>', "</textarea><script>alert(4)</script>"]
    painpoints[1]["top_phrases"] = ["<b>bold</b>", "javascript:alert(5)"]
    return report_tests.make_context(painpoints=painpoints)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(hostile_context()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def chrome():
    with browser.Browser() as b:
        b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP_DIALOGS})
        yield b


@pytest.fixture()
def loaded(chrome, page):
    chrome.set_viewport(*browser.DESKTOP)
    chrome.open(page)
    return chrome


def theme_order(b) -> list[str]:
    return b.run(
        "return Array.from(document.querySelectorAll('table.painpoints tbody.pp th.theme'))"
        ".map(function (th) { return th.getAttribute('data-sort'); });"
    )


def click_header(b, text: str) -> None:
    b.run(
        "var t = arguments[0]; Array.from(document.querySelectorAll('table.painpoints thead button.sort'))"
        ".filter(function (x) { return x.textContent.indexOf(t) === 0; })[0].click();",
        text,
    )


# --------------------------------------------------------------------------------------------------


def test_no_console_errors_and_no_network_requests(loaded):
    assert loaded.console_errors() == []
    assert loaded.network_requests() == []


def test_clicking_a_header_sorts_the_rows(loaded):
    labels = [p["theme_label"] for p in hostile_context().painpoints]
    assert theme_order(loaded) == labels  # priority order as rendered
    click_header(loaded, "Mentions")  # 140, 300, 20 → descending first
    assert theme_order(loaded) == [labels[1], labels[0], labels[2]]
    click_header(loaded, "Mentions")
    assert theme_order(loaded) == [labels[2], labels[0], labels[1]]
    click_header(loaded, "Revenue at risk")  # 12,500, missing, 300: missing stays last both ways
    assert theme_order(loaded) == [labels[0], labels[2], labels[1]]
    click_header(loaded, "Revenue at risk")
    assert theme_order(loaded) == [labels[2], labels[0], labels[1]]
    sort_state = loaded.run(
        "return Array.from(document.querySelectorAll('table.painpoints thead th'))"
        ".map(function (th) { return th.getAttribute('aria-sort'); });"
    )
    assert sort_state.count("ascending") == 1 and sort_state.count("descending") == 0
    # each detail row moved with its row
    assert loaded.run("return document.querySelector('table.painpoints tbody.pp').id") == "pp-3"
    assert loaded.console_errors() == []


def test_details_expand_on_click(loaded):
    shown = "return document.querySelector('#pp-1 blockquote').checkVisibility()"
    assert loaded.run(shown) is False
    loaded.run("document.querySelector('#pp-1 summary').click()")
    assert loaded.run(shown) is True
    assert loaded.run("return document.querySelector('#pp-1 details').open") is True


def test_hostile_text_is_text_and_runs_nothing(loaded):
    assert loaded.run("return window.__dialogs") == []
    assert loaded.run("return document.scripts.length") == 1
    assert loaded.run("return document.querySelectorAll('img, iframe, object, embed, form').length") == 0
    assert loaded.run("return document.querySelectorAll('a[href^=\"javascript\"], svg svg').length") == 0
    quotes = loaded.run(
        "return Array.from(document.querySelectorAll('#pp-2 blockquote')).map(function (q) { return q.textContent; });"
    )
    assert quotes == [XSS_QUOTE, '"><svg onload=alert(3)>', "</textarea><script>alert(4)</script>"]
    assert loaded.run("return document.querySelector('#pp-2 th.theme').firstChild.textContent") == XSS_LABEL
    phrases = loaded.run(
        "return Array.from(document.querySelectorAll('#pp-2 ul.phrases li'))"
        ".map(function (li) { return li.textContent; });"
    )
    assert phrases == ["<b>bold</b>", "javascript:alert(5)"]
    assert "49" not in loaded.run("return document.querySelector('#pp-2').textContent")
    assert loaded.console_errors() == []


def test_numbers_read_without_javascript(page):
    with browser.Browser(javascript=False) as b:
        b.open(page)
        assert b.run("return 1") == 1  # WebDriver's own scripts still run; the page's do not
        assert b.run("return document.querySelectorAll('button.sort').length") == 0  # report.js did not run
        text = b.run("return document.body.innerText")
        for number in ("6.0%", "+1.0 pp", "1,234", "$12,500", "1.52", "[1.10–2.05]"):
            assert number in text
        b.run("document.querySelector('#pp-1 summary').click()")  # <details> needs no script
        assert b.run("return document.querySelector('#pp-1 details').open") is True
        assert b.network_requests() == []


def test_fits_a_phone_without_sideways_scrolling(chrome, page):
    chrome.set_viewport(*browser.PHONE)
    chrome.open(page)
    assert chrome.run("return document.documentElement.scrollWidth") <= browser.PHONE[0]
    # every pain-point card shows its numbers with their labels
    assert (
        chrome.run("return getComputedStyle(document.querySelector('#pp-1 td.revenue'), '::before').content")
        == '"Revenue at risk / month"'
    )
    assert chrome.console_errors() == []


def test_print_stylesheet_hides_controls_and_shows_details(loaded):
    closed_quote = "return document.querySelector('#pp-1 details blockquote').checkVisibility()"
    assert loaded.run(closed_quote) is False
    loaded.emulate_print()
    try:
        for selector in ("nav.toc", "p.downloads"):
            assert loaded.run(f"return getComputedStyle(document.querySelector('{selector}')).display") == "none"
        assert loaded.run(closed_quote) is True  # closed <details> print open
        assert loaded.print_pdf()[:5] == b"%PDF-"
    finally:
        loaded.emulate_print(False)
    assert loaded.console_errors() == []


#: Counts distinct colours of a PNG (data URL) on a canvas, sampling every 4th pixel.
COUNT_COLOURS = """
var done = arguments[arguments.length - 1], img = new Image();
img.onload = function () {
  var c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  var g = c.getContext('2d'); g.drawImage(img, 0, 0);
  var d = g.getImageData(0, 0, c.width, c.height).data, seen = {}, n = 0;
  for (var i = 0; i < d.length; i += 16) { var k = d[i] + ',' + d[i + 1] + ',' + d[i + 2];
    if (!seen[k]) { seen[k] = 1; n++; } }
  done([img.width, img.height, n]);
};
img.onerror = function () { done(null); };
img.src = arguments[0];
"""


def test_screenshot_is_not_blank(loaded, tmp_path):
    png = loaded.screenshot(tmp_path / "shot.png", full_page=False)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    width, height, colours = loaded.driver.execute_async_script(COUNT_COLOURS, data_url)
    assert (width, height) == browser.DESKTOP
    assert colours > 20  # text, tiles and badges: far from a single colour


# --------------------------------------------------------------------------------------------------
# A report from a real (tiny) pipeline run, not a hand-made context
# --------------------------------------------------------------------------------------------------

TINY_TEXTS = [
    "I was charged twice this month and want a refund.",
    "Double charge again on my card, please refund me.",
    "The app crashes every time I open an invoice.",
    "App keeps crashing when I export to PDF.",
    "Support was quick and friendly, thank you!",
    "Great service, the agent solved it fast.",
    "My refund has not arrived after two weeks.",
    "Still waiting for my refund, this is slow.",
    "<script>alert(1)</script> the export is broken",
    'Export to CSV is broken =HYPERLINK("x")',
]


def write_tiny_dataset(folder: Path) -> Path:
    """80 texts from 40 customers over four weeks, a third of them churned; written here, not copied."""
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "feedback.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["feedback_id", "customer_id", "created_at", "channel", "text", "csat"])
        for i in range(80):
            w.writerow(
                [
                    f"F{i:03d}",
                    f"C{i % 40:03d}",
                    f"2026-03-{2 + i % 28:02d} 10:00:00",
                    "email",
                    TINY_TEXTS[i % len(TINY_TEXTS)],
                    1 + i % 5,
                ]
            )
    with open(folder / "customers.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "customer_id",
                "segment",
                "plan",
                "signup_date",
                "churned",
                "churn_date",
                "monthly_revenue",
                "acquisition_cost",
            ]
        )
        for c in range(40):
            churned = c % 3 == 0
            w.writerow(
                [
                    f"C{c:03d}",
                    ("smb", "consumer")[c % 2],
                    "basic",
                    "2025-01-01",
                    str(churned).lower(),
                    "2026-03-20" if churned else "",
                    20,
                    50,
                ]
            )
    return folder


def test_report_of_a_tiny_real_run(chrome, tmp_path):
    from feedback.config import Config
    from feedback.pipeline import build_context, run

    context = build_context(run(write_tiny_dataset(tmp_path / "data"), Config(n_themes=4, min_theme_size=3)))
    path = tmp_path / "report.html"
    path.write_text(render_report(context), encoding="utf-8")
    chrome.set_viewport(*browser.DESKTOP)
    chrome.open(path)
    assert chrome.console_errors() == []
    assert chrome.network_requests() == []
    assert chrome.run("return window.__dialogs") == []
    header = chrome.run("return document.querySelector('header').innerText")
    assert f"{context.rows_used} of {context.rows_read} used" in header
    tiles = chrome.run("return document.querySelectorAll('#kpis li.tile').length")
    absent = {k for group in context.kpis["absent"] for k in group["kpis"]}
    assert tiles == len(context.kpis["overall"]) - len(absent) > 0  # a KPI no input supplies is one line, not a tile
