"""pcapng: several interfaces with their own link types and resolutions, SPB, sections."""

from __future__ import annotations

import pytest

from dissector.capture import CaptureParser
from tests.dissector.capture.capture_bytes import block, epb, idb, obsolete_pb, packet, shb, spb


def parse_all(data: bytes) -> tuple[list, CaptureParser, list]:
    parser = CaptureParser()
    frames = parser.feed(data)
    return frames, parser, parser.close()


def multi_interface(order: str) -> bytes:
    return b"".join(
        [
            shb(order),
            idb(order, 1, name="eth0", description="HA uplink"),  # default: microseconds
            idb(order, 101, name="tun0", tsresol=9),  # nanoseconds
            idb(order, 113, tsresol=0x80 | 20),  # 2^-20 s
            epb(order, 0, 1_700_000_000_250_000, packet(1)),
            epb(order, 1, 1_700_000_001_500_000_000, packet(2, 48), 1400),
            epb(order, 2, (1_700_000_002 << 20) + (1 << 18), packet(3, 33)),  # .25 s, odd length
            epb(order, 0, 1_700_000_003_000_001, packet(4)),
        ]
    )


@pytest.mark.parametrize("order", ["<", ">"])
def test_several_interfaces_each_with_own_linktype_and_resolution(order: str) -> None:
    frames, parser, tail = parse_all(multi_interface(order))
    assert parser.format == "pcapng" and tail == [] and parser.problems == []
    assert [(f.number, f.interface, f.linktype) for f in frames] == [
        (1, 0, 1),
        (2, 1, 101),
        (3, 2, 113),
        (4, 0, 1),
    ]
    times = [f.time for f in frames]
    assert times == pytest.approx([1_700_000_000.25, 1_700_000_001.5, 1_700_000_002.25, 1_700_000_003.000001])
    assert [f.data for f in frames] == [packet(1), packet(2, 48), packet(3, 33), packet(4)]
    assert frames[1].wire_length == 1400
    assert parser.interfaces[0].name == "eth0" and parser.interfaces[0].description == "HA uplink"
    assert parser.interfaces[1].name == "tun0" and parser.interfaces[1].ts_resolution == 1e-9
    assert parser.interfaces[2].ts_resolution == 2**-20
    assert [i.linktype for i in parser.interfaces.values()] == [1, 101, 113]


def test_tsoffset_is_added() -> None:
    data = shb() + idb("<", 1, tsresol=0, tsoffset=1_000_000_000) + epb("<", 0, 5, packet(1))
    frames, _, _ = parse_all(data)
    assert frames[0].time == 1_000_000_005


def test_simple_packet_block_uses_interface_zero_and_its_snaplen() -> None:
    data = (
        shb()
        + idb("<", 229, snaplen=40)
        + idb("<", 1)
        + epb("<", 1, 7_000_000, packet(1))
        + spb("<", packet(2, 40), wirelen=1280)  # snapped to 40 bytes
        + spb("<", packet(3, 20))
    )
    frames, parser, tail = parse_all(data)
    assert tail == [] and parser.problems == []
    assert [(f.interface, f.linktype, len(f.data), f.wire_length) for f in frames] == [
        (1, 1, 60, 60),
        (0, 229, 40, 1280),
        (0, 229, 20, 20),
    ]
    assert frames[1].data == packet(2, 40)
    assert frames[1].time == frames[0].time == 7.0  # an SPB has no time: the previous packet's


def test_unknown_and_other_blocks_are_skipped() -> None:
    data = (
        shb()
        + idb()
        + block("<", 4, b"\x01\x00\x04\x00\x0a\x00\x00\x01host\x00\x00\x00\x00")  # name resolution
        + epb("<", 0, 1_000_000, packet(1))
        + block("<", 5, b"\0" * 12)  # interface statistics
        + block("<", 0x40000BAD, b"custom!")
        + block("<", 0x12345678, b"")
        + epb("<", 0, 2_000_000, packet(2))
    )
    frames, parser, tail = parse_all(data)
    assert [f.number for f in frames] == [1, 2] and [f.time for f in frames] == [1.0, 2.0]
    assert parser.problems == [] and tail == []


def test_several_sections_number_interfaces_across_the_file() -> None:
    data = (
        shb("<")
        + idb("<", 1)
        + epb("<", 0, 1_000_000, packet(1))
        + shb(">")
        + idb(">", 101, tsresol=3)
        + idb(">", 276)
        + epb(">", 0, 2_000, packet(2))
        + epb(">", 1, 3_000_000, packet(3))
    )
    frames, parser, tail = parse_all(data)
    assert tail == [] and parser.problems == []
    assert [(f.number, f.interface, f.linktype, f.time) for f in frames] == [
        (1, 0, 1, 1.0),
        (2, 1, 101, 2.0),
        (3, 2, 276, 3.0),
    ]


def test_obsolete_packet_block() -> None:
    frames, _, _ = parse_all(shb(">") + idb(">", 1) + obsolete_pb(">", 0, 4_000_000, packet(9)))
    assert frames[0].time == 4.0 and frames[0].data == packet(9)


def test_packet_on_undeclared_interface_is_a_problem_and_reading_continues() -> None:
    data = shb() + idb() + epb("<", 3, 1, packet(1)) + epb("<", 0, 2_000_000, packet(2))
    frames, parser, _ = parse_all(data)
    assert [f.number for f in frames] == [1] and frames[0].data == packet(2)
    assert len(parser.problems) == 1 and "interface 3" in parser.problems[0].reason
    assert parser.problems[0].offset == len(shb() + idb())


def test_truncated_tail_keeps_complete_packets() -> None:
    data = multi_interface("<")
    last = epb("<", 0, 1_700_000_003_000_001, packet(4))
    cut = len(data) - 10
    frames, parser, tail = parse_all(data[:cut])
    assert [f.number for f in frames] == [1, 2, 3]
    assert len(tail) == 1 and tail[0].severity == "warning"
    assert tail[0].offset == len(data) - len(last)
    assert f"{len(last) - 10} of {len(last)} bytes" in tail[0].reason


def test_bad_byte_order_magic() -> None:
    bad = bytearray(shb())
    bad[8:12] = b"abcd"
    frames, parser, tail = parse_all(bytes(bad) + idb())
    assert frames == [] and parser.problems[0].severity == "error"
    assert "byte-order" in parser.problems[0].reason and tail == []


def test_mismatched_trailing_length_is_corruption() -> None:
    good = shb() + idb()
    broken = bytearray(epb("<", 0, 1, packet(1)))
    broken[-4:] = b"\x10\x00\x00\x00"
    frames, parser, _ = parse_all(good + bytes(broken))
    assert frames == [] and "trailing length" in parser.problems[0].reason
    assert parser.problems[0].offset == len(good)


def test_invalid_block_length() -> None:
    good = shb() + idb()
    frames, parser, _ = parse_all(good + b"\x06\x00\x00\x00\x07\x00\x00\x00" + b"\0" * 20)
    assert frames == [] and parser.problems[0].offset == len(good)
    assert "block length 7" in parser.problems[0].reason


def test_epb_that_cannot_hold_its_caplen() -> None:
    bad = bytearray(epb("<", 0, 1, packet(1)))
    bad[20:24] = (500).to_bytes(4, "little")  # caplen beyond the block
    frames, parser, _ = parse_all(shb() + idb() + bytes(bad) + epb("<", 0, 2, packet(2)))
    assert len(frames) == 1 and frames[0].data == packet(2)
    assert "cannot hold 500" in parser.problems[0].reason
