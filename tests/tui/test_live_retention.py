"""A live session with retention (``Session(live=True)``, ``EngineConfig.retain``) fed as `mcoaviz
live` feeds it (a stand-in dumpcap, chunks through the bulk path): the same screen as without
retention while the capture is shorter than the window; older messages counted exactly."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static, Tree

from mcoaviz.livecapture import LiveCapture
from mcoaviz.pipeline import analyse
from mcoaviz.tui.app import McoaApp
from mcoaviz.tui.ingest import ingest_live
from mcoaviz.tui.session import LIVE_RETAIN, Session
from tests.conftest import SAMPLES

STORM = SAMPLES / "handover-storm-rfc5648.pcapng"  # 52 messages, 14 binding rows, 31.7 s


@pytest.fixture()
def dumpcap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "dumpcap"
    fake.write_text(f"#!/bin/sh\nexec cat '{STORM}'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


@asynccontextmanager
async def live_app(retain: float | None) -> AsyncIterator[McoaApp]:
    capture = LiveCapture(["eth9"])
    capture.start()
    session = Session(name="eth9", live=True, retain=retain)
    app = McoaApp(session, lambda s, stop: ingest_live(s, capture, stop), live=True)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await app.workers.wait_for_complete()
            app.refresh_screen(force=True)
            assert app.data is not None and app.data.last_time is not None
            app.set_cursor(app.data.last_time)  # paused at the newest packet
            await pilot.pause()
            yield app
    finally:
        capture.stop()


def screen(app: McoaApp) -> tuple[list[str], list[list[str]], list[list[str]]]:
    tree = app.query_one("#nodes", Tree)
    lines = []
    stack = list(tree.root.children)
    while stack:
        node = stack.pop(0)
        lines.append(str(node.label))
        stack[:0] = list(node.children)
    tables = []
    for selector in ("#bindings", "#message-list"):
        table = app.query_one(selector, DataTable)
        tables.append([[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)])
    return lines, tables[0], tables[1]


@pytest.mark.usefixtures("dumpcap")
async def test_a_capture_shorter_than_the_window_shows_the_same_as_without_retention() -> None:
    async with live_app(None) as whole:
        expected = screen(whole)
        assert whole.session.pipeline.engine.config.retain is None
    async with live_app(LIVE_RETAIN) as windowed:
        engine = windowed.session.pipeline.engine
        assert engine.config.retain == LIVE_RETAIN
        assert engine.messages_aged == 0 and set(engine.aged.values()) == {0}
        assert screen(windowed) == expected
    tree, bindings, messages = expected
    assert len(bindings) >= 2 and len(messages) >= 20
    assert any("2001:db8:1::100" in line for line in tree)


@pytest.mark.usefixtures("dumpcap")
async def test_aged_out_messages_are_counted_and_the_bindings_stay() -> None:
    async with live_app(None) as whole:
        _tree, expected_bindings, _messages = screen(whole)
    async with live_app(8.0) as windowed:
        engine = windowed.session.pipeline.engine
        cut = engine.aged_before
        assert cut is not None
        offline = analyse(STORM).messages
        older = [m for m in offline if m["time"] < cut]
        assert 0 < len(older) < len(offline) == 52
        assert engine.messages_aged == len(older)
        assert engine.aged_types == dict(Counter(m["type"] for m in older))
        bar = str(windowed.query_one("#time", Static).render())
        assert f"{len(older)} older messages counted only" in bar
        _tree, bindings, messages = screen(windowed)
        # the state at the cursor does not depend on history, and the newest BU and BA of each
        # binding stay held when they age out: the same rows, last BU / BA columns included
        assert bindings == expected_bindings
        time_of = {m["frame"]: m["time"] for m in offline}
        last_exchanges = {int(row[column].split()[0].lstrip("#")) for row in bindings for column in (8, 9)}
        assert any(time_of[frame] < cut for frame in last_exchanges)
        shown = {int(row[0]) for row in messages}
        newer = {m["frame"] for m in offline if m["time"] >= cut}
        assert newer <= shown
        assert last_exchanges <= shown
        assert {m["type"] for m in older if m["frame"] in shown - newer} <= {"BU", "BA"}
