"""``CaptureParser.feed_walk``: the chunked live reader gives the same records as the file reader."""

from __future__ import annotations

import pytest

from dissector.capture import CaptureParser, record_to_frame
from dissector.records import Frame
from mcoaviz.sources import open_capture
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "handover-storm-rfc5648.pcapng"


def file_frames() -> list[Frame]:
    with open_capture(SAMPLE) as source:
        return [record_to_frame(r) for r in source.records()]


@pytest.mark.parametrize("size", [1, 7, 100, 4096, 1 << 20])
def test_chunked_walk_gives_the_file_readers_records(size: int) -> None:
    data = SAMPLE.read_bytes()
    parser = CaptureParser()
    frames: list[Frame] = []
    for i in range(0, len(data), size):
        frames += [record_to_frame(r) for r in parser.feed_walk(data[i:i + size])]
    assert parser.close() == []
    expected = file_frames()
    assert len(expected) == 1265  # capinfos -c
    assert frames == expected
    assert [f.number for f in frames] == list(range(1, 1266))
    assert sorted(parser.interfaces) == list(range(6))  # capinfos -I: 6 interfaces


def test_a_cut_tail_waits_for_the_next_chunk_and_is_reported_at_close() -> None:
    data = SAMPLE.read_bytes()
    parser = CaptureParser()
    first = [r[0] for r in parser.feed_walk(data[:-10])]
    assert first == list(range(1, 1265))  # the last block is incomplete: not yet
    problems = parser.close()
    assert len(problems) == 1 and "incomplete pcapng block" in problems[0].reason
    again = CaptureParser()
    got = [r[0] for r in again.feed_walk(data[:-10])] + [r[0] for r in again.feed_walk(data[-10:])]
    assert got == list(range(1, 1266))
    assert again.close() == []


def test_garbage_gives_no_records_and_one_problem() -> None:
    parser = CaptureParser()
    assert list(parser.feed_walk(b"this is not a capture")) == []
    assert list(parser.feed_walk(b"more")) == []
    assert parser.stopped
    assert parser.problems[0].reason.startswith("not a pcap or pcapng file")
