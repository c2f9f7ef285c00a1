"""Read-only contexts handed to rules, and the checker's configuration.

A rule never sees the checker or the engine's internals: a packet rule gets one decoded
``Packet``; a history rule gets the engine's event list (in processing order), the signalling
packets by frame (so it can read the BU behind a ``BindingUpdateProcessed``), and the data
with a Home Address option (for MCOA603).
History rules read what the engine concluded; they never rebuild binding state themselves.
"""

from __future__ import annotations

import ipaddress
import math
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from dissector.codepoints import Dialect
from dissector.records import BindingAck, BindingUpdate, MobilityMessage, Packet
from mcoaviz.checker.intervals import BindingIntervals, End, IntervalsRead
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey

E = TypeVar("E")
K = TypeVar("K")
V = TypeVar("V")


def prefix64(address: str | None) -> int | None:
    """The /64 of an IPv6 address as an int (our stand-in for 'the same link'); None if not IPv6."""
    try:
        return int(ipaddress.IPv6Address(address or "")) >> 64
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class CheckerConfig:
    """Knobs of the checker. ``select``: code prefixes to run (flake8-style), empty = all."""

    select: tuple[str, ...] = ()
    dialect: Dialect = Dialect.RFC5648  # the capture's dialect, for messages without BID options
    max_coas_per_hoa: int = 8  # MCOA605: more simultaneous bindings than this is unusual (§10)

    def selected(self, code: str) -> bool:
        return not self.select or any(code.startswith(prefix) for prefix in self.select)


@dataclass(frozen=True, slots=True)
class PacketContext:
    """One decoded packet, for stateless rules."""

    packet: Packet
    config: CheckerConfig
    pair_dialect: Dialect | None = None  # the dialect of the packet's (MN, peer) pair (I-1)
    # the Binding Update, if the packet is one: most packet rules ask, so it is found once
    bu: BindingUpdate | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mh = self.packet.mobility
        bu = mh.body if mh is not None and isinstance(mh.body, BindingUpdate) else None
        object.__setattr__(self, "bu", bu)

    @property
    def dialect(self) -> Dialect:
        """The packet's dialect: its pair's, else the capture's."""
        return self.pair_dialect or self.config.dialect

    @property
    def message(self) -> MobilityMessage | None:
        return self.packet.mobility

    @property
    def hoa(self) -> str | None:
        """The mobile node's home address as the packet shows it (HAO, else the source)."""
        path = self.packet.path
        return path.home_address_option or path.src


@dataclass(frozen=True, slots=True)
class WatchedData:
    """Untunnelled data (not signalling) from a home address between its H-flag BU and the next
    BA sent to it. ``frame`` is None for fast-path rows, whose ``first``/``last`` times bound
    the packets they count."""

    frame: int | None
    first: float
    last: float
    src: str
    dst: str | None
    tunnel: str | None  # None: sent untunnelled, as on the home link
    interface: int


class UndeclaredRead(LookupError):
    """A history rule asked for an event kind its registry line does not declare (``Rule.reads``),
    or for a signalling packet its declared needs do not keep (``Rule.packets``)."""


class StrictPackets(Mapping[int, Packet]):
    """Tests: the signalling packets a rule's declared needs keep (``checker.keep``), as the
    streaming checker holds them: iterating yields only those, and a packet of a declared kind
    that the needs do not keep is missing (as when streaming). Asking for a packet of a kind the
    rule did not declare at all raises."""

    def __init__(self, packets: Mapping[int, Packet], kept: frozenset[int], kinds: frozenset[str],
                 kind_of: Callable[[Packet], str]) -> None:
        self._all = packets
        self._kept = {f: p for f, p in packets.items() if f in kept}
        self._kinds, self._kind_of = kinds, kind_of

    def __getitem__(self, frame: int) -> Packet:
        found = self._kept.get(frame)
        if found is not None:
            return found
        other = self._all.get(frame)
        if other is not None and self._kind_of(other) not in self._kinds:
            raise UndeclaredRead(f"a rule read frame {frame}, a {self._kind_of(other)}, without "
                                 "declaring that kind of packet")
        raise KeyError(frame)

    def __iter__(self) -> Iterator[int]:
        return iter(self._kept)

    def __len__(self) -> int:
        return len(self._kept)


class FrameDialects(MutableMapping[int, Dialect]):
    """Frame -> its pair's dialect, for every signalling frame of the capture, in ~4 bytes a
    frame instead of a dict entry and an int (~60 bytes): kept for every message until the end
    (a finding of any frame may ask), it is what still grows with the signalling once the
    packets themselves are not kept. The frames are an ``array('I')`` (``'q'`` once one passes
    2**32); the dialects are runs: ``_run_frames[r]`` is the first stored frame from which
    ``_run_codes[r]`` holds, up to the next run (a capture's pairs mostly keep one dialect, so
    there are few runs). Every run starts at a stored frame; a frame never stored is not
    found, whatever the runs say. Frames mostly come in increasing order (appended); a late one
    is inserted in place."""

    _DIALECTS = tuple(Dialect)
    _INDEX = {d: i for i, d in enumerate(_DIALECTS)}

    __slots__ = ("_frames", "_run_frames", "_run_codes")

    def __init__(self) -> None:
        self._frames = array("I")
        self._run_frames = array("q")
        self._run_codes = bytearray()

    def _at(self, frame: int) -> int:
        frames = self._frames
        i = bisect_left(frames, frame)
        return i if i < len(frames) and frames[i] == frame else -1

    def _code(self, frame: int) -> int:
        """The code of the run ``frame`` falls in (runs exist for every stored frame)."""
        return self._run_codes[bisect_right(self._run_frames, frame) - 1]

    def __getitem__(self, frame: int) -> Dialect:
        if self._at(frame) < 0:
            raise KeyError(frame)
        return self._DIALECTS[self._code(frame)]

    def __setitem__(self, frame: int, dialect: Dialect) -> None:
        frames, code = self._frames, self._INDEX[dialect]
        if frames.typecode == "I" and frame >= 1 << 8 * frames.itemsize:
            frames = self._frames = array("q", frames)
        runs, codes = self._run_frames, self._run_codes
        if not frames or frame > frames[-1]:
            frames.append(frame)
            if not codes or codes[-1] != code:
                runs.append(frame)
                codes.append(code)
            return
        i = bisect_left(frames, frame)
        if i < len(frames) and frames[i] == frame:
            if self._code(frame) == code:
                return
        else:
            frames.insert(i, frame)
            if i == 0:  # before every run: it starts its own (the old first run still starts later)
                runs.insert(0, frame)
                codes.insert(0, code)
                return
            if self._code(frame) == code:
                return
        # ``frame`` gets its own run; the stored frame after it keeps the dialect it had
        r = bisect_right(runs, frame) - 1
        after = frames[i + 1] if i + 1 < len(frames) else None
        if after is not None and (r + 1 >= len(runs) or runs[r + 1] > after):
            runs.insert(r + 1, after)
            codes.insert(r + 1, codes[r])
        if runs[r] == frame:
            codes[r] = code
        else:
            runs.insert(r + 1, frame)
            codes.insert(r + 1, code)

    def __delitem__(self, frame: int) -> None:
        i = self._at(frame)
        if i < 0:
            raise KeyError(frame)
        frames = self._frames
        del frames[i]
        # every run starts at a stored frame: a run starting here moves to the next stored
        # frame (when that one is still in it) or goes
        runs, codes = self._run_frames, self._run_codes
        r = bisect_right(runs, frame) - 1
        if runs[r] == frame:
            after = frames[i] if i < len(frames) else None
            if after is not None and (r + 1 >= len(runs) or runs[r + 1] > after):
                runs[r] = after
            else:
                del runs[r]
                del codes[r]

    def __iter__(self) -> Iterator[int]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)


def _interned(key: object) -> object:
    """``key`` with its strings (addresses) interned (``sys.intern``): one copy each, however
    many long-lived tables hold the address."""
    if isinstance(key, str):
        return sys.intern(key)
    if isinstance(key, tuple):
        return tuple(sys.intern(k) if isinstance(k, str) else k for k in key)
    return key


class Folds:
    """What some rules read of *every* signalling packet, folded as the packets arrive so the
    packets themselves need not be kept (O(addresses), not O(messages)): the option types the
    capture carries, whether any BID option has an IPv4 CoA, the MACs of mobile nodes and of
    senders, and the BID dialect of a frame where it differs from its pair's."""

    __slots__ = ("_sets", "bid_dialects", "bu_interfaces", "home_bu_interfaces", "ipv4_bid",
                 "macs_by_source", "mn_macs", "option_kinds", "visible")

    SHARED_LIMIT = 1 << 12  # distinct value sets shared (a memory bound: past it, sharing starts over)

    def __init__(self) -> None:
        self.option_kinds: set[type] = set()
        self.ipv4_bid = False
        self.mn_macs: dict[str, frozenset[bytes]] = {}
        self.macs_by_source: dict[str, frozenset[bytes]] = {}
        # the value sets are few (a mirror port shows a handful of MACs and interfaces): each
        # distinct one is stored once, so an entry costs its key, not a set of its own
        self._sets: dict[frozenset[Any], frozenset[Any]] = {}
        self.bid_dialects: dict[int, Dialect] = {}
        # (outer source, outer destination) -> the capture interfaces that saw a packet between them
        self.visible: dict[tuple[str, str], frozenset[int]] = {}
        # (HoA, BID) of first-seen BUs -> the capture interfaces their BUs came in on
        self.bu_interfaces: dict[tuple[str, int | None], frozenset[int]] = {}
        # home address -> the capture interfaces of BUs sent from it untunnelled, without a Home
        # Address option (from the home link; MCOA415)
        self.home_bu_interfaces: dict[str, frozenset[int]] = {}

    @classmethod
    def of(cls, packets: Mapping[int, Packet], frame_dialects: Mapping[int, Dialect]) -> Folds:
        """Folded from the packets at hand (``bu_interfaces`` not: that needs the events)."""
        folds = cls()
        for frame in sorted(packets):
            folds.observe(packets[frame], frame_dialects.get(frame))
        return folds

    def _add(self, index: dict[K, frozenset[V]], key: K, value: V) -> None:
        found = index.get(key)
        if found is None:
            # a new key: its addresses interned, so the key shares them with the other folds
            # and states instead of holding the packet's own copies (a CoA's text appears in
            # several of them and outlives its bindings)
            key = _interned(key)  # type: ignore[assignment]
        if found is None or value not in found:
            grown = frozenset((value,)) if found is None else found | {value}
            if len(self._sets) >= self.SHARED_LIMIT:
                self._sets.clear()
            index[key] = self._sets.setdefault(grown, grown)

    def observe_bu(self, m: ev.MessageSeen, packet: Packet) -> None:
        """A BU's first sighting (``MessageSeen``) with its packet."""
        if m.hoa is not None:
            for b in m.bids:
                self._add(self.bu_interfaces, (m.hoa, b), packet.interface)

    def observe(self, p: Packet, dialect: Dialect | None) -> None:
        path = p.path
        src, dst = path.outer_src or path.src, path.outer_dst or path.dst
        if src and dst:
            self._add(self.visible, (src, dst), p.interface)
        mh = p.mobility
        if mh is not None:
            if mh.options:
                self.option_kinds.update(map(type, mh.options))
            bids = mh.bids
            if bids:
                if not self.ipv4_bid and any(b.coa is not None and (b.length == 8 or ":" not in b.coa)
                                             for b in bids):
                    self.ipv4_bid = True
                if bids[0].dialect is not dialect:
                    self.bid_dialects[p.frame] = bids[0].dialect
        mac, src = path.mac_src, path.src
        if src and mh is not None and path.tunnel is None and path.home_address_option is None \
                and mh.type_name == "BU":
            self._add(self.home_bu_interfaces, src, p.interface)
        if not mac or path.tunnel is not None:
            return
        if src:
            self._add(self.macs_by_source, src, mac)
        if mh is not None and mh.type_name == "BU":
            hoa = path.home_address_option or src
            if hoa:
                self._add(self.mn_macs, hoa, mac)
        elif src and src != "::":
            self._add(self.mn_macs, src, mac)


@dataclass(eq=False)
class HistoryContext:
    """The whole analysis, for stateful rules: engine events plus the signalling packets."""

    events: Sequence[object]
    packets: Mapping[int, Packet]  # signalling (MH, ICMPv6, IKE) packets by frame
    config: CheckerConfig
    # route-optimised data with a Home Address option: (frame | None, time, HoA, destination)
    hao_data: Sequence[tuple[int | None, float, str, str]] = field(default_factory=tuple)
    capture_start: float | None = None  # time of the capture's first record
    # the dialect of each signalling frame's (MN, peer) pair (I-1); frames missing use the capture's
    frame_dialects: Mapping[int, Dialect] = field(default_factory=dict)
    watched_data: Sequence[WatchedData] = field(default_factory=tuple)  # HoA data between H BU and BA
    ipv4_hoa_last: Mapping[str, float] = field(default_factory=dict)  # assigned IPv4 HoA -> last data
    esp_last: Mapping[tuple[str, str], float] = field(default_factory=dict)  # sorted address pair -> time
    # untunnelled data packets (with MACs) from / to a home address after RETURNHOME WO/NDP
    home_data: Sequence[Packet] = field(default_factory=tuple)
    # times the checker saw go by, whatever was kept (a narrowed history keeps only the kinds
    # the rules read, ``registry.kinds_read``): the first event's and the latest one's, and the
    # signalling packets' earliest and latest. None: taken from ``events`` / ``packets``.
    event_times: tuple[object, float | None] | None = None
    packet_span: tuple[float, float] | None = None
    # strict (tests): the event kinds the rule declared (``Rule.reads``); asking for another raises
    allowed: frozenset[type] | None = None
    # what the checker folded from every signalling packet (the streaming checker keeps only the
    # packets the rules read); None: folded here from ``packets``
    folds: Folds | None = None
    # the binding intervals the streaming checker folded as the binding events came
    # (``checker.intervals``); None: built here from the ``BindingStarted`` / ``BindingEnded`` events
    intervals: BindingIntervals | None = None
    _by_type: dict[type, tuple[object, ...]] = field(default_factory=dict)
    _in_order: dict[tuple[type, ...], tuple[object, ...]] = field(default_factory=dict)

    @cached_property
    def _positions(self) -> dict[type, list[int]]:
        """Positions of the events by exact type: one pass, shared by every ``of``/``in_order``."""
        index: dict[type, list[int]] = {}
        for i, e in enumerate(self.events):
            index.setdefault(type(e), []).append(i)
        return index

    def _select(self, kinds: tuple[type, ...]) -> tuple[object, ...]:
        if self.allowed is not None:
            undeclared = [k.__name__ for k in kinds if not issubclass(k, tuple(self.allowed) or ())]
            if undeclared:
                raise UndeclaredRead(f"a rule read {', '.join(undeclared)} without declaring it")
        lists = [pos for t, pos in self._positions.items() if issubclass(t, kinds)]
        order = lists[0] if len(lists) == 1 else sorted(i for pos in lists for i in pos)
        return tuple(self.events[i] for i in order)

    def _folded_intervals(self) -> BindingIntervals | None:
        """The folded intervals, if given; strict (tests): the rule must have declared that it
        reads intervals (``registry.INTERVALS``) or both binding event kinds."""
        allowed = self.allowed
        if allowed is not None and IntervalsRead not in allowed \
                and not {ev.BindingStarted, ev.BindingEnded} <= allowed:
            raise UndeclaredRead("a rule read the binding intervals without declaring INTERVALS")
        return self.intervals

    def _binding_events(self, *kinds: type) -> tuple[Any, ...]:
        """The binding events for the event-built helpers: declaring INTERVALS allows them."""
        if self.allowed is not None and IntervalsRead in self.allowed:
            return HistoryContext(self.events, {}, self.config).in_order(*kinds)
        return self.in_order(*kinds)

    def of(self, kind: type[E]) -> tuple[E, ...]:
        """All events of one type (subclasses included), in processing order."""
        if kind not in self._by_type:
            self._by_type[kind] = self._select((kind,))
        return self._by_type[kind]  # type: ignore[return-value]

    def in_order(self, *kinds: type) -> tuple[object, ...]:
        """The events of several types (subclasses included) interleaved in processing order, for
        rules that replay a few kinds with their own per-key state without walking every event."""
        if kinds not in self._in_order:
            self._in_order[kinds] = self._select(kinds)
        return self._in_order[kinds]

    @cached_property
    def answered(self) -> tuple[tuple[ev.BindingUpdateProcessed, Packet, Packet], ...]:
        """(outcome, BU packet, BA packet) for every BU the engine paired with a captured BA."""
        found = []
        for p in self.of(ev.BindingUpdateProcessed):
            bu, ba = self.packet(p.bu_frame), self.packet(p.ba_frame)
            if bu is not None and ba is not None and bu.mobility and ba.mobility \
                    and isinstance(ba.mobility.body, BindingAck):
                found.append((p, bu, ba))
        return tuple(found)

    @cached_property
    def first_started_frame(self) -> dict[tuple[str, str], int]:
        """(HoA, CoA) -> frame of the first ``BindingStarted`` with that CoA or claimed CoA."""
        folded = self._folded_intervals()
        if folded is not None:
            return folded.first_started_frame
        first: dict[tuple[str, str], int] = {}
        for s in self._binding_events(ev.BindingStarted):
            for coa in (s.coa, s.claimed_coa):
                pair = (s.key.hoa, coa or "")
                if s.frame < first.get(pair, 1 << 62):
                    first[pair] = s.frame
        return first

    @cached_property
    def processed_by_ba(self) -> dict[int, ev.BindingUpdateProcessed]:
        """The first ``BindingUpdateProcessed`` of each BA frame."""
        index: dict[int, ev.BindingUpdateProcessed] = {}
        for p in self.of(ev.BindingUpdateProcessed):
            if p.ba_frame is not None:
                index.setdefault(p.ba_frame, p)
        return index

    def packet(self, frame: int | None) -> Packet | None:
        return None if frame is None else self.packets.get(frame)

    def message(self, frame: int | None) -> MobilityMessage | None:
        packet = self.packet(frame)
        return None if packet is None else packet.mobility

    @cached_property
    def bu_seen(self) -> tuple[ev.MessageSeen, ...]:
        """First sightings of Binding Updates, in capture order."""
        return tuple(m for m in self.of(ev.MessageSeen) if m.kind == "BU")

    @cached_property
    def _bu_seen_by_pair(self) -> dict[tuple[str | None, str | None], list[ev.MessageSeen]]:
        index: dict[tuple[str | None, str | None], list[ev.MessageSeen]] = {}
        for m in self.bu_seen:
            index.setdefault((m.hoa, m.peer), []).append(m)
        return index

    def next_bu(self, hoa: str | None, peer: str | None, after: int) -> ev.MessageSeen | None:
        """The first BU (first sighting, capture order) from ``hoa`` to ``peer`` after frame ``after``."""
        return next((m for m in self._bu_seen_by_pair.get((hoa, peer), ()) if m.frame > after), None)

    @cached_property
    def _ends_by_pair(self) -> dict[tuple[str, str], list[End]]:
        index: dict[tuple[str, str], list[End]] = {}
        for e in self._binding_events(ev.BindingEnded):
            index.setdefault((e.key.node, e.key.hoa), []).append((e.time, e.reason))
        return index

    def ends_of(self, node: str, hoa: str) -> list[End]:
        """(time, reason) of every binding end of one node for one home address, in processing
        order (``BindingEnded.reason``: "replaced", "deregistered", "expired", ...)."""
        folded = self._folded_intervals()
        if folded is not None:
            return folded.ends_of(node, hoa)
        return self._ends_by_pair.get((node, hoa), [])

    @cached_property
    def binding_intervals(self) -> tuple[tuple[BindingKey, str, float, float], ...]:
        """(key, CoA, start, end) of every binding the engine reported; end = inf while held."""
        folded = self._folded_intervals()
        if folded is not None:
            return folded.intervals
        opened: dict[tuple[BindingKey, str], float] = {}
        done: list[tuple[BindingKey, str, float, float]] = []
        for e in self._binding_events(ev.BindingStarted, ev.BindingEnded):
            if isinstance(e, ev.BindingStarted):
                opened.setdefault((e.key, e.coa), e.time)
            elif isinstance(e, ev.BindingEnded):
                start = opened.pop((e.key, e.coa), None)
                if start is not None:
                    done.append((e.key, e.coa, start, e.time))
        done.extend((key, coa, start, math.inf) for (key, coa), start in opened.items())
        return tuple(done)

    @cached_property
    def regular_pairs(self) -> frozenset[tuple[str, str]]:
        """(node, HoA) pairs that held a regular (BID-less) binding at some time."""
        folded = self._folded_intervals()
        if folded is not None:
            return folded.regular_pairs
        return frozenset((key.node, key.hoa) for key, _coa, _start, _end in self.binding_intervals
                         if key.bid is None)

    @cached_property
    def data_run_ends(self) -> dict[tuple[object, ...], ev.DataWithoutBindingEnded]:
        """The end of each run of unbound data, by (key, CoA, via, direction, first time, first
        frame): the ``DataWithoutBinding`` that started it has the same values."""
        return {(e.key, e.coa, e.via, e.direction, e.first_time, e.first_frame): e
                for e in self.of(ev.DataWithoutBindingEnded)}

    @cached_property
    def pre_existing_intervals(self) -> frozenset[tuple[BindingKey, str, float]]:
        """(key, CoA, start) of the bindings the engine found older than the capture."""
        folded = self._folded_intervals()
        if folded is not None:
            return folded.pre_existing
        return frozenset((e.key, e.coa, e.time) for e in self._binding_events(ev.BindingStarted)
                         if e.pre_existing)

    @cached_property
    def _intervals_by_peer(self) -> dict[tuple[str, str], list[tuple[BindingKey, str, float, float]]]:
        index: dict[tuple[str, str], list[tuple[BindingKey, str, float, float]]] = {}
        for row in self.binding_intervals:
            index.setdefault((row[0].node, row[0].hoa), []).append(row)
        return index

    @cached_property
    def _intervals_by_coa(self) -> dict[str, list[tuple[BindingKey, str, float, float]]]:
        index: dict[str, list[tuple[BindingKey, str, float, float]]] = {}
        for row in self.binding_intervals:
            index.setdefault(row[1], []).append(row)
        return index

    @cached_property
    def _intervals_by_hoa_coa(self) -> dict[tuple[str, str], list[tuple[BindingKey, str, float, float]]]:
        index: dict[tuple[str, str], list[tuple[BindingKey, str, float, float]]] = {}
        for row in self.binding_intervals:
            index.setdefault((row[0].hoa, row[1]), []).append(row)
        return index

    def covering(self, t: float, *, hoa: str, coa: str) -> list[tuple[BindingKey, str, float, float]]:
        """The binding intervals (key, CoA, start, end) of (HoA, CoA), at any node, that cover
        time ``t`` (in the order of ``binding_intervals``): one dictionary look-up, not a scan."""
        return [row for row in self._intervals_by_hoa_coa.get((hoa, coa), ()) if row[2] <= t < row[3]]

    @cached_property
    def _first_start(self) -> dict[tuple[str, str], float]:
        first: dict[tuple[str, str], float] = {}
        for key, _coa, start, _end in self.binding_intervals:
            pair = (key.node, key.hoa)
            if start < first.get(pair, math.inf):
                first[pair] = start
        return first

    def held_since(self, *, node: str, hoa: str) -> float | None:
        """When the first binding of (node, HoA) in the capture started; None if it never held one."""
        return self._first_start.get((node, hoa))

    def held_at(self, t: float, *, node: str | None = None, hoa: str | None = None,
                coa: str | None = None) -> list[tuple[BindingKey, str]]:
        """Bindings (key, CoA) held at time ``t``: of one node and HoA, or with one CoA."""
        if node is not None and hoa is not None:
            rows = self._intervals_by_peer.get((node, hoa), [])
        elif coa is not None:
            rows = self._intervals_by_coa.get(coa, [])
        else:
            rows = list(self.binding_intervals)
        return [(key, c) for key, c, start, end in rows if start <= t < end and (coa is None or c == coa)]

    def held_before(self, *, node: str, hoa: str) -> list[tuple[BindingKey, str, float, float]]:
        """Every binding interval (key, CoA, start, end) of one node for one home address."""
        return self._intervals_by_peer.get((node, hoa), [])

    @cached_property
    def nd_packets(self) -> tuple[Packet, ...]:
        """Neighbor Solicitations / Advertisements, in frame order."""
        return tuple(self.packets[f] for f in sorted(self.packets)
                     if (icmp := self.packets[f].icmp6) is not None and icmp.type in (135, 136))

    @cached_property
    def ra_packets(self) -> tuple[Packet, ...]:
        """Router Advertisements, in frame order."""
        return tuple(self.packets[f] for f in sorted(self.packets)
                     if (icmp := self.packets[f].icmp6) is not None and icmp.type == 134)

    # ---- indexes for the home-link rules (MCOA409-419): built once, one pass each

    @cached_property
    def nd_by_target(self) -> dict[str, list[Packet]]:
        """NS / NA by target address, in frame order."""
        index: dict[str, list[Packet]] = {}
        for p in self.nd_packets:
            if p.icmp6 is not None and p.icmp6.target:
                index.setdefault(p.icmp6.target, []).append(p)
        return index

    @cached_property
    def folded(self) -> Folds:
        """What is folded from every signalling packet (``Folds``): the checker's, else made here."""
        if self.folds is not None:
            return self.folds
        return Folds.of(self.packets, self.frame_dialects)

    @cached_property
    def _bu_interfaces(self) -> dict[tuple[str, int | None], frozenset[int]]:
        if self.folds is not None:
            return self.folds.bu_interfaces
        folds = Folds()
        for m in self.bu_seen:
            packet = self.packets.get(m.frame)
            if packet is not None:
                folds.observe_bu(m, packet)
        return folds.bu_interfaces

    @property
    def home_bu_interfaces(self) -> dict[str, frozenset[int]]:
        """Home address -> capture interfaces of the BUs it sent from the home link (untunnelled,
        no Home Address option, from the home address), folded from every BU."""
        return self.folded.home_bu_interfaces

    def bu_interfaces(self, hoa: str, bid: int | None) -> frozenset[int]:
        """The capture interfaces the BUs (first sightings) for (HoA, BID) came in on."""
        return self._bu_interfaces.get((hoa, bid), frozenset())

    def visible(self, interface: int, src: str, dst: str) -> bool:
        """Some signalling packet from ``src`` to ``dst`` (outer addresses) was seen on ``interface``."""
        return interface in self.folded.visible.get((src, dst), ())

    @property
    def mn_macs(self) -> dict[str, frozenset[bytes]]:
        """Home address -> source MACs of the mobile node: its untunnelled BUs and its packets
        sent from the home address (how the home-link rules tell its frames from others')."""
        return self.folded.mn_macs

    def macs_of(self, address: str) -> frozenset[bytes]:
        """Source MACs of signalling frames sent untunnelled from ``address`` (e.g. the HA's BAs)."""
        return self.folded.macs_by_source.get(address, frozenset())

    @cached_property
    def home_link_interfaces(self) -> dict[int, set[int]]:
        """/64 prefix (as an int) -> capture interfaces that see that link: RAs advertising it,
        or ND about an address in it."""
        index: dict[int, set[int]] = {}
        for p in self.ra_packets:
            for pfx in p.icmp6.prefixes:  # type: ignore[union-attr]
                key = prefix64(pfx.split("/")[0])
                if key is not None:
                    index.setdefault(key, set()).add(p.interface)
        for target, found in self.nd_by_target.items():
            key = prefix64(target)
            if key is not None:
                index.setdefault(key, set()).update(p.interface for p in found)
        return index

    @cached_property
    def nd_owners_by_hoa(self) -> dict[str, list[ev.HomeNdOwner]]:
        index: dict[str, list[ev.HomeNdOwner]] = {}
        for o in self.of(ev.HomeNdOwner):
            index.setdefault(o.key.hoa, []).append(o)
        return index

    @cached_property
    def ike_packets(self) -> tuple[Packet, ...]:
        """IKE messages (UDP 500 / 4500), in frame order."""
        return tuple(self.packets[f] for f in sorted(self.packets) if self.packets[f].ike is not None)

    @cached_property
    def capture_end(self) -> float:
        """Time of the last event or signalling packet: how long the capture kept looking."""
        times = [d.last for d in self.watched_data]
        if self.packet_span is not None:
            times.append(self.packet_span[1])
        else:
            times += [p.time for p in self.packets.values()]
        if self.event_times is None:
            times += [t for e in self.events if isinstance(t := getattr(e, "time", None), float)]
        elif self.event_times[1] is not None:
            times.append(self.event_times[1])
        return max(times, default=0.0)

    @cached_property
    def signalling_start(self) -> float:
        """The earliest of the signalling packets' times and the first event's time (0.0 if none)."""
        span = self.packet_span
        times = [span[0]] if span is not None else [p.time for p in self.packets.values()]
        if self.event_times is not None:
            first = self.event_times[0]
        else:
            first = getattr(self.events[0], "time", None) if self.events else None
        if first is not None:
            times.append(first)  # type: ignore[arg-type]
        return min(times, default=0.0)

    def dialect_of(self, frame: int | None) -> Dialect:
        """The dialect of a message's BID options, else its pair's, else the capture's (read
        from the folds when given: the packet itself may not be kept)."""
        if self.folds is None:
            return dialect_of(self.message(frame), frame, self.frame_dialects, self.config)
        if frame is None:
            return self.config.dialect
        return self.folds.bid_dialects.get(frame) or self.frame_dialects.get(frame) or self.config.dialect


def dialect_of(mh: MobilityMessage | None, frame: int | None, frame_dialects: Mapping[int, Dialect],
               config: CheckerConfig) -> Dialect:
    """The dialect of a message's BID options, else its frame's pair's, else the capture's."""
    if mh is not None and mh.bids:
        return mh.bids[0].dialect
    if frame is not None and frame in frame_dialects:
        return frame_dialects[frame]
    return config.dialect
