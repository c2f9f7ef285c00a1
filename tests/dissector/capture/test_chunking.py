"""Feeding in any chunk size gives the same frames; arbitrary bytes never raise."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dissector.capture import CaptureParser, record_to_frame
from tests.dissector.capture.capture_bytes import PCAP_NSEC, block, epb, idb, packet, pcap_file, shb, spb

PCAPNG = (
    shb(">")
    + idb(">", 1, name="eth0")
    + idb(">", 229, tsresol=9)
    + epb(">", 0, 1_000_000, packet(1, 61))
    + block(">", 0x0BAD, b"ignored")
    + epb(">", 1, 2_000_000_000, packet(2, 1500))
    + shb("<")
    + idb("<", 113, tsresol=0x83)
    + spb("<", packet(3, 7))
    + epb("<", 0, 40, packet(4, 3))
)
PCAP = pcap_file([(i, i * 1000, packet(i, 50 + i), 100) for i in range(1, 40)], magic=PCAP_NSEC, order=">")


def feed_in(data: bytes, sizes: list[int]) -> tuple[list, list]:
    parser = CaptureParser()
    frames, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        frames += parser.feed(data[pos : pos + size])
        pos += size
        i += 1
    parser.close()
    return frames, parser.problems


def test_one_byte_at_a_time_equals_whole() -> None:
    for data in (PCAPNG, PCAP, PCAPNG[:-5], PCAP[:-5]):
        whole = feed_in(data, [len(data)])
        assert feed_in(data, [1]) == whole
        assert len(whole[0]) >= 3


def test_random_chunks_equal_whole() -> None:
    rng = random.Random(7)
    for data in (PCAPNG, PCAP):
        whole = feed_in(data, [len(data)])
        for _ in range(20):
            sizes = [rng.randint(1, 300) for _ in range(50)]
            assert feed_in(data, sizes) == whole


def test_records_over_a_whole_buffer_equal_feed() -> None:
    for data in (PCAPNG, PCAP, PCAPNG[:-9], b"junkjunkjunk"):
        parser = CaptureParser()
        frames = [record_to_frame(r) for r in parser.records(data)]
        assert (frames, parser.problems) == feed_in(data, [len(data)])


def test_frame_numbers_run_across_sections() -> None:
    frames, problems = feed_in(PCAPNG, [len(PCAPNG)])
    assert [f.number for f in frames] == [1, 2, 3, 4] and problems == []
    assert [f.interface for f in frames] == [0, 1, 2, 2]
    assert frames[3].time == 5.0  # 40 units of 2^-3 s


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    for prefix in (b"", PCAPNG[:28], PCAP[:24], PCAPNG[:100]):
        parser = CaptureParser()
        frames = parser.feed(prefix + data)
        parser.close()
        records = list(CaptureParser().records(prefix + data))
        # frames are numbered 1..n without gaps, and the bulk walk of the same bytes agrees
        assert [f.number for f in frames] == list(range(1, len(frames) + 1))
        assert [(r[0], r[1], r[2]) for r in records] == [(f.number, f.time, f.interface) for f in frames]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(PCAPNG)), st.binary(max_size=64))
def test_corruption_at_any_offset_never_raises(at: int, junk: bytes) -> None:
    data = PCAPNG[:at] + junk + PCAPNG[at + len(junk) :]
    parser = CaptureParser()
    frames = parser.feed(data)
    parser.close()
    assert [f.number for f in frames] == list(range(1, len(frames) + 1))
