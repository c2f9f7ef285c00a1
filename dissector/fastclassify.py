"""The fast path's full classifier and its cache-key plans (used by ``dissector.fastpath``).

``Classifier.classify`` decides, for one frame, whether it is plain bulk data the fast path
may count -- IPv6-in-IPv6, IPv4-in-IPv6, IPv6-in-IPv4, DSMIPv6 UDP with an inner IP packet,
route-optimised IPv6 (Home Address option / type 2 routing header), plain IPv6/IPv4 -- and
under which canonical addressing key. Anything with a Mobility Header, ICMPv6, ESP/AH,
fragments, unknown extension headers, inconsistent lengths or headers cut by the snap length
is refused (None). ``KeyPlan`` says which fixed-offset bytes decide that answer, so the fast
path can reuse it for every later packet with the same bytes.
"""

from __future__ import annotations

import struct
from typing import Any

from dissector.ike import IKE_PORTS
from dissector.link import parse_link

# Upper layers that make a packet plain data (Mobility Header 135/62, ICMPv6 58, ESP 50, AH 51,
# fragments 44, extension headers and nested tunnels are never in this set).
DATA_PROTOCOLS = frozenset({6, 17, 33, 59, 132, 136})  # TCP UDP DCCP no-next SCTP UDP-Lite

# link type -> (where the cache key starts, where the IP header starts), both from the frame
# start. The key begins at the link layer's protocol discriminator, so it is part of the key.
KEY_LAYOUTS: dict[int, tuple[int, int]] = {
    1: (12, 14),  # Ethernet: ethertype, then IP (one 802.1Q tag: VLAN_PLAN below)
    101: (0, 0),
    229: (0, 0),
    113: (14, 16),  # Linux SLL: protocol, then IP
    276: (0, 20),  # Linux SLL2: protocol first, then the rest of the 20-byte header
    0: (0, 4),  # BSD loopback: address family word
    108: (0, 4),
}

# IPv6 next header -> how many bytes from the IPv6 header start decide the classification
# (0 = never cached), and the least payload length those headers need.
KEY_SPAN = [0] * 256
MIN_PAYLOAD = [0] * 256
for _nh in DATA_PROTOCOLS:
    KEY_SPAN[_nh] = 40
KEY_SPAN[17], MIN_PAYLOAD[17] = 44, 8  # UDP: the ports decide whether it is DSMIPv6 encapsulation
KEY_SPAN[41], MIN_PAYLOAD[41] = 80, 40  # IPv6-in-IPv6: both headers
KEY_SPAN[60], MIN_PAYLOAD[60] = 64, 24  # Destination Options of 24 bytes (PadN + Home Address option)
KEY_SPAN[43], MIN_PAYLOAD[43] = 64, 24  # type 2 routing header (24 bytes)
IP6IP6 = 41
# Learned flows are kept while they are active: every SWEEP_SECONDS of capture time (at a flush)
# the flows idle for more than IDLE_SECONDS are forgotten, with their exact keys, row texts and the
# C table's slots; a flow seen again is learned again (level 3, in C). A learned flow costs ~1.5 KB
# of Python objects, and a home agent's mirror keeps starting new flows (TCP flights to new CoAs):
# without eviction the caches grew to ~120 MiB at 1 M packets. CACHE_LIMIT bounds a table between
# two sweeps (or when nothing is flushed: a capture without signalling); a full table starts over.
IDLE_SECONDS = 16
SWEEP_SECONDS = 8
CACHE_LIMIT = 1 << 14


class KeyPlan:
    """How to cut a cache key out of frames of one link type (see the module docstring).

    ``unpackers[nh]`` reads, from the key start: the link discriminator with the first 4
    bytes of the IPv6 header, the payload length, and the rest of the deciding headers --
    for IPv6-in-IPv6 split around the inner payload length. Keys are tuples of the byte
    strings, so the lengths are left out and checked per packet instead.
    """

    __slots__ = ("start", "ip", "need", "unpackers")

    def __init__(self, start: int, ip: int) -> None:
        self.start, self.ip, self.need = start, ip, ip + 40
        prefix = ip - start + 4
        self.unpackers: list[Any] = [None] * 256
        for nh in range(256):
            if nh == IP6IP6:
                self.unpackers[nh] = struct.Struct(f"!{prefix}sH38sH34s").unpack_from
            elif KEY_SPAN[nh]:
                self.unpackers[nh] = struct.Struct(f"!{prefix}sH{KEY_SPAN[nh] - 6}s").unpack_from

    def key(self, buf: Any, offset: int, caplen: int) -> tuple[tuple[bytes, ...] | None, int]:
        """(cache key or None, IPv6 payload length) of the frame at ``buf[offset:]``."""
        if caplen < self.need:
            return None, 0
        nh = buf[offset + self.ip + 6]
        unpack = self.unpackers[nh]
        if unpack is None or caplen < self.ip + KEY_SPAN[nh]:
            return None, 0
        if nh == IP6IP6:
            prefix, plen, middle, inner_plen, tail = unpack(buf, offset + self.start)
            return ((prefix, middle, tail) if inner_plen + 40 == plen else None), plen
        prefix, plen, rest = unpack(buf, offset + self.start)
        return ((prefix, rest) if plen >= MIN_PAYLOAD[nh] else None), plen


KEY_PLANS: dict[int, KeyPlan] = {linktype: KeyPlan(*layout) for linktype, layout in KEY_LAYOUTS.items()}
# Ethernet with one 802.1Q tag (a mirror port's usual frame): the key starts at the TPID, so the
# tag (VLAN id) and the inner EtherType are part of it; IP starts 4 bytes later.
VLAN_PLAN = KeyPlan(12, 18)
ETHERNET = 1


def plan_for(linktype: int, buf: Any, offset: int, caplen: int) -> KeyPlan | None:
    """The key plan of one frame: its link type's, or the single-VLAN-tag plan for tagged Ethernet."""
    if linktype == ETHERNET and caplen > 13 and buf[offset + 12] == 0x81 and buf[offset + 13] == 0:
        return VLAN_PLAN
    return KEY_PLANS.get(linktype)

TUNNEL, UDP, ROUTE_OPTIMISED, PLAIN = "tunnel", "udp", "route-optimised", "plain"

# canonical key: (via, outer address pair | None, inner address pair, HAO | None, RH2 | None);
# an address pair is src+dst as 8 (IPv4) or 32 (IPv6) raw bytes.
Canonical = tuple[str, bytes | None, bytes, bytes | None, bytes | None]


class Classifier:
    """Full classification of one frame (the slow part of the fast path)."""

    def __init__(self, udp_ports: frozenset[int]) -> None:
        self.udp_ports = udp_ports

    def classify(
        self, linktype: int, frame: bytes, wire_length: int
    ) -> tuple[Canonical, int, int | None] | None:
        """(canonical key, IP offset, end of the headers that decide it, None if not cacheable)."""
        link = parse_link(linktype, frame)
        if link.network is None or link.problems:
            return None
        n = link.offset
        if len(frame) < n + 20:
            return None
        version = frame[n] >> 4
        if link.network and link.network != version:
            return None
        if version == 6:
            return self._ipv6(frame, n, wire_length)
        if version == 4:
            found = self._ipv4(frame, n, wire_length)
            return None if found is None else (found, n, None)
        return None

    def _ipv6(self, frame: bytes, n: int, wire_length: int) -> tuple[Canonical, int, int | None] | None:
        if len(frame) < n + 40:
            return None
        end = n + 40 + int.from_bytes(frame[n + 4 : n + 6], "big")
        if end > wire_length:
            return None
        nh, pair, p = frame[n + 6], frame[n + 8 : n + 40], n + 40
        hao = rh2 = None
        if (
            nh == 43
            and len(frame) >= p + 24
            and frame[p + 1] == 2
            and frame[p + 2] == 2
            and frame[p + 3] <= 1
        ):
            rh2, nh, p = frame[p + 8 : p + 24], frame[p], p + 24
        if nh == 60:
            hao, nh, p = _home_address_option(frame, p, end)
            if hao is None:
                return None
        if p > end:
            return None
        if hao is not None or rh2 is not None:
            if nh not in DATA_PROTOCOLS:
                return None
            cacheable = nh != 17 and (rh2 is None) != (hao is None)  # a single 24-byte header
            return (ROUTE_OPTIMISED, None, pair, hao, rh2), n, p if cacheable else None
        if nh == 41 or nh == 4:
            inner = _inner(frame, p, end, 6 if nh == 41 else 4)
            if inner is None:
                return None
            return (TUNNEL, pair, inner, None, None), n, p + 40 if nh == 41 else None
        if nh == 17:
            return self._udp(frame, pair, n, p, end)
        if nh in DATA_PROTOCOLS:
            return (PLAIN, None, pair, None, None), n, p
        return None

    def _ipv4(self, frame: bytes, n: int, wire_length: int) -> Canonical | None:
        if frame[n] != 0x45 or frame[n + 6] & 0x3F or frame[n + 7]:  # options, MF or offset: slow path
            return None
        end = n + int.from_bytes(frame[n + 2 : n + 4], "big")
        if end > wire_length or end < n + 20:
            return None
        proto, pair, p = frame[n + 9], frame[n + 12 : n + 20], n + 20
        if proto == 41:
            inner = _inner(frame, p, end, 6)
            return None if inner is None else (TUNNEL, pair, inner, None, None)
        if proto == 17:
            found = self._udp(frame, pair, n, p, end)
            return None if found is None else found[0]
        if proto in DATA_PROTOCOLS:
            return (PLAIN, None, pair, None, None)
        return None

    def _udp(
        self, frame: bytes, pair: bytes, n: int, p: int, end: int
    ) -> tuple[Canonical, int, int | None] | None:
        if len(frame) < p + 8:
            return None
        ports = self.udp_ports
        sport, dport = int.from_bytes(frame[p : p + 2], "big"), int.from_bytes(frame[p + 2 : p + 4], "big")
        if sport in IKE_PORTS or dport in IKE_PORTS:
            return None  # IKE (draft §9.1) and ESP in UDP: rare, decoded on the slow path
        if sport in ports or dport in ports:
            if p + int.from_bytes(frame[p + 4 : p + 6], "big") != end or len(frame) < p + 9:
                return None
            inner = _inner(frame, p + 8, end, frame[p + 8] >> 4)
            return None if inner is None else ((UDP, pair, inner, None, None), n, None)
        if end < p + 8:
            return None
        return (PLAIN, None, pair, None, None), n, p + 4


def _inner(frame: bytes, p: int, end: int, version: int) -> bytes | None:
    """Address pair of a tunnelled data packet filling ``frame[p:end]`` exactly, else None."""
    if version == 6:
        if (
            len(frame) < p + 40
            or frame[p] >> 4 != 6
            or p + 40 + int.from_bytes(frame[p + 4 : p + 6], "big") != end
            or frame[p + 6] not in DATA_PROTOCOLS
        ):
            return None
        return frame[p + 8 : p + 40]
    if version == 4:
        if (
            len(frame) < p + 20
            or frame[p] != 0x45
            or frame[p + 6] & 0x3F
            or frame[p + 7]
            or p + int.from_bytes(frame[p + 2 : p + 4], "big") != end
            or frame[p + 9] not in DATA_PROTOCOLS
        ):
            return None
        return frame[p + 12 : p + 20]
    return None


def _home_address_option(frame: bytes, p: int, end: int) -> tuple[bytes | None, int, int]:
    """(HAO address, next header, offset after) of a Destination Options header at ``p``.

    Only padding and one Home Address option are allowed; anything else is "odd" (None).
    """
    if len(frame) < p + 8:
        return None, 0, p
    nh, size = frame[p], (frame[p + 1] + 1) * 8
    if p + size > end or len(frame) < p + size:
        return None, 0, p
    hao, o = None, p + 2
    while o < p + size:
        kind = frame[o]
        if kind == 0:
            o += 1
            continue
        if o + 2 > p + size:
            return None, 0, p
        length = frame[o + 1]
        if kind == 0xC9 and length == 16 and hao is None and o + 18 <= p + size:
            hao = frame[o + 2 : o + 18]
        elif kind != 1:
            return None, 0, p
        o += 2 + length
    if o != p + size:
        return None, 0, p
    return hao, nh, p + size
