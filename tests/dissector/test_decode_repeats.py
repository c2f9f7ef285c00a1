"""decode_frame's repeat cache: a frame equal to one decoded before but for its Mobility Header's
Checksum and Sequence Number is made from that one's records, with the same result as a full
decode (``decode_frame_fully``) whatever else differs."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissector import decode as decode_module
from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame, decode_frame_fully
from dissector.fastpath import FastPath
from dissector.mobility import mh_checksum
from dissector.records import Frame, Packet
from mcoaviz.sources import read_frames
from tests.conftest import SAMPLES

OPTIONS = [DecodeOptions(repeats=True), DecodeOptions(dialect=Dialect.DRAFT05, repeats=True),
           DecodeOptions(bid_type=36, repeats=True)]


def signalling_frames() -> Iterator[Frame]:
    """Every frame of the sample captures that the fast path hands to decode_frame."""
    for path in sorted(SAMPLES.glob("*.pcap*")):
        frames, _ = read_frames(path)
        fast = FastPath(DecodeOptions())
        yield from (f for f in frames if not fast.offer(f))


FRAMES = list(signalling_frames())


def bu_ba(options: DecodeOptions) -> list[tuple[Frame, Packet]]:
    out = []
    for frame in FRAMES:
        packet = decode_frame_fully(frame, options)
        m = packet.mobility
        if m is not None and m.mh_type in (5, 6) and m.checksum_ok and not packet.problems:
            out.append((frame, packet))
    return out


def _clear() -> None:
    for cache in (decode_module._REPEATS, decode_module._SHAPES, decode_module._PREFIXES,
                  decode_module._MH_AT):
        cache.clear()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    _clear()
    yield
    _clear()


def variant(frame: Frame, packet: Packet, seq: int, checksum: str, number: int) -> Frame:
    """``frame`` with another Sequence Number, its checksum made right (or wrong), a new number."""
    m = packet.mobility
    assert m is not None
    data = bytearray(frame.data)
    at = m.offset + (6 if m.mh_type == 5 else 8)
    data[at : at + 2] = seq.to_bytes(2, "big")
    path = packet.path
    right = mh_checksum(path.home_address_option or path.src or "", path.routing_type2 or path.dst or "",
                        bytes(data[m.offset : m.offset + m.header_len]))
    value = right if checksum == "right" else right ^ 0x0101
    data[m.offset + 4 : m.offset + 6] = value.to_bytes(2, "big")
    return dataclasses.replace(frame, number=number, time=frame.time + 1.5, data=bytes(data))


@pytest.mark.parametrize("options", OPTIONS, ids=["rfc5648", "draft05", "bid-type-36"])
def test_every_sample_frame_twice_is_the_full_decode(options: DecodeOptions) -> None:
    """Second time round every BU/BA comes from the cache (same path object) and equals its full decode."""
    for frame in FRAMES:
        assert decode_frame(frame, options) == decode_frame_fully(frame, options)
    assert decode_module._REPEATS  # the samples' BU/BA were kept
    hits = 0
    for frame in FRAMES:
        full = decode_frame_fully(frame, options)
        packet = decode_frame(frame, options)
        assert packet == full
        hits += packet.path is not full.path and any(
            packet.path is kept[1].path for kept in decode_module._REPEATS.values())
    assert hits > 0


@settings(max_examples=150, deadline=None)
@given(pick=st.integers(0, 10**6), seq=st.integers(0, 0xFFFF), checksum=st.sampled_from(["right", "wrong"]),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
       snapped=st.booleans())
def test_variants_of_a_kept_frame_decode_as_in_full(pick: int, seq: int, checksum: str,
                                                     edits: list[tuple[int, int]], snapped: bool) -> None:
    """A kept BU/BA with another Sequence Number, a right or wrong checksum, other bytes changed
    anywhere (or none), snapped or not: decode_frame gives the full decode's packet."""
    options = OPTIONS[pick % len(OPTIONS)]
    pairs = bu_ba(options)
    frame, packet = pairs[pick % len(pairs)]
    decode_frame(frame, options)  # kept
    other = variant(frame, packet, seq, checksum, frame.number + 7)
    data = bytearray(other.data)
    for at, value in edits:
        data[at % len(data)] = value
    other = dataclasses.replace(other, data=bytes(data),
                                wire_length=len(data) + 10 if snapped else other.wire_length)
    assert decode_frame(other, options) == decode_frame_fully(other, options)


def test_a_repeat_is_made_from_the_kept_records() -> None:
    """Only the number, time, checksum and sequence number are new: path and options are shared."""
    options = OPTIONS[0]
    frame, packet = random.Random(3).choice(bu_ba(options))
    kept = decode_frame(frame, options)
    again = decode_frame(variant(frame, packet, 4242, "right", 99), options)
    assert again.path is kept.path and again.mobility is not None and kept.mobility is not None
    assert again.mobility.options is kept.mobility.options
    assert (again.frame, again.mobility.body.seq, again.mobility.checksum_ok) == (99, 4242, True)  # type: ignore[union-attr]
    wrong = variant(frame, packet, 4242, "wrong", 100)
    other = decode_frame(wrong, options)  # its MH decoded (on the kept path: _PREFIXES), not a repeat
    assert other.mobility is not None and other.mobility.checksum_ok is False
    assert other == decode_frame_fully(wrong, options) and other.path is kept.path


@pytest.mark.parametrize("options", OPTIONS, ids=["rfc5648", "draft05", "bid-type-36"])
def test_any_other_byte_changed_is_no_repeat(options: DecodeOptions) -> None:
    """Every single byte of a kept BU and BA changed in turn (but Checksum and Sequence Number):
    each variant decodes as in full, none as the kept frame's repeat."""
    pairs = bu_ba(options)
    kinds = {packet.mobility.mh_type: (frame, packet) for frame, packet in pairs if packet.mobility}
    assert set(kinds) == {5, 6}
    for frame, packet in kinds.values():
        kept = decode_frame(frame, options)
        m = packet.mobility
        assert m is not None
        seq_at = m.offset + _seq_at(m.mh_type)
        masked = {m.offset + 4, m.offset + 5, seq_at, seq_at + 1}
        for at in range(len(frame.data)):
            if at in masked:
                continue
            data = bytearray(frame.data)
            data[at] ^= 0x41
            path = decode_frame_fully(dataclasses.replace(frame, data=bytes(data)), options).path
            src, dst = path.home_address_option or path.src, path.routing_type2 or path.dst
            if src and dst and ":" in src + dst:  # the checksum made right again: only the key can tell
                right = mh_checksum(src, dst, bytes(data[m.offset : m.offset + m.header_len]))
                data[m.offset + 4 : m.offset + 6] = right.to_bytes(2, "big")
            other = dataclasses.replace(frame, data=bytes(data))
            packet_again, full = decode_frame(other, options), decode_frame_fully(other, options)
            assert packet_again == full, at
            assert _bids(packet_again) == _bids(full), at
            # a byte of the MH changed: the path is the kept one's (_PREFIXES), not its records
            assert (packet_again.path is kept.path) is (at >= m.offset), at


def _bids(packet: Packet) -> tuple[object, ...]:
    """MobilityMessage.bids, which == does not compare."""
    return packet.mobility.bids if packet.mobility is not None else ()


def _seq_at(mh_type: int) -> int:
    return 6 if mh_type == 5 else 8


@pytest.mark.parametrize("options", OPTIONS, ids=["rfc5648", "draft05", "bid-type-36"])
def test_every_mh_byte_of_every_kept_message_changed(options: DecodeOptions) -> None:
    """Any message kept for its bytes before the MH (every type, not only BU/BA): each byte of
    its MH changed in turn, with the checksum made right again or not, decodes as in full, on
    the kept path; a byte before the MH changed is decoded in full on a path of its own."""
    kept_any = 0
    for frame in FRAMES:
        packet = decode_frame(frame, options)
        if not any(value[1].path is packet.path for value in decode_module._PREFIXES.values()):
            continue
        m = packet.mobility
        assert m is not None and not packet.problems
        kept_any += 1
        if kept_any % 8 != 1:  # every eighth: every byte of each is many decodes
            continue
        for at in range(len(frame.data)):
            for fix in (False, True) if at >= m.offset else (False,):
                data = bytearray(frame.data)
                data[at] ^= 0x5A
                if fix:
                    path = packet.path
                    src, dst = path.home_address_option or path.src, path.routing_type2 or path.dst
                    if not (src and dst and ":" in src + dst) or m.offset + 6 > len(data):
                        continue
                    right = mh_checksum(src, dst, bytes(data[m.offset : m.offset + m.header_len]))
                    data[m.offset + 4 : m.offset + 6] = right.to_bytes(2, "big")
                other = dataclasses.replace(frame, data=bytes(data), number=frame.number + 1)
                again, full = decode_frame(other, options), decode_frame_fully(other, options)
                assert again == full, (frame.number, at, fix)
                assert _bids(again) == _bids(full)  # not compared by ==
                if at < m.offset:
                    assert again.path is not packet.path, (frame.number, at)
                _clear()
                decode_frame(frame, options)  # kept again (the variant may have replaced it)
    assert kept_any > 20


@settings(max_examples=200, deadline=None)
@given(pick=st.integers(0, 10**6), edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                                  min_size=1, max_size=4),
       cut=st.integers(-12, 12), snapped=st.booleans(), ethertype=st.booleans())
def test_variants_of_a_kept_prefix_decode_as_in_full(pick: int, edits: list[tuple[int, int]], cut: int,
                                                     snapped: bool, ethertype: bool) -> None:
    """A kept message's frame with bytes changed (more often in the MH), cut short or grown, snapped
    or not: decode_frame gives the full decode's packet."""
    options = OPTIONS[pick % len(OPTIONS)]
    frame = FRAMES[pick % len(FRAMES)]
    packet = decode_frame(frame, options)
    data = bytearray(frame.data)
    mh = packet.mobility.offset if packet.mobility is not None else 0
    for at, value in edits:
        data[mh + at % max(1, len(data) - mh) if at % 4 else at % len(data)] = value
    data = data[: len(data) + cut] if cut < 0 else data + bytes(range(cut))
    if ethertype and len(data) > 13:
        data[12:14] = b"\x86\xdd"
    other = dataclasses.replace(frame, data=bytes(data), number=frame.number + 9,
                                wire_length=len(data) + (20 if snapped else 0))
    again, full = decode_frame(other, options), decode_frame_fully(other, options)
    assert again == full
    assert _bids(again) == _bids(full)


def test_without_repeats_nothing_is_kept() -> None:
    """The analysis keeps packets itself (the checker's): its DecodeOptions keep no repeats."""
    frame, _ = bu_ba(DecodeOptions())[0]
    plain = DecodeOptions()
    first, again = decode_frame(frame, plain), decode_frame(frame, plain)
    assert first == again and first.path is not again.path
    assert not decode_module._REPEATS and not decode_module._SHAPES and not decode_module._PREFIXES
    decode_frame(frame, OPTIONS[0])
    assert len(decode_module._REPEATS) == 1
    assert decode_frame(frame, plain).path is not decode_frame(frame, OPTIONS[0]).path  # per options


@pytest.mark.parametrize("options", OPTIONS, ids=["rfc5648", "draft05", "bid-type-36"])
def test_every_sequence_number_with_its_right_checksum_is_a_repeat(options: DecodeOptions) -> None:
    """The kept checksum sum plus the Sequence Number gives mh_checksum's value for any Sequence
    Number (the ends, and the one whose sum folds to 0): with it, a repeat made from the kept
    records; with any other checksum, the full decode's verdict."""
    pairs = bu_ba(options)
    assert pairs
    rng = random.Random(11)
    checked = 0
    for frame, packet in pairs[:: max(1, len(pairs) // 40)]:
        kept = decode_frame(frame, options)
        bases = [value[2] for value in decode_module._REPEATS.values() if value[1].path is kept.path]
        if not bases:  # not kept: inside ESP (its trailer is read from the end)
            assert packet.esp is not None
            continue
        base, checked = bases[0], checked + 1
        for seq in {0, 1, 0xFFFE, 0xFFFF, (-base) % 0xFFFF, rng.randrange(0x10000)}:
            right = variant(frame, packet, seq, "right", 50)
            again = decode_frame(right, options)
            assert again.path is kept.path, seq  # from the kept records
            full = decode_frame_fully(right, options)
            assert again == full
            assert again.mobility is not None and full.mobility is not None
            assert again.mobility.bids == full.mobility.bids  # not compared by ==
            wrong = variant(frame, packet, seq, "wrong", 51)
            other = decode_frame(wrong, options)
            assert other == decode_frame_fully(wrong, options)
            assert other.mobility is not None and other.mobility.checksum_ok is False
    assert checked > 10


def _plain_bu() -> tuple[Frame, Packet]:
    """A kept-able BU on Ethernet, no tunnel: IPv6, Destination Options (HAO), MH."""
    for frame, packet in bu_ba(OPTIONS[0]):
        m = packet.mobility
        if (m is not None and m.mh_type == 5 and packet.path.tunnel is None and packet.esp is None
                and frame.linktype == 1 and frame.data[12:14] == b"\x86\xdd" and frame.data[20] == 60):
            return frame, packet
    raise AssertionError("no plain BU with a Home Address option in the samples")


def _with_mh(frame: Frame, packet: Packet, data: bytearray, next_header: int = 135) -> Frame:
    """``data`` with the MH's checksum made right (pseudo-header ``next_header``), as a new frame."""
    m = packet.mobility
    assert m is not None
    path = packet.path
    mh = bytes(data[m.offset : m.offset + m.header_len])
    right = mh_checksum(path.home_address_option or "", path.dst or "", mh, next_header)
    data[m.offset + 4 : m.offset + 6] = right.to_bytes(2, "big")
    return dataclasses.replace(frame, data=bytes(data), number=frame.number + 100)


def test_a_pre_rfc_next_header_is_kept_and_read_with_its_own_pseudo_header() -> None:
    """MH under next header 62 (pre-RFC stacks, checksummed with 62): a frame after it with the
    same bytes before the MH decodes its MH with 62, as the full walk does."""
    options = OPTIONS[0]
    frame, packet = _plain_bu()
    data = bytearray(frame.data)
    data[14 + 40] = 62  # the Destination Options header's Next Header: the MH under 62
    first = _with_mh(frame, packet, data, 62)
    kept = decode_frame(first, options)
    assert kept.mobility is not None and kept.mobility.checksum_ok is True and kept.path.protocol == 62
    m = packet.mobility
    assert m is not None
    data[m.offset + 9] ^= 0x40  # another message (a flag), checksummed with 62 again
    second = _with_mh(frame, packet, data, 62)
    again = decode_frame(second, options)
    assert again.path is kept.path and again == decode_frame_fully(second, options)
    assert again.mobility is not None and again.mobility.checksum_ok is True


@pytest.mark.parametrize("snapped", [False, True])
def test_a_longer_header_len_after_a_kept_frame_decodes_as_in_full(snapped: bool) -> None:
    """The MH's Header Len grown past the packet after a kept frame: the full walk's problem,
    a snap-length warning when the frames were snapped (the first one whole but for a trailer
    the capture did not keep), else an error."""
    options = OPTIONS[0]
    frame, packet = _plain_bu()
    frame = dataclasses.replace(frame, wire_length=len(frame.data) + (8 if snapped else 0))
    kept = decode_frame(frame, options)
    assert not kept.problems
    m = packet.mobility
    assert m is not None
    data = bytearray(frame.data)
    data[m.offset + 1] += 1
    other = dataclasses.replace(frame, data=bytes(data), wire_length=len(data) + (8 if snapped else 0))
    again = decode_frame(other, options)
    assert again.path is kept.path and again == decode_frame_fully(other, options)
    severities = [p.severity for p in again.problems if p.layer == "mobility"]
    assert severities == ["warning" if snapped else "error"]


def test_a_kept_prefix_is_only_for_its_own_options() -> None:
    """A DSMIPv6 UDP frame kept under options that read UDP 4191 is no template under options
    that do not (an entry under their id holding the other options is stale): decoded in full."""
    frame, packet = _plain_bu()
    inner = frame.data[14:]
    udp = (4191).to_bytes(2, "big") * 2 + (8 + len(inner)).to_bytes(2, "big") + b"\0\0"
    outer = bytearray(frame.data[14:54])  # the BU's IPv6 header as the outer one
    outer[4:6] = (len(udp) + len(inner)).to_bytes(2, "big")
    outer[6] = 17
    wrapped = dataclasses.replace(frame, data=frame.data[:14] + bytes(outer) + udp + inner,
                                  wire_length=14 + len(outer) + len(udp) + len(inner))
    reads, ignores = DecodeOptions(repeats=True), DecodeOptions(repeats=True, udp_ports=frozenset({9}))
    kept = decode_frame(wrapped, reads)
    assert kept.mobility is not None and kept.path.tunnel == "udp" and not kept.problems
    (key, value), = [(k, v) for k, v in decode_module._PREFIXES.items() if v[1].path is kept.path]
    decode_module._PREFIXES[(id(ignores), *key[1:])] = value  # stale: holds the other options
    decode_module._REPEATS.clear()
    assert decode_frame(wrapped, ignores) == decode_frame_fully(wrapped, ignores)
    assert decode_frame_fully(wrapped, ignores).mobility is None


def test_a_frame_cut_short_is_no_repeat_of_its_uncut_prefix() -> None:
    """A kept BU's frame cut to the length of another kept frame whose MH starts at the same
    offset (a Binding Refresh Request after the same headers): its bytes before the MH are the
    BU's, but its IP payload now ends early, which only the full walk reports."""
    options = OPTIONS[0]
    frame, packet = _plain_bu()
    m = packet.mobility
    assert m is not None
    kept = decode_frame(frame, options)
    data = bytearray(frame.data[: m.offset]) + bytes([59, 0, 0, 0, 0, 0, 0, 0])  # BRR: 8 bytes of MH
    data[18:20] = (len(data) - 54).to_bytes(2, "big")  # the IPv6 Payload Length
    brr = decode_frame(dataclasses.replace(_with_mh(frame, packet, data), wire_length=len(data)), options)
    assert brr.mobility is not None and brr.mobility.type_name == "BRR" and not brr.problems
    cut = dataclasses.replace(frame, data=frame.data[: len(data)], wire_length=len(data))
    again = decode_frame(cut, options)
    assert again.path is not kept.path and again == decode_frame_fully(cut, options)
    assert any(p.layer == "ipv6" for p in again.problems)
