"""The decoder's shortcuts for signalling messages agree with its general code.

walk_options reads padding and well-formed Binding Identifiers inline (the rest through
``_decode_one``), decode_frame reads untagged / single-tagged Ethernet without ``parse_link``,
mh_checksum sums without a word loop, and records are made through ``maker``.
"""

from __future__ import annotations

import dataclasses
import inspect
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dissector import options as options_module
from dissector import records
from dissector.codepoints import Dialect
from dissector.decode import decode_frame, decode_frame_fully
from dissector.link import parse_link
from dissector.mobility import mh_checksum
from dissector.options import _decode_one, walk_options
from dissector.reader import Reader
from dissector.walkstate import WalkState
from tests.dissector.handbuilt import (
    HA,
    MN_COA,
    MN_HOA,
    a6,
    bid,
    bu_body,
    dest_opts_hao,
    ethernet,
    frame,
    ipv6,
    mh,
    ones_complement_checksum,
)

OPTION = st.tuples(st.sampled_from([0, 1, 35, 36, 2, 99]), st.binary(max_size=24))


def tlvs(options: list[tuple[int, bytes]]) -> bytes:
    return b"".join(bytes([kind]) if kind == 0 else bytes([kind, len(data)]) + data for kind, data in options)


@given(st.lists(OPTION, max_size=8), st.sampled_from([35, 36]), st.sampled_from(list(Dialect)),
       st.integers(0, 7), st.booleans())
def test_walk_options_equals_the_general_decoder_option_by_option(
    options: list[tuple[int, bytes]], bid_type: int, dialect: Dialect, shift: int, cut: bool
) -> None:
    area = b"\xee" * shift + tlvs(options)
    if cut and area:
        area = area[:-1]  # the last option runs past the end
    state, out = WalkState(len(area), False), []
    walk_options(Reader(area, shift), 0, state, out, bid_type, dialect)
    # the same walk, every TLV but Pad1 through _decode_one
    expected, reference = [], WalkState(len(area), False)
    pos = shift
    while pos < len(area):
        kind = area[pos]
        if kind == 0:
            expected.append(records.Pad1(pos))
            pos += 1
            continue
        if pos + 1 >= len(area) or area[pos + 1] > len(area) - pos - 2:
            break
        length = area[pos + 1]
        expected.append(_decode_one(kind, pos, pos, length, area[pos + 2 : pos + 2 + length], reference,
                                    bid_type, dialect))
        pos += 2 + length
    pads, kept = 0, []
    for option in expected:  # at most MAX_PADS_KEPT (4) padding options are kept
        pads += isinstance(option, (records.Pad1, records.PadN))
        if not isinstance(option, (records.Pad1, records.PadN)) or pads <= 4:
            kept.append(option)
    assert out == kept
    assert state.problems[: len(reference.problems)] == reference.problems
    assert len(state.problems) == len(reference.problems) + (pos < len(area))  # + the cut option


def test_a_misaligned_and_a_retyped_bid_read_inline_as_in_the_general_code() -> None:
    area = b"\0" + bid(7, 0, 0x80, a6(MN_COA), kind=36)  # Length 20 at offset 1: needs 8n+2
    state, out = WalkState(len(area), False), []
    walk_options(Reader(area), 0, state, out, 36, Dialect.RFC5648)
    retyped = records.BindingIdentifier(1, 20, 7, 0, 0x80, MN_COA, Dialect.RFC5648, type=36)
    assert out == [records.Pad1(0), retyped]
    assert [(p.layer, p.offset, p.severity) for p in state.problems] == [("option:36", 1, "warning")]
    assert "misaligned (needs 8n+2)" in state.problems[0].reason


@given(st.binary(max_size=80), st.sampled_from(["::", "2001:db8::1", "ffff:" * 7 + "ffff"]),
       st.sampled_from(["::", HA]), st.sampled_from([135, 62]))
def test_mh_checksum_is_the_ones_complement_sum(mh_bytes: bytes, src: str, dst: str,
                                                next_header: int) -> None:
    body = bytearray(mh_bytes)
    body[4:6] = b"\0\0"
    pseudo = a6(src) + a6(dst) + struct.pack("!I3xB", len(body), next_header)
    assert mh_checksum(src, dst, mh_bytes, next_header) == ones_complement_checksum(pseudo + bytes(body))


def bu_packet() -> bytes:
    body = bu_body(9, 0xC040, 100) + bytes([1, 4, 0, 0, 0, 0]) + bid(1, coa=a6(MN_COA))  # BID at 8n+2
    return ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + mh(5, body, src=MN_HOA, dst=HA))


def test_ethernet_shortcut_gives_what_parse_link_gives() -> None:
    for vlans, ethertype in (((), 0x86DD), ((100,), 0x86DD), ((4095,), 0x86DD), ((5, 6), 0x86DD)):
        data = ethernet(bu_packet(), ethertype, vlans)
        packet = decode_frame(frame(data))
        link = parse_link(1, data)
        assert (packet.path.mac_src, packet.path.mac_dst, packet.path.vlans) == (link.mac_src, link.mac_dst,
                                                                                link.vlans)
        assert packet.mobility is not None and packet.mobility.checksum_ok is True
        assert not packet.problems


def test_makers_build_the_same_records_as_the_classes() -> None:
    bid_record = records.BindingIdentifier(18, 20, 1, 0, 0x80, MN_COA, Dialect.DRAFT05)
    cases = [
        (records.Pad1, (3,), {}),
        (records.PadN, (4, 2), {"nonzero_padding": True}),
        (records.BindingIdentifier, (18, 20, 1, 0, 0x80, MN_COA, Dialect.DRAFT05), {"type": 36}),
        (records.BindingUpdate, (7, 0xC000, 400, ("A", "H")), {}),
        (records.MobilityMessage, (0, 5, "BU", 59, 32, 0x1234, True, None, (records.Pad1(1), bid_record)),
         {}),
        (records.PacketPath, ("a", "b"), {"vlans": (1,), "protocol": 135}),
        (records.Packet, (1, 2.5, 0, 100, records.PacketPath(None, None)), {"fragment": True}),
    ]
    for cls, args, kwargs in cases:
        made, expected = records.maker(cls)(*args, **kwargs), cls(*args, **kwargs)
        assert type(made) is cls and made == expected
        assert all(getattr(made, f.name) == getattr(expected, f.name) for f in dataclasses.fields(cls))
    message = records.maker(records.MobilityMessage)(0, 5, "BU", 59, 32, 1, None, None, (bid_record,))
    assert message.bids == (bid_record,)  # __post_init__ ran
    signature = "(offset, length, nonzero_padding=False, type=1)"
    assert str(inspect.signature(records.maker(records.PadN))) == signature


def test_an_options_area_seen_before_shares_its_records_and_problems_are_never_cached(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(options_module, "_WALKS", {})
    first = decode_frame_fully(frame(ethernet(bu_packet())))  # (decode_frame would repeat the first frame)
    again = decode_frame_fully(frame(ethernet(bu_packet()), number=2))
    assert first.mobility is not None and again.mobility is not None
    assert again.mobility.options == first.mobility.options
    assert again.mobility.options is not first.mobility.options  # the first walk's list, then the kept tuple
    again_too = decode_frame_fully(frame(ethernet(bu_packet()), number=3))
    assert again_too.mobility is not None and again_too.mobility.options is again.mobility.options
    assert all(a is b for a, b in zip(again.mobility.options, first.mobility.options, strict=True))
    assert len(options_module._WALKS) == 1
    # the same options one byte later in the Mobility Header: other offsets, another walk
    area = bid(1, coa=a6(MN_COA))
    state, out = WalkState(40, False), []
    walk_options(Reader(b"\0" + area), 0, state, out, 35, Dialect.RFC5648)
    assert out[1].offset == 1 and state.problems  # misaligned: reported ...
    state, out = WalkState(40, False), []
    walk_options(Reader(b"\0" + area), 0, state, out, 35, Dialect.RFC5648)
    assert state.problems  # ... again: a walk with a problem is not kept
    assert len(options_module._WALKS) == 1
    # other dialect, other records
    state, out = WalkState(40, False), []
    walk_options(Reader(b"\0\0" + area), 0, state, out, 35, Dialect.DRAFT05)
    assert out[2].dialect is Dialect.DRAFT05 and not state.problems
    assert len(options_module._WALKS) == 2


def test_the_walk_cache_is_emptied_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(options_module, "_WALKS", {})
    monkeypatch.setattr(options_module, "WALK_CACHE_LIMIT", 3)
    for value in range(1, 6):
        state, out = WalkState(40, False), []
        walk_options(Reader(b"\0\0" + bid(value)), 0, state, out, 35, Dialect.RFC5648)
        assert out == [records.Pad1(0), records.Pad1(1), records.BindingIdentifier(2, 4, value, 0, 0, None,
                                                                                   Dialect.RFC5648)]
    assert len(options_module._WALKS) <= 3


# ---------------------------------------------------------------- extension headers read by index


def _reference_destination_options(r: Reader, state: WalkState) -> int:
    """The Reader-based walk ``ipv6._destination_options`` replaced (one call per byte)."""
    from dissector.codepoints import HOME_ADDRESS_OPTION
    from dissector.ipv6 import _header_end

    state.layer = "dest-options"
    start = r.tell()
    following, length = r.pull_u8(), r.pull_u8()
    end = start + (length + 1) * 8
    header_cut = end > r.end
    opts = r.bounded(r.tell(), end)
    while not opts.eof():
        at = opts.tell()
        kind = opts.pull_u8()
        if kind == 0:
            continue
        if opts.eof() or opts.peek_u8() > opts.remaining() - 1:
            if not header_cut:
                state.problem(at, f"option {kind} runs past the end of the header")
            break
        size = opts.pull_u8()
        if kind == HOME_ADDRESS_OPTION:
            if size != 16:
                state.problem(at, f"Home Address option Length {size}, must be 16")
                break
            if (at - start) % 8 != 6:
                state.problem(at, f"Home Address option at header offset {at - start} is misaligned "
                                  "(needs 8n+6)", "warning")
            if state.home_address_option is not None:
                state.problem(at, "more than one Home Address option", "warning")
            state.home_address_option = opts.pull_ipv6()
        else:
            opts.skip(size)
    _header_end(r, start, end, "Destination Options")
    return following


def _reference_routing(r: Reader, state: WalkState) -> int:
    from dissector.ipv6 import _header_end

    state.layer = "routing"
    start = r.tell()
    following, length, rtype, segments_left = r.pull_u8(), r.pull_u8(), r.pull_u8(), r.pull_u8()
    end = start + (length + 1) * 8
    if rtype == 2:
        if length != 2:
            state.problem(start + 1, f"type 2 routing header Hdr Ext Len {length}, must be 2")
        if segments_left != 1:
            state.problem(start + 3, f"type 2 routing header Segments Left {segments_left}, must be 1")
        if length >= 2:
            r.skip(4)
            state.routing_type2 = r.pull_ipv6()
    _header_end(r, start, end, "Routing")
    return following


def _outcome(walk: object, data: bytes, start: int, end: int) -> tuple[object, ...]:
    state = WalkState(len(data), False)
    reader = Reader(data, start, end)
    position: int | None = None  # after an exception nothing reads the reader again
    try:
        result: object = walk(reader, state)  # type: ignore[operator]
        position = reader.pos
    except Exception as exc:  # noqa: BLE001 - the exception is part of what must match
        result = (type(exc).__name__, str(exc))
    return result, position, state.home_address_option, state.routing_type2, state.problems


_HAO_AREA = st.one_of(
    st.binary(max_size=48),
    st.lists(st.sampled_from([b"\x00", b"\x01\x00", b"\x01\x02\x00\x00", b"\xc9\x10" + bytes(range(16)),
                              b"\xc9\x04abcd", b"\x05\x01", b"\xc9"]), max_size=5).map(b"".join),
)


@given(st.integers(0, 6), _HAO_AREA, st.integers(0, 4), st.integers(0, 60))
def test_destination_options_read_by_index_as_the_reader_reads_them(
        following: int, area: bytes, lead: int, cut: int) -> None:
    length = (len(area) + 2 + 7) // 8 - 1 if area else 0
    data = bytes(lead) + bytes((following, max(0, length))) + area
    end = max(lead, len(data) - cut)
    from dissector.ipv6 import _destination_options

    assert _outcome(_destination_options, data, lead, end) == _outcome(
        _reference_destination_options, data, lead, end)


@given(st.binary(min_size=0, max_size=40), st.integers(0, 3))
def test_type_2_routing_read_by_index_as_the_reader_reads_it(data: bytes, lead: int) -> None:
    from dissector.ipv6 import _routing

    data = bytes(lead) + data
    for end in (len(data), len(data) - 5, lead + 24, lead + 23):
        end = max(lead, min(end, len(data)))
        assert _outcome(_routing, data, lead, end) == _outcome(_reference_routing, data, lead, end)


@given(st.sampled_from([2, 0, 3]), st.integers(0, 4), st.integers(0, 3), st.binary(min_size=20, max_size=20))
def test_type_2_routing_headers_of_every_shape(rtype: int, length: int, segments: int, rest: bytes) -> None:
    from dissector.ipv6 import _routing

    data = bytes((59, length, rtype, segments)) + rest + bytes(8 * length)
    assert _outcome(_routing, data, 0, len(data)) == _outcome(_reference_routing, data, 0, len(data))
