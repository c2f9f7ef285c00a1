"""Reports opened in real headless Chromium (Debian's ``chromium``, driven by Playwright) with
every non-file request blocked: no console errors, every figure drawn, a home address opened
from the index draws one bar per binding, a finding zooms the timeline, a screenshot is saved.
Runs in CI (scripts/test.sh installs chromium); elsewhere it skips when chromium is missing."""

from __future__ import annotations

import asyncio
import importlib.util
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.pipeline import analyse
from mcoaviz.report import build_model, page_title
from mcoaviz.report.page import render
from tests.conftest import IN_CI, SAMPLES, require_tool
from tests.report.captures import HOSTILE, rewrite

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SAMPLE_REPORTS = ("figure8-rfc5648", "handover-storm-draft05", "violations-rfc5648", "nemo-rfc5648",
                  "dsmipv6-nat-rfc5648")


@contextmanager
def threaded_child_watcher() -> Iterator[None]:
    """pyshark (the ``check --wireshark`` tests, earlier in the same process) installs a
    SafeChildWatcher attached to its own event loop; Playwright starts its driver from another
    loop and needs the default threaded watcher. The previous watcher is put back afterwards."""
    if not hasattr(asyncio, "set_child_watcher"):  # Python 3.14 removed child watchers
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        previous = asyncio.get_child_watcher()
        asyncio.set_child_watcher(asyncio.ThreadedChildWatcher())
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_child_watcher(previous)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = require_tool("chromium")
    if importlib.util.find_spec("playwright") is None:
        if IN_CI:
            pytest.fail("playwright is required in CI (the test extra installs it)")
        pytest.skip("playwright is not installed")
    from playwright.sync_api import sync_playwright

    with threaded_child_watcher(), sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, args=ARGS)
        yield instance
        instance.close()


class Opened:
    """A report page with its console errors and the requests that tried to leave the file."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        self.page.wait_for_selector("body[data-first-figure=true]", timeout=60_000)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def drawn(self, figure: str) -> bool:
        return self.page.locator(f"#{figure}.js-plotly-plot .main-svg").count() > 0

    def close(self) -> None:
        self.page.close()


def _write(tmp_path: Path, capture: Path, compress_above: int | None = None) -> tuple[Path, dict]:
    analysis = analyse(capture)
    model = build_model(analysis)
    out = tmp_path / (capture.stem + ".html")
    kwargs = {} if compress_above is None else {"compress_above": compress_above}
    out.write_text(render(model, page_title(analysis), **kwargs), encoding="utf-8")
    return out, model


def _open_first_hoa(opened: Opened, model: dict) -> str:
    hoa = model["index"]["rows"][0][0]
    opened.page.click("#hoa-index tbody tr >> nth=0")
    opened.page.wait_for_selector(f"body[data-detail='{hoa}']", timeout=30_000)
    return hoa


@pytest.mark.parametrize("name", SAMPLE_REPORTS)
def test_sample_report_draws_everything(browser: Any, tmp_path: Path, name: str) -> None:
    path, model = _write(tmp_path, SAMPLES / f"{name}.pcapng")
    opened = Opened(browser, path)
    try:
        assert opened.drawn("overview") and opened.drawn("topology")
        assert opened.page.locator("#hoa-index tbody tr").count() == len(model["index"]["rows"])
        hoa = _open_first_hoa(opened, model)
        for figure in ("timeline", "ladder", "latency"):
            assert opened.drawn(figure), figure
        # one drawn bar per binding interval of the home address
        bars = opened.page.locator("#timeline .barlayer .point").count()
        assert bars == len(model["hoas"][hoa]["bars"]) > 0
        assert opened.page.locator("#detail-hoa").inner_text() == hoa
        shot = tmp_path / f"{name}.png"
        opened.page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        assert opened.errors == [] and opened.blocked == [] and opened.dialogs == []
    finally:
        opened.close()


def test_a_finding_zooms_the_timeline_to_it(browser: Any, tmp_path: Path) -> None:
    path, model = _write(tmp_path, SAMPLES / "violations-rfc5648.pcapng")
    groups = model["findings"]["groups"]
    row = next(i for i, g in enumerate(groups) if g["hoa"] and g["time"] is not None)
    opened = Opened(browser, path)
    try:
        opened.page.click(f"#findings-table tbody tr >> nth={row}")
        opened.page.wait_for_selector(f"body[data-detail='{groups[row]['hoa']}']", timeout=30_000)
        shown = opened.page.evaluate("document.getElementById('timeline').layout.xaxis.range")
        assert shown[0] <= groups[row]["time"] <= shown[1] and shown[1] - shown[0] == pytest.approx(10, abs=5)
        assert opened.errors == []
    finally:
        opened.close()


def test_hostile_capture_text_stays_text_in_the_browser(browser: Any, tmp_path: Path) -> None:
    capture = rewrite("figure8-rfc5648.pcapng", tmp_path / "hostile.pcapng", name=lambda i, n: n + HOSTILE,
                      comment=HOSTILE)
    path, _ = _write(tmp_path, capture)
    opened = Opened(browser, path)
    try:
        assert opened.page.evaluate("window.pwned === undefined")
        assert opened.page.locator("script").count() == 4
        assert opened.page.locator("b[onmouseover]").count() == 0
        facts = opened.page.locator("#capture-facts").inner_text()
        assert "ha-uplink</script><script>window.pwned=1</script><b onmouseover" in facts
        assert opened.errors == [] and opened.blocked == [] and opened.dialogs == []
    finally:
        opened.close()


def test_compressed_details_open_the_same(browser: Any, tmp_path: Path) -> None:
    """Large reports carry per-HoA data gzipped (unpacked by DecompressionStream)."""
    path, model = _write(tmp_path, SAMPLES / "handover-storm-rfc5648.pcapng", compress_above=0)
    assert 'data-encoding="gzip+base64"' in path.read_text(encoding="utf-8")
    opened = Opened(browser, path)
    try:
        hoa = _open_first_hoa(opened, model)
        assert opened.page.locator("#timeline .barlayer .point").count() == len(model["hoas"][hoa]["bars"])
        assert opened.page.locator("#gap-table tbody tr").count() == len(model["hoas"][hoa]["gaps"])
        assert opened.errors == []
    finally:
        opened.close()


def test_opening_a_home_address_fills_how_its_bindings_were_read(browser: Any, tmp_path: Path) -> None:
    path, model = _write(tmp_path, SAMPLES / "first-registration-without-coa-rfc5648.pcapng")
    opened = Opened(browser, path)
    try:
        _open_first_hoa(opened, model)
        opened.page.click("#explain-block summary")
        text = opened.page.locator("#explain-text").inner_text()
        assert "2001:db8:1::100 BID 2 at 2001:db8:c0::10 (correspondent)" in text
        assert "(BU frame 85, BA frame 87)" in text  # read with tshark
        assert opened.errors == []
    finally:
        opened.close()


def test_pairs_of_the_other_dialect_are_listed(browser: Any, tmp_path: Path) -> None:
    path, model = _write(tmp_path, SAMPLES / "two-dialects-one-ha-mixed.pcapng")
    pairs = [line.split(" (")[0] for line in model["capture"]["pair_dialects"]]
    assert pairs == ["2001:db8:1::200 <-> 2001:db8:1::1: draft05",
                     "2001:db8:1::200 <-> 2001:db8:c0::10: draft05"]
    opened = Opened(browser, path)
    try:
        facts = opened.page.locator("#capture-facts").inner_text()
        assert "pair\t2001:db8:1::200 <-> 2001:db8:1::1: draft05 (own evidence" in facts
        assert opened.errors == [] and opened.blocked == [] and opened.dialogs == []
    finally:
        opened.close()
