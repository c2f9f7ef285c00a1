"""MCOA6xx: data plane and security considerations (draft §5.9, §6.5, §9.3.2, §10).

Which data had no binding is the engine's conclusion (``DataWithoutBinding``); these rules only
classify it. Route-optimised data towards home agents is read from the HAO rows the checker kept.
"""

from __future__ import annotations

import sys
from bisect import bisect_left
from collections import defaultdict
from typing import Any

from dissector.records import BindingError, Packet
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, EventReader, PerKey, StreamReader
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey

TUNNELS = frozenset({"tunnel", "udp"})


def _episode(d: ev.DataWithoutBinding) -> str:
    """Data of one node, home address, CoA, path and direction: repeats are one episode."""
    return f"{d.key.peer}|{d.key.hoa}|{d.coa}|{d.via}|{d.direction}"


def _run_hit(ctx: HistoryContext, d: ev.DataWithoutBinding, message: str) -> Hit:
    """A hit for the whole run ``d`` started: its first packet, and its last and size when the
    engine reported the run's end (data-plane findings carry the run's first and last frames)."""
    end = ctx.data_run_ends.get((d.key, d.coa, d.via, d.direction, d.time, d.frame))
    count, last_frame, last_time = (1, None, None) if end is None else (end.packets, end.frame, end.time)
    return Hit(message, d.frame, d.time, d.key.hoa, None, key=f"{d.coa}:{d.time}", episode=_episode(d),
               count=max(count, 1), last_frame=last_frame, last_time=last_time)


def _unbound_from_mn(ctx: HistoryContext, vias: frozenset[str]) -> list[ev.DataWithoutBinding]:
    """Data from the MN the engine found unbound; "no-binding" only once the node had held a
    binding for that home address in the capture (otherwise the capture may simply have started
    after the registration)."""
    out = []
    for d in ctx.of(ev.DataWithoutBinding):
        if d.via not in vias or d.direction != "from-mn":
            continue
        since = ctx.held_since(node=d.key.peer, hoa=d.key.hoa)
        if d.reason == "no-binding" and (since is None or since > d.time):
            continue
        out.append(d)
    return out


def hao_from_unregistered_coa(ctx: HistoryContext) -> list[Hit]:
    """What: data with a Home Address option from a source (CoA) that is not in the receiver's
    binding cache for that home address.
    Why: draft §6.5 the receiver "MUST check that the care-of address ... MUST be equal to one of
    the care-of addresses in the binding cache entry. If no binding is found, the packets MUST be
    silently discarded and MUST send a Binding Error"; RFC §6.5.
    Data for a home address the node never held a binding for in the capture is not reported
    (the registration may predate the capture).
    Example: bindings for CoA a only; data HAO=HoA from CoA b -> warning at that frame/second.
    """
    return [_run_hit(ctx, d, f"Data with a Home Address option came from {d.coa}, which is not "
                             f"registered for {d.key.hoa} at {d.key.peer}.")
            for d in _unbound_from_mn(ctx, frozenset({"route-optimised"}))]


MAX_RR_BINDING_LIFETIME = 420.0  # 6275 §12: a CN binding older than this would need a refresh


def _registered_elsewhere(ctx: HistoryContext, d: ev.DataWithoutBinding) -> str | None:
    """Another node (the home agent) holding a binding of this HoA for this CoA when the data
    came, registered in the capture (not older than it): its node, else None."""
    for key, coa, start, _end in ctx.covering(d.time, hoa=d.key.hoa, coa=d.coa):
        if key.node != d.key.peer and (key, coa, start) not in ctx.pre_existing_intervals:
            return key.node
    return None


def hao_at_node_without_binding(ctx: HistoryContext) -> list[Hit]:
    """What: route-optimised data (Home Address option) arrives at a node (a correspondent) that
    holds no binding for that home address at all, while the capture shows the CoA registered at
    another node (the home agent) and no data from that CoA to this node before that
    registration; or later than 420 s into the capture. The HA's binding does not make the data
    valid: the check is per receiving node. The finding carries the frames of the run's first
    and last packets.
    Why: draft §6.5 / RFC §6.5 (and 6275 §9.3.1): the receiver "MUST check that the care-of
    address ... [is] in the binding cache entry. If no binding is found, the packets MUST be
    silently discarded"; a route-optimised packet needs a binding *at its receiver*. Skipped
    when the receiver's binding may predate the capture (data from that CoA before the HA
    registration was seen, within 420 s of the start: 6275 §12 MAX_RR_BINDING_LIFETIME).
    Example: HA binds BID 1 -> CoA a; MN sends data HAO=HoA from a to the CN, which never
    received a BU -> warning at the data frame.
    """
    first_seen: dict[str, float] = {}
    for d in ctx.of(ev.DataWithoutBinding):
        if d.via == "route-optimised" and d.direction == "from-mn":
            first_seen.setdefault(_episode(d), d.time)
    start = ctx.capture_start
    hits = []
    for d in ctx.of(ev.DataWithoutBinding):
        if d.via != "route-optimised" or d.direction != "from-mn" or d.reason != "no-binding":
            continue
        node, hoa = d.key.peer, d.key.hoa
        held_since = ctx.held_since(node=node, hoa=hoa)
        if held_since is not None and held_since <= d.time:
            continue  # the node held one before: MCOA601's case
        elsewhere = _registered_elsewhere(ctx, d)
        old_enough = start is not None and d.time - start > MAX_RR_BINDING_LIFETIME
        if not old_enough:
            if elsewhere is None:
                continue
            since = min(s for k, _c, s, _e in ctx.covering(d.time, hoa=hoa, coa=d.coa) if k.node == elsewhere)
            if first_seen[_episode(d)] < since:
                continue  # the data flowed before the capture showed the CoA registered
        held = f", although {elsewhere} holds a binding for it" if elsewhere else ""
        hits.append(_run_hit(ctx, d, f"Data with a Home Address option for {hoa} came from {d.coa} to "
                                     f"{node}, which holds no binding for that home address{held}."))
    return hits


BE_WAIT = 5.0  # seconds within which the Binding Error should follow the offending data


def no_binding_error_for_hao(ctx: HistoryContext) -> list[Hit]:
    """What: data with a Home Address option from an unregistered CoA (see MCOA601) is not
    followed, within 5 s, by a Binding Error from the receiving node to that CoA or home address.
    Why: draft §6.5 "the packets MUST be silently discarded and MUST send a Binding Error
    message according to RFC3775"; RFC §6.5; 6275 §9.3.3 (status 1). A warning: the Binding
    Error may be rate-limited or sent past the capture point.
    Example: CN binds CoA a; data HAO=HoA from CoA b; no BE from the CN -> warning.
    """
    errors: dict[str | None, list[tuple[float, int, Packet]]] = {}  # sender -> its BEs by time
    for p in ctx.packets.values():
        if p.mobility is not None and p.mobility.type_name == "BE":
            errors.setdefault(p.path.src, []).append((p.time, p.frame, p))
    for sent in errors.values():
        sent.sort(key=lambda e: (e[0], e[1]))
    hits = []
    for d in _unbound_from_mn(ctx, frozenset({"route-optimised"})):
        sent = errors.get(d.key.peer, [])
        i = bisect_left(sent, d.time, key=lambda e: e[0])
        answered = False
        while i < len(sent) and sent[i][0] <= d.time + BE_WAIT:
            be = sent[i][2]
            if getattr(be.mobility.body, "home_address", None) == d.key.hoa or be.path.dst == d.coa:  # type: ignore[union-attr]
                answered = True
                break
            i += 1
        if not answered:
            hits.append(Hit(f"No Binding Error from {d.key.peer} followed data with a Home Address option "
                            f"from unregistered {d.coa}.", d.frame, d.time, d.key.hoa, None,
                            key=f"{d.coa}:{d.time}", episode=_episode(d)))
    return hits


def tunnel_from_unregistered_coa(ctx: HistoryContext) -> list[Hit]:
    """What: reverse-tunnelled data (IPv6/IPv4-in-IPv6 or DSMIPv6 UDP) to the home agent from an
    outer source that is not a registered care-of address of the inner home address.
    Why: draft §9.3.2 "the Mobile IPv6 stack on the home agent MUST verify that the source
    address is one of the care-of addresses registered by the mobile node before decapsulating
    and forwarding" (dropped in RFC 5648). A warning: the capture shows the tunnel, not always
    whether the home agent forwarded it.
    Example: tunnel from outer source c (never registered) with inner source HoA -> warning.
    """
    return [_run_hit(ctx, d, f"Reverse-tunnelled data for {d.key.hoa} came from {d.coa}, not a "
                             "registered care-of address.")
            for d in _unbound_from_mn(ctx, TUNNELS)]


EXPIRED = ev.BindingExpired.REASON
IN_FLIGHT = 1.0  # seconds: packets already on their way when a binding ends are not a finding


def _last_end(ctx: HistoryContext, node: str, hoa: str, t: float) -> tuple[float, str] | None:
    """(time, reason) of the latest binding end of (node, HoA) at or before ``t``."""
    return next((e for e in reversed(ctx.ends_of(node, hoa)) if e[0] <= t), None)


def traffic_to_unregistered_coa(ctx: HistoryContext) -> list[Hit]:
    """What: a home agent or correspondent node sends a mobile node's traffic (tunnel, UDP or
    type 2 routing header) to a care-of address it holds no binding for: another CoA of the home
    address is bound, or every binding was de-registered / overwritten (expiry is MCOA905).
    Packets within 1 s of the binding's end are in flight and not reported.
    Why: draft §6.3 a regular BU "MUST replace all the existing bindings ... the receiver node
    MUST have only a binding"; a de-registration "MUST delete all existing bindings"; RFC §6.2.
    The node keeps using a binding it should have removed. A warning: the capture shows the
    symptom, not the node's cache.
    Example: HA holds BID 1 -> CoA a only; HA tunnels data for the HoA to CoA b -> warning
    (first and last frame of the run).
    """
    hits = []
    for d in ctx.of(ev.DataWithoutBinding):
        if d.direction != "to-mn":
            continue
        node, hoa = d.key.peer, d.key.hoa
        if d.reason == "no-binding":
            last = _last_end(ctx, node, hoa, d.time)
            if last is None or last[1] == EXPIRED or d.time < last[0] + IN_FLIGHT:
                continue
        elif any(c == d.coa and e <= d.time < e + IN_FLIGHT
                 for _k, c, _s, e in ctx.held_before(node=node, hoa=hoa)):
            continue
        hits.append(_run_hit(ctx, d, f"{node} sends data for {hoa} to {d.coa}, which is not one of its "
                                     "bindings."))
    return hits


class HaoTowardsHomeAgent:
    """What: the mobile node sends data to its home agent with a Home Address option instead of
    through the bi-directional tunnel (reported once per home address and home agent).
    Why: draft §5.9 "the mobile node SHOULD use the bi-directional tunnel even if it registers a
    binding(s) to the home agent" (section removed in RFC 5648). Noteworthy only (info).
    Example: HA 2001:db8::1 registered; data CoA -> 2001:db8::1 with HAO -> info.
    """

    def __init__(self) -> None:
        self.home_agents: set[str | None] = set()  # peers of the BUs to a home agent

    def observe(self, m: ev.MessageSeen, reader: EventReader) -> None:
        if m.kind == "BU" and m.role == "home-agent":
            self.home_agents.add(m.peer)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits: list[Hit] = []
        home_agents = self.home_agents
        reported: set[tuple[str, str]] = set()
        for frame, time, hoa, dst in ctx.hao_data:
            if dst in home_agents and (hoa, dst) not in reported:
                reported.add((hoa, dst))
                hits.append(Hit(f"Mobile node sends data to its home agent {dst} with a Home Address option "
                                "instead of the tunnel.", frame, time, hoa, None))
        return hits


hao_towards_home_agent = PerKey(HaoTowardsHomeAgent, ev.MessageSeen, name="hao_towards_home_agent",
                                seen=BU_SIGHTINGS)


class _HeldOverTime:
    """MCOA604's and MCOA605's state: the bindings held right now, replayed from the binding
    events as they come; each start is judged against them. O(bindings held): a CoA's holder is
    stored alone (a set only when several keys hold it), emptied entries are dropped."""

    COAS = False  # MCOA604: the keys holding each CoA
    PAIRS = False  # MCOA605: how many bindings each (node, HoA) holds

    def __init__(self) -> None:
        self.coa_of: dict[BindingKey, str] = {}
        self.holders: dict[str, BindingKey | set[BindingKey]] = {}
        self.per_pair: dict[tuple[str, str], int] = {}
        self.hits_so_far: list[Hit] = []
        self.reported: set[tuple[str, str]] = set()

    def _drop(self, key: BindingKey, coa: str) -> None:
        if self.COAS:
            found = self.holders.get(coa)
            if found == key:
                del self.holders[coa]
            elif isinstance(found, set):
                found.discard(key)
                if len(found) == 1:
                    self.holders[coa] = next(iter(found))
        if self.PAIRS:
            pair = (key.node, key.hoa)
            left = self.per_pair.get(pair, 0) - 1
            if left:
                self.per_pair[pair] = left
            else:
                self.per_pair.pop(pair, None)

    def observe(self, e: ev.BindingStarted | ev.BindingEnded, reader: EventReader) -> None:
        key = e.key
        if isinstance(e, ev.BindingStarted):
            old = self.coa_of.get(key)
            if old is not None:
                self._drop(key, old)
            coa = self.coa_of[key] = sys.intern(e.coa)  # one copy for the states and the fold
            if self.COAS:
                found = self.holders.get(coa)
                if found is None:
                    self.holders[coa] = key
                elif isinstance(found, set):
                    found.add(key)
                elif found != key:
                    self.holders[coa] = {found, key}
            if self.PAIRS:
                pair = (key.node, key.hoa)
                self.per_pair[pair] = self.per_pair.get(pair, 0) + 1
            self._judge(e, reader.config.max_coas_per_hoa)
        elif self.coa_of.get(key) == e.coa:
            del self.coa_of[key]
            self._drop(key, e.coa)

    def _judge(self, started: ev.BindingStarted, limit: int) -> None:
        raise NotImplementedError

    def prune(self, horizon: float, reader: StreamReader) -> None:
        """Nothing to drop (live bindings only): the tables copied to stay sized for them."""
        self.coa_of, self.holders, self.per_pair = dict(self.coa_of), dict(self.holders), dict(self.per_pair)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return list(self.hits_so_far)


class CoaSharedByHomeAddresses(_HeldOverTime):
    """What: one care-of address bound at the same time by several home addresses at one node.
    Why: draft §10 / RFC §10: MCoA lets a node bind many addresses; the same CoA claimed for
    unrelated home addresses is a typical flooding / redirection pattern (warning).
    Example: HoA1 and HoA2 both bind CoA c at the HA -> warning at the second registration.
    """

    COAS = True

    def _judge(self, started: ev.BindingStarted, limit: int) -> None:
        if started.home:
            return
        holders = self.holders.get(started.coa)
        if not isinstance(holders, set):  # only this binding holds the CoA (the usual case)
            return
        others = sorted({k.hoa for k in holders if k.node == started.key.node and k.hoa != started.key.hoa})
        if others:
            self.hits_so_far.append(Hit(f"Care-of address {started.coa} is also bound by home address(es) "
                                        f"{', '.join(others)}.", started.frame, started.time, started.key.hoa,
                                        started.key.bid, key=started.coa))


coa_shared_by_home_addresses = PerKey(CoaSharedByHomeAddresses, ev.BindingStarted, ev.BindingEnded,
                                      name="coa_shared_by_home_addresses")


class ManyCoasPerHomeAddress(_HeldOverTime):
    """What: a node holds more simultaneous bindings for one home address than the configured
    threshold (CheckerConfig.max_coas_per_hoa, default 8). Reported once per node and HoA.
    Why: draft §10 / RFC §10 (resource exhaustion by many bindings). Noteworthy only (info).
    Example: threshold 2; BIDs 1, 2, 3 bound at once -> info at the third registration.
    """

    PAIRS = True

    def _judge(self, started: ev.BindingStarted, limit: int) -> None:
        pair = (started.key.node, started.key.hoa)
        count = self.per_pair[pair]
        if count > limit and pair not in self.reported:
            self.reported.add(pair)
            self.hits_so_far.append(Hit(f"{count} simultaneous bindings for {started.key.hoa} at "
                                        f"{started.key.node} (more than {limit}).",
                                        started.frame, started.time, started.key.hoa, started.key.bid))


many_coas_per_home_address = PerKey(ManyCoasPerHomeAddress, ev.BindingStarted, ev.BindingEnded,
                                    name="many_coas_per_home_address")


class TunnelToBuSource:
    """What: the home agent or correspondent node sends the mobile node's traffic to the source
    address of a BU whose BID option(s) named other care-of addresses, which it accepted; the
    source itself was never registered there for that home address (stale traffic to a CoA
    that once was bound is MCOA607's).
    Why: draft §6.3 "(lc must)" with C set the care-of address is the BID option's field, not the
    IPv6 source (Q83, Q84); RFC §6.2 "the care-of address is the IPv6 address copied from the
    Care-of Address field". The engine registers the option's CoA, so this traffic is to an
    address the node holds no binding for (also MCOA607, which does not say why). A warning:
    the capture shows the symptom, not the node's cache. DSMIPv6 (UDP) BUs are left out: behind
    a NAT the outer source is the right address (I-22).
    Example: BU from CoA a with BID 1 CoA b -> BA 0; HA tunnels data for the HoA to a -> warning.
    """

    def __init__(self) -> None:
        self.sources: dict[tuple[str, str], set[str]] = {}  # (node, HoA) -> BU sources that were not the CoA
        # data to such a source (rare); "never registered there" is judged at the end against the
        # bindings of the whole capture (``held_before``: a set of every binding fed here would
        # cost more than the binding events other rules keep anyway)
        self.found: list[ev.DataWithoutBinding] = []

    def observe(self, e: Any, reader: EventReader) -> None:
        cls = e.__class__
        if cls is ev.BindingUpdateProcessed:
            bu = reader.packet(e.bu_frame)
            mh = bu.mobility if bu is not None and bu.path.tunnel != "udp" else None
            if bu is None or mh is None or not mh.bids:
                return
            src = bu.path.src
            if not src:
                return
            for b in mh.bids:
                if b.coa == src:
                    return  # the source is a registered CoA (the usual case): nothing to remember
            for r in e.results:
                if r.coa == src:
                    return
            accepted = {r.bid for r in e.results if r.accepted}
            if any(b.coa and b.bid in accepted for b in mh.bids):
                self.sources.setdefault((e.key.node, e.key.hoa), set()).add(src)
        elif cls is ev.DataWithoutBinding:
            if e.direction == "to-mn" and e.coa in self.sources.get((e.key.peer, e.key.hoa), ()):
                self.found.append(e)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [Hit(f"{e.key.peer} sends {e.packets} packet(s) for {e.key.hoa} to {e.coa}, the "
                    "source of a BU whose BID option registered another care-of address.", e.frame,
                    e.time, e.key.hoa, None, key=f"{e.coa}:{e.time}", episode=_episode(e))
                for e in self.found
                if not any(c == e.coa for _k, c, _s, _e in ctx.held_before(node=e.key.peer, hoa=e.key.hoa))]


tunnel_to_bu_source = PerKey(TunnelToBuSource, ev.BindingUpdateProcessed, ev.DataWithoutBinding,
                             name="tunnel_to_bu_source")


BU_ERROR_WAIT = 5.0  # s: a Binding Error this soon after a BU from the same CoA answers the BU


class BindingErrorForBindingUpdate:
    """What: a Binding Error with status 1 (unknown binding for Home Address destination option)
    sent to a care-of address within 5 s of a BU with a Home Address option from that address,
    with no other data carrying that Home Address option to the node in between.
    Why: draft §6.5 / RFC §6.5: the check of a Home Address option against the binding cache
    "MUST NOT be done" for a Binding Update, which brings its new CoA with it (Q93); 6275
    §9.3.1 the same.
    Example: BU from new CoA b with HAO -> Binding Error status 1 to b -> finding at the BE.
    """

    def __init__(self) -> None:
        self.last_bu: dict[tuple[str, str, str], tuple[int, float]] = {}  # (node, CoA, HoA) -> BU frame, time
        # status-1 Binding Errors within BU_ERROR_WAIT of such a BU: (BE, its HoA, BU frame, BU time);
        # whether data with that HAO came in between is judged at the end
        self.errors: list[tuple[ev.MessageSeen, str, int, float]] = []

    def observe(self, m: ev.MessageSeen, reader: EventReader) -> None:
        kind = m.kind
        if kind == "BU":
            if m.peer and m.src and m.hoa and m.src != m.hoa:
                self.last_bu[(m.peer, m.src, m.hoa)] = (m.frame, m.time)
        elif kind == "BE" and m.src and m.dst:
            packet = reader.packet(m.frame)
            body = packet.mobility.body if packet is not None and packet.mobility else None
            if not isinstance(body, BindingError) or body.status != 1:
                return
            found = self.last_bu.get((m.src, m.dst, body.home_address))
            if found is not None and 0 <= m.time - found[1] <= BU_ERROR_WAIT:
                self.errors.append((m, body.home_address, found[0], found[1]))

    def prune(self, horizon: float, reader: StreamReader) -> None:
        """A BU more than BU_ERROR_WAIT before the horizon can be answered by no later Binding
        Error: only the BUs of the last few seconds are kept, not one per (node, CoA, HoA) ever."""
        oldest = horizon - BU_ERROR_WAIT
        last = self.last_bu
        if any(t < oldest for _f, t in last.values()):
            self.last_bu = {k: v for k, v in last.items() if v[1] >= oldest}

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        if not self.errors:
            return []
        data_times: dict[tuple[str, str], list[float]] = defaultdict(list)  # (HoA, node) -> HAO data times
        for _frame, time, hoa, dst in ctx.hao_data:
            data_times[(hoa, dst)].append(time)
        for times in data_times.values():
            times.sort()
        hits = []
        for m, hoa, bu_frame, bu_time in self.errors:
            times = data_times.get((hoa, m.src or ""), [])
            i = bisect_left(times, bu_time - 1.0)  # fast-path rows carry their second's first time
            if i < len(times) and times[i] <= m.time:
                continue  # data with a HAO in between may be what the error answers
            hits.append(Hit(f"Binding Error (status 1) answers the BU of frame {bu_frame} from {m.dst}; the "
                            "Home Address option check must not apply to a Binding Update.", m.frame, m.time,
                            hoa, None))
        return hits


binding_error_for_binding_update = PerKey(BindingErrorForBindingUpdate, ev.MessageSeen,
                                          name="binding_error_for_binding_update",
                                          seen=frozenset({"BU", "BE"}))
