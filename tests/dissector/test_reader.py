"""The bounded frame cursor."""

from __future__ import annotations

import pytest

from dissector.errors import Truncated
from dissector.reader import Reader


def test_pulls_in_network_order() -> None:
    r = Reader(bytes.fromhex("01 0203 04050607") + bytes(16) + bytes([192, 0, 2, 1]))
    assert (r.pull_u8(), r.pull_u16(), r.pull_u32()) == (1, 0x0203, 0x04050607)
    assert r.pull_ipv6() == "::" and r.pull_ipv4() == "192.0.2.1"
    assert r.eof() and r.tell() == 27


def test_truncated_names_the_offset() -> None:
    r = Reader(b"\x00\x01\x02", pos=1)
    with pytest.raises(Truncated) as info:
        r.pull_u32()
    assert info.value.offset == 1 and "need 4 bytes" in info.value.reason
    assert r.tell() == 1  # a failed pull does not move


def test_bounded_reader_keeps_frame_offsets_and_limits() -> None:
    r = Reader(bytes(range(10)))
    inner = r.bounded(4, 6)
    assert inner.tell() == 4 and inner.remaining() == 2
    assert inner.pull_bytes(2) == b"\x04\x05"
    with pytest.raises(Truncated):
        inner.pull_u8()
    assert r.bounded(8, 100).end == 10


def test_seek_skip_and_peek() -> None:
    r = Reader(bytes(range(8)))
    r.seek(8)
    assert r.eof()
    with pytest.raises(Truncated):
        r.seek(9)
    r.seek(2)
    r.skip(3)
    assert r.peek_u8() == 5 and r.tell() == 5
    with pytest.raises(Truncated):
        r.peek_u8(8)
