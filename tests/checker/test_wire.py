"""Rules on real bytes: dissector.encode builds the frames, decode_frame reads them back, and
the real engine and checker judge them, in both dialects (frames written by hand)."""

from __future__ import annotations

from dissector.codepoints import Dialect, LinkType
from dissector.decode import DecodeOptions, decode_frame
from dissector.encode import (
    binding_ack,
    binding_identifier,
    binding_update,
    ethernet_for,
    ipv6_packet,
    mac,
    mobility_header,
)
from dissector.records import Frame
from mcoaviz.checker import Checker, CheckerConfig, Finding
from mcoaviz.engine.engine import BindingEngine

HOA, HA = "2001:db8:a::100", "2001:db8:a::1"
COA1, COA2 = "2001:db8:1::100", "2001:db8:2::100"
MN_MAC, RT_MAC = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:fe")


def _bu(seq: int, bids: list, *flags: str, checksum: int | None = None) -> bytes:  # noqa: ANN001
    mh = mobility_header(binding_update(seq, 400, *flags), bids)
    return ethernet_for(RT_MAC, MN_MAC, ipv6_packet(COA1, HA, 135, mh, hao=HOA, checksum=checksum))


def _ba(seq: int, bids: list, status: int = 0) -> bytes:  # noqa: ANN001
    mh = mobility_header(binding_ack(status, seq, 400), bids)
    return ethernet_for(MN_MAC, RT_MAC, ipv6_packet(HA, COA1, 135, mh, rh2=HOA))


def judge(frames: list[bytes], dialect: Dialect) -> list[tuple[int | None, str]]:
    options = DecodeOptions(dialect=dialect)
    engine, checker = BindingEngine(), Checker(CheckerConfig(dialect=dialect))
    for number, data in enumerate(frames, start=1):
        packet = decode_frame(Frame(number, 1000.0 + number, 0, LinkType.ETHERNET, data, len(data)), options)
        checker.observe(packet, engine.feed(packet))
    checker.observe_traffic([], engine.finish(1000.0 + len(frames) + 1))
    findings: list[Finding] = checker.finish(engine)
    return [(f.frame, f.rule) for f in findings if f.severity == "error"]


def test_draft_c_flag_without_coa_on_the_wire() -> None:
    d = Dialect.DRAFT05
    frames = [_bu(1, [binding_identifier(1, dialect=d, extra_flags=0x80)], "A", "H"),
              _ba(1, [binding_identifier(1, dialect=d)], status=164)]
    assert judge(frames, d) == [(1, "MCOA103")]


def test_rfc_reading_of_the_same_bytes_sees_an_h_flag_not_a_c_flag() -> None:
    # 0x80 is H in RFC 5648: a home binding whose CoA field (absent) is not the HoA
    frames = [_bu(1, [binding_identifier(1, extra_flags=0x80)], "A", "H", "O")]
    assert (1, "MCOA103") not in judge(frames, Dialect.RFC5648)
    assert (1, "MCOA407") in judge(frames, Dialect.RFC5648)


def test_duplicate_bid_and_bad_checksum_on_the_wire_both_dialects() -> None:
    for d in (Dialect.RFC5648, Dialect.DRAFT05):
        dup = [binding_identifier(1, COA1, dialect=d), binding_identifier(1, COA2, dialect=d)]
        assert judge([_bu(1, dup, "A", "H")], d) == [(1, "MCOA111")]
        assert judge([_bu(2, [binding_identifier(2, COA1, dialect=d)], "A", "H", checksum=0x1234)], d) == \
            [(1, "MCOA901")]
