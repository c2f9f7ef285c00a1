"""Classic pcap: every magic in both byte orders, truncation and garbage."""

from __future__ import annotations

import pytest

from dissector.capture import CaptureParser
from tests.dissector.capture.capture_bytes import PCAP_MODIFIED, PCAP_NSEC, PCAP_USEC, packet, pcap_file


def parse_all(data: bytes) -> tuple[list, CaptureParser, list]:
    parser = CaptureParser()
    frames = parser.feed(data)
    tail = parser.close()
    return frames, parser, tail


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize(
    ("magic", "frac", "expected_fraction"),
    [(PCAP_USEC, 250_000, 0.25), (PCAP_NSEC, 125_000_000, 0.125), (PCAP_MODIFIED, 500_000, 0.5)],
)
def test_every_magic_and_byte_order(order: str, magic: int, frac: int, expected_fraction: float) -> None:
    data = pcap_file(
        [(1_700_000_000, frac, packet(1), 60), (1_700_000_001, 0, packet(2, 40), 1500)],
        magic=magic,
        order=order,
        linktype=101,
    )
    frames, parser, tail = parse_all(data)
    assert parser.format == "pcap"
    assert tail == [] and parser.problems == []
    assert [f.number for f in frames] == [1, 2]
    assert frames[0].time == pytest.approx(1_700_000_000 + expected_fraction, abs=1e-9)
    assert frames[1].time == 1_700_000_001
    assert frames[0].data == packet(1) and frames[1].data == packet(2, 40)
    assert frames[1].wire_length == 1500
    assert {f.linktype for f in frames} == {101} and {f.interface for f in frames} == {0}
    assert parser.interfaces[0].linktype == 101


def test_linktype_fcs_bits_are_ignored() -> None:
    frames, _, _ = parse_all(pcap_file([(1, 0, packet(1), 60)], linktype=0x14000001))
    assert frames[0].linktype == 1


def test_truncated_record_keeps_complete_packets_and_warns_with_offset() -> None:
    data = pcap_file([(10, 0, packet(1), 60), (11, 0, packet(2), 60), (12, 0, packet(3), 60)])
    cut = 24 + 2 * (16 + 60) + 16 + 30  # inside the third packet's data
    frames, parser, tail = parse_all(data[:cut])
    assert [f.number for f in frames] == [1, 2]
    assert len(tail) == 1 and tail[0].severity == "warning"
    assert tail[0].offset == 24 + 2 * 76
    assert "truncated at byte 176" in tail[0].reason and "46 of 76 bytes" in tail[0].reason
    assert tail == parser.problems


def test_truncated_inside_record_header() -> None:
    data = pcap_file([(10, 0, packet(1), 60), (11, 0, packet(2), 60)])
    frames, _, tail = parse_all(data[: 24 + 76 + 5])
    assert len(frames) == 1
    assert "header" in tail[0].reason and tail[0].offset == 100


def test_truncated_file_header() -> None:
    frames, _, tail = parse_all(pcap_file([])[:10])
    assert frames == [] and len(tail) == 1 and "header" in tail[0].reason


def test_empty_input_is_a_warning_not_an_exception() -> None:
    frames, _, tail = parse_all(b"")
    assert frames == [] and tail[0].severity == "warning" and "empty" in tail[0].reason


def test_garbage_is_a_clear_problem() -> None:
    frames, parser, tail = parse_all(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
    assert frames == [] and tail == []
    assert len(parser.problems) == 1
    assert parser.problems[0].severity == "error" and "not a pcap or pcapng" in parser.problems[0].reason


def test_implausible_record_length_stops_with_error() -> None:
    good = pcap_file([(10, 0, packet(1), 60)])
    bad = good + b"\0" * 8 + b"\xff\xff\xff\x7f" + b"\0" * 4 + b"x" * 100
    frames, parser, tail = parse_all(bad)
    assert len(frames) == 1
    assert parser.problems[0].severity == "error" and parser.problems[0].offset == len(good)
    assert tail == []  # no second, misleading "truncated" warning
    assert parser.feed(b"more") == []


def test_zero_length_records() -> None:
    frames, _, tail = parse_all(pcap_file([(1, 0, b"", 0), (2, 0, packet(1), 60)]))
    assert [len(f.data) for f in frames] == [0, 60] and tail == []
