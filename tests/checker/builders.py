"""Hand-made decoded records for checker tests, and a runner through the real engine + checker.

Frames and times are assigned by ``check``: the n-th packet given is frame n at time 1000 + n
(unless a packet sets ``at=``), so expected findings can be written by hand as (frame, code).
Addresses: the MN's home address, three CoAs, one HA, one CN (draft Appendix A style).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from dissector.codepoints import BU_FLAGS, Dialect
from dissector.records import (
    BindingAck,
    BindingError,
    BindingIdentifier,
    BindingRefreshRequest,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    EspInfo,
    HomeTestInit,
    Icmp6Message,
    IkeHeader,
    MobilityMessage,
    MobilityOption,
    Packet,
    PacketPath,
    Problem,
    RawMessage,
    TrafficCount,
)
from mcoaviz.checker import Checker, CheckerConfig, Finding
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.pipeline import AnalysisOptions, Pipeline, run_pipeline
from mcoaviz.sources import open_capture

HOA = "2001:db8:a::100"
HOA2 = "2001:db8:a::200"
HA = "2001:db8:a::1"
CN = "2001:db8:c::1"
COA1, COA2, COA3 = "2001:db8:1::100", "2001:db8:2::100", "2001:db8:3::100"
V4COA = "192.0.2.7"
HA4 = "198.51.100.1"
MN_MAC = b"\x02\x00\x00\x00\x00\x01"
HA_MAC = b"\x02\x00\x00\x00\x00\xaa"
ROUTER_MAC = b"\x02\x00\x00\x00\x00\xbb"  # another router on the home link
RFC = Dialect.RFC5648
DRAFT = Dialect.DRAFT05
DRAFT_FLAGS = {"C": 0x80, "O": 0x40, "H": 0x20, "D": 0x10}


def bid(value: int, coa: str | None = None, *, status: int = 0, flags: int = 0,
        length: int | None = None, dialect: Dialect = RFC) -> BindingIdentifier:
    """An RFC 5648 BID option (flags byte given raw; Length from the CoA unless given)."""
    if length is None:
        length = 4 if coa is None else (8 if ":" not in coa else 20)
    return BindingIdentifier(offset=12, length=length, bid=value, status=status, flags_byte=flags,
                             coa=coa, dialect=dialect)


def dbid(value: int, coa: str | None = None, flags: str = "", *, status: int = 0,
         length: int | None = None) -> BindingIdentifier:
    """A draft-05 BID option; ``flags`` are letters among C, O, H, D (nothing implied)."""
    byte = 0
    for letter in flags:
        byte |= DRAFT_FLAGS[letter]
    return bid(value, coa, status=status, flags=byte, length=length, dialect=DRAFT)


def _mh(type_name: str, mh_type: int, body: object, options: Iterable[MobilityOption],
        checksum_ok: bool | None = True) -> MobilityMessage:
    return MobilityMessage(offset=54, mh_type=mh_type, type_name=type_name, payload_proto=59,
                           header_len=24, checksum=0x1234, checksum_ok=checksum_ok, body=body,  # type: ignore[arg-type]
                           options=tuple(options))


def _packet(path: PacketPath, mobility: MobilityMessage | None = None, icmp6: Icmp6Message | None = None,
            problems: tuple[Problem, ...] = (), at: float | None = None) -> Packet:
    return Packet(frame=0, time=-1.0 if at is None else at, interface=0, wire_length=120, path=path,
                  mobility=mobility, icmp6=icmp6, problems=problems)


def bu(seq: int, *options: MobilityOption, lifetime: int = 400, flags: str = "AH", src: str = COA1,
       dst: str = HA, hoa: str = HOA, o_header: bool = False, checksum_ok: bool | None = True,
       tunnel: str | None = None, outer_src: str | None = None, outer_dst: str | None = None,
       mac_src: bytes | None = None, problems: tuple[Problem, ...] = (), at: float | None = None) -> Packet:
    table = dict(BU_FLAGS)
    word = sum(table[letter] for letter in flags) | (0x0040 if o_header else 0)
    letters = tuple(letter for letter, mask in BU_FLAGS if word & mask)
    body = BindingUpdate(seq=seq, flags_word=word, lifetime=lifetime, flags=letters)
    path = PacketPath(src=src, dst=dst, home_address_option=hoa if src != hoa else None, tunnel=tunnel,
                      outer_src=outer_src, outer_dst=outer_dst, mac_src=mac_src, protocol=135)
    return _packet(path, _mh("BU", 5, body, options, checksum_ok), problems=problems, at=at)


def ba(seq: int, *options: MobilityOption, status: int = 0, lifetime: int = 400, src: str = HA,
       dst: str = COA1, hoa: str = HOA, mac_src: bytes | None = None, at: float | None = None) -> Packet:
    body = BindingAck(status=status, flags_byte=0, seq=seq, lifetime=lifetime, flags=())
    path = PacketPath(src=src, dst=dst, routing_type2=hoa if dst != hoa else None, mac_src=mac_src,
                      protocol=135)
    return _packet(path, _mh("BA", 6, body, options), at=at)


def brr(*options: MobilityOption, src: str = HA, dst: str = COA1, hoa: str = HOA,
        at: float | None = None) -> Packet:
    path = PacketPath(src=src, dst=dst, routing_type2=hoa, protocol=135)
    return _packet(path, _mh("BRR", 0, BindingRefreshRequest(), options), at=at)


def be(*, home_address: str = HOA, status: int = 1, src: str = CN, dst: str = COA2) -> Packet:
    """Binding Error (6275 §6.1.9) about ``home_address``, sent to the offending source."""
    path = PacketPath(src=src, dst=dst, protocol=135)
    return _packet(path, _mh("BE", 7, BindingError(status, home_address), ()))


def coti(*options: MobilityOption, src: str = COA1, dst: str = CN, cookie: bytes = b"c" * 8) -> Packet:
    path = PacketPath(src=src, dst=dst, protocol=135)
    return _packet(path, _mh("CoTI", 2, CareOfTestInit(cookie), options))


def cot(*options: MobilityOption, src: str = CN, dst: str = COA1, cookie: bytes = b"c" * 8) -> Packet:
    path = PacketPath(src=src, dst=dst, protocol=135)
    return _packet(path, _mh("CoT", 4, CareOfTest(1, cookie, b"k" * 8), options))


def hoti(*, src: str = HOA, dst: str = CN, cookie: bytes = b"h" * 8, outer_src: str | None = None,
         outer_dst: str = HA, at: float | None = None) -> Packet:
    """HoTI HoA -> CN: reverse-tunnelled (6in6 from ``outer_src`` to the HA) or, without
    ``outer_src``, as the HA forwards it."""
    path = PacketPath(src=src, dst=dst, outer_src=outer_src, outer_dst=outer_dst if outer_src else None,
                      tunnel="ip6ip6" if outer_src else None, protocol=135)
    return _packet(path, _mh("HoTI", 1, HomeTestInit(cookie), ()), at=at)


def mps(*, src: str = COA1, dst: str = HA, hoa: str = HOA, identifier: int = 9,
        at: float | None = None) -> Packet:
    """Mobile Prefix Solicitation (ICMPv6 146) from a CoA with the Home Address option."""
    path = PacketPath(src=src, dst=dst, home_address_option=hoa, protocol=58)
    return _packet(path, icmp6=Icmp6Message(type=146, code=0, identifier=identifier), at=at)


def mpa(*, src: str = HA, dst: str = COA1, hoa: str = HOA, identifier: int = 9,
        at: float | None = None) -> Packet:
    """Mobile Prefix Advertisement (ICMPv6 147) to a CoA with a type 2 routing header."""
    path = PacketPath(src=src, dst=dst, routing_type2=hoa, protocol=58)
    return _packet(path, icmp6=Icmp6Message(type=147, code=0, identifier=identifier), at=at)


def raw_mh(type_name: str, mh_type: int, *options: MobilityOption, src: str = COA1, dst: str = HA) -> Packet:
    path = PacketPath(src=src, dst=dst, protocol=135)
    return _packet(path, _mh(type_name, mh_type, RawMessage(b""), options))


def nd(icmp_type: int, target: str, *, src: str = HOA, mac_src: bytes | None = MN_MAC,
       at: float | None = None) -> Packet:
    """Neighbor Solicitation (135) / Advertisement (136) about ``target`` (DAD: ``src="::"``)."""
    path = PacketPath(src=src, dst="ff02::1", mac_src=mac_src, protocol=58)
    return _packet(path, icmp6=Icmp6Message(type=icmp_type, code=0, target=target), at=at)


def ra(prefix: str, *, mac_src: bytes, src: str = "fe80::1") -> Packet:
    """Router Advertisement with one prefix, from the router with ``mac_src``."""
    path = PacketPath(src=src, dst="ff02::1", mac_src=mac_src, protocol=58)
    return _packet(path, icmp6=Icmp6Message(type=134, code=0, prefixes=(prefix,)))


IKE_SA_INIT, IKE_AUTH, INFORMATIONAL = 34, 35, 37


def ike(exchange: int, *, src: str = COA1, dst: str = HA, ispi: int = 0x11, rspi: int = 0x22,
        initiator: bool = True, response: bool = False) -> Packet:
    """An IKEv2 message on UDP 500: only its header (RFC 7296 §3.1)."""
    flags = (0x08 if initiator else 0) | (0x20 if response else 0)
    header = IkeHeader(ispi, rspi, 33, 2, 0, exchange, flags, 1, 28)
    path = PacketPath(src=src, dst=dst, protocol=17)
    return dataclasses.replace(_packet(path), ike=header)


def esp(*, src: str = COA1, dst: str = HA, spi: int = 0x100) -> Packet:
    """An (encrypted) ESP packet between ``src`` and ``dst``."""
    path = PacketPath(src=src, dst=dst, protocol=50)
    return dataclasses.replace(_packet(path), esp=EspInfo(spi, 1, False))


def data(*, src: str, dst: str, hao: str | None = None, outer_src: str | None = None,
         outer_dst: str | None = None, tunnel: str | None = None, at: float | None = None,
         mac_src: bytes | None = None, mac_dst: bytes | None = None) -> Packet:
    path = PacketPath(src=src, dst=dst, outer_src=outer_src, outer_dst=outer_dst, tunnel=tunnel,
                      home_address_option=hao, protocol=17, mac_src=mac_src, mac_dst=mac_dst)
    return _packet(path, at=at)


def rows(first: float, *, via: str, src: str, dst: str, hao: str | None = None,
         outer_src: str | None = None, outer_dst: str | None = None, packets: int = 5) -> TrafficCount:
    return TrafficCount(interface=0, second=int(first), via=via, outer_src=outer_src, outer_dst=outer_dst,
                        src=src, dst=dst, home_address_option=hao, routing_type2=None, packets=packets,
                        bytes=packets * 100, first=first, last=first)


def number(packets: Iterable[Packet]) -> list[Packet]:
    """Frame n (1-based) at time 1000 + n unless the packet set its own time."""
    out = []
    for i, p in enumerate(packets, start=1):
        out.append(dataclasses.replace(p, frame=i, time=p.time if p.time >= 0 else 1000.0 + i))
    return out


def check(*packets: Packet, dialect: Dialect = RFC, config: CheckerConfig | None = None,
          end: float | None = None) -> list[Finding]:
    """Feed the packets through the real engine and checker; all findings. A streaming checker
    (per-answer rules run as the engine emits each outcome) watches the same events and must
    find exactly the same: every rule test is also a test of the streaming form."""
    numbered = number(packets)
    engine = BindingEngine()
    checker = Checker(config or CheckerConfig(dialect=dialect))
    streaming = Checker(config or CheckerConfig(dialect=dialect), streaming=True)
    for p in numbered:
        events = engine.feed(p)
        checker.observe(p, events)
        streaming.observe(p, events)
    last = max(p.time for p in numbered)
    events = engine.finish(end if end is not None else last + 1)
    checker.observe_traffic([], events)
    streaming.observe_traffic([], events)
    found = checker.finish(engine)
    assert streaming.finish(engine) == found, "the streaming checker found something else"
    return found


def hits(findings: list[Finding], code: str) -> list[int | None]:
    return sorted((f.frame for f in findings if f.rule == code), key=lambda x: -1 if x is None else x)


def to_draft(packet: Packet) -> Packet:
    """The same packet as a draft-05 node would send it: RFC H (0x80) becomes draft H (0x20), a
    CoA field sets C (and D when IPv4), the BU header O moves into every BID option (§4.2.1)."""
    mh = packet.mobility
    if mh is None or not mh.bids:
        return packet
    body = mh.body
    header_o = isinstance(body, BindingUpdate) and "O" in body.flags
    options = []
    for o in mh.options:
        if isinstance(o, BindingIdentifier) and o.dialect is RFC:
            flags = (0x20 if o.flags_byte & 0x80 else 0) | (o.flags_byte & 0x0F)
            if o.coa is not None and mh.type_name == "BU":
                flags |= 0x80 | (0x10 if o.length == 8 else 0)
            if header_o:
                flags |= 0x40
            o = dataclasses.replace(o, flags_byte=flags, dialect=DRAFT)
        options.append(o)
    if header_o:
        assert isinstance(body, BindingUpdate)
        body = dataclasses.replace(body, flags_word=body.flags_word & ~0x0040,
                                   flags=tuple(f for f in body.flags if f != "O"))
    return dataclasses.replace(packet, mobility=dataclasses.replace(mh, body=body, options=tuple(options)))


def analysed(path: Path, history: str) -> Pipeline:
    """A whole capture through the pipeline with ``history`` ("all": the batch checker, "read":
    the streaming one), finished: the tests that compare both forms read its engine and checker."""
    pipeline = Pipeline(AnalysisOptions(history=history), name=str(path))
    with open_capture(path) as capture:
        run_pipeline(pipeline, capture)
    return pipeline
