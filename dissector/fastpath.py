"""FastPath: count bulk data packets at fixed offsets, without building any decoder objects.

A home agent's mirror port carries millions of tunnelled data packets around a little
signalling. Only signalling and unusual packets need ``decode_frame``; the rest only need
counting per (interface, second, addressing). ``offer`` answers True when a packet was
counted here, False when it must go to the slow path. What counts as bulk data is decided by
``dissector.fastclassify.Classifier`` (tunnels, DSMIPv6 UDP, route-optimised and plain data;
never a Mobility Header, ICMPv6, ESP/AH, fragments, odd extension headers, bad lengths or
truncated headers).

How it stays fast -- validated header bytes as dictionary keys:

1. *exact*: the bytes from the link discriminator to the end of the headers that decide the
   classification (``KEY_SPAN``), lengths included, as one slice, looked up in a per-interface
   dictionary of entries that persists across seconds and flushes. Finding them proves the
   packet classifies like the one that created the entry; only "the wire holds what the header
   claims" is checked. One slice, one ``dict.get``, a few integer updates: the hot path, taken
   by every packet of a flow with a size seen before (most packets: full-size segments and
   pure ACKs). An entry counts one second at a time; a packet of a later second rolls it.
2. On a miss: the same bytes without the length fields (``KeyPlan.key``, one ``struct``
   unpack) among the flows validated earlier (``_known``), with the lengths checked on the
   spot (inner length + 40 = outer payload length, headers fit). A hit opens a new exact
   entry: new sizes of known flows never need the full classification.
3. Otherwise the packet is classified in full. Bulk data whose classification depends only on
   fixed-offset bytes (IPv6 outer headers: never an IPv4 header with its per-packet ID and
   checksum, never UDP encapsulation, no VLAN tags) becomes a known flow; other bulk data is
   counted under its canonical key, each packet classified in full.

Addresses stay raw bytes until ``flush`` turns the counts into :class:`TrafficCount` rows.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from dissector.capture.limits import RawRecord
from dissector.fastclassify import CACHE_LIMIT, KEY_PLANS, KEY_SPAN, Canonical, Classifier
from dissector.records import Frame, TrafficCount

# An entry is a list, mutated in place on the hot path:
PACKETS, BYTES, FIRST, LAST, MIN_WIRE, CANONICAL, INTERFACE, SECOND = range(8)


class _HasUdpPorts(Protocol):
    udp_ports: frozenset[int]


class FastPath:
    """Classifier and per-second aggregator for bulk data (see the module docstring)."""

    def __init__(self, options: _HasUdpPorts) -> None:
        self.classifier = Classifier(frozenset(options.udp_ports))
        self._flows: dict[int, dict[bytes, list[Any]]] = {}  # interface -> exact bytes -> entry
        self._known: dict[tuple[bytes, ...], Canonical] = {}  # flow keys (no lengths) validated
        self._other: dict[tuple[int, int, Canonical], list[Any]] = {}  # not cacheable, per second
        self._dirty: list[list[Any]] = []  # entries counting since the last flush
        self._done: list[tuple[Any, ...]] = []  # finished seconds of entries, not flushed yet
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
        plan = KEY_PLANS.get(linktype)
        if plan is not None and caplen >= plan.need:
            n = offset + plan.ip
            span = KEY_SPAN[buf[n + 6]]
            if span and caplen >= plan.ip + span:
                entry = self._flows.get(interface, {}).get(buf[offset + plan.start : n + span])
                if entry is not None and wire_length >= entry[MIN_WIRE]:
                    second = int(time)
                    if entry[SECOND] == second:
                        entry[PACKETS] += 1
                        entry[BYTES] += wire_length
                        entry[LAST] = time
                    else:
                        self._roll(entry, time, second, wire_length)
                    self.accepted += 1
                    return True
        return self._admit(time, interface, linktype, buf, offset, caplen, wire_length)

    def filter(self, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        """Count every record the fast path takes; yield the others, in order, for decoding.

        The generator is lazy: when it yields a record, every earlier bulk packet has been
        counted and no later one has, so the caller can ``flush()`` right then to keep
        signalling and traffic rows in time order. This is ``offer_raw`` inlined in one loop:
        the benchmark's hot path.
        """
        flows_by_interface = self._flows
        spans = KEY_SPAN
        admit, roll = self._admit, self._roll
        cur_interface = -1
        flows: dict[bytes, list[Any]] = {}
        start = ip = 0
        need = 1 << 62
        accepted = 0
        try:
            for record in records:
                _, time, interface, linktype, buf, offset, caplen, wire_length = record
                if interface != cur_interface:  # an interface has one link type
                    cur_interface = interface
                    flows = flows_by_interface.setdefault(interface, {})
                    plan = KEY_PLANS.get(linktype)
                    if plan is None:
                        need = 1 << 62
                    else:
                        start, ip, need = plan.start, plan.ip, plan.need
                if caplen >= need:
                    n = offset + ip
                    span = spans[buf[n + 6]]
                    if span and caplen >= ip + span:
                        entry = flows.get(buf[offset + start : n + span])
                        if entry is not None and wire_length >= entry[4]:  # MIN_WIRE
                            second = int(time)
                            if entry[7] == second:  # SECOND
                                entry[0] += 1  # PACKETS
                                entry[1] += wire_length  # BYTES
                                entry[3] = time  # LAST
                            else:
                                roll(entry, time, second, wire_length)
                            accepted += 1
                            continue
                if admit(time, interface, linktype, buf, offset, caplen, wire_length):
                    continue
                self.accepted += accepted
                accepted = 0
                yield record
                cur_interface = -1  # re-read the state after the caller's flush
        finally:
            self.accepted += accepted

    def flush(self) -> list[TrafficCount]:
        """Rows counted since the last flush, one per (interface, second, addressing)."""
        merged: dict[tuple[int, int, Canonical], list[Any]] = {}
        latest = -1
        counts = self._done + [tuple(entry) for entry in self._dirty]
        for entry in self._dirty:  # keep the entries (and their keys), with zero counts
            entry[PACKETS] = entry[BYTES] = 0
            entry[SECOND] = -1
        self._dirty.clear()
        self._done = []
        for packets, size, first, last, _, canonical, interface, second in counts:
            latest = max(latest, second)
            row = merged.get((interface, second, canonical))
            if row is None:
                merged[(interface, second, canonical)] = [packets, size, first, last]
            else:
                row[0] += packets
                row[1] += size
                row[2] = min(row[2], first)
                row[3] = max(row[3], last)
        for key in [k for k in self._other if k[1] < latest]:  # past seconds get no more packets
            del self._other[key]
        rows = [
            _row(interface, second, canonical, *totals)
            for (interface, second, canonical), totals in merged.items()
        ]
        rows.sort(key=lambda r: (r.first, r.interface))
        return rows

    # ------------------------------------------------------------------ misses

    def _roll(self, entry: list[Any], time: float, second: int, size: int) -> None:
        """First packet of an entry in a new second (or since a flush)."""
        if entry[PACKETS]:  # an earlier second still unflushed: keep its counts aside
            self._done.append(tuple(entry))
        else:
            self._dirty.append(entry)
        entry[PACKETS], entry[BYTES], entry[FIRST], entry[LAST], entry[SECOND] = 1, size, time, time, second

    def _admit(
        self, time: float, interface: int, linktype: int, buf: Any, offset: int, caplen: int, wire_length: int
    ) -> bool:
        """Levels 2 and 3 of the module docstring: a known flow, else full classification."""
        plan = KEY_PLANS.get(linktype)
        flow = exact = None
        min_wire = 0
        if plan is not None and caplen >= plan.need:
            span = KEY_SPAN[buf[offset + plan.ip + 6]]
            if span and caplen >= plan.ip + span:
                exact = buf[offset + plan.start : offset + plan.ip + span]
                flow, plen = plan.key(buf, offset, caplen)
                if flow is not None:
                    min_wire = plan.need + plen
                    canonical = self._known.get(flow)
                    if canonical is not None:
                        if wire_length < min_wire:
                            return False
                        self._open(interface, exact, canonical, min_wire, time, wire_length)
                        return True
        frame = bytes(buf[offset : offset + caplen])
        found = self.classifier.classify(linktype, frame, wire_length)
        if found is None:
            return False
        canonical, ip, header_end = found
        if flow is not None and exact is not None and plan is not None and plan.ip == ip:
            if header_end == ip + KEY_SPAN[frame[ip + 6]]:
                if len(self._known) >= CACHE_LIMIT:
                    self._known.clear()
                self._known[flow] = canonical
                self._open(interface, exact, canonical, min_wire, time, wire_length)
                return True
        second = int(time)
        entry = self._other.get((interface, second, canonical))
        if entry is None:
            entry = self._other[(interface, second, canonical)] = [
                0,
                0,
                time,
                time,
                0,
                canonical,
                interface,
                second,
            ]
        if entry[PACKETS]:
            entry[PACKETS] += 1
            entry[BYTES] += wire_length
            entry[LAST] = time
        else:
            entry[PACKETS], entry[BYTES], entry[FIRST], entry[LAST], entry[SECOND] = (
                1,
                wire_length,
                time,
                time,
                second,
            )
            self._dirty.append(entry)
        self.accepted += 1
        return True

    def _open(
        self, interface: int, exact: bytes, canonical: Canonical, min_wire: int, time: float, size: int
    ) -> None:
        """A new exact entry for validated header bytes, counting this packet."""
        flows = self._flows.setdefault(interface, {})
        if len(flows) >= CACHE_LIMIT:
            flows.clear()  # entries still counting stay reachable through _dirty
        entry = flows[exact] = [1, size, time, time, min_wire, canonical, interface, int(time)]
        self._dirty.append(entry)
        self.accepted += 1


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
