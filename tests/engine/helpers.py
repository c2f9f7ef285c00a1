"""Small builders of decoded records for engine tests (no wire bytes involved).

Addresses follow draft Appendix A: the MN's home address, three CoAs, one HA, one CN.
"""

from __future__ import annotations

import itertools
from typing import Any

from dissector.codepoints import BU_FLAGS, Dialect
from dissector.records import (
    BindingAck,
    BindingIdentifier,
    BindingRefreshRequest,
    BindingUpdate,
    MobileNetworkPrefix,
    MobilityMessage,
    MobilityOption,
    Packet,
    PacketPath,
    TrafficCount,
)
from mcoaviz.engine.engine import BindingEngine

HOA = "2001:db8:a::100"
HA = "2001:db8:a::1"
CN = "2001:db8:c::1"
COA1, COA2, COA3 = "2001:db8:1::100", "2001:db8:2::100", "2001:db8:3::100"

_frames = itertools.count(1)


def bid(value: int, coa: str | None = None, *, status: int = 0, flags: int = 0,
        dialect: Dialect = Dialect.RFC5648) -> BindingIdentifier:
    length = 4 if coa is None else (8 if ":" not in coa else 20)
    if dialect is Dialect.DRAFT05 and coa is not None:
        flags |= 0x80 | (0x10 if length == 8 else 0)  # C (and D)
    return BindingIdentifier(offset=12, length=length, bid=value, status=status, flags_byte=flags,
                             coa=coa, dialect=dialect)


def _flags_word(letters: str) -> int:
    table = dict(BU_FLAGS)
    word = 0
    for letter in letters:
        word |= table[letter]
    return word


def bu(time: float, *, seq: int, lifetime: int = 60, flags: str = "AH", src: str = COA1,
       dst: str = HA, hoa: str = HOA, bids: tuple[BindingIdentifier, ...] = (),
       options: tuple[MobilityOption, ...] = (), frame: int | None = None, interface: int = 0,
       hao: bool = True, outer_src: str | None = None, outer_dst: str | None = None,
       tunnel: str | None = None, o_header: bool = False) -> Packet:
    word = _flags_word(flags) | (0x0040 if o_header else 0)
    letters = tuple(letter for letter, mask in BU_FLAGS if word & mask)
    body = BindingUpdate(seq=seq, flags_word=word, lifetime=lifetime, flags=letters)
    message = MobilityMessage(offset=54, mh_type=5, type_name="BU", payload_proto=59, header_len=16,
                              checksum=(seq * 7 + lifetime) & 0xFFFF, checksum_ok=True, body=body,
                              options=tuple(options) + tuple(bids))
    path = PacketPath(src=src, dst=dst, home_address_option=hoa if hao and src != hoa else None,
                      outer_src=outer_src, outer_dst=outer_dst, tunnel=tunnel, protocol=135)
    return Packet(frame=next(_frames) if frame is None else frame, time=time, interface=interface,
                  wire_length=120, path=path, mobility=message)


def ba(time: float, *, seq: int, status: int = 0, lifetime: int = 60, src: str = HA,
       dst: str = COA1, hoa: str = HOA, bids: tuple[BindingIdentifier, ...] = (),
       frame: int | None = None, interface: int = 0, rh2: bool = True) -> Packet:
    body = BindingAck(status=status, flags_byte=0, seq=seq, lifetime=lifetime, flags=())
    message = MobilityMessage(offset=54, mh_type=6, type_name="BA", payload_proto=59, header_len=16,
                              checksum=(seq * 11 + status) & 0xFFFF, checksum_ok=True, body=body,
                              options=tuple(bids))
    path = PacketPath(src=src, dst=dst, routing_type2=hoa if rh2 and dst != hoa else None, protocol=135)
    return Packet(frame=next(_frames) if frame is None else frame, time=time, interface=interface,
                  wire_length=100, path=path, mobility=message)


def brr(time: float, *, src: str = HA, dst: str = COA1, hoa: str = HOA,
        bids: tuple[BindingIdentifier, ...] = ()) -> Packet:
    message = MobilityMessage(offset=54, mh_type=0, type_name="BRR", payload_proto=59, header_len=8,
                              checksum=1, checksum_ok=True, body=BindingRefreshRequest(), options=bids)
    path = PacketPath(src=src, dst=dst, routing_type2=hoa, protocol=135)
    return Packet(frame=next(_frames), time=time, interface=0, wire_length=80, path=path, mobility=message)


def mnp(prefix: str, length: int = 64) -> MobileNetworkPrefix:
    return MobileNetworkPrefix(offset=30, prefix_length=length, prefix=prefix)


def data(time: float, *, via: str, src: str, dst: str, outer_src: str | None = None,
         outer_dst: str | None = None, hao: str | None = None, rh2: str | None = None,
         size: int = 1000, interface: int = 0) -> Packet:
    tunnel = {"tunnel": "ip6ip6", "udp": "udp"}.get(via)
    path = PacketPath(src=src, dst=dst, outer_src=outer_src, outer_dst=outer_dst, tunnel=tunnel,
                      home_address_option=hao, routing_type2=rh2, protocol=17)
    return Packet(frame=next(_frames), time=time, interface=interface, wire_length=size, path=path)


def count(first: float, *, via: str, packets: int, nbytes: int, src: str, dst: str,
          outer_src: str | None = None, outer_dst: str | None = None, hao: str | None = None,
          rh2: str | None = None, last: float | None = None, interface: int = 0) -> TrafficCount:
    return TrafficCount(interface=interface, second=int(first), via=via, outer_src=outer_src,
                        outer_dst=outer_dst, src=src, dst=dst, home_address_option=hao,
                        routing_type2=rh2, packets=packets, bytes=nbytes, first=first,
                        last=first if last is None else last)


def run(*packets: Packet, end: float | None = None, engine: BindingEngine | None = None) -> BindingEngine:
    engine = engine or BindingEngine()
    for packet in packets:
        engine.feed(packet)
    engine.finish(end if end is not None else max(p.time for p in packets) + 1)
    return engine


def intervals(engine: BindingEngine, node: str | None = None) -> list[tuple[Any, ...]]:
    """(node-less) (hoa, bid, coa, start, end, end_reason) rows, as in the draft's tables."""
    return [(r.bid, r.coa, r.start, r.end, r.end_reason) for r in engine.bindings()
            if node is None or r.node == node]


def table(engine: BindingEngine, node: str, at: float) -> set[tuple[str, str, int | None]]:
    """The draft's 'binding [HoA CoA BID]' lines of one node's cache at time ``at``."""
    return {(row["hoa"], row["coa"], row["bid"]) for row in engine.state_at(at).bindings
            if row["node"] == node}
