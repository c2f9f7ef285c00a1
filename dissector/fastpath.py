"""FastPath: count bulk data packets at fixed offsets, without building any decoder objects.

A home agent's mirror port carries millions of tunnelled data packets around a little
signalling. Only signalling and unusual packets need ``decode_frame``; the rest only need
counting per (interface, second, addressing). ``offer`` answers True when a packet was
counted here, False when it must go to the slow path. It accepts only packets it fully
understands: IPv6-in-IPv6, IPv4-in-IPv6, IPv6-in-IPv4, DSMIPv6 UDP with an inner IP packet,
route-optimised IPv6 (Home Address option / type 2 routing header) and plain IPv6/IPv4 data.
Anything carrying a Mobility Header, ICMPv6, ESP/AH, fragments, unknown extension headers,
inconsistent lengths or a header cut by the snap length goes to the slow path.

How it stays fast -- validated header bytes as dictionary keys, at two levels:

1. *exact*: the bytes from the link discriminator to the end of the headers that decide the
   classification (``KEY_SPAN``), lengths included, as one slice. Finding them among the
   current (interface, second) bin's keys proves the packet classifies like the one that put
   them there; only "the wire holds what the header claims" is checked. One slice, one
   ``dict.get``: this is the hot path, hit by every packet of a flow with a size seen before
   in that bin (most packets: full-size segments and pure ACKs).
2. On a miss: the same exact bytes validated earlier in the capture (``_exact``, a new bin
   after a flush or a new second); else the bytes without the length fields
   (``KeyPlan.key``, one ``struct`` unpack) among the flows validated earlier (``_known``),
   with the lengths checked on the spot (inner length + 40 = outer payload length, headers
   fit). This catches new sizes of known flows.
3. Otherwise the packet is classified in full (``_classify``); if it is bulk data whose
   classification depends only on fixed-offset bytes (IPv6 outer headers; never an IPv4 header
   with its per-packet ID and checksum, never UDP encapsulation, no VLAN tags), its keys are
   remembered; if not, it is counted under its canonical key, and each such packet is
   classified in full.

Addresses stay raw bytes until ``flush`` turns the bins into :class:`TrafficCount` rows.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from dissector.capture.limits import RawRecord
from dissector.link import parse_link
from dissector.records import Frame, TrafficCount

# Upper layers that make a packet plain data (Mobility Header 135/62, ICMPv6 58, ESP 50, AH 51,
# fragments 44, extension headers and nested tunnels are never in this set).
DATA_PROTOCOLS = frozenset({6, 17, 33, 59, 132, 136})  # TCP UDP DCCP no-next SCTP UDP-Lite

# link type -> (where the cache key starts, where the IP header starts), both from the frame
# start. The key begins at the link layer's protocol discriminator, so it is part of the key.
KEY_LAYOUTS: dict[int, tuple[int, int]] = {
    1: (12, 14),  # Ethernet: ethertype, then IP (VLAN-tagged frames never match a key)
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
CACHE_LIMIT = 1 << 19  # forget validated keys beyond this many (a memory bound)


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

TUNNEL, UDP, ROUTE_OPTIMISED, PLAIN = "tunnel", "udp", "route-optimised", "plain"

# canonical key: (via, outer address pair | None, inner address pair, HAO | None, RH2 | None);
# an address pair is src+dst as 8 (IPv4) or 32 (IPv6) raw bytes.
Canonical = tuple[str, bytes | None, bytes, bytes | None, bytes | None]


class _HasUdpPorts(Protocol):
    udp_ports: frozenset[int]


class FastPath:
    """Classifier and per-second aggregator for bulk data (see the module docstring)."""

    def __init__(self, options: _HasUdpPorts) -> None:
        self.udp_ports = frozenset(options.udp_ports)
        # (interface, second) -> {exact key | canonical: [packets, bytes, first, last, min wire, canonical]}
        self._bins: dict[tuple[int, int], dict[Any, list[Any]]] = {}
        # validated so far in the capture: flow keys (no lengths) and exact header bytes
        self._known: dict[tuple[bytes, ...], Canonical] = {}
        self._exact: dict[bytes, tuple[Canonical, int]] = {}
        self.accepted = 0  # packets counted so far (statistics for benchmarks and reports)

    # ------------------------------------------------------------------ public API

    def offer(self, frame: Frame) -> bool:
        """True: the frame was counted as bulk data. False: it needs ``decode_frame``."""
        data = frame.data
        return self.offer_raw(
            frame.time, frame.interface, frame.linktype, data, 0, len(data), frame.wire_length
        )

    def offer_record(self, record: RawRecord) -> bool:
        """``offer`` for a raw record from ``CaptureParser.records`` (no Frame needed)."""
        _, time, interface, linktype, buf, offset, caplen, wire_length = record
        return self.offer_raw(time, interface, linktype, buf, offset, caplen, wire_length)

    def offer_raw(
        self, time: float, interface: int, linktype: int, buf: Any, offset: int, caplen: int, wire_length: int
    ) -> bool:
        bucket = self._bins.get((interface, int(time)))
        if bucket is None:
            bucket = self._bins[(interface, int(time))] = {}
        plan = KEY_PLANS.get(linktype)
        if plan is not None and caplen >= plan.need:
            n = offset + plan.ip
            span = KEY_SPAN[buf[n + 6]]
            if span and caplen >= plan.ip + span:
                entry = bucket.get(buf[offset + plan.start : n + span])
                if entry is not None and wire_length >= entry[4]:
                    entry[0] += 1
                    entry[1] += wire_length
                    entry[3] = time
                    self.accepted += 1
                    return True
        return self._admit(time, linktype, buf, offset, caplen, wire_length, bucket)

    def filter(self, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        """Count every record the fast path takes; yield the others, in order, for decoding.

        The generator is lazy: when it yields a record, every earlier bulk packet has been
        counted and no later one has, so the caller can ``flush()`` right then to keep
        signalling and traffic rows in time order. This is ``offer_raw`` inlined in one loop:
        the benchmark's hot path.
        """
        bins = self._bins
        spans = KEY_SPAN
        admit = self._admit
        cur_interface = cur_second = -1
        bucket: dict[Any, list[Any]] = {}
        start = ip = 0
        need = 1 << 62
        accepted = 0
        try:
            for record in records:
                _, time, interface, linktype, buf, offset, caplen, wire_length = record
                second = int(time)
                if second != cur_second or interface != cur_interface:
                    cur_second, cur_interface = second, interface
                    bucket = bins.get((interface, second))  # type: ignore[assignment]
                    if bucket is None:
                        bucket = bins[(interface, second)] = {}
                    plan = KEY_PLANS.get(linktype)
                    if plan is None:
                        need = 1 << 62
                    else:
                        start, ip, need = plan.start, plan.ip, plan.need
                if caplen >= need:
                    n = offset + ip
                    span = spans[buf[n + 6]]
                    if span and caplen >= ip + span:
                        entry = bucket.get(buf[offset + start : n + span])
                        if entry is not None and wire_length >= entry[4]:
                            entry[0] += 1
                            entry[1] += wire_length
                            entry[3] = time
                            accepted += 1
                            continue
                if admit(time, linktype, buf, offset, caplen, wire_length, bucket):
                    continue
                self.accepted += accepted
                accepted = 0
                yield record
                # the caller may have flushed (it should, to keep rows in time order): flush()
                # replaces the bins, so pick the new dict up and re-read the bucket
                bins = self._bins
                cur_interface = cur_second = -1
        finally:
            self.accepted += accepted

    def flush(self) -> list[TrafficCount]:
        """Rows accumulated since the last flush, one per (interface, second, addressing)."""
        merged: dict[tuple[int, int, Canonical], list[Any]] = {}
        for (interface, second), bucket in self._bins.items():
            for entry in bucket.values():
                packets, size, first, last, _, canonical = entry
                row = merged.get((interface, second, canonical))
                if row is None:
                    merged[(interface, second, canonical)] = [packets, size, first, last]
                else:
                    row[0] += packets
                    row[1] += size
                    row[2] = min(row[2], first)
                    row[3] = max(row[3], last)
        self._bins = {}
        rows = [
            _row(interface, second, canonical, *totals)
            for (interface, second, canonical), totals in merged.items()
        ]
        rows.sort(key=lambda r: (r.first, r.interface))
        return rows

    # ------------------------------------------------------------------ the full classification

    def _admit(
        self,
        time: float,
        linktype: int,
        buf: Any,
        offset: int,
        caplen: int,
        wire_length: int,
        bucket: dict[Any, Any],
    ) -> bool:
        """A miss in the current bin: exact bytes seen before, known flow, else full classification."""
        plan = KEY_PLANS.get(linktype)
        flow = exact = None
        if plan is not None and caplen >= plan.need:
            span = KEY_SPAN[buf[offset + plan.ip + 6]]
            if span and caplen >= plan.ip + span:
                exact = buf[offset + plan.start : offset + plan.ip + span]
                seen = self._exact.get(exact)
                if seen is not None:
                    if wire_length < seen[1]:
                        return False
                    self._count(bucket, exact, seen[0], time, wire_length, seen[1])
                    return True
                flow, plen = plan.key(buf, offset, caplen)
                if flow is not None:
                    min_wire = plan.need + plen
                    canonical = self._known.get(flow)
                    if canonical is not None:
                        if wire_length < min_wire:
                            return False
                        self._remember(exact, canonical, min_wire)
                        self._count(bucket, exact, canonical, time, wire_length, min_wire)
                        return True
        frame = bytes(buf[offset : offset + caplen])
        found = self._classify(linktype, frame, wire_length)
        if found is None:
            return False
        canonical, ip, header_end = found
        if (
            flow is not None
            and exact is not None
            and plan is not None
            and plan.ip == ip
            and header_end == ip + KEY_SPAN[frame[ip + 6]]
        ):
            if len(self._known) >= CACHE_LIMIT:
                self._known.clear()
            self._known[flow] = canonical
            self._remember(exact, canonical, min_wire)
            self._count(bucket, exact, canonical, time, wire_length, min_wire)
        else:
            self._count(bucket, canonical, canonical, time, wire_length, 1 << 62)
        return True

    def _remember(self, exact: bytes, canonical: Canonical, min_wire: int) -> None:
        if len(self._exact) >= CACHE_LIMIT:
            self._exact.clear()
        self._exact[exact] = (canonical, min_wire)

    def _count(
        self, bucket: dict[Any, Any], key: Any, canonical: Canonical, time: float, size: int, min_wire: int
    ) -> None:
        entry = bucket.get(key)
        if entry is None:
            bucket[key] = [1, size, time, time, min_wire, canonical]
        else:
            entry[0] += 1
            entry[1] += size
            entry[3] = time
        self.accepted += 1

    def _classify(
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
        if (
            int.from_bytes(frame[p : p + 2], "big") in ports
            or int.from_bytes(frame[p + 2 : p + 4], "big") in ports
        ):
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


def _text_pair(pair: bytes | None) -> tuple[str | None, str | None]:
    if pair is None:
        return None, None
    family, half = (socket.AF_INET6, 16) if len(pair) == 32 else (socket.AF_INET, 4)
    return socket.inet_ntop(family, pair[:half]), socket.inet_ntop(family, pair[half:])


def _row(
    interface: int, second: int, canonical: Canonical, packets: int, size: int, first: float, last: float
) -> TrafficCount:
    via, outer, inner, hao, rh2 = canonical
    outer_src, outer_dst = _text_pair(outer)
    src, dst = _text_pair(inner)
    return TrafficCount(
        interface=interface,
        second=second,
        via=via,
        outer_src=outer_src,
        outer_dst=outer_dst,
        src=src,
        dst=dst,
        home_address_option=socket.inet_ntop(socket.AF_INET6, hao) if hao else None,
        routing_type2=socket.inet_ntop(socket.AF_INET6, rh2) if rh2 else None,
        packets=packets,
        bytes=size,
        first=first,
        last=last,
    )
