"""Feeding a Session: a capture file is read once (message bytes are kept on the way), and the
live reader's chunks give the same analysis as the file."""

from __future__ import annotations

import pytest

from dissector.capture import CaptureParser, record_to_frame
from mcoaviz.sources import open_capture
from mcoaviz.tui import ingest
from mcoaviz.tui.ingest import ingest_file
from mcoaviz.tui.session import Session
from tests.conftest import SAMPLES

STORM = SAMPLES / "handover-storm-rfc5648.pcapng"


def test_a_file_is_read_once_and_every_message_keeps_its_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[set[int]] = []
    monkeypatch.setattr(ingest, "_frames_of", lambda path, numbers: walks.append(numbers) or {})
    session = Session(name=str(STORM))
    ingest_file(session, str(STORM))
    assert session.done and session.error is None
    assert walks == [set()]  # nothing left to fetch: no second walk over the file
    with open_capture(STORM) as source:
        data = {r[0]: record_to_frame(r).data for r in source.records()}
    assert session.final is not None
    messages = session.final.messages
    assert len(messages) == 52
    for m in messages:
        packet, raw = session.packet(m["frame"])
        assert raw == data[m["frame"]]
        assert packet is not None and packet.mobility is not None


def test_live_chunks_give_the_same_analysis_as_the_file() -> None:
    offline = Session(name=str(STORM))
    ingest_file(offline, str(STORM))
    live = Session(name="eth9", live=True)
    parser = CaptureParser()
    blob = STORM.read_bytes()
    for i in range(0, len(blob), 3000):  # what dumpcap's pipe hands over, a bit at a time
        live.feed_records(parser.feed_walk(blob[i:i + 3000]))
    live.finish(parser.interfaces, parser.close(), "pcapng")
    assert offline.final is not None and live.final is not None
    for table in ("messages", "bindings", "bul", "traffic", "traffic_bins", "findings"):
        assert getattr(live.final, table) == getattr(offline.final, table), table
    assert live.frames == offline.frames == 1265


def test_a_full_temporary_directory_ends_the_file_with_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcoaviz.engine.scratch import SpoolError

    def full(self: Session, records: object) -> None:
        raise SpoolError("cannot keep test rows in a temporary file (No space left on device); "
                         "set TMPDIR to a directory with room")

    monkeypatch.setattr(Session, "feed_records", full)
    session = Session(name=str(STORM))
    ingest_file(session, str(STORM))  # no exception out of the ingest thread
    assert session.done
    assert session.error is not None and "TMPDIR" in session.error
