"""FastPath: count bulk data packets at fixed offsets, without building any decoder objects.

A home agent's mirror port carries millions of tunnelled data packets around a little
signalling. Only signalling and unusual packets need ``decode_frame``; the rest only need
counting per (interface, second, addressing). ``offer`` answers True when a packet was
counted here, False when it must go to the slow path. What counts as bulk data is decided by
``dissector.fastclassify.Classifier`` (tunnels, DSMIPv6 UDP, route-optimised and plain data;
never a Mobility Header, ICMPv6, ESP/AH, fragments, odd extension headers, bad lengths or
truncated headers).

How it stays fast -- validated header bytes as dictionary keys (per interface, kept across
seconds and flushes; each flow has one counting entry):

1. *exact*: the bytes from the link discriminator to the end of the headers that decide the
   classification (``KEY_SPAN``), lengths included, as one slice. Finding them proves the
   packet classifies like the one that put them there; only "the wire holds what the header
   claims" is checked. One slice, one ``dict.get``, a few integer updates: the hot path, taken
   by every packet of a flow with a size seen before.
2. *flow*: on a miss, the same bytes without the length fields (``KeyPlan``: one ``struct``
   unpack), with the lengths checked on the spot (inner length + 40 = outer payload length,
   headers fit, the wire holds them). A known flow gets the packet and learns its exact bytes.
3. Otherwise the packet is classified in full (``Classifier``; with the C accelerator this
   level runs in C too, see ``filter``). Bulk data whose classification
   depends only on fixed-offset bytes (IPv6 outer headers: never an IPv4 header with its
   per-packet ID and checksum, never UDP encapsulation; at most one 802.1Q tag, which is part of
   the key) becomes a known flow;
   other bulk data is counted under its canonical key, each packet classified in full.

An entry counts one second at a time; a packet of a later second (or the first after a
flush) "rolls" it, keeping the finished counts aside for ``flush``.
Addresses stay raw bytes until ``flush`` turns the counts into :class:`TrafficCount` rows.
"""

from __future__ import annotations

import dataclasses
import mmap
import operator
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from dissector.capture.limits import RawRecord
from dissector.fastclassify import (
    CACHE_LIMIT,
    ETHERNET,
    IDLE_SECONDS,
    KEY_PLANS,
    KEY_SPAN,
    MIN_PAYLOAD,
    PLAIN,
    ROUTE_OPTIMISED,
    SWEEP_SECONDS,
    TUNNEL,
    UDP,
    VLAN_PLAN,
    Canonical,
    Classifier,
    plan_for,
)
from dissector.ike import IKE_PORTS
from dissector.records import Frame, TrafficCount

try:  # the optional C accelerator (setup.py); the pure-Python code below is the reference
    from dissector import _fastscan
except ImportError:  # pragma: no cover - depends on the build
    _fastscan = None  # type: ignore[assignment]  # the stub types the built module; unbuilt it is None

PURE_PYTHON_VARIABLE = "MCOAVIZ_PURE_PYTHON"  # "1": never use the accelerator

# An entry is a list, mutated in place on the hot path:
PACKETS, BYTES, FIRST, LAST, CANONICAL, INTERFACE, SECOND = range(7)
EXACT_LIMIT = 1 << 15  # exact-bytes keys kept per interface (see FastPath.__init__)


class _HasUdpPorts(Protocol):
    @property
    def udp_ports(self) -> frozenset[int]: ...  # read-only: DecodeOptions is frozen


class FastPath:
    """Classifier and per-second aggregator for bulk data (see the module docstring)."""

    def __init__(self, options: _HasUdpPorts) -> None:
        self.classifier = Classifier(frozenset(options.udp_ports))
        # per interface: flow key tuple -> entry; exact bytes -> (least wire length, entry). The
        # exact table is kept small (EXACT_LIMIT, emptied when full): one-off packet sizes would
        # otherwise grow it past the CPU caches, and a miss only costs the level-2 lookup.
        self._flows: dict[int, dict[tuple[bytes, ...], list[Any]]] = {}
        self._exact: dict[int, dict[bytes, tuple[int, list[Any]]]] = {}
        self._other: dict[tuple[int, int, Canonical], list[Any]] = {}  # not cacheable, per second
        self._other_oldest = [1 << 62]  # no key of _other has an earlier second (a lower bound)
        self._dirty: list[list[Any]] = []  # entries counting since the last flush
        self._done: list[tuple[Any, ...]] = []  # finished seconds of entries, not flushed yet
        self._texts: dict[Canonical, tuple[str | None, ...]] = {}  # canonical key -> row addressing
        self._table: Any = None  # the accelerator's C flow table (``_Accelerator``), made on first use
        self._sweep_at: int | None = None  # the second at which ``_evict_idle`` next looks (None: not yet)
        self.evicted = 0  # flows forgotten for being idle (statistics for tests and benchmarks)
        self._c_flush = accelerated()  # flush in C (read again by each filter(): the environment may change)
        self.accepted = 0  # packets counted so far (statistics for benchmarks and reports)
        self.position = 0  # bytes of the file the accelerated walk has passed (progress displays)
        self.accelerated = 0  # of which counted by the C accelerator
        # raw IPv6 addresses whose frames go to the slow path: one set changed in place (the C
        # walk holds it)
        self._watched: set[bytes] = set()
        # called by the accelerated walk every WINDOW bytes it counts (between two C calls, never
        # inside one): the pipeline flushes there, so a long run of bulk data without a declined
        # record (a home agent's refreshes come in bursts: minutes of data between them) neither
        # piles up per-second counts nor keeps idle flows until the next signalling record
        self.tick: Callable[[], object] | None = None
        # True (``mcoaviz decode``: no engine to feed; set before the first packet): packets are
        # only counted, into ``accepted`` and ``_tally`` -- no entry counts per second, no rows, no
        # idle sweep -- and ``flush`` hands the time span they covered to ``span`` (the caller's clock)
        self.count_only = False
        self.span: tuple[float, float] | None = None  # count_only: (least, greatest) time of the last flush
        # count_only: [least, greatest] time of the packets counted since the last flush ([None,
        # None]: none); one list changed in place (the C walk merges its own into it)
        self._tally: list[Any] = [None, None]
        # the classifier's UDP ports (DSMIPv6, IKE) as maps for the C walk's level 3
        self._port_maps = (_port_map(self.classifier.udp_ports), _port_map(IKE_PORTS))

    def watch(self, addresses: Iterable[str]) -> None:
        """Decline (hand to the slow path) every later frame whose IPv6 source or destination --
        outer, inner, Home Address option or type 2 routing header -- is one of ``addresses``.

        Flows already learned stop being counted when an address is added: the caches (both
        levels, and the C accelerator's table, whose pending counts are written back first)
        are emptied, so the next frame of every flow is classified again. Entries still counting
        stay reachable through the dirty list, so nothing counted is lost. An empty set (the
        usual case) costs nothing; changes are rare.
        """
        raw = set()
        for address in addresses:
            try:
                raw.add(socket.inet_pton(socket.AF_INET6, address))
            except (OSError, ValueError):  # not an IPv6 address: nothing the fast path would count
                continue
        if raw == self._watched:
            return
        added = not raw <= self._watched
        self._watched.clear()
        self._watched.update(raw)
        if added:
            for flows in self._flows.values():
                flows.clear()
            for exacts in self._exact.values():
                exacts.clear()
            if self._table is not None:
                self._table.clear()

    @property
    def watched(self) -> frozenset[str]:
        """The addresses ``watch`` was last given (as text), for reports and tests."""
        return frozenset(socket.inet_ntop(socket.AF_INET6, a) for a in self._watched)

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
        """``offer`` on a packet at ``buf[offset:offset + caplen]``; the readable version of ``filter``."""
        entry = self._known_entry(interface, linktype, buf, offset, caplen, wire_length)
        if entry is None:
            return self._admit(time, interface, linktype, buf, offset, caplen, wire_length)
        if self.count_only:
            self._tally_time(time)
            self.accepted += 1
            return True
        second = int(time)
        if entry[SECOND] == second:
            entry[PACKETS] += 1
            entry[BYTES] += wire_length
            entry[LAST] = time
        else:
            self._roll(entry, time, second, wire_length)
        self.accepted += 1
        return True

    def filter(self, records: Iterable[RawRecord]) -> Iterator[RawRecord]:
        """Count every record the fast path takes; yield the others, in order, for decoding.

        The generator is lazy: when it yields a record, every earlier bulk packet has been
        counted and no later one has, so the caller can ``flush()`` right then to keep
        signalling and traffic rows in time order. This is ``offer_raw`` (with
        ``_known_entry`` and ``_roll``) inlined in one loop: the benchmark's hot path.

        When ``records`` is a ``CaptureParser.records`` walk and the C accelerator is built
        (and ``MCOAVIZ_PURE_PYTHON`` is not "1"), ``_fastscan`` counts the packets levels 1
        and 2 settle inside the reader's walk, into these same entries (level 2 through its
        C flow table ``self._table``, filled from ``self._flows``; counts it keeps pending
        are written back before a record is yielded, at ``flush`` and at the end); this loop
        then only sees the others (with identical results: tests/dissector/test_fastscan.py).
        It also takes level 3's commonest case (``_fastscan_src/admit.c``): the first packet of
        a new flow that ``_admit`` would learn as a flow is classified and learned in C.
        """
        self._c_flush = accelerated()
        accelerator = _Accelerator(self) if self._c_flush else None
        if accelerator is not None and not getattr(records, "accelerate", lambda _: False)(accelerator):
            accelerator = None
        flows_by_interface, exact_by_interface = self._flows, self._exact
        spans, min_payload = KEY_SPAN, MIN_PAYLOAD
        admit = self._admit
        dirty, done = self._dirty, self._done  # flush() empties both in place
        cur_interface = -1
        flows: dict[Any, Any] = {}
        exacts: dict[bytes, Any] = {}
        start = ip = 0
        need = 1 << 62
        unpackers: list[Any] = []
        ethernet = False  # this interface's frames may carry a VLAN tag (VLAN_PLAN)
        plain_plan = (start, ip, need, unpackers)
        vlan_plan = (VLAN_PLAN.start, VLAN_PLAN.ip, VLAN_PLAN.need, VLAN_PLAN.unpackers)
        accepted = 0
        refused_at = accelerator.refused_at if accelerator is not None else [-1]
        tally = self._tally if self.count_only else None
        try:
            for record in records:
                _, time, interface, linktype, buf, offset, caplen, wire_length = record
                if refused_at[0] == offset:
                    # C's level 3 found it refused by Classifier, so no cache level holds it (their
                    # keys are the bytes that decide the class) and _admit would refuse it: straight out
                    refused_at[0] = -1
                    self._settle(accelerator, accepted)
                    accepted = 0
                    yield record
                    cur_interface = -1  # re-read the state after the caller's flush
                    continue
                if interface != cur_interface:  # an interface has one link type
                    cur_interface = interface
                    flows = flows_by_interface.setdefault(interface, {})
                    exacts = exact_by_interface.setdefault(interface, {})
                    plan = KEY_PLANS.get(linktype)
                    if plan is None:
                        need = 1 << 62
                    else:
                        start, ip, need, unpackers = plan.start, plan.ip, plan.need, plan.unpackers
                    ethernet = linktype == ETHERNET
                    plain_plan = (start, ip, need, unpackers)
                if ethernet:  # tagged and untagged frames share an interface: pick per frame
                    if caplen > 18 and buf[offset + 12] == 0x81 and buf[offset + 13] == 0:
                        start, ip, need, unpackers = vlan_plan
                    else:
                        start, ip, need, unpackers = plain_plan
                entry = None
                if caplen >= need:
                    n = offset + ip
                    nh = buf[n + 6]
                    span = spans[nh]
                    if span and caplen >= ip + span:
                        exact = buf[offset + start : n + span]
                        hit = exacts.get(exact)
                        if hit is not None and wire_length >= hit[0]:
                            entry = hit[1]
                        else:  # level 2: the flow without its lengths
                            flow: tuple[Any, ...] | None  # (declaration only: no cost in the loop)
                            if nh == 41:
                                prefix, plen, middle, inner_plen, tail = unpackers[41](buf, offset + start)
                                flow = (prefix, middle, tail) if inner_plen + 40 == plen else None
                            else:
                                prefix, plen, rest = unpackers[nh](buf, offset + start)
                                flow = (prefix, rest) if plen >= min_payload[nh] else None
                            if flow is not None and wire_length >= need + plen:
                                entry = flows.get(flow)
                                if entry is not None:
                                    if len(exacts) >= EXACT_LIMIT:
                                        exacts.clear()
                                    exacts[exact] = (need + plen, entry)
                if entry is not None:
                    if tally is not None:  # count_only: _tally_time, inlined
                        if tally[0] is None or time < tally[0]:
                            tally[0] = time
                        if tally[1] is None or time > tally[1]:
                            tally[1] = time
                        accepted += 1
                        continue
                    second = int(time)
                    if entry[6] == second:  # SECOND
                        entry[0] += 1  # PACKETS
                        entry[1] += wire_length  # BYTES
                        entry[3] = time  # LAST
                    else:  # _roll, inlined
                        if entry[0]:
                            done.append(tuple(entry))
                        else:
                            dirty.append(entry)
                        entry[0], entry[1], entry[2], entry[3], entry[6] = 1, wire_length, time, time, second
                    accepted += 1
                    continue
                if admit(time, interface, linktype, buf, offset, caplen, wire_length):
                    continue
                self._settle(accelerator, accepted)
                accepted = 0
                yield record
                cur_interface = -1  # re-read the state after the caller's flush
        finally:
            self._settle(accelerator, accepted)

    def _settle(self, accelerator: _Accelerator | None, accepted: int) -> None:
        """Before a record goes out (and at the end): the packets counted so far, by Python
        (``accepted``) and by C, join ``accepted`` and C's counts are written back."""
        if accelerator is not None:
            accepted += self._take(accelerator)
        self.accepted += accepted

    def _take(self, accelerator: _Accelerator) -> int:
        self._table.write_back()  # before anyone looks at the entries (end_call, _fastscan_src/walk.c)
        counted, accelerator.counted = accelerator.counted, 0
        self.accelerated += counted
        return counted

    def flush(self) -> list[TrafficCount]:
        """Rows counted since the last flush, one per (interface, second, addressing).

        Costs what was counted since the last flush (the entries rolled since then), not what
        the tables hold: flushing before every signalling record stays cheap."""
        if self._table is not None:  # counts the accelerator left pending (normally none here)
            self._table.write_back()
        if self.count_only:
            self._forget()
            return []
        if not self._dirty and not self._done:  # nothing counted since the last flush
            return []
        texts = self._texts
        if len(texts) >= CACHE_LIMIT:
            texts.clear()
        fast = self._c_flush
        if fast:  # tens of thousands of rows per second: the same merge in C
            items, latest = _fastscan.flush_items(self._done, self._dirty, texts, _texts)
        else:
            items, latest = self._flush_items(texts)
        self._sweep_other(latest)
        self._evict_idle(latest)
        if not (fast and _fastscan.order_rows(items, _FIRST_AT, _INTERFACE_AT)):
            items.sort(key=_BY_INTERFACE)  # then stably by time: ordered by (first, interface)
            items.sort(key=_BY_FIRST)
        if fast and _PLAIN_ROWS:  # ... and built without a dataclass __init__ per row
            return _fastscan.instances(TrafficCount, _ROW_FIELDS, items)
        return [TrafficCount(*item) for item in items]

    def _reset_counted(self) -> None:
        """After a flush: the counting entries are kept (and their keys), with zero counts."""
        for entry in self._dirty:
            entry[PACKETS] = entry[BYTES] = 0
            entry[SECOND] = -1
        self._dirty.clear()
        self._done.clear()

    def _sweep_other(self, latest: int) -> None:
        """Drop the uncacheable per-second entries of seconds before ``latest``: past seconds
        get no more packets (``_other_oldest`` is a lower bound of what ``_other`` holds)."""
        if self._other_oldest[0] < latest:
            for key in [k for k in self._other if k[1] < latest]:
                del self._other[key]
            self._other_oldest[0] = latest

    def _evict_idle(self, latest: int) -> None:
        """Every ``SWEEP_SECONDS`` of capture time: forget the learned flows whose last packet is
        more than ``IDLE_SECONDS`` before second ``latest``, and empty the exact keys, the row
        texts and the C table (they refill from the flows dicts, one look-up per active flow).

        Results do not change: an entry still counting stays reachable through ``_dirty``, and a
        flow seen again is learned again under the same canonical key, which ``flush`` merges
        rows by (as after a full table starts over). Memory follows the flows active recently,
        not the capture's length."""
        if self._sweep_at is None:
            self._sweep_at = latest + SWEEP_SECONDS
        if latest < self._sweep_at:
            return
        self._sweep_at = latest + SWEEP_SECONDS
        cut = latest - IDLE_SECONDS
        if self._table is not None:
            self._table.clear()  # writes its pending counts back first
        for flows in self._flows.values():
            if self._c_flush:  # the same scan in C: ~5 000 scattered entries per sweep at 1 M packets
                self.evicted += _fastscan.drop_idle(flows, cut, LAST)
                continue
            idle = [key for key, entry in flows.items() if entry[LAST] < cut]
            for key in idle:
                del flows[key]
            self.evicted += len(idle)
        # the exact keys and row texts are only shortcuts: emptied whole (cheaper than sorting
        # out the idle ones), they refill from the flows still known at their next packet / row
        for exacts in self._exact.values():
            exacts.clear()
        self._texts.clear()

    def _forget(self) -> None:
        """``flush`` in count_only mode: the least and greatest time counted since the last flush
        into ``span`` (None when nothing was counted), and the tally starts over.

        `decode` needs nothing else from bulk data: the pipeline's clock (first and last time,
        for relative times and the dialect hold) and the packet count (``accepted``). So no entry
        counts per second, nothing piles up between flushes, and the learnt flows need no idle
        sweep: the caches stay bounded by their limits (``CACHE_LIMIT``, ``EXACT_LIMIT``,
        ``TABLE_LIMIT``), which is all the memory a decode run needs."""
        tally = self._tally
        self.span = None if tally[0] is None else (tally[0], tally[1])
        tally[0] = tally[1] = None

    def _flush_items(
        self, texts: dict[Canonical, tuple[str | None, ...]]
    ) -> tuple[list[tuple[Any, ...]], int]:
        """(row value tuples, latest second or -1): the counts since the last flush merged per
        (interface, second, canonical), in first-seen order; the entries are kept, zeroed."""
        merged: dict[tuple[int, int, Canonical], list[Any]] = {}
        latest = -1
        counts = self._done + [tuple(entry) for entry in self._dirty]
        self._reset_counted()
        for packets, size, first, last, canonical, interface, second in counts:
            if second > latest:
                latest = second
            row = merged.get((interface, second, canonical))
            if row is None:
                merged[(interface, second, canonical)] = [packets, size, first, last]
            else:
                row[0] += packets
                row[1] += size
                row[2] = min(row[2], first)
                row[3] = max(row[3], last)
        items = []
        for (interface, second, canonical), (packets, size, first, last) in merged.items():
            text = texts.get(canonical)
            if text is None:
                text = texts[canonical] = _texts(canonical)
            items.append((interface, second, *text, packets, size, first, last))
        return items, latest

    # ------------------------------------------------------------------ levels 2 and 3

    def _known_entry(
        self, interface: int, linktype: int, buf: Any, offset: int, caplen: int, wire_length: int
    ) -> list[Any] | None:
        """Levels 1 and 2: the entry of a validated flow this packet belongs to, or None."""
        plan = plan_for(linktype, buf, offset, caplen)
        flows, exacts = self._flows.get(interface), self._exact.get(interface)
        if plan is None or flows is None or exacts is None or caplen < plan.need:
            return None
        span = KEY_SPAN[buf[offset + plan.ip + 6]]
        if not span or caplen < plan.ip + span:
            return None
        exact = buf[offset + plan.start : offset + plan.ip + span]
        hit = exacts.get(exact)
        if hit is not None and wire_length >= hit[0]:
            return hit[1]
        flow, plen = plan.key(buf, offset, caplen)
        if flow is None or wire_length < plan.need + plen:
            return None
        entry = flows.get(flow)
        if entry is not None:
            if len(exacts) >= EXACT_LIMIT:
                exacts.clear()
            exacts[exact] = (plan.need + plen, entry)
        return entry

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
        """Level 3: classify in full; count the packet and learn its flow when it is bulk data."""
        frame = bytes(buf[offset : offset + caplen])
        found = self.classifier.classify(linktype, frame, wire_length)
        if found is None:
            return False
        canonical, ip, header_end = found
        if self._watched and _involves(canonical, self._watched):
            return False
        second = int(time)
        plan = plan_for(linktype, frame, 0, caplen)
        if plan is not None and plan.ip == ip and header_end == ip + KEY_SPAN[frame[ip + 6]]:
            flow, plen = plan.key(frame, 0, caplen)
            if flow is not None:  # a cacheable flow: learn both keys
                flows = self._flows.setdefault(interface, {})
                exacts = self._exact.setdefault(interface, {})
                if len(flows) >= CACHE_LIMIT:
                    flows.clear()  # entries still counting stay reachable through _dirty
                if len(exacts) >= EXACT_LIMIT:
                    exacts.clear()
                entry = flows.get(flow)
                if entry is None:
                    entry = flows[flow] = [0, 0, time, time, canonical, interface, -1]
                exacts[frame[plan.start : header_end]] = (plan.need + plen, entry)
                self._count(entry, time, second, wire_length)
                return True
        if self.count_only:  # nothing is counted per second: no entry
            self._tally_time(time)
            self.accepted += 1
            return True
        entry = self._other.get((interface, second, canonical))
        if entry is None:
            if second < self._other_oldest[0]:
                self._other_oldest[0] = second
            entry = self._other[(interface, second, canonical)] = [
                0,
                0,
                time,
                time,
                canonical,
                interface,
                second,
            ]
        self._count(entry, time, second, wire_length)
        return True

    def _count(self, entry: list[Any], time: float, second: int, size: int) -> None:
        if self.count_only:  # the entry stays at zero counts
            self._tally_time(time)
        elif entry[PACKETS] and entry[SECOND] == second:
            entry[PACKETS] += 1
            entry[BYTES] += size
            entry[LAST] = time
        else:
            self._roll(entry, time, second, size)
        self.accepted += 1

    def _tally_time(self, time: float) -> None:
        """count_only: keep ``time`` if it is the least or greatest counted since the last flush."""
        tally = self._tally
        if tally[0] is None or time < tally[0]:
            tally[0] = time
        if tally[1] is None or time > tally[1]:
            tally[1] = time


def accelerated() -> bool:
    """Whether ``FastPath.filter`` uses the C accelerator (built, and not switched off)."""
    return _fastscan is not None and os.environ.get(PURE_PYTHON_VARIABLE, "") != "1"


_ROW_FIELDS = tuple(field.name for field in dataclasses.fields(TrafficCount))
_PLAIN_ROWS = not hasattr(TrafficCount, "__post_init__")  # else rows need their __init__
_FIRST_AT, _INTERFACE_AT = _ROW_FIELDS.index("first"), _ROW_FIELDS.index("interface")
_BY_FIRST, _BY_INTERFACE = operator.itemgetter(_FIRST_AT), operator.itemgetter(_INTERFACE_AT)
_SPANS, _MIN_PAYLOAD = bytes(KEY_SPAN), bytes(MIN_PAYLOAD)
_PLANS = {linktype: (plan.start, plan.ip, plan.need) for linktype, plan in KEY_PLANS.items()}
VLAN_LINKTYPE = -2  # the C walk's pseudo link type for single-tagged Ethernet (VLAN_LINKTYPE in fastscan.h)
_PLANS[VLAN_LINKTYPE] = (VLAN_PLAN.start, VLAN_PLAN.ip, VLAN_PLAN.need)


_VIAS = (PLAIN, TUNNEL, ROUTE_OPTIMISED, UDP)  # admit.c's via codes 0-3
C_ADMIT_VARIABLE = "MCOAVIZ_C_ADMIT"  # "0": the accelerator leaves all of level 3 to _admit (tests)


def _port_map(ports: Iterable[int]) -> bytes:
    """A 65536-bit map of ``ports`` (bit ``port & 7`` of byte ``port >> 3``) for the C walk."""
    bits = bytearray(8192)
    for port in ports:
        if 0 <= port < 65536:
            bits[port >> 3] |= 1 << (port & 7)
    return bytes(bits)


WINDOW = 8 << 20  # bytes the C walk covers per call at most (then one record goes through Python);
# also how far behind it the mapped pages are released: up to twice this stays resident
TABLE_LIMIT = CACHE_LIMIT  # flows the C table keeps at most (then it starts over, as the dicts do)


class _Accelerator:
    """Hands one FastPath's tables to ``_fastscan`` from inside a reader's walk (see
    ``RecordWalk.accelerate``) and keeps the count of packets it settled.

    A walk over a memory map also tells the kernel, every ``WINDOW`` bytes, that the pages
    behind it will not be read again (as ``mcoaviz.pipeline`` does for unaccelerated walks):
    otherwise the whole capture would stay resident. For a read-only file mapping this is only
    a hint: a page read again is read back from the file.
    """

    __slots__ = ("_state", "counted", "_released", "_fast", "refused_at", "_since_tick")

    def __init__(self, fast: FastPath) -> None:
        assert _fastscan is not None
        if fast._table is None:
            fast._table = _fastscan.FlowTable(TABLE_LIMIT)
        # level 3 in C (first packets of cacheable flows; _fastscan_src/admit.c), unless switched off
        # the frame offset of the record the walk stopped at when level 3 found it refused by
        # Classifier (filter() then skips its _admit), else -1
        self.refused_at = [-1]
        admit = None if os.environ.get(C_ADMIT_VARIABLE, "") == "0" else (
            *fast._port_maps, fast._watched, _VIAS, CACHE_LIMIT, fast._other, fast._other_oldest,
            self.refused_at,
        )  # fmt: skip
        # the dicts and lists themselves: C reads and updates them in place (count_only: the tally)
        self._state = (
            _SPANS, _MIN_PAYLOAD, _PLANS, fast._exact, fast._flows, fast._dirty, fast._done, EXACT_LIMIT,
            fast._table, admit, fast._tally if fast.count_only else None,
        )  # fmt: skip
        self.counted = 0  # since FastPath._take last collected it
        self._released = 0  # the map's bytes before this have been released
        self._since_tick = 0  # bytes walked in C since the fast path's tick was last called
        self._fast = fast  # its ``position`` follows the walk (progress displays read it)

    def pcapng(
        self, buf: Any, pos: int, end: int, number: int, last_time: float, interfaces: list[Any], big: bool
    ) -> tuple[int, int, float]:
        assert _fastscan is not None
        pos, number, last_time, counted = _fastscan.pcapng(
            self._state, buf, pos, min(end, pos + WINDOW), number, last_time, interfaces, big
        )
        self.counted += counted
        self._walked(buf, pos)
        return pos, number, last_time

    def pcap(
        self, buf: Any, pos: int, end: int, number: int, header: int, big: bool, unit: float, linktype: int
    ) -> tuple[int, int]:
        assert _fastscan is not None
        pos, number, counted = _fastscan.pcap(
            self._state, buf, pos, min(end, pos + WINDOW), number, header, big, unit, linktype
        )
        self.counted += counted
        self._walked(buf, pos)
        return pos, number

    def _walked(self, buf: Any, pos: int) -> None:
        """After a C call: progress, the pages behind, and the fast path's ``tick`` every WINDOW
        bytes (the walk's state is all in Python objects now, written back: a flush may run)."""
        fast = self._fast
        moved = pos - fast.position
        fast.position = pos
        if pos - self._released > WINDOW and isinstance(buf, mmap.mmap):
            self._release(buf, pos)
        if fast.tick is not None and moved > 0:
            self._since_tick += moved
            if self._since_tick >= WINDOW:
                self._since_tick = 0
                fast.tick()

    def _release(self, buf: mmap.mmap, pos: int) -> None:
        end = pos - pos % mmap.PAGESIZE
        try:
            buf.madvise(mmap.MADV_DONTNEED, self._released, end - self._released)
        except (AttributeError, OSError, ValueError):  # a platform without madvise
            pass
        self._released = end


def _involves(canonical: Canonical, watched: set[bytes]) -> bool:
    """Whether an IPv6 address of the canonical key (either pair, HAO, RH2) is watched."""
    _via, outer, inner, hao, rh2 = canonical
    for pair in (outer, inner):
        if pair is not None and len(pair) == 32 and (pair[:16] in watched or pair[16:] in watched):
            return True
    return hao in watched or rh2 in watched


def _text_pair(pair: bytes | None) -> tuple[str | None, str | None]:
    if pair is None:
        return None, None
    family, half = (socket.AF_INET6, 16) if len(pair) == 32 else (socket.AF_INET, 4)
    return socket.inet_ntop(family, pair[:half]), socket.inet_ntop(family, pair[half:])


def _texts(canonical: Canonical) -> tuple[str | None, ...]:
    """(via, outer_src, outer_dst, src, dst, home_address_option, routing_type2) as text."""
    via, outer, inner, hao, rh2 = canonical
    return (
        via,
        *_text_pair(outer),
        *_text_pair(inner),
        socket.inet_ntop(socket.AF_INET6, hao) if hao else None,
        socket.inet_ntop(socket.AF_INET6, rh2) if rh2 else None,
    )
