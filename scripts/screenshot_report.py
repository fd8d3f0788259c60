"""Regenerate docs/report.png: the sample report rendered and photographed in headless Chromium.

    python scripts/screenshot_report.py [--data sample_data] [--out docs/report.png] [--height 1500] [--width 1280]
                                        [--html report.html] [--full]

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the ``test`` extra (Selenium). Also prints what a
reviewer checks by hand: page size, console errors, network requests, and whether two renders are byte-identical.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _browser_module():
    spec = importlib.util.spec_from_file_location("_feedback_browser", ROOT / "tests" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "sample_data"), help="data folder (default: the sample data)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "report.png"), help="PNG to write")
    parser.add_argument("--html", default=None, help="also keep the rendered HTML here")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in CSS pixels")
    parser.add_argument("--height", type=int, default=1500, help="height of the picture (top of the page)")
    parser.add_argument("--full", action="store_true", help="the whole page instead of its top")
    args = parser.parse_args(argv)

    browser = _browser_module()
    reason = browser.unavailable_reason()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2

    from feedback.pipeline import build_context, run
    from feedback.report import render_report

    context = build_context(run(args.data))
    html = render_report(context)
    deterministic = render_report(build_context(run(args.data))) == html
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(args.html) if args.html else Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        with browser.Browser(size=(args.width, args.height)) as b:
            b.open(page)
            errors, requests = b.console_errors(), b.network_requests()
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            b.screenshot(out, full_page=args.full)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    print(
        f"page: {len(html.encode('utf-8')):,} bytes; console errors: {len(errors)}; network requests: "
        f"{len(requests)}; byte-identical on a second run: {deterministic}"
    )
    for line in errors + requests:
        print("  ", line)
    return 0 if not errors and not requests and deterministic else 1


if __name__ == "__main__":
    raise SystemExit(main())
