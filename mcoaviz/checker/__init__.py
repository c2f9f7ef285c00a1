"""Conformance checker: turns the draft's MUST/SHOULD sentences into findings on a capture.

The pipeline drives it::

    checker = Checker(CheckerConfig(select=("MCOA1",)))
    checker.observe(packet, events)          # every slow-path Packet, with the engine's events
    checker.observe_traffic(rows, events)    # fast-path TrafficCount rows
    findings = checker.finish(engine)        # sorted by frame, de-duplicated

Stateless rules run on each packet as it arrives; stateful rules run once in ``finish`` on the
engine's complete event list (``engine.events``), never on a state machine of their own. With
``streaming=True`` (what ``export``, ``analyse`` and ``check`` use) the history rules that judge
one answered BU at a time (``checker.answers``) run when the engine emits its outcome instead,
and a BU packet is kept only while its BU is pending.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Iterable, Sequence
from typing import Any

from dissector.codepoints import BAStatus, Dialect
from dissector.records import BindingAck, IPv4AddressAck, Packet, TrafficCount
from mcoaviz.checker.answers import ANSWER, OUTCOME, OneAnswer
from mcoaviz.checker.context import (
    CheckerConfig,
    Folds,
    FrameDialects,
    HistoryContext,
    PacketContext,
    WatchedData,
)
from mcoaviz.checker.finding import ERROR, INFO, SEVERITIES, WARNING, Finding, Hit
from mcoaviz.checker.intervals import BindingIntervals, IntervalsRead
from mcoaviz.checker.keep import Keeper
from mcoaviz.checker.perkey import STATE, StreamReader
from mcoaviz.checker.registry import BY_CODE, RULES, Rule, kinds_read, packets_read
from mcoaviz.checker.rules.ike import mn_side
from mcoaviz.checker.runner import (
    HISTORY,
    PACKET,
    PacketRuleIndex,
    complete,
    finalise,
    run_history_rules,
    run_packet_rules,
    selected_rules,
)
from mcoaviz.engine.events import (
    EVIDENCE_MARGIN,
    BindingEnded,
    BindingStarted,
    BindingUpdateProcessed,
    DuplicateSighting,
    HomeNdOwner,
    MessageSeen,
    UnansweredBU,
)
from mcoaviz.engine.keys import BindingKey

RETURNHOME = int(BAStatus.MCOA_RETURNHOME_WO_NDP)  # the HA keeps proxy ND for the home address (I-18)

BINDING_EVENTS = (BindingStarted, BindingEnded)  # what ``BindingIntervals`` folds
UNANSWERED_MARGIN = EVIDENCE_MARGIN  # s past a given-up BU's lifetime before its packet is forgotten
PRUNE_EVERY = 64.0  # capture seconds between two ``prune`` calls on the per-key states
MAX_WATCHED = 10_000  # data rows kept for MCOA413 (a memory bound; hits past it add nothing new)
# distinct addressings and option tuples shared between the kept signalling packets (a memory
# bound: past it the table starts over, which only loses sharing)
SHARED_LIMIT = 1 << 16


class Checker:
    """Collects findings while a capture is analysed. Not thread-safe; one per analysis."""

    def __init__(self, config: CheckerConfig | None = None, *, streaming: bool = False) -> None:
        self.config = config or CheckerConfig()
        self._packet_rules = PacketRuleIndex(selected_rules(self.config, PACKET))
        history = selected_rules(self.config, HISTORY)
        # streaming: the rules that judge one answer / one outcome run as the engine emits it;
        # the rest once at the end on the history
        self.streaming = streaming
        self._answer_rules = tuple(r for r in history if streaming and r.unit == ANSWER)
        self._outcome_rules = tuple(r for r in history if streaming and r.unit == OUTCOME)
        self._history_rules = tuple(r for r in history if not streaming or r.unit is None)
        # streaming: the rules that keep their own per-key state (``checker.perkey``) are fed the
        # events of their kinds as the engine emits them; none of those is kept for them
        self._state_rules = tuple(r for r in history if streaming and r.unit == STATE)
        self._states = tuple(r.check.make() for r in self._state_rules)  # type: ignore[attr-defined]
        # event class (and message kind, for a ``MessageSeen``) -> the observe methods of the
        # states that read it (filled on first sight)
        self._state_dispatch: dict[object, tuple[Any, ...]] = {}
        # the states that drop what can no longer change a finding (``RuleState.prune``), called
        # every PRUNE_EVERY capture seconds with a horizon no later event goes back before
        self._prunable = tuple(state.prune for state in self._states if hasattr(state, "prune"))
        self._prune_at = -math.inf
        # streaming: only the signalling packets the remaining history rules read are kept
        # (``Rule.packets``; None: some rule declares none, keep all), the rest folded
        needs = packets_read(self._history_rules) if streaming else None
        if needs is not None:  # and those a per-key rule reads at the end (``PerKey.packets``)
            needs = needs.union(*(r.check.packets for r in self._state_rules))  # type: ignore[attr-defined]
        self._keeper: Keeper | None = Keeper(needs) if needs is not None else None
        self._folds = Folds()
        self._judging = bool(self._answer_rules or self._outcome_rules or self._state_rules
                             or (self._keeper is not None and self._keeper.judges_answers))
        self._pending: dict[int, Packet] = {}  # BU frame -> BU packet until the engine's outcome
        # per-key states: BUs the engine gave up on (``UnansweredBU``) that it may still apply
        # when data shows the node used their CoA (an unconfirmed outcome, carrying the BU's
        # frame): frame -> packet, and (until when, frame) to forget them (O(BUs in a lifetime))
        self._unanswered: dict[int, Packet] = {}
        self._unanswered_until: list[tuple[float, int]] = []
        self._latest = -math.inf  # the latest packet time seen
        self._judged: list[tuple[Rule, Hit, Dialect | None]] = []  # (rule, hit, its frame's dialect)
        # the event kinds the selected history rules read (``Rule.reads``): all the checker keeps
        # of the history, and what a narrowed engine must keep (``AnalysisOptions.history``)
        # (streaming: the rules that read binding intervals (INTERVALS) get them folded as the
        # binding events come, ``_intervals``, so those events are not kept for them)
        self.kept_kinds: frozenset[type] = kinds_read(self._history_rules, folded=streaming)
        # a per-key rule may also read from the end-of-capture context what it is not fed (e.g.
        # ``held_at``): those kinds are still kept, unless they are folded intervals
        for rule in self._state_rules:
            fed = rule.check.kinds  # type: ignore[attr-defined]
            self.kept_kinds |= {k for k in kinds_read([rule], folded=True) if not issubclass(k, fed)}
        folds_intervals = streaming and any(r.reads is not None and IntervalsRead in r.reads for r in history)
        self._intervals: BindingIntervals | None = BindingIntervals(first_frames=False) \
            if folds_intervals else None  # no rule reads ``first_started_frame``
        self._findings: list[Finding] = []
        self._events: list[object] = []
        # False: the engine keeps at least ``kept_kinds`` and ``finish`` gets it (the pipeline
        # with history="read"), so a second list of the same events is not made here
        self.keep_events = True
        # the first event's time and the latest event time / signalling packet times seen,
        # kept or not (``HistoryContext.capture_end``, ``signalling_start``)
        # (a live session's retention stops this: ``forget_before``)
        self._event_times: tuple[Any, float | None] | None = None  # (first's time, latest float)
        self._packet_span: tuple[float, float] | None = None
        self._track_times = True
        self._signalling: dict[int, Packet] = {}  # MH / ICMPv6 / IKE packets by frame, for history rules
        self._shared: dict[Any, Any] = {}  # equal immutable parts of kept packets -> one object (_kept)
        self._hao_data: list[tuple[int | None, float, str, str]] = []
        self._start: float | None = None  # the first record's time (packet or traffic row)
        self._dialects = FrameDialects()  # signalling frame -> its pair's dialect (compact)
        self._reader = StreamReader(self.config, self._dialects, self._pending, self._signalling,
                                    self._unanswered)
        # per-key state, O(1) per packet or row: home addresses between an H-flag BU and the next BA
        # to them, whose untunnelled data MCOA413 reads (at most MAX_WATCHED rows kept in all);
        # IPv4 home addresses an IPv4AA assigned -> time of their latest data (MCOA709); ESP between
        # two addresses -> its latest time (MCOA1002)
        self._returning: set[str] = set()
        self._watched_data: list[WatchedData] = []
        self._ipv4_hoas: dict[str, float] = {}
        self._esp_last: dict[tuple[str, str], float] = {}
        # home addresses whose HA returned RETURNHOME WO/NDP, until the HA stops owning ND for them
        # (next ND-owner change, the home binding's end or a foreign registration): their
        # untunnelled data packets, with MACs, feed MCOA420/MCOA421 (at most MAX_WATCHED kept)
        self._returned_home: dict[str, BindingKey] = {}  # HoA -> the home binding's key
        self.returned_version = 0  # bumped when the set changes (the pipeline re-aims the fast path)
        self._home_data: list[Packet] = []

    @property
    def returned_home(self) -> frozenset[str]:
        """Home addresses after MCOA RETURNHOME WO/NDP whose data frames the checker wants decoded;
        none once MAX_WATCHED packets are kept (later frames could add nothing: bulk data goes
        back to the fast path)."""
        if len(self._home_data) >= MAX_WATCHED:
            return frozenset()
        return frozenset(self._returned_home)

    def _track_returned(self, events: Sequence[object]) -> None:
        """The home addresses the HA owns ND for after RETURNHOME WO/NDP, as ``_returnhome_windows``
        (rules/home_link.py) bounds them: until the next ND-owner change or the home binding's end."""
        returned = self._returned_home
        for e in events:
            if isinstance(e, HomeNdOwner):
                if e.owner == "home-agent" and e.status == RETURNHOME:
                    if e.key.hoa not in returned:
                        self.returned_version += 1
                    returned[e.key.hoa] = e.key
                elif returned.pop(e.key.hoa, None) is not None:
                    self.returned_version += 1
            elif isinstance(e, BindingEnded) and returned.get(e.key.hoa) == e.key:
                del returned[e.key.hoa]
                self.returned_version += 1

    def observe(self, packet: Packet, events: Sequence[object] = (), dialect: Dialect | None = None) -> None:
        """One decoded packet and the events the engine produced for it; ``dialect``: its
        (MN, peer) pair's (I-1), for rules about messages without BID options."""
        # the same message seen again at another capture point is one message (engine contract)
        repeated = any(isinstance(e, DuplicateSighting) and e.frame == packet.frame for e in events)
        self._observe(packet, events, dialect, repeated)
        if self._judging:
            mh = packet.mobility
            if mh is not None and mh.type_name == "BU" and not repeated:
                self._pending[packet.frame] = packet
            if packet.time > self._latest:  # (what the forgetting and the pruning count from)
                self._latest = packet.time
            if self._unanswered_until:
                self._forget_unanswered()
            if self._prunable and self._latest >= self._prune_at:
                self._prune()
            if events:
                if self._states:
                    self._feed_states(events, packet)
                self._judge(events, packet)

    def _observe(self, packet: Packet, events: Sequence[object], dialect: Dialect | None,
                 repeated: bool) -> None:
        if events:
            self._keep_events(events)
            self._track_returned(events)
        if self._start is None or packet.time < self._start:
            self._start = packet.time
        path = packet.path
        if self._track_times and (packet.mobility is not None or packet.icmp6 is not None
                                  or packet.ike is not None):
            span = self._packet_span
            t = packet.time
            self._packet_span = (t, t) if span is None else (min(span[0], t), max(span[1], t))
        if packet.mobility is not None or packet.icmp6 is not None:
            self._keep(packet, dialect, events)
            if dialect is not None:
                self._dialects[packet.frame] = dialect
            if packet.mobility is not None:
                self._watch(packet)
            elif packet.icmp6 is not None and not 133 <= packet.icmp6.type <= 137:
                self._watched_packet(packet)  # e.g. an echo request from the home address: data, not ND
            if self._packet_rules and not repeated:
                ctx = PacketContext(packet, self.config, dialect)
                self._findings.extend(run_packet_rules(self._packet_rules.for_packet(ctx), ctx))
            return
        if packet.ike is not None:
            self._keep(packet, dialect, events)
            side = mn_side(packet)
            if side is not None:  # the HA's latest IKE message so far (``StreamReader.ike_last``)
                self._reader.ike_last[side[1]] = (side[0], packet.time)
            return
        if packet.esp is not None:
            a, b = path.outer_src or path.src, path.outer_dst or path.dst
            if a and b:
                self._esp_last[(a, b) if a < b else (b, a)] = packet.time
        if path.home_address_option and path.dst:
            self._hao_data.append((packet.frame, packet.time, path.home_address_option, path.dst))
        else:
            self._watched_packet(packet)

    def _keep(self, packet: Packet, dialect: Dialect | None, events: Sequence[object]) -> None:
        """Fold a signalling packet (``Folds``); keep it if a remaining history rule reads it."""
        folds = self._folds
        folds.observe(packet, dialect)
        for e in events:
            if e.__class__ is MessageSeen and e.kind == "BU" and e.frame == packet.frame:
                folds.observe_bu(e, packet)
        if self._keeper is None or self._keeper.keeps(packet):
            self._signalling[packet.frame] = self._kept(packet) if packet.ike is None else packet

    def _judge(self, events: Sequence[object], packet: Packet | None) -> None:
        """Run the per-answer and per-outcome rules on each ``BindingUpdateProcessed`` among
        ``events`` (``packet``: the one they came with, the BA of an answered BU), then forget
        the BU's pending packet. The hits are completed in ``finish`` (the capture's dialect
        may still change)."""
        for p in events:
            if p.__class__ is UnansweredBU:  # given up on: only an outcome with a BA is judged
                given_up = self._pending.pop(p.frame, None)
                if given_up is not None and self._states and p.lifetime > 0:
                    self._unanswered[p.frame] = given_up
                    heapq.heappush(self._unanswered_until, (given_up.time + p.lifetime, p.frame))
                continue
            if p.__class__ is not BindingUpdateProcessed:
                continue
            assert isinstance(p, BindingUpdateProcessed)
            bu = self._pending.pop(p.bu_frame, None)
            if p.ba_frame is None:
                self._unanswered.pop(p.bu_frame, None)  # applied on evidence: read as it came
                continue
            if bu is None:
                bu = self._signalling.get(p.bu_frame)
            ba = packet if packet is not None and packet.frame == p.ba_frame else \
                self._signalling.get(p.ba_frame)
            reader = OneAnswer(self.config, self._dialects)
            if bu is not None:
                reader.packets[bu.frame] = bu
            if ba is not None:
                reader.packets[ba.frame] = ba
            judged = self._judged
            dialects = self._dialects
            for rule in self._outcome_rules:
                for hit in rule.check.judge(p, reader):  # type: ignore[attr-defined]
                    judged.append((rule, hit, None if hit.frame is None else dialects.get(hit.frame)))
            if bu is None or ba is None or bu.mobility is None or ba.mobility is None \
                    or not isinstance(ba.mobility.body, BindingAck):
                continue  # not an answered BU (``HistoryContext.answered``)
            keeper = self._keeper
            if keeper is not None and keeper.keeps_answer(p, bu, ba):
                self._signalling[bu.frame] = self._kept(bu)
                self._signalling[ba.frame] = self._kept(ba)
            for rule in self._answer_rules:
                for hit in rule.check.judge(p, bu, ba, reader):  # type: ignore[attr-defined]
                    judged.append((rule, hit, None if hit.frame is None else dialects.get(hit.frame)))

    def _forget_unanswered(self) -> None:
        """Forget the given-up BUs the engine can no longer apply: evidence must come within the
        BU's lifetime (``BindingEngine._evidence``); a margin for fast-path rows, which reach the
        engine after later packets, and for capture times that go back a little."""
        until = self._unanswered_until
        while until and until[0][0] + UNANSWERED_MARGIN < self._latest:
            self._unanswered.pop(heapq.heappop(until)[1], None)

    def _prune(self) -> None:
        """Let the per-key states drop what no later event can make a finding of: every event
        still to come is assumed no older than the newest packet time less ``EVIDENCE_MARGIN``
        (fast-path rows reach the engine after later packets; capture times may go back a
        little), the same margin the given-up BUs are kept for."""
        self._prune_at = self._latest + PRUNE_EVERY
        horizon = self._latest - EVIDENCE_MARGIN
        reader = self._reader
        for prune in self._prunable:
            prune(horizon, reader)
        if self._intervals is not None:
            self._intervals.compact()

    def _feed_states(self, events: Sequence[object], packet: Packet | None) -> None:
        """Feed each event to the per-key states of the rules that read its kind, in order
        (``packet``: the one the events came with; the BU behind an outcome is still pending)."""
        reader = self._reader
        reader.current, reader.config = packet, self.config
        dispatch = self._state_dispatch
        for e in events:
            cls = e.__class__
            # a sighting goes only to the states fed its message kind (``PerKey.seen``)
            key = (cls, e.kind) if cls is MessageSeen else cls  # type: ignore[attr-defined]
            observers = dispatch.get(key)
            if observers is None:
                observers = dispatch[key] = tuple(
                    state.observe for rule, state in zip(self._state_rules, self._states, strict=True)
                    if rule.check.feeds(e))  # type: ignore[attr-defined]
            for observe in observers:
                observe(e, reader)
        reader.current = None

    def _keep_events(self, events: Sequence[object]) -> None:
        """Keep the events of the kinds the selected rules read; note the times of all."""
        kept = self.kept_kinds if self.keep_events else frozenset()
        intervals = self._intervals
        if intervals is not None:
            for e in events:
                if isinstance(e, BINDING_EVENTS):
                    intervals.observe(e)
        if not self._track_times:
            self._events.extend(e for e in events if e.__class__ in kept)
            return
        times = self._event_times
        first, last = (getattr(events[0], "time", None), None) if times is None else times
        for e in events:
            t = getattr(e, "time", None)
            if isinstance(t, float) and (last is None or t > last):
                last = t
            if e.__class__ in kept:
                self._events.append(e)
        self._event_times = (first, last)

    def _kept(self, packet: Packet) -> Packet:
        """The packet as the history rules keep it: equal, with its addressing, its Mobility
        Header options and fixed part shared with earlier packets that had the same (a node's
        refreshes repeat them). A message then costs ~0.5 KB kept instead of ~1.5-2 KB; records
        are frozen and compared by value (their classes included), and nothing reads identity."""
        shared = self._shared
        if len(shared) >= SHARED_LIMIT:
            shared.clear()
        try:
            path = shared.setdefault(packet.path, packet.path)
            mh = packet.mobility
            if mh is not None:
                options = tuple(shared.setdefault(o, o) for o in mh.options)
                options = shared.setdefault(options, options)
                # the fixed part too: a BU's or BA's (seq, flags, lifetime) repeat across nodes
                body = mh.body if mh.body is None else shared.setdefault(mh.body, mh.body)
                if options is not mh.options or body is not mh.body:
                    mh = dataclasses.replace(mh, options=options, body=body)
                    # the BID options picked out again by replace: the same tuple for the same options
                    object.__setattr__(mh, "bids", shared.setdefault(mh.bids, mh.bids))
        except TypeError:  # an unhashable part (none today): keep the packet as it is
            return packet
        if path is packet.path and mh is packet.mobility:
            return packet
        return dataclasses.replace(packet, path=path, mobility=mh)

    def _watched_packet(self, packet: Packet) -> None:
        path = packet.path
        src = path.src
        returned = self._returned_home
        if returned and path.tunnel is None and (src in returned or path.dst in returned) \
                and len(self._home_data) < MAX_WATCHED:
            self._home_data.append(packet)
            if len(self._home_data) == MAX_WATCHED:
                self.returned_version += 1  # full: the pipeline stops declining these frames
        if src in self._returning and path.tunnel is None and len(self._watched_data) < MAX_WATCHED:
            self._watched_data.append(WatchedData(packet.frame, packet.time, packet.time, src,
                                                  path.dst, path.tunnel, packet.interface))
        elif src in self._ipv4_hoas:
            self._ipv4_hoas[src] = packet.time

    def _watch(self, packet: Packet) -> None:
        """Watch a home address from its H-flag BU to the next BA sent to it; watch an IPv4 home
        address once an IPv4 Address Acknowledgement assigns it."""
        mh = packet.mobility
        if mh is None:
            return
        if mh.type_name == "BU" and any(b.home_flag for b in mh.bids):
            hoa = packet.path.home_address_option or packet.path.src
            if hoa:
                self._returning.add(hoa)
        elif mh.type_name == "BA":
            self._returning.discard(packet.path.routing_type2 or packet.path.dst or "")
            for o in mh.options:
                if isinstance(o, IPv4AddressAck) and o.status < 128:
                    self._ipv4_hoas.setdefault(o.address, -math.inf)

    def observe_traffic(self, rows: Iterable[TrafficCount], events: Sequence[object] = ()) -> None:
        """Fast-path data rows and the events the engine produced for them."""
        if events:
            self._keep_events(events)
            self._track_returned(events)
            if self._judging:
                if self._states:
                    self._feed_states(events, None)
                self._judge(events, None)
        if rows and not isinstance(rows, list):
            rows = list(rows)
        if rows:
            first = min(row.first for row in rows)
            if self._start is None or first < self._start:
                self._start = first
        returning, ipv4_hoas = self._returning, self._ipv4_hoas
        if not returning and not ipv4_hoas:  # the usual case: as cheap as before these rules
            for row in rows:
                if row.home_address_option and row.dst:
                    self._hao_data.append((None, row.first, row.home_address_option, row.dst))
            return
        for row in rows:  # one or two set lookups per aggregated row, not per packet
            src = row.src
            if row.home_address_option and row.dst:
                self._hao_data.append((None, row.first, row.home_address_option, row.dst))
            elif src in returning and row.via == "plain" and len(self._watched_data) < MAX_WATCHED:
                self._watched_data.append(WatchedData(None, row.first, row.last, src, row.dst, None,
                                                      row.interface))
            elif src in ipv4_hoas:
                ipv4_hoas[src] = max(ipv4_hoas[src], row.last)

    def forget_before(self, cut: float) -> None:
        """A live session's retention (``EngineConfig.retain``): drop what the history rules
        would read from before capture time ``cut`` (events, signalling packets and their
        dialects, HAO data, watched data) and the findings timed before it (the caller has read
        them). ``finish`` then reruns the history rules on the window only (its times too)."""
        self._track_times, self._event_times, self._packet_span = False, None, None
        events = self._events
        n = 0
        for event in events:
            if getattr(event, "time", cut) >= cut:
                break
            n += 1
        del events[:n]
        signalling = self._signalling
        while signalling:
            frame = next(iter(signalling))
            if signalling[frame].time >= cut:
                break
            del signalling[frame]
            self._dialects.pop(frame, None)
        hao = self._hao_data
        n = 0
        while n < len(hao) and hao[n][1] < cut:
            n += 1
        del hao[:n]
        watched = self._watched_data
        n = 0
        while n < len(watched) and watched[n].last < cut:
            n += 1
        del watched[:n]
        home = self._home_data
        n = 0
        while n < len(home) and home[n].time < cut:
            n += 1
        del home[:n]
        self._findings = [f for f in self._findings if f.time is None or f.time >= cut]
        self._judged = [j for j in self._judged if j[1].time is None or j[1].time >= cut]

    def history_context(self, engine: object | None = None) -> HistoryContext:
        """What the stateful rules read: the engine's events (``finish``), the kept packets, the
        per-key state and the times seen."""
        # the engine's list (the same events, in the same order) when it kept at least as much
        engine_events = getattr(engine, "events", None)
        events = engine_events if engine_events is not None and len(engine_events) >= len(self._events) \
            else self._events
        # the rules only read, and nothing is observed while they run: the containers are handed
        # over as they are (copies of the events, packets and dialects cost ~50 bytes a message
        # more at the end of a long capture; the context is dropped when this returns)
        packets = self._signalling
        if self._keeper is not None:  # an answer's BU is kept when its BA comes: frame order again
            packets = dict(sorted(packets.items()))
        return HistoryContext(events, packets, self.config, folds=self._folds, intervals=self._intervals,
                              hao_data=self._hao_data, capture_start=self._start,
                              frame_dialects=self._dialects, watched_data=self._watched_data,
                              ipv4_hoa_last=self._ipv4_hoas, esp_last=self._esp_last,
                              home_data=self._home_data, event_times=self._event_times,
                              packet_span=self._packet_span)

    def finish(self, engine: object | None = None) -> list[Finding]:
        """Run the stateful rules on the engine's events; all findings, sorted and de-duplicated.

        Uses ``engine.events`` (the complete history, expiries decided at the end included) when
        it holds at least as much as the events passed to ``observe`` (it is empty when the
        engine runs with ``keep_events=False``); otherwise the observed events. May be called
        again later: it re-runs the stateful rules on the history so far.
        """
        ctx = self.history_context(engine)
        findings = list(self._findings)
        for rule, hit, fallback in self._judged:
            finding = complete(rule, hit, self.config, fallback)
            if finding is not None:
                findings.append(finding)
        findings.extend(run_history_rules(self._history_rules, ctx))
        for rule, state in zip(self._state_rules, self._states, strict=True):
            for hit in state.hits(ctx):
                fallback = ctx.frame_dialects.get(hit.frame) if hit.frame is not None else None
                finding = complete(rule, hit, self.config, fallback)
                if finding is not None:
                    findings.append(finding)
        return finalise(findings)


__all__ = [
    "BY_CODE", "ERROR", "INFO", "RULES", "SEVERITIES", "WARNING", "Checker", "CheckerConfig",
    "Finding", "Hit", "Rule",
]
