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


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    decode_module._REPEATS.clear()
    decode_module._SHAPES.clear()
    yield
    decode_module._REPEATS.clear()
    decode_module._SHAPES.clear()


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
    wrong = decode_frame(variant(frame, packet, 4242, "wrong", 100), options)
    assert wrong.mobility is not None and wrong.mobility.checksum_ok is False and wrong.path is not kept.path


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
            packet_again = decode_frame(other, options)
            assert packet_again.path is not kept.path, at
            assert packet_again == decode_frame_fully(other, options), at


def _seq_at(mh_type: int) -> int:
    return 6 if mh_type == 5 else 8


def test_without_repeats_nothing_is_kept() -> None:
    """The analysis keeps packets itself (the checker's): its DecodeOptions keep no repeats."""
    frame, _ = bu_ba(DecodeOptions())[0]
    plain = DecodeOptions()
    first, again = decode_frame(frame, plain), decode_frame(frame, plain)
    assert first == again and first.path is not again.path
    assert not decode_module._REPEATS and not decode_module._SHAPES
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
            assert other.path is not kept.path and other == decode_frame_fully(wrong, options)
            assert other.mobility is not None and other.mobility.checksum_ok is False
    assert checked > 10
