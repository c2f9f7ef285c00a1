"""Simple IPv6 fragment reassembly: a fragmented BU comes out whole and decodes."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from dissector.decode import decode_frame
from dissector.fragments import Reassembler
from dissector.records import BindingUpdate, Frame
from tests.dissector.handbuilt import HA, MN_COA, MN_HOA, a6, bid, bu_body, dest_opts_hao, ethernet, ipv6, mh

ETH_IP6 = 14 + 40


def fragments(payload: bytes, size: int, ident: int = 77, first_next: int = 60) -> list[bytes]:
    """IPv6 fragments of ``payload`` (what follows the Fragment header), ``size`` bytes each."""
    out = []
    for offset in range(0, len(payload), size):
        piece = payload[offset : offset + size]
        more = offset + size < len(payload)
        header = struct.pack("!BBHI", first_next, 0, offset | int(more), ident)
        out.append(ethernet(ipv6(MN_COA, HA, 44, header + piece)))
    return out


def bulk_bu() -> bytes:
    body = bu_body(5, 0x8000, 10) + b"\x01\x04\0\0\0\0"  # PadN(6): first BID at 8n+2
    for n in range(1, 7):
        body += bid(n, coa=a6(f"2001:db8:{n}::1")) + b"\x01\x00"  # 24 bytes keep 8n+2
    return dest_opts_hao(135, MN_HOA) + mh(5, body, src=MN_HOA, dst=HA)


def as_frames(datas: list[bytes]) -> list[Frame]:
    return [Frame(i + 1, 100.0 + i, 0, 1, d, len(d)) for i, d in enumerate(datas)]


def test_fragmented_bu_is_reassembled_and_decodes() -> None:
    pieces = as_frames(fragments(bulk_bu(), 72))
    assert len(pieces) == 3 and all(decode_frame(f).fragment for f in pieces)
    reassembler = Reassembler()
    results = [reassembler.offer(f) for f in pieces]
    assert results[:2] == [None, None]
    whole = results[2]
    assert whole is not None and (whole.number, whole.time) == (3, 102.0)
    packet = decode_frame(whole)
    assert not packet.fragment and packet.problems == ()
    assert packet.path.home_address_option == MN_HOA
    assert packet.mobility is not None and isinstance(packet.mobility.body, BindingUpdate)
    assert packet.mobility.checksum_ok is True and [b.bid for b in packet.mobility.bids] == [1, 2, 3, 4, 5, 6]


def test_out_of_order_and_duplicates() -> None:
    pieces = as_frames(fragments(bulk_bu(), 72))
    reassembler = Reassembler()
    assert reassembler.offer(pieces[2]) is None
    assert reassembler.offer(pieces[0]) is None
    assert reassembler.offer(pieces[0]) is None  # exact duplicate
    whole = reassembler.offer(pieces[1])
    assert whole is not None and decode_frame(whole).mobility is not None


def test_overlap_drops_the_datagram() -> None:
    payload = bulk_bu()
    first = fragments(payload, 64)[0]
    overlapping = ethernet(ipv6(MN_COA, HA, 44, struct.pack("!BBHI", 60, 0, 8 | 1, 77) + payload[8:72]))
    reassembler = Reassembler()
    assert reassembler.offer(as_frames([first])[0]) is None
    assert reassembler.offer(as_frames([overlapping])[0]) is None
    assert reassembler.dropped == 1


def test_timeout_and_non_fragments() -> None:
    pieces = as_frames(fragments(bulk_bu(), 72))
    reassembler = Reassembler(timeout=1.0)
    assert reassembler.offer(pieces[0]) is None
    late = [Frame(f.number, f.time + 10, 0, 1, f.data, f.wire_length) for f in pieces[1:]]
    assert reassembler.offer(late[0]) is None and reassembler.offer(late[1]) is None
    assert reassembler.dropped == 1
    whole_packet = ethernet(ipv6(MN_HOA, HA, 59, b""))
    assert reassembler.offer(as_frames([whole_packet])[0]) is None


@settings(max_examples=200, deadline=None)
@given(data=st.lists(st.binary(max_size=120), max_size=6))
def test_arbitrary_fragments_never_raise(data: list[bytes]) -> None:
    reassembler = Reassembler()
    decoded = []
    for i, body in enumerate(data):
        header = struct.pack("!BBHI", 135, 0, (i * 16) | int(i < len(data) - 1), 1)
        result = reassembler.offer(as_frames([ethernet(ipv6(MN_COA, HA, 44, header + body))])[0])
        if result is not None:
            decoded.append(decode_frame(result))
    # decode_frame turns any exception into a Problem: none of those may appear, and a packet
    # made of these fragments (one datagram, id 1) still comes from the MN's CoA
    assert len(decoded) <= 1
    for packet in decoded:
        assert [p.reason for p in packet.problems if "internal decoder error" in p.reason] == []
        assert (packet.path.src, packet.path.dst) == (MN_COA, HA)
