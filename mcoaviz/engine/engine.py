"""BindingEngine: the sans-IO state engine (docs/architecture.md, Engine API).

Fed decoded records in capture order (``feed``) and fast-path traffic rows (``feed_traffic``),
it reconstructs every node's binding cache and every mobile node's binding update list over
time, counts data per CoA, and emits ``events`` the checker reads. No files, sockets or
printing. Memory grows with bindings, signalling messages and time bins, never with data
packets. Interpretations taken are listed in docs/engine.md.
"""

from __future__ import annotations

import dataclasses
import itertools
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from sys import intern
from typing import IO, Any

from dissector.codepoints import BAStatus, Dialect
from dissector.records import (
    AlternateCoA,
    BindingAck,
    BindingRefreshRequest,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    IPv4HomeAddress,
    MobilityMessage,
    Packet,
    TrafficCount,
)
from mcoaviz.engine import retention
from mcoaviz.engine.attribution import VIA_OF_TUNNEL, Attribution, Attributor
from mcoaviz.engine.bul import BulRow, BulTable
from mcoaviz.engine.cache import BindingCache, BindingRow
from mcoaviz.engine.events import (
    BrrSeen,
    CareOfTestSeen,
    DataWithoutBinding,
    DataWithoutBindingEnded,
    DuplicateSighting,
    Event,
    MessageSeen,
    RetransmissionSeen,
    TestKey,
    UnansweredBU,
    UnmatchedBA,
)
from mcoaviz.engine.keys import BindingKey, ExchangeKey, PeerKey, Role, role_of_bu
from mcoaviz.engine.messages import message_json, message_row
from mcoaviz.engine.pairing import Pairing, PendingBU, Sightings
from mcoaviz.engine.registration import Outcome, Registrar, overwrite_flag
from mcoaviz.engine.retired import RetiredRows
from mcoaviz.engine.traffic import TrafficTable

SEQUENCE_OUT_OF_WINDOW = int(BAStatus.SEQUENCE_OUT_OF_WINDOW)
# Fields of kept events whose values repeat from event to event (keys, addresses, BID tuples,
# explanations, lifetimes): ``_keep`` makes equal values one object. At 1 M packets 130 000 key
# objects held 30 000 keys and 34 000 ``why`` strings 6 texts. Times and frames are left alone.
SHARED_FIELDS = frozenset({
    "key", "src", "dst", "hoa", "peer", "coa", "claimed_coa", "bids", "why", "lifetime",
    "requested_lifetime", "granted_lifetime", "results", "role", "change", "kind", "end_reason",
    "reason", "via", "direction", "interpretations", "first_registration", "dialect", "status",
})
SHARED_LIMIT = 1 << 16  # distinct values shared at most (past it the table starts over)
# addressings (flows) ``_attribute`` remembers, per generation: the memo keeps the flows seen
# recently, not every flow of the capture (at 1 << 18 it held ~24 MiB at 1 M packets, growing)
LOCATE_MEMO_LIMIT = 1 << 13
RETIRE_EVERY = 64.0  # capture seconds between two moves of ended rows out of memory (_retire)


def _binding_tie(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["node"], row["hoa"], -1 if row["bid"] is None else row["bid"])


def _bul_tie(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["hoa"], row["peer"], -1 if row["bid"] is None else row["bid"])


def _whole_table(retired: RetiredRows | None, held: Sequence[Any],
                 held_sorted: Callable[[], Iterable[Any]]) -> Iterator[dict[str, Any]]:
    """A binding or BUL table as dicts: the rows held (``held_sorted``: them in table order) and,
    in a whole-file run, the retired ones merged back in the same order."""
    if retired is None or not len(retired):
        return (row.to_dict() for row in held_sorted())
    return retired.ordered(held)
_FIRST = attrgetter("first")


class _Target:
    """Where the rows of one (interface, node, HoA, CoA, direction, via) go while bound: the
    table cell of its key (with the BID found), valid while ``keys`` is ``keys_of(node, HoA)``."""

    __slots__ = ("node", "hoa", "coa", "direction", "keys", "cell")

    def __init__(self, node: str, hoa: str, coa: str, direction: str) -> None:
        self.node, self.hoa, self.coa, self.direction = node, hoa, coa, direction
        self.keys: list[BindingKey] | None = None  # None: not known bound (look it up)
        self.cell: Any = None


_UNATTRIBUTED = _Target("", "", "", "")  # a flow that no node, HoA and CoA were found for
# flows ``feed_traffic`` remembers (``_flows``) and their table keys (``_targets``): a memory bound
# (cleared when full; the flows active at the time are located again)
FLOW_MEMO_LIMIT = 1 << 15
# and the located flows follow the flows seen recently: those unused for one to two of these
# (capture seconds) are forgotten (a flow seen again is located again: only memory changes)
FLOW_ROTATE_SECONDS = 64


@dataclass(frozen=True, slots=True)
class EngineConfig:
    ba_timeout: float = 32.0  # MAX_BINDACK_TIMEOUT (6275 §13): give up waiting for a BA
    duplicate_window: float = 0.5  # same message at another interface within this = one message
    bid_conflict_installs: bool = True  # I-7 (draft BID CONFLICT installs, unconfirmed); False: nothing
    keep_events: bool = True  # keep ``events`` (history); a live view may turn it off
    # keep only events of these exact classes (what the run's consumers read: the checker's
    # selected rules and the export's tables, ``AnalysisOptions.history``); None: every kind
    keep_kinds: frozenset[type] | None = None
    # and of the ``MessageSeen`` events, only those of these message kinds ("BU", "CoT", ...;
    # a home agent's BAs are half of them and nothing but the views reads them); None: all
    keep_seen: frozenset[str] | None = None
    # live: capture seconds of history kept (messages, events, ended rows); older ones are only
    # counted in ``BindingEngine.aged`` (``mcoaviz.engine.retention``). None: keep everything.
    retain: float | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """State at one instant: open binding rows per node and open BUL rows."""

    time: float
    bindings: tuple[dict[str, Any], ...]
    bul: tuple[dict[str, Any], ...]

    def caches(self) -> dict[str, list[dict[str, Any]]]:
        by_node: dict[str, list[dict[str, Any]]] = {}
        for row in self.bindings:
            by_node.setdefault(row["node"], []).append(row)
        return by_node


class MessageSpool(Sequence[dict[str, Any]]):
    """Where message rows go instead of a list of dicts, as JSON text (a whole-file export's
    ``mcoaviz.rowspool.RowSpool``: the caller owns the file; the engine only appends). It also
    gives the engine the scratch files a whole-file run spills to (the traffic table's old bins)."""

    @abstractmethod
    def append_json(self, text: str) -> None:
        """Append one row, encoded as ``json.dumps`` would (``message_json``)."""

    @abstractmethod
    def scratch_file(self) -> IO[bytes]:
        """A new anonymous temporary file (``SpoolError`` when none can be made)."""

    def another(self) -> MessageSpool | None:
        """A new, empty spool of the same kind (ended binding / BUL rows go there:
        ``engine/retired.py``); None: keep those rows in memory."""
        return None


class BindingEngine:
    def __init__(self, config: EngineConfig | None = None, spool: MessageSpool | None = None) -> None:
        """``spool``: message rows are appended to it as JSON lines, not kept as dicts (not with
        ``config.retain``, which trims the list of rows)."""
        self.config = config or EngineConfig()
        self.events: list[Event] = []
        self.cache = BindingCache()
        self.bul_table = BulTable()
        # a whole-file run (message rows spooled) keeps only the recent traffic bins in memory
        self.traffic_table = TrafficTable(
            spill=spool.scratch_file if spool is not None and self.config.retain is None else None)
        self._capture_start: list[float] = [0.0]
        self._first_time: float | None = None
        self.last_time: float | None = None
        self.registrar = Registrar(self.cache, self.bul_table,
                                   bid_conflict_installs=self.config.bid_conflict_installs,
                                   capture_start=self._capture_start)
        self.attributor = Attributor(self.cache, self.registrar.prefixes)
        self.registrar.tunnel_seen_before = self.attributor.tunnel_seen_before
        # live runs age answered exchanges out in insertion order (a dict); others keep them compact
        self._pairing = Pairing(compact=self.config.retain is None)
        self._sightings = Sightings(self.config.duplicate_window)
        self._messages: list[dict[str, Any]] = []
        self._shared: dict[Any, Any] = {}  # equal field values of kept events -> one object (_keep)
        self._shared_plan: dict[type, tuple[str, ...]] = {}  # event type -> its SHARED_FIELDS
        self.spool = spool if self.config.retain is None else None
        # a spool stores JSON text: encode the row straight from the packet (the same bytes)
        self._keep_message_of: Callable[[Packet], None] = (
            self._keep_row if self.spool is None else self._keep_json)
        self._cot_pending: dict[tuple[str, str, bytes], int] = {}
        self._unbound_seen: set[tuple[Any, ...]] = set()
        self._unbound_generation = -1
        # the open run of each flagged marker, counted at the interface where it was flagged:
        # [DataWithoutBinding, last time, last frame, packets, interface]
        self._unbound_runs: dict[tuple[Any, ...], list[Any]] = {}
        self._locate_memo: dict[tuple[Any, ...], tuple[str, str, str, str] | None] = {}
        self._locate_older: dict[tuple[Any, ...], tuple[str, str, str, str] | None] = {}
        self._locate_token: tuple[int, int] = (-1, -1)
        # feed_traffic: a flow's (interface, addressing) -> its _Target (or _UNATTRIBUTED), while
        # the locate token holds; (interface, node, HoA, CoA, direction, via) -> _Target
        self._flows: dict[tuple[Any, ...], _Target] = {}
        # the located flows not used since the last rotation (every FLOW_ROTATE_SECONDS of capture
        # time): one used again moves back, the others go at the next rotation
        self._flows_older: dict[tuple[Any, ...], _Target] = {}
        self._flows_rotate_at = float("-inf")
        self._flows_token: tuple[int, int] = (-1, -1)
        self._targets: dict[tuple[Any, ...], _Target] = {}
        self._target_spills = 0  # the traffic table's spills the targets were last pruned at
        # BUs whose BA was never captured, by the (node, HoA, CoA) they would register: applied
        # (unconfirmed, at the BU's time) only if data later shows the node used that CoA.
        self._unanswered_by_coa: dict[tuple[str, str, str], PendingBU] = {}
        # retention (``config.retain``): what was aged out, and the capture time of the last cut
        self.aged = retention.new_counts()
        self.aged_types: dict[str, int] = {}  # aged-out messages by type
        self.pinned: dict[tuple[Any, ...], dict[str, Any]] = {}  # aged, still shown (retention)
        self.messages_aged = 0
        self.aged_before: float | None = None
        self._next_age: float | None = None
        # a whole-file run: ended rows no engine path reads again go to spools (``_retire``)
        self._retire_at: float | None = None
        self._retired_cut = float("-inf")  # every retired binding row ended before this time
        if self.spool is not None:
            bindings, bul = self.spool.another(), self.spool.another()
            if bindings is not None and bul is not None:
                self.cache.retire_to(RetiredRows(bindings, _binding_tie))
                self.bul_table.retire_to(RetiredRows(bul, _bul_tie))
                self._retire_at = -float("inf")

    def _keep_row(self, packet: Packet) -> None:
        self._messages.append(message_row(packet))

    def _keep_json(self, packet: Packet) -> None:
        # shared_areas: the text around frame, time, sequence number and checksum verdict is made
        # once per (path, options, fixed part) -- a node's refreshes share those (decode repeats)
        assert self.spool is not None
        self.spool.append_json(message_json(packet, shared_areas=True))

    # ================================================================== feeding
    def feed(self, packet: Packet) -> list[Event]:
        """One slow-path record, in capture order."""
        t = packet.time
        events = self._advance(t)
        m = packet.mobility
        if m is None:
            if packet.icmp6 is None:
                events += self._count_packet(packet)
            return self._keep(events)
        self._keep_message_of(packet)
        if m.body is None:
            return self._keep(events)
        fingerprint = self._fingerprint(packet, m)
        first = self._sightings.first_frame(fingerprint, packet.time, packet.frame, packet.interface)
        if first is not None:
            key = self._message_key(packet, m)
            events.append(DuplicateSighting(packet.time, packet.frame, key, m.type_name,
                                            packet.interface, first))
            if isinstance(m.body, BindingUpdate) and isinstance(key, ExchangeKey):
                self._nearer_sighting(key, packet)
            return self._keep(events)
        body = m.body
        if isinstance(body, BindingUpdate):
            events += self._on_bu(packet, m, body)
        elif isinstance(body, BindingAck):
            events += self._on_ba(packet, m, body)
        else:
            events += self._on_other(packet, m)
        return self._keep(events)

    def feed_traffic(self, rows: Iterable[TrafficCount]) -> list[Event]:
        """Fast-path rows; each lies between two signalling records (pipeline guarantee).

        Per row this does what ``_due``/``_advance``, ``_attribute`` and ``_count`` do, for a
        fraction of the cost (a home agent's capture has tens of thousands of flows, each
        flushed many times):
        * time is checked once for the whole batch: ``_due`` only grows with ``t``, so when the
          latest row is not due none is (until an advance or an unbound row changes the state);
        * a flow's addressing is located once per locate token (``_flows``) and leads to a
          ``_Target`` shared by every flow of one table key, which holds the bound key's table
          cell while ``cache.keys_of(node, HoA)`` is the same list (a new list is made whenever
          one of the pair's bindings starts, ends or changes its claimed CoA);
        * a row whose (node, HoA, CoA) is not bound takes the full path (``_count``) each time.
        """
        batch = rows if isinstance(rows, list) else list(rows)
        if not batch:
            return []
        events: list[Event] = []
        self._flows_valid()
        flows, older, targets = self._flows, self._flows_older, self._targets
        latest = max(map(_FIRST, batch))
        check = self._due(latest)  # False: no row of the batch is due (nothing changes it below)
        keys_of = self.cache.keys_of
        attributor = self.attributor
        table = self.traffic_table
        add_to = table.add_to
        for row in batch:
            first = row.first
            if check:
                if self._due(first):
                    events += self._advance(first)
                    self._flows_valid()  # (a BU given up on may be applied: addresses learnt)
                    check = self._due(latest)
                else:
                    self._saw_time(first)
            elif first > self.last_time:  # type: ignore[operator]  # (set: not due => advanced once)
                self.last_time = first
            via = row.via
            if via == "plain":
                continue
            flow = (row.interface, via, row.outer_src, row.outer_dst, row.src, row.dst,
                    row.home_address_option, row.routing_type2)
            target = flows.get(flow)
            if target is None and older:  # (used before the last rotation: moved back)
                target = older.pop(flow, None)
                if target is not None:
                    flows[flow] = target
            if target is None:
                located = attributor.locate(*flow[1:])
                if located is None:
                    flows[flow] = _UNATTRIBUTED
                    table.unattributed_packets += row.packets
                    continue
                shared = (row.interface, *located, via)
                target = targets.get(shared)
                if target is None:
                    target = targets[shared] = _Target(*located)
                flows[flow] = target
            elif target is _UNATTRIBUTED:
                table.unattributed_packets += row.packets
                continue
            if keys_of(target.node, target.hoa) is target.keys:
                add_to(target.cell, row.packets, row.bytes, first, row.last, row.second)
                continue
            who = attributor.bind(target.node, target.hoa, target.coa, target.direction)
            if who.bound:  # nothing but the table: remember the cell while the keys hold
                target.keys = keys_of(who.node, who.hoa)
                target.cell = table.cell((row.interface, who.node, who.hoa, who.coa, who.bid,
                                          who.direction, via), row.second)
                add_to(target.cell, row.packets, row.bytes, first, row.last, row.second)
                continue
            target.keys = None
            events += self._count(who, row.interface, via, row.packets, row.bytes, first,
                                  row.last, row.second, None)
            self._flows_valid()  # evidence for an unanswered BU may have applied it
            check = self._due(latest)
        if table.spills != self._target_spills:
            self._prune_targets()
        if table.sweep(latest):  # (between batches: no cell is being counted into)
            self._drop_moved_cells()
        if latest >= self._flows_rotate_at:  # (between batches too: the loop holds both dicts)
            self._flows_rotate_at = latest + FLOW_ROTATE_SECONDS
            self._flows_older, self._flows = self._flows, {}
        return self._keep(events)

    def _drop_moved_cells(self) -> None:
        """After the traffic table moved idle keys out of memory: the located flows and the
        shared targets of those keys go (their cells' totals lists are emptied), so both follow
        the keys with recent data. A flow that comes back is located again and gets a new
        target, whose first row asks the table for its key's cell (a new one): only memory and
        a ``locate`` change."""
        gone = set()
        for target in itertools.chain(self._flows.values(), self._flows_older.values(),
                                      self._targets.values()):
            cell = target.cell
            if cell is not None and not cell[0]:
                target.keys = target.cell = None  # (for a holder outside these dicts too)
                gone.add(id(target))
        if gone:
            self._flows = {flow: target for flow, target in self._flows.items() if id(target) not in gone}
            self._flows_older = {flow: target for flow, target in self._flows_older.items()
                                 if id(target) not in gone}
            self._targets = {shared: target for shared, target in self._targets.items()
                             if id(target) not in gone}

    def _prune_targets(self) -> None:
        """After a spill of the traffic table: forget the targets whose key had no data since the
        spill's horizon (a binding that ended, a CoA left). Safe at any time: a located flow keeps
        its own target, and a flow located later for the same key makes a new one (each target
        checks its own keys), so only memory changes."""
        table = self.traffic_table
        self._target_spills = table.spills
        horizon = table.spill_horizon
        self._targets = {shared: target for shared, target in self._targets.items()
                         if target.cell is None or target.cell[1][-3] >= horizon}

    def _flows_valid(self) -> None:
        """Forget located flows once an address was learnt since (the locate token), and the
        targets when they fill their bound (they stay valid: each checks its own keys)."""
        token = (self.attributor.version, self.registrar.prefix_version)
        if token != self._flows_token or len(self._flows) >= FLOW_MEMO_LIMIT:
            self._flows.clear()
            self._flows_older.clear()
            self._flows_token = token
            if len(self._targets) >= FLOW_MEMO_LIMIT:
                self._targets.clear()

    def _attribute(self, *addressing: Any) -> Attribution | None:
        """``Attributor.attribute`` with its address part memoised per addressing (a flow):
        valid while no address was learnt; the binding part is looked up every time.

        Two generations: when the current one is full it becomes the older one (the oldest is
        dropped), and a hit in the older one moves to the current one -- a bound that keeps the
        flows seen recently (as the fast path's caches do) at the cost of a dict look-up."""
        token = (self.attributor.version, self.registrar.prefix_version)
        memo = self._locate_memo
        if token != self._locate_token:
            memo.clear()
            self._locate_older.clear()
            self._locate_token = token
        try:
            found = memo[addressing]
        except KeyError:
            if addressing in self._locate_older:
                found = self._locate_older[addressing]
            else:
                found = self.attributor.locate(*addressing)
            if len(memo) >= LOCATE_MEMO_LIMIT:
                self._locate_older, memo = memo, {}
                self._locate_memo = memo
            memo[addressing] = found
        return None if found is None else self.attributor.bind(*found)

    def _due(self, t: float) -> bool:
        """Something may happen before ``t`` (a BA timeout, an expiry): heap tops, stale entries
        included, so a False is exact and a True only costs the full look."""
        pending = self._pairing.next_time()
        if pending is not None and t - pending > self.config.ba_timeout:
            return True
        return self.cache.due_before(t) or self.bul_table.due_before(t) or self._first_time is None

    def _saw_time(self, t: float) -> None:
        if self.last_time is None or t > self.last_time:
            self.last_time = t

    def advance_to(self, t: float) -> list[Event]:
        """Time passes: give up on overdue BAs, fire expiries before ``t``."""
        return self._keep(self._advance(t))

    def _advance(self, t: float) -> list[Event]:
        if self._retire_at is not None and t >= self._retire_at:
            self._retire(t)
        if self.config.retain is None and not self._due(t):
            self._saw_time(t)  # nothing can fall due before ``t``: the timers are not walked
            return []
        if self._first_time is None:
            self._first_time = t
            self._capture_start[0] = t
        self.last_time = t if self.last_time is None else max(self.last_time, t)
        events: list[Event] = []
        for bu in self._pairing.overdue(t, self.config.ba_timeout):
            events += self._unanswered(bu, "timeout", bu.time + self.config.ba_timeout)
        events += self.cache.expire_until(t)
        events += self.bul_table.expire_until(t)
        retain = self.config.retain
        if retain is not None and (self._next_age is None or t >= self._next_age):
            if self._next_age is not None:
                retention.forget_before(self, t - retain)
            self._next_age = t + retain / retention.AGE_STEPS
        return events

    def _retire(self, t: float) -> None:
        """Move ended rows out of memory (whole-file runs, every ``RETIRE_EVERY`` capture
        seconds). A BUL row is read by nothing in the engine once it ended. A binding row is
        read after its end only by ``_changed_since`` for a BU waiting for its BA or for data
        (pending, or unanswered and within its lifetime): rows that ended before every such BU
        (and before ``t``) go. A BU older than the cut (times out of order, or an unanswered BU
        past its lifetime that data still names) reads the retired rows too, so the cut only
        decides what stays at hand, never an answer."""
        self._retire_at = t + RETIRE_EVERY
        cut = t
        for bu in self._pairing.pending.values():
            cut = min(cut, bu.time)
        for bu in self._unanswered_by_coa.values():
            if bu.time + bu.bu.lifetime >= t:  # else data can no longer apply it (``_evidence``)
                cut = min(cut, bu.time)
        self.cache.retire_ended_before(cut)
        self._retired_cut = max(self._retired_cut, cut)
        self.bul_table.retire_ended()

    def finish(self, t_end: float) -> list[Event]:
        """End of capture: unanswered BUs are applied unconfirmed; expiries up to ``t_end``."""
        events: list[Event] = []
        for bu in self._pairing.drain():
            events += self._unanswered(bu, "capture-end", t_end)
        events += self.cache.expire_until(t_end)
        events += self.bul_table.expire_until(t_end)
        events += [self._run_ended(run) for run in self._unbound_runs.values()]
        self._unbound_runs.clear()
        self.last_time = t_end if self.last_time is None else max(self.last_time, t_end)
        return self._keep(events)

    # ================================================================== queries
    def state_at(self, t: float) -> Snapshot:
        def valid(row: dict[str, Any]) -> bool:
            return bool(row["start"] <= t and (row["end"] is None or t < row["end"]))

        bindings = tuple(r for r in self.binding_rows() if valid(r))
        bul = tuple(r for r in self.bul_rows() if valid(r))
        return Snapshot(t, bindings, bul)

    def history(self, key: object) -> list[Event]:
        return [e for e in self.events if getattr(e, "key", None) == key]

    def bindings(self) -> list[BindingRow]:
        """The binding rows held in memory, sorted (a whole-file run retires ended ones: then
        ``binding_rows`` has the whole table)."""
        return sorted(self.cache.rows, key=lambda r: (r.start, r.node, r.hoa, -1 if r.bid is None else r.bid))

    def bul(self) -> list[BulRow]:
        """The BUL rows held in memory, sorted (see ``bindings``; ``bul_rows``: all of them)."""
        rows = self.bul_table.rows
        return sorted(rows, key=lambda r: (r.start, r.hoa, r.peer, -1 if r.bid is None else r.bid))

    def binding_rows(self) -> Iterator[dict[str, Any]]:
        """The ``bindings`` table: every row as a dict, retired ones included, sorted as
        ``bindings()`` sorts."""
        return _whole_table(self.cache.retired, self.cache.rows, self.bindings)

    def bul_rows(self) -> Iterator[dict[str, Any]]:
        """The ``bul`` table: every row as a dict, retired ones included, sorted as ``bul()``."""
        return _whole_table(self.bul_table.retired, self.bul_table.rows, self.bul)

    @property
    def binding_count(self) -> int:
        return len(self.cache.rows) + len(self.cache.retired or ())

    @property
    def bul_count(self) -> int:
        return len(self.bul_table.rows) + len(self.bul_table.retired or ())

    def traffic(self) -> list[dict[str, Any]]:
        return self.traffic_table.rows()

    def traffic_bins(self) -> list[dict[str, Any]]:
        return self.traffic_table.bin_rows()

    def message_rows(self) -> Sequence[dict[str, Any]]:
        """The message rows without copying them (the spool itself when spooling)."""
        return self.spool if self.spool is not None else self.messages()

    def messages(self) -> list[dict[str, Any]]:
        if self.spool is not None:
            return list(self.spool)
        if self.pinned:  # retention: the newest aged BU / BA of each node, HoA and BID come first
            held = {id(row): row for row in self.pinned.values()}.values()
            return sorted(held, key=lambda m: m["time"]) + self._messages
        return list(self._messages)

    @property
    def message_total(self) -> int:
        """Messages fed so far, aged-out ones included (``messages()`` has the retained ones)."""
        return self.messages_aged + len(self.spool if self.spool is not None else self._messages)

    def messages_after(self, total: int) -> list[dict[str, Any]]:
        """The retained messages that came after the first ``total`` ever fed."""
        return self._messages[max(0, total - self.messages_aged):]

    # ================================================================== signalling
    def _on_bu(self, packet: Packet, m: MobilityMessage, bu: BindingUpdate) -> list[Event]:
        path = packet.path
        node, hoa = path.dst, path.home_address_option or path.src
        if node is None or hoa is None:
            return []
        role = role_of_bu(bu)
        # one string object per address: the exchange's key lives as long as the history does
        # (events, the answered index), and each packet decodes its addresses anew
        node, hoa = intern(node), intern(hoa)
        key = ExchangeKey(node, hoa, bu.seq)
        events: list[Event] = [MessageSeen(packet.time, packet.frame, key, "BU", packet.interface,
                                           path.src, path.dst, hoa, node, bu.seq,
                                           tuple([b.bid for b in m.bids]), role=role.value)]
        known = self._pairing.known(key)
        if known is not None:
            first = known.frame if isinstance(known, PendingBU) else known
            attempt = 2
            if isinstance(known, PendingBU):
                known.attempts += 1
                attempt = known.attempts
            return events + [RetransmissionSeen(packet.time, packet.frame, key, first, attempt)]
        self._learn(packet, m, node, hoa, role)
        pending = PendingBU(
            key=key, time=packet.time, frame=packet.frame, bu=bu, message=m, role=role,
            dialect=m.bids[0].dialect if m.bids else Dialect.RFC5648,
            source_coa=self._source_coa(packet, m), outer_ipv4=self._outer_ipv4(packet),
        )
        for old in self._pairing.superseded_by(pending):
            events += self._unanswered(old, "superseded", packet.time)
        events += self.registrar.bu_sent(pending)
        if "A" in bu.flags:
            self._pairing.add(pending)
        else:
            events += self.registrar.apply(pending, Outcome(packet.time, packet.frame, None, None, True))
        return events

    def _on_ba(self, packet: Packet, m: MobilityMessage, ba: BindingAck) -> list[Event]:
        path = packet.path
        node, hoa = path.src, path.routing_type2 or path.dst
        if node is None or hoa is None:
            return []
        node, hoa = intern(node), intern(hoa)  # as in _on_bu
        key = ExchangeKey(node, hoa, ba.seq)
        pending = self._pairing.take(key)
        if pending is None and ba.status == SEQUENCE_OUT_OF_WINDOW and key not in self._pairing.pending:
            pending = self._pairing.latest_for(node, hoa)  # 135 carries the last accepted number
        answered = pending.frame if pending is not None else self._pairing.answered.get(key)
        events: list[Event] = [MessageSeen(packet.time, packet.frame, key, "BA", packet.interface,
                                           path.src, path.dst, hoa, node, ba.seq,
                                           tuple([b.bid for b in m.bids]), answers=answered,
                                           role=pending.role_value if pending else None)]
        if pending is None:
            if answered is None:
                events.append(UnmatchedBA(packet.time, packet.frame, key, ba.status))
            return events
        return events + self.registrar.apply(pending, Outcome(packet.time, packet.frame, ba, m, True))

    def _nearer_sighting(self, key: ExchangeKey, packet: Packet) -> None:
        """A later sighting of a BU is nearer its receiver: behind a NAT, its outer IPv4 source
        is the address the node saw, which is the CoA it registers (I-22)."""
        pending = self._pairing.pending.get(key)
        outer = self._outer_ipv4(packet)
        if pending is None or outer is None or outer == pending.outer_ipv4:
            return
        if pending.source_coa == pending.outer_ipv4:
            pending.source_coa = outer
        pending.outer_ipv4 = outer

    def _unanswered(self, bu: PendingBU, reason: str, decided_at: float) -> list[Event]:
        """No BA captured. Nothing is invented: the BU changes no state unless data later shows
        the node used one of its CoAs (then it is applied unconfirmed, see ``_evidence``)."""
        if bu.bu.lifetime > 0:
            for option in bu.bids or (None,):
                coa = bu.source_coa if option is None else self.registrar.coa_for(bu, option)[0]
                self._unanswered_by_coa[(bu.key.node, bu.key.hoa, coa)] = bu
        return [UnansweredBU(bu.time, bu.frame, bu.key, bu.bid_values, bu.bu.lifetime, reason, decided_at)]

    def _evidence(self, who: Attribution, time: float) -> tuple[Attribution, list[Event]]:
        """The node sent data to a CoA only an unanswered BU registered: it did accept that BU
        (its BA was lost before the capture point). Apply it unconfirmed, from the BU's time."""
        bu = self._unanswered_by_coa.pop((who.node, who.hoa, who.coa), None)
        if bu is None or time > bu.time + bu.bu.lifetime:
            return who, []
        for key in [k for k, v in self._unanswered_by_coa.items() if v is bu]:
            del self._unanswered_by_coa[key]
        if self._changed_since(bu):
            return who, []
        events = self.registrar.apply(bu, Outcome(bu.time, bu.frame, None, None, False))
        redone = self.attributor.bind(who.node, who.hoa, who.coa, who.direction)
        return redone, events

    def _changed_since(self, bu: PendingBU) -> bool:
        """Did signalling after ``bu`` already change a binding the BU would touch? The node
        processed that signalling after this BU, so its outcome stands; applying the BU at its
        own time (I-29) would rewrite that history (end rows before they started, revive rows
        later de-registered, undo later refreshes). Then the BU stays unapplied."""
        node, hoa = bu.key.node, bu.key.hoa
        every_key = not bu.bids or overwrite_flag(bu)  # regular / O: all bindings go
        touched = {None, *bu.bid_values}

        def later(time: float | None, frame: int | None) -> bool:
            return time is not None and (time > bu.time or (time == bu.time and (frame or 0) > bu.frame))

        for row in self.cache.rows_of(node, hoa):
            if not (every_key or row.bid in touched):
                continue
            accepted = None if row.expires is None or row.lifetime is None else row.expires - row.lifetime
            if later(row.start, row.start_frame) or later(row.end, row.end_frame) or later(accepted, None):
                return True
        retired = self.cache.retired
        if retired is not None and bu.time < self._retired_cut:  # times out of order: rare
            for old in retired.rows():  # ended rows: accepted <= end, so start and end decide
                if old["node"] == node and old["hoa"] == hoa and (every_key or old["bid"] in touched) and (
                        later(old["start"], old["start_frame"]) or later(old["end"], old["end_frame"])):
                    return True
        return False

    def _on_other(self, packet: Packet, m: MobilityMessage) -> list[Event]:
        path, body = packet.path, m.body
        bids = tuple(b.bid for b in m.bids)
        if isinstance(body, CareOfTestInit) and path.src and path.dst:
            test = TestKey(path.src, path.dst)
            self._cot_pending[(path.src, path.dst, body.cookie)] = packet.frame
            self.registrar.preparation.care_of_test("CoTI", packet.time, packet.frame, path.dst, path.src,
                                                    bids)
            return [self._seen(packet, m, test, None, path.dst),
                    CareOfTestSeen(packet.time, packet.frame, test, "CoTI", self._bid_detail(m))]
        if isinstance(body, CareOfTest) and path.src and path.dst:
            test = TestKey(path.dst, path.src)
            answers = self._cot_pending.pop((path.dst, path.src, body.cookie), None)
            self.registrar.preparation.care_of_test("CoT", packet.time, packet.frame, path.src, path.dst,
                                                    bids)
            return [self._seen(packet, m, test, None, path.src),
                    CareOfTestSeen(packet.time, packet.frame, test, "CoT", self._bid_detail(m), answers)]
        peer_to_mn = isinstance(body, BindingRefreshRequest) or m.type_name in ("HoT", "CoT", "BE")
        if peer_to_mn:
            hoa, peer = path.routing_type2 or path.dst, path.src
        else:
            hoa, peer = path.home_address_option or path.src, path.dst
        key = PeerKey(hoa, peer) if hoa and peer else None
        if m.type_name in ("HoTI", "HoT") and hoa and peer:
            self.registrar.preparation.home_test(m.type_name, packet.time, packet.frame, peer, hoa)
        events: list[Event] = [self._seen(packet, m, key, hoa, peer)]
        if isinstance(body, BindingRefreshRequest) and key is not None:
            events.append(BrrSeen(packet.time, packet.frame, key, bids))
        return events

    def _seen(self, packet: Packet, m: MobilityMessage, key: Any, hoa: str | None,
              peer: str | None) -> MessageSeen:
        return MessageSeen(packet.time, packet.frame, key, m.type_name, packet.interface,
                           packet.path.src, packet.path.dst, hoa, peer, None,
                           tuple(b.bid for b in m.bids))

    @staticmethod
    def _bid_detail(m: MobilityMessage) -> tuple[tuple[int, int, tuple[str, ...]], ...]:
        return tuple((b.bid, b.status, b.flags) for b in m.bids)

    def _learn(self, packet: Packet, m: MobilityMessage, node: str, hoa: str, role: Role) -> None:
        """Remember addresses that later let data be attributed (HAs, HoAs, IPv4 aliases)."""
        attributor = self.attributor
        before = (len(attributor.hoas), len(attributor.home_agents))
        attributor.hoas.add(hoa)
        if role is Role.HOME_AGENT:
            attributor.home_agents.add(node)
            outer_dst = packet.path.outer_dst
            tunnelled = packet.path.tunnel in ("udp", "ip6ip4")
            if tunnelled and outer_dst and attributor.aliases.get(outer_dst) != node:
                attributor.aliases[outer_dst] = node
                attributor.version += 1
            for option in m.options:
                if (isinstance(option, IPv4HomeAddress) and option.address != "0.0.0.0"
                        and attributor.hoa_aliases.get(option.address) != hoa):
                    attributor.hoa_aliases[option.address] = hoa
                    attributor.version += 1
        if (len(attributor.hoas), len(attributor.home_agents)) != before:
            attributor.version += 1

    @staticmethod
    def _source_coa(packet: Packet, m: MobilityMessage) -> str:
        """6275 §9.5.1: Alternate CoA if present, else the source; DSMIPv6: the outer IPv4 source."""
        for option in m.options:
            if isinstance(option, AlternateCoA):
                return option.address
        outer = BindingEngine._outer_ipv4(packet)
        if outer is not None:
            return outer
        return packet.path.src or ""

    @staticmethod
    def _outer_ipv4(packet: Packet) -> str | None:
        path = packet.path
        if path.tunnel in ("udp", "ip6ip4") and path.outer_src and ":" not in path.outer_src:
            return path.outer_src
        return None

    @staticmethod
    def _fingerprint(packet: Packet, m: MobilityMessage) -> tuple[Any, ...]:
        path = packet.path
        return (m.mh_type, path.src, path.dst, path.home_address_option, path.routing_type2,
                m.checksum, m.header_len)

    @staticmethod
    def _message_key(packet: Packet, m: MobilityMessage) -> ExchangeKey | PeerKey | None:
        path, body = packet.path, m.body
        if isinstance(body, BindingUpdate) and path.dst:
            return ExchangeKey(path.dst, path.home_address_option or path.src or "", body.seq)
        if isinstance(body, BindingAck) and path.src:
            return ExchangeKey(path.src, path.routing_type2 or path.dst or "", body.seq)
        return None

    # ================================================================== data
    def _count_packet(self, packet: Packet) -> list[Event]:
        path = packet.path
        via = VIA_OF_TUNNEL.get(path.tunnel or "")
        if via is None:
            via = "route-optimised" if (path.home_address_option or path.routing_type2) else None
            if via is not None and packet.esp is not None and not packet.esp.null_decoded:
                return []  # encrypted MN <-> HA signalling in transport mode (HAO/RH2): not data
        if via is None:
            return []
        who = self._attribute(via, path.outer_src, path.outer_dst, path.src, path.dst,
                              path.home_address_option, path.routing_type2)
        return self._count(who, packet.interface, via, 1, packet.wire_length, packet.time,
                           packet.time, int(packet.time), packet.frame)

    def _count(self, who: Attribution | None, interface: int, via: str, packets: int, nbytes: int,
               first: float, last: float, second: int, frame: int | None) -> list[Event]:
        if who is None:
            self.traffic_table.unattributed_packets += packets
            return []
        events: list[Event] = []
        if not who.bound and who.direction == "to-mn" and self._unanswered_by_coa:
            who, events = self._evidence(who, first)
        if not who.bound and who.direction == "to-mn":
            # the node sent data to a CoA it was not known to hold: a binding older than the
            # capture (data *from* a CoA proves nothing: an MN may use a CoA before its BA)
            self.registrar.evidence.add((who.node, who.hoa, who.coa))
        key = (interface, who.node, who.hoa, who.coa, who.bid, who.direction, via)
        self.traffic_table.add(key, packets, nbytes, first, last, second)
        if who.bound:
            return events
        if self._unbound_generation != self.cache.generation:
            self._unbound_generation = self.cache.generation
            self._unbound_seen.clear()
        marker = (who.node, who.hoa, who.coa, via, who.direction)
        if marker in self._unbound_seen:
            run = self._unbound_runs[marker]
            if run[4] == interface:  # one capture point: each packet once, not once per sighting
                if last >= run[1]:
                    run[1], run[2] = last, frame
                run[3] += packets
            return events
        self._unbound_seen.add(marker)
        reason = "unregistered-coa" if who.any_binding else "no-binding"
        flagged = DataWithoutBinding(first, frame, PeerKey(who.hoa, who.node), who.coa, via,
                                     who.direction, packets, reason)
        old = self._unbound_runs.get(marker)
        if old is not None:
            events.append(self._run_ended(old))
        self._unbound_runs[marker] = [flagged, last, frame, packets, interface]
        return events + [flagged]

    @staticmethod
    def _run_ended(run: list[Any]) -> DataWithoutBindingEnded:
        flagged: DataWithoutBinding = run[0]
        return DataWithoutBindingEnded(run[1], run[2], flagged.key, flagged.coa, flagged.via,
                                       flagged.direction, run[3], flagged.time, flagged.frame)

    def _keep(self, events: list[Event]) -> list[Event]:
        if self.config.keep_events and events:
            kinds, seen = self.config.keep_kinds, self.config.keep_seen
            for event in events:
                if (kinds is None or event.__class__ in kinds) and (
                        seen is None or event.__class__ is not MessageSeen or event.kind in seen):
                    self._share(event)
                    self.events.append(event)
        return events

    def _share(self, event: Event) -> None:
        """Point the event's repeating fields at one object per distinct value (the history
        keeps every event: a home agent's refreshes repeat keys and addresses all the time).
        Events are frozen and compared by value, so this changes nothing anyone can read."""
        plan = self._shared_plan.get(type(event))
        if plan is None:
            names = [f.name for f in dataclasses.fields(event)] if dataclasses.is_dataclass(event) else []
            plan = self._shared_plan[type(event)] = tuple(n for n in names if n in SHARED_FIELDS)
        shared = self._shared
        if len(shared) >= SHARED_LIMIT:
            shared.clear()
        for name in plan:
            value = getattr(event, name)
            if value is None or value.__class__ is bool:
                continue
            try:
                one = shared.setdefault((value.__class__, value), value)
            except TypeError:  # unhashable (none today)
                continue
            if one is not value:
                object.__setattr__(event, name, one)


def binding_keys(engine: BindingEngine) -> list[BindingKey]:
    """Keys of the bindings currently held (convenience for views)."""
    return sorted(engine.cache.active, key=BindingKey.sort_key)
