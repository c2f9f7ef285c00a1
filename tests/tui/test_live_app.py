"""The TUI in live mode, fed by a stand-in dumpcap: follows the newest data, pauses, and reports a
dumpcap that dies on screen instead of exiting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from mcoaviz.livecapture import LiveCapture
from mcoaviz.tui.app import McoaApp
from mcoaviz.tui.ingest import ingest_live
from mcoaviz.tui.session import Session
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "figure8-rfc5648.pcapng"
GONE = "dumpcap: The network adapter on which the capture was being done is no longer available"


async def test_dumpcap_dying_is_shown_and_the_screen_stays(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "dumpcap"
    fake.write_text(f"#!/bin/sh\ncat '{SAMPLE}'\necho '{GONE}' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    capture = LiveCapture(["eth9"])
    capture.start()
    session = Session(name="eth9", live=True)
    app = McoaApp(session, lambda s, stop: ingest_live(s, capture, stop), live=True)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            app.refresh_screen(force=True)
            await pilot.pause()
            bar = str(app.query_one("#time", Static).render())
            assert "LIVE" in bar
            assert "dumpcap stopped: " + GONE in bar
            assert app.is_running
            table = app.query_one("#bindings", DataTable)
            assert table.row_count == 6  # the state it had when dumpcap died stays on screen
            assert app.cursor is None
            await pilot.press("p")
            assert app.cursor is not None
            assert "PAUSED" in str(app.query_one("#time", Static).render())
            await pilot.press("p")
            assert app.cursor is None
    finally:
        capture.stop()
