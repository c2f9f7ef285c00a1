"""Regenerate the README's report screenshots (docs/screenshot-report-*.png) with headless
Chromium: the summary and overview of a sample capture's report, and one home address opened.

    .venv/bin/python scripts/screenshot_report.py [CAPTURE]

Needs Debian's chromium and the Playwright package (both installed by scripts/test.sh).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from mcoaviz.pipeline import analyse
from mcoaviz.report import write_report

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _page_box(page: object, selector: str) -> tuple[float, float]:
    """(top, bottom) of an element in page coordinates (full-page clips use these)."""
    return tuple(page.evaluate(  # type: ignore[attr-defined]
        f"(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect();"
        " return [r.top + window.scrollY, r.bottom + window.scrollY]; })()"))


def main(capture: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        report = write_report(analyse(capture), Path(folder) / "report.html")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(report.as_uri())
            page.wait_for_selector("body[data-first-figure=true]", timeout=60_000)
            bottom = _page_box(page, "#overview-section")
            page.screenshot(path=str(ROOT / "docs" / "screenshot-report-overview.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1280, "height": bottom[1] + 8})
            page.click("#hoa-index tbody tr >> nth=0")
            page.wait_for_selector("body[data-detail]", timeout=30_000)
            start, end = _page_box(page, "#detail-section")[0], _page_box(page, "#ladder")[1]
            page.screenshot(path=str(ROOT / "docs" / "screenshot-report-hoa.png"), full_page=True,
                            clip={"x": 0, "y": start - 8, "width": 1280, "height": end - start + 16})
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sample-captures/violations-rfc5648.pcapng")
