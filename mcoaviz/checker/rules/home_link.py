"""MCOA409-MCOA421: what a capture on the home link shows around returning home.

Duplicate Address Detection by the home agent, proxy Neighbor Discovery after MCOA RETURNHOME
WO/NDP, the mobile node's use of its home address before and after the H-flag BA, and the
draft's rules for which link de-registers what (§5.6.1, §5.6.2). Nodes on the home link are told
apart by source MAC: the mobile node's are the MACs of frames it sent from its home address or
with a BU; "the home link" is a capture interface that shows ND or RAs for the home /64.
Every rule reads the engine's events and the ND packets they name; ND packets are rare, so the
per-home-address scans below stay cheap.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from dissector.records import BindingUpdate, LinkLayerAddress, Packet
from mcoaviz.checker.context import HistoryContext, PacketContext, WatchedData, prefix64
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, EventReader, PerKey
from mcoaviz.checker.rules._common import is_draft, packet_hit
from mcoaviz.checker.rules.return_home import (
    AnsweredHomeOutcomes,
    HomeOutcome,
    ReturnhomeWindows,
    Window,
    forget_home_outcome,
    home_outcome,
)
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey

NS, NA = 135, 136
RETRANS_TIMER = 1.0  # RFC 4861 §10 RetransTimer: how long a solicitation waits for its answer
UNSPECIFIED = "::"


_NO_MACS: frozenset[bytes] = frozenset()


def _mn_macs(ctx: HistoryContext, hoa: str) -> frozenset[bytes]:
    """Source MACs of the mobile node: frames of its BUs and frames sent from its home address."""
    return ctx.mn_macs.get(hoa, _NO_MACS)


def _by_mn(pkt: Packet, hoa: str, macs: set[bytes] | frozenset[bytes]) -> bool:
    return pkt.path.src == hoa or (pkt.path.mac_src is not None and pkt.path.mac_src in macs)


def _home_link_interfaces(ctx: HistoryContext, hoa: str) -> set[int]:
    """Capture interfaces that see the home link: RAs for the home /64, or ND about its addresses."""
    key = prefix64(hoa)
    return set() if key is None else ctx.home_link_interfaces.get(key, set())


def _nd(ctx: HistoryContext, target: str) -> list[Packet]:
    return ctx.nd_by_target.get(target, [])


def _is_dad(pkt: Packet, hoa: str) -> bool:
    icmp = pkt.icmp6
    return icmp is not None and icmp.type == NS and icmp.target == hoa and pkt.path.src == UNSPECIFIED


def _ba_time(p: ev.BindingUpdateProcessed) -> float | None:
    """The BA's time: the outcome's, when a BA was seen (no need to keep the BA packet)."""
    return p.time if p.ba_frame is not None else None


# ---------------------------------------------------------------- DAD (Q69, Q70)


class HomeDadMissing:
    """What: on a capture of the home link, the home agent accepts the first registration of a
    home address without a Duplicate Address Detection NS (source ::, target the home address)
    between the BU and its BA.
    Why: draft §6.3 "the home agent MUST carefully operate Duplicate Address Detection (DAD) for
    the received Home Address"; RFC 6275 §10.3.1 "Unless this home agent already has a binding
    for the given home address, the home agent MUST perform Duplicate Address Detection". Only
    checked when some capture interface sees the home link (RAs or ND for the home /64), for the
    first registration the capture shows; a proxy NA for the home address before it means the HA
    already held a binding from before the capture.
    Example: BU (frame 1), RA for the home /64 on the home link (frame 2), BA 0 (frame 3), no DAD
    NS -> warning at 3.
    """

    def __init__(self) -> None:
        self.first_seen: set[tuple[str, str]] = set()  # (HA, HoA) whose first accepted BU went by
        self.pre_existing: set[tuple[str, str, int]] = set()  # (node, HoA, frame) of older bindings
        # the first accepted registration of each (HA, HoA): (HA, HoA, frame, BU time, BA frame,
        # BA time, first BID, BU frame); the ND is read at the end
        self.first: list[tuple[str, str, int, float, int, float, int | None, int]] = []

    def observe(self, e: ev.BindingUpdateProcessed | ev.BindingStarted, reader: EventReader) -> None:
        if isinstance(e, ev.BindingStarted):
            if e.pre_existing:
                self.pre_existing.add((e.key.node, e.key.hoa, e.frame))
            return
        p = e
        pair = (p.key.node, p.key.hoa)
        if p.role != "home-agent" or pair in self.first_seen:
            return
        if not any(r.accepted for r in p.results) and not (p.regular and p.ba_status is not None
                                                            and p.ba_status < 128):
            return
        self.first_seen.add(pair)
        ba_time = _ba_time(p)
        if ba_time is None or p.ba_frame is None or p.deregistration or any(r.home for r in p.results):
            return
        self.first.append((p.key.node, p.key.hoa, p.frame, p.bu_time, p.ba_frame, ba_time,
                           p.results[0].bid if p.results else None, p.bu_frame))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits: list[Hit] = []
        if not ctx.home_link_interfaces:  # no capture interface sees any home link
            return hits
        for node, hoa, frame, bu_time, ba_frame, ba_time, bid, bu_frame in self.first:
            if not _home_link_interfaces(ctx, hoa) or (node, hoa, frame) in self.pre_existing:
                continue
            macs = _mn_macs(ctx, hoa)
            if any(n.icmp6 is not None and n.icmp6.type == NA and n.time < bu_time
                   and not _by_mn(n, hoa, macs) for n in _nd(ctx, hoa)):
                continue  # someone (the HA's proxy ND) defended the address already: an older binding
            if not any(_is_dad(n, hoa) and bu_time <= n.time <= ba_time for n in _nd(ctx, hoa)):
                hits.append(Hit(f"Home agent accepted the first registration of {hoa} without a DAD "
                                "Neighbor Solicitation on the home link.", ba_frame, ba_time, hoa, bid,
                                ctx.dialect_of(bu_frame)))
        return hits


home_dad_missing = PerKey(HomeDadMissing, ev.BindingUpdateProcessed, ev.BindingStarted,
                          name="home_dad_missing", packets=frozenset({"ND", "RA"}))


class HomeDadWhileBound:
    """What: a DAD Neighbor Solicitation for a home address, not sent by the mobile node, while
    its home agent holds a binding for that address.
    Why: draft §6.3 "If the home agent has already had a binding(s) for the Mobile Node, it MUST
    avoid running DAD check when it receives the Binding Update"; RFC 6275 §10.3.1 (DAD only
    "unless this home agent already has a binding"). The DAD NS must come from a MAC the HA is
    known by: its proxy NAs for the home address, or frames from its own address (another
    node's DAD for the address is not the HA's doing; the MN's own is MCOA403 / MCOA404).
    Example: BU + BA 0 from the HA's MAC (frames 1-2), DAD NS for the home address from the same
    MAC (frame 3) -> error at 3.
    """

    def __init__(self) -> None:
        # home address -> the home agents that held a binding for it, in the order first seen
        # (O(home addresses): one agent, the usual case, is kept as a 1-tuple)
        self.agents: dict[str, tuple[str, ...]] = {}

    def observe(self, s: ev.BindingStarted, reader: EventReader) -> None:
        if s.role == "home-agent":
            found = self.agents.get(s.key.hoa, ())
            if s.key.node not in found:
                self.agents[s.key.hoa] = (*found, s.key.node)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits: list[Hit] = []
        if not ctx.nd_by_target:  # no NS / NA at all: no DAD to judge
            return hits
        agents = self.agents
        for hoa, nodes in agents.items():
            macs = _mn_macs(ctx, hoa)
            ha_macs = {mac for n in _nd(ctx, hoa) if (mac := n.path.mac_src) and n.icmp6 is not None
                       and n.icmp6.type == NA and not _by_mn(n, hoa, macs)}
            ha_macs |= {mac for node in nodes for mac in ctx.macs_of(node)}
            for n in _nd(ctx, hoa):
                if not _is_dad(n, hoa) or n.path.mac_src not in ha_macs:
                    continue
                held = [node for node in nodes if ctx.held_at(n.time, node=node, hoa=hoa)]
                if held:
                    hits.append(Hit(f"DAD Neighbor Solicitation for {hoa} while home agent {held[0]} holds a "
                                    "binding for it.", n.frame, n.time, hoa, None))
        return hits


# fed the starts (which home agents held a binding); ``held_at`` reads the folded intervals
home_dad_while_bound = PerKey(HomeDadWhileBound, ev.BindingStarted, name="home_dad_while_bound",
                              packets=frozenset({"BU-home", "answer-home", "ND", "RA"}))


# ---------------------------------------------------------------- proxy ND after RETURNHOME (Q32, Q36, Q42)


class _Windows(ReturnhomeWindows):
    """MCOA411, 412, 420, 421: fed the ND-owner changes and binding ends; the RETURNHOME windows."""

    def observe(self, e: ev.HomeNdOwner | ev.BindingEnded, reader: EventReader) -> None:
        self.observe_window(e, reader)

    def grouped(self) -> Iterator[tuple[ev.HomeNdOwner, float]]:
        """(RETURNHOME event, time the HA stops owning ND), grouped by home address."""
        for w in self.by_home_address():
            yield w.o, w.end


class ProxyNdUnanswered(_Windows):
    """What: after MCOA RETURNHOME WO/NDP, a Neighbor Solicitation for the home address from
    another node stays unanswered (no NA for it from a node other than the mobile node within
    RetransTimer, 1 s).
    Why: draft §5.6.3 "it MUST continue defending the home address by proxy NDP" and "the home
    agent MUST intercept all the packets meant for the mobile node"; RFC §5.6.2 (the HA keeps proxy ND and so
    receives all packets for the home address), §6.3.
    Example: BA with RETURNHOME (frame 2), NS for the home address from a router (frame 3), no NA
    in the next second -> error at 3.
    """

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for o, end in self.grouped():
            hoa = o.key.hoa
            macs = _mn_macs(ctx, hoa)
            about = _nd(ctx, hoa)
            for n in about:
                icmp = n.icmp6
                if icmp is None or icmp.type != NS or not o.time < n.time < end or _by_mn(n, hoa, macs):
                    continue  # the mobile node's own NS is MCOA404
                if n.time + RETRANS_TIMER > ctx.capture_end:
                    continue  # the capture stopped before the answer was due
                answered = any(a.icmp6 is not None and a.icmp6.type == NA and n.time <= a.time <= n.time
                               + RETRANS_TIMER and not (a.path.mac_src is not None and a.path.mac_src in macs)
                               for a in about)
                if not answered:
                    message = (f"Neighbor Solicitation for {hoa} was not answered by proxy ND although the "
                               f"home agent returned MCOA RETURNHOME WO/NDP (frame {o.frame}).")
                    hits.append(Hit(message, n.frame, n.time, hoa, o.key.bid, ctx.dialect_of(o.frame),
                                    episode=f"proxy-nd|{hoa}"))
        return hits


proxy_nd_unanswered = PerKey(ProxyNdUnanswered, ev.HomeNdOwner, ev.BindingEnded, name="proxy_nd_unanswered",
                             packets=frozenset({"ND"}))


class NsFromHomeAddressAfterReturnhome(_Windows):
    """What: after MCOA RETURNHOME WO/NDP the mobile node sends a Neighbor Solicitation for another
    address (e.g. its router) from its home address or its home-link MAC.
    Why: draft §5.6.3 "it MUST learn the layer2 address (i.e. MAC address) of the next hop ...
    during the binding de-registration"; RFC §5.6.4 "it MUST learn the link-layer address of the next
    hop ... from a Source Link-Layer Address option in Router Advertisements". Its NS puts the
    home address in other nodes' neighbor caches, which the HA's proxy ND owns.
    Example: BA with RETURNHOME (frame 2), NS from the home address for fe80::1 (frame 3) ->
    warning at 3.
    """

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        solicitations: dict[str | bytes, list[Packet]] = {}  # NS by source address and by source MAC
        for n in ctx.nd_packets:
            if n.icmp6 is not None and n.icmp6.type == NS and n.path.src != UNSPECIFIED:
                for key in (n.path.src, n.path.mac_src):
                    if key:
                        solicitations.setdefault(key, []).append(n)
        for o, end in self.grouped():
            hoa = o.key.hoa
            keys: list[str | bytes] = [hoa, *_mn_macs(ctx, hoa)]
            mine = {n.frame: n for key in keys for n in solicitations.get(key, [])}
            for n in sorted(mine.values(), key=lambda n: n.frame):
                target = n.icmp6.target if n.icmp6 is not None else None
                if target != hoa and o.time < n.time < end:
                    hits.append(Hit(f"Mobile node solicited {target} on the home link after MCOA RETURNHOME "
                                    "WO/NDP instead of using the router's link-layer address it learned.",
                                    n.frame, n.time, hoa, o.key.bid, ctx.dialect_of(o.frame)))
        return hits


ns_from_home_address_after_returnhome = PerKey(
    NsFromHomeAddressAfterReturnhome, ev.HomeNdOwner, ev.BindingEnded,
    name="ns_from_home_address_after_returnhome", packets=frozenset({"ND"}))


# ------------------------------------------------------------ data frames' MACs after RETURNHOME (Q32, Q42)


def _router_macs(ctx: HistoryContext) -> set[bytes]:
    """MACs the capture identifies as routers: sources of Router Advertisements."""
    return {mac for ra in ctx.ra_packets if (mac := ra.path.mac_src)}


def _ha_macs(ctx: HistoryContext, w: Window) -> set[bytes]:
    """The HA's home-link MACs: the RETURNHOME BA's frame and its untunnelled frames."""
    macs = set(ctx.macs_of(w.o.key.node))
    if w.ha_mac:
        macs.add(w.ha_mac)
    return macs


def _returned_data(ctx: HistoryContext, windows: list[Window]) -> Iterator[tuple[Window, Packet]]:
    """(RETURNHOME window, untunnelled data packet of its home address inside it, on a capture
    interface that sees the home link)."""
    if not ctx.home_data:
        return
    for w in windows:
        o, end = w.o, w.end
        hoa = o.key.hoa
        links = _home_link_interfaces(ctx, hoa)
        for d in ctx.home_data:
            if o.time < d.time < end and d.interface in links and hoa in (d.path.src, d.path.dst):
                yield w, d


class ReturnhomeNotIntercepted(_Windows):
    """What: after MCOA RETURNHOME WO/NDP, a data frame to the home address on the home link whose
    source MAC is another router's (it sent a Router Advertisement; not the home agent's MAC) and
    whose destination MAC is the mobile node's: the router reached the mobile node directly, so
    the home agent did not intercept the packet.
    Why: draft §5.6.3 "the home agent MUST intercept all the packets meant for the mobile node
    and decide whether to send the traffic directly to the home address on the link or tunnel to
    the care-of address" and, when it is not the only router, "it MUST continue defending the
    home address by proxy NDP"; RFC §5.6.2 (the HA keeps proxy ND, so it receives all packets
    for the home address). MCOA411 is the unanswered NS; this is the data it lets through.
    Example: RA for the home /64 from router R, H BU + BA RETURNHOME from the HA's MAC, UDP to
    the home address from R's MAC to the MN's MAC (frame 4) -> error at 4.
    """

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        routers = _router_macs(ctx)
        ha_macs: dict[int | None, set[bytes]] = {}
        for w, d in _returned_data(ctx, self.by_home_address()):
            o = w.o
            hoa = o.key.hoa
            src, dst = d.path.mac_src, d.path.mac_dst
            if d.path.dst != hoa or src is None or dst is None or src not in routers:
                continue
            if src in ha_macs.setdefault(o.frame, _ha_macs(ctx, w)):
                continue
            if dst in _mn_macs(ctx, hoa):
                message = (f"Router {src.hex(':')} delivered data for {hoa} straight to the mobile node's "
                           f"MAC although the home agent returned MCOA RETURNHOME WO/NDP (frame {o.frame}).")
                hits.append(Hit(message,
                                d.frame, d.time, hoa, o.key.bid, ctx.dialect_of(o.frame),
                                episode=f"not-intercepted|{hoa}|{o.frame}"))
        return hits


returnhome_not_intercepted = PerKey(ReturnhomeNotIntercepted, ev.HomeNdOwner, ev.BindingEnded,
                                    name="returnhome_not_intercepted", packets=frozenset({"ND", "RA"}))


def _off_link(destination: str | None, hoa: str) -> bool:
    try:
        address = ipaddress.IPv6Address(destination or "")
    except ValueError:
        return False
    if address.is_link_local or address.is_multicast:
        return False
    return prefix64(destination) != prefix64(hoa)


class ReturnhomeFrameToNonRouter(_Windows):
    """What: after MCOA RETURNHOME WO/NDP, a data frame from the home address to an off-link
    destination (outside the home /64) whose destination MAC no Router Advertisement (and not the
    home agent's BA) identifies as a router.
    Why: draft §5.6.3 "it MUST learn the layer2 address (i.e. MAC address) of the next hop (i.e.
    default router, it can be home agent) during the binding de-registration and construct the
    packet including layer 2 header with the learned home agent's layer-2 address"; RFC §5.6.4
    (learned from the RA's Source Link-Layer Address option). A warning: a router whose RA the
    capture missed looks the same.
    Example: RA from the HA's MAC, H BU + BA RETURNHOME, UDP from the home address to a
    correspondent from the MN's MAC to an unknown MAC (frame 4) -> warning at 4.
    """

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        routers = _router_macs(ctx)
        ha_macs: dict[int | None, set[bytes]] = {}
        for w, d in _returned_data(ctx, self.by_home_address()):
            o = w.o
            hoa = o.key.hoa
            dst = d.path.mac_dst
            if d.path.src != hoa or dst is None or dst[0] & 1 or not _off_link(d.path.dst, hoa):
                continue  # group MACs are multicast, not a next hop
            if dst not in routers and dst not in ha_macs.setdefault(o.frame, _ha_macs(ctx, w)):
                message = (f"Mobile node sent data from {hoa} to {d.path.dst} via MAC {dst.hex(':')}, which "
                           "no Router Advertisement identifies as a router, after MCOA RETURNHOME WO/NDP "
                           f"(frame {o.frame}).")
                hits.append(Hit(message, d.frame, d.time, hoa, o.key.bid, ctx.dialect_of(o.frame),
                                episode=f"non-router-next-hop|{hoa}|{o.frame}"))
        return hits


returnhome_frame_to_non_router = PerKey(ReturnhomeFrameToNonRouter, ev.HomeNdOwner, ev.BindingEnded,
                                        name="returnhome_frame_to_non_router",
                                        packets=frozenset({"ND", "RA"}))


# ---------------------------------------------------------------- home address before the BA (Q37)


class HomeAddressUsedBeforeAck(AnsweredHomeOutcomes):
    """What: untunnelled data from the home address (as on the home link) after the H-flag BU
    and before its BA.
    Why: draft §5.6.3 "the mobile node MUST NOT assign the home address to the interface attached
    to the home link ... before the completion of binding de-registration" (data sent from it
    shows the assignment); RFC
    §5.6.4 lets the MN configure the home address only once the BA arrives (hence a warning there).
    Example: H BU (frame 1), UDP from the home address to a CN (frame 2), BA (frame 3) -> at 2.
    """

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        forget_home_outcome()
        hits: list[Hit] = []
        if not ctx.watched_data:  # no untunnelled data from a home address was watched
            return hits
        data: dict[str, list[WatchedData]] = {}
        for d in ctx.watched_data:
            data.setdefault(d.src, []).append(d)
        for h in self.home:
            p, ba_time = h.p, h.p.time
            for d in data.get(p.key.hoa, []):
                if d.tunnel is None and d.first < ba_time and d.last > h.bu_time:
                    hits.append(Hit("Mobile node sent data from its home address before the home agent "
                                    f"acknowledged its H-flag BU (frame {h.bu_frame}).", d.frame,
                                    max(d.first, h.bu_time), p.key.hoa, h.home[0], ctx.dialect_of(h.bu_frame),
                                    episode=f"hoa-before-ba|{p.key.hoa}|{h.bu_frame}"))
        return hits


home_address_used_before_ack = PerKey(HomeAddressUsedBeforeAck, ev.BindingUpdateProcessed,
                                      name="home_address_used_before_ack", packets=frozenset({"BU-home"}))


# ---------------------------------------------------------------- which link de-registers what (Q30, Q31)


def _from_home_link(pkt: Packet, hoa: str) -> bool:
    return pkt.path.tunnel is None and pkt.path.home_address_option is None and pkt.path.src == hoa


class CorrespondentBindingAfterReturn:
    """What: (draft-05) after the mobile node de-registered from the home link (Lifetime-0 BU to
    the HA sent from the home address, no H flag), it sends its first BU to a correspondent node
    for a foreign care-of address.
    Why: draft §5.6.1 "These bindings at correspondent node MUST be created before a mobile node
    returns home". Needs the MN's side of both BUs (MN-side or merged captures); RFC 5648 dropped
    the sentence (§5.5.1).
    Example: de-registration from the home address (frame 1), first BU to a CN from a CoA with a
    Home Address option (frame 2) -> warning at 2.
    """

    def __init__(self) -> None:
        self.returned: dict[str, int] = {}  # HoA -> frame of its first de-registration from the home link
        self.earlier: set[tuple[str | None, str | None, str | None]] = set()  # (HoA, peer, source) seen
        # the first BU to a CN per (HoA, peer, source) from a foreign address, with a lifetime:
        # (frame, time, HoA, peer, source); judged at the end against the de-registrations
        self.firsts: list[tuple[int, float, str, str | None, str | None]] = []

    def observe(self, m: ev.MessageSeen, reader: EventReader) -> None:
        if m.kind != "BU":
            return
        pkt = reader.packet(m.frame)
        mh = pkt.mobility if pkt is not None else None
        bu = mh.body if mh is not None and isinstance(mh.body, BindingUpdate) else None
        if pkt is None or mh is None or bu is None:
            return
        if "H" in bu.flags:
            if m.hoa is not None and bu.lifetime == 0 and _from_home_link(pkt, m.hoa) \
                    and not any(b.home_flag for b in mh.bids):
                self.returned.setdefault(m.hoa, m.frame)
            return
        key = (m.hoa, m.peer, pkt.path.src)
        if key in self.earlier:
            return
        self.earlier.add(key)
        if m.hoa and pkt.path.src != m.hoa and bu.lifetime:
            self.firsts.append((m.frame, m.time, m.hoa, m.peer, pkt.path.src))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits: list[Hit] = []
        if not self.returned:  # no mobile node de-registered from its home link
            return hits
        for frame, time, hoa, peer, src in self.firsts:
            back = self.returned.get(hoa)
            if back is not None and back < frame:
                hits.append(Hit(f"First BU to correspondent {peer} for care-of address {src} comes "
                                f"after the de-registration from the home link (frame {back}).", frame,
                                time, hoa, None, ctx.dialect_of(frame)))
        return hits


correspondent_binding_after_return = PerKey(CorrespondentBindingAfterReturn, ev.MessageSeen,
                                            name="correspondent_binding_after_return", seen=BU_SIGHTINGS)


def _iid(address: str | None) -> str | None:
    if not address or ":" not in address:
        return None
    return f"{int(ipaddress.IPv6Address(address)) & ((1 << 64) - 1):016x}"


class HomeInterfaceNotDeregisteredFromForeign:
    """What: (draft-05) the binding of the interface that returned home is de-registered from the
    home link (Lifetime-0 BU from the home address, no H flag, other bindings kept), or left to
    expire. The home interface's BID is the one whose care-of address has the home address's
    interface identifier (EUI-64) or whose BUs were captured on the pcapng interface that later
    sends from the home address.
    Why: draft §5.6.2 "The binding of the home attached interface MUST be deleted by sending a
    de-registration binding update from one of active interface attached to the foreign links".
    RFC §5.5.2 only says it "should be deleted" before shutdown, with no source rule.
    Example: bindings 1 (CoA with the HoA's IID) and 2, then a Lifetime-0 BU for BID 1 from the
    home address (frame 5) while BID 2 stays -> warning at 5.
    """

    def __init__(self) -> None:
        self.from_home: list[ev.BindingUpdateProcessed] = []  # de-registrations sent from home (rare)
        # expiries of bindings to a CoA other than the home address: (key, CoA, frame, time); which
        # of them were the home interface's is known only at the end (its BUs from the home link)
        self.expired: list[tuple[BindingKey, str, int | None, float]] = []

    def observe(self, p: ev.BindingUpdateProcessed | ev.BindingExpired, reader: EventReader) -> None:
        if isinstance(p, ev.BindingExpired):
            if p.coa != p.key.hoa:
                self.expired.append((p.key, p.coa, p.frame, p.time))
            return
        if p.role != "home-agent" or not p.deregistration or not p.results:
            return
        pkt = reader.packet(p.bu_frame)
        if pkt is None or not _from_home_link(pkt, p.key.hoa) \
                or any(b.home_flag for b in pkt.mobility.bids):  # type: ignore[union-attr]
            return
        self.from_home.append(p)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits: list[Hit] = []
        home_if = ctx.home_bu_interfaces  # hoa -> capture interfaces that sent BUs from the home address
        if not home_if:  # no BU from a home link: every case below needs one (a BU from the HoA)
            return hits
        for p in self.from_home:
            gone = {r.bid for r in p.results}
            kept = [k for k, _c in ctx.held_at(p.time, node=p.key.node, hoa=p.key.hoa) if k.bid not in gone]
            if kept:
                hits.append(Hit(f"BID {p.results[0].bid} (the interface at home) was de-registered from the "
                                "home link, not from a foreign interface.", p.bu_frame, p.bu_time, p.key.hoa,
                                p.results[0].bid, ctx.dialect_of(p.bu_frame)))
        hoa_iids = {hoa: _iid(hoa) for hoa in home_if}
        for key, coa, frame, time in self.expired:
            ifaces = home_if.get(key.hoa)
            if not ifaces:
                continue
            # the capture interfaces of the BUs for that (HoA, BID)
            if _iid(coa) == hoa_iids[key.hoa] or ctx.bu_interfaces(key.hoa, key.bid) & ifaces:
                hits.append(Hit(f"Binding of BID {key.bid} (the interface that returned home) expired "
                                "instead of being de-registered from a foreign interface.", frame, time,
                                key.hoa, key.bid, ctx.config.dialect))
        return hits


# fed the outcomes and the expiries; ``held_at`` at the end reads the folded binding intervals
home_interface_not_deregistered_from_foreign = PerKey(
    HomeInterfaceNotDeregisteredFromForeign, ev.BindingUpdateProcessed, ev.BindingExpired,
    name="home_interface_not_deregistered_from_foreign", packets=frozenset({"BU-from-home-link"}))


# ---------------------------------------------------------------- RFC 5648 home binding (§5.6.2-§6.3)


def _lla_options(pkt: Packet) -> list[LinkLayerAddress]:
    mh = pkt.mobility
    return [] if mh is None else [o for o in mh.options if isinstance(o, LinkLayerAddress)]


def home_binding_without_lla(ctx: PacketContext) -> list[Hit]:
    """What: (RFC 5648) a registering H-flag BU without a Mobility Header Link-Layer Address
    option, or with one whose option code is not 2.
    Why: RFC §5.6.3 "The mobile node SHOULD include the Mobility Header Link-Layer Address option
    ... The option code ... MUST be set to '2' (link-layer address of the mobile node)".
    Example: RFC BU Lifetime 400, BID H with CoA = HoA, no MH-LLA -> warning at the BU.
    """
    bu = ctx.bu
    home = [b for b in (ctx.message.bids if ctx.message else ()) if b.home_flag and not is_draft(b)]
    if bu is None or not home or bu.lifetime == 0:
        return []
    options = _lla_options(ctx.packet)
    if not options:
        return [packet_hit(ctx, f"H-flag BU for BID {home[0].bid} carries no Mobility Header Link-Layer "
                           "Address option.", home[0])]
    return [packet_hit(ctx, f"Mobility Header Link-Layer Address option code {o.option_code}, not 2, in the "
                       "H-flag BU.", home[0]) for o in options if o.option_code != 2]


class SecondHomeBinding:
    """What: (RFC 5648) a home binding is registered for a second BID while another BID's home
    binding for the same home address is still held.
    Why: RFC §5.6.3 "The mobile node registers only one home binding at a time, even if it
    attaches to the home link by multiple interfaces" (no keyword: a warning).
    Example: home binding BID 1 accepted, then home binding BID 2 accepted -> warning at the
    second BA.
    """

    def __init__(self) -> None:
        self.home_starts: list[tuple[BindingKey, int, float]] = []  # home bindings started (few)

    def observe(self, s: ev.BindingStarted, reader: EventReader) -> None:
        if s.home:
            self.home_starts.append((s.key, s.frame, s.time))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for key, frame, time in self.home_starts:
            other = [k for k, c in ctx.held_at(time, node=key.node, hoa=key.hoa)
                     if k.bid != key.bid and c == key.hoa]
            if other:
                hits.append(Hit(f"Second home binding (BID {key.bid}) while BID {other[0].bid} is still the "
                                "home binding.", frame, time, key.hoa, key.bid, ctx.config.dialect))
        return hits


# fed the starts; ``held_at`` reads the folded intervals
second_home_binding = PerKey(SecondHomeBinding, ev.BindingStarted, name="second_home_binding")


class HaSolicitsDespiteLla(ReturnhomeWindows):
    """What: (RFC 5648) the home agent sends a Neighbor Solicitation for the home address after an
    H-flag BU that carried the mobile node's link-layer address, before the BA or while it owns
    ND after MCOA RETURNHOME WO/NDP.
    Why: RFC §6.3 "the home agent SHOULD use the link-layer address carried by the Mobility Header
    Link-Layer Address option"; with RETURNHOME "It stores the link-layer address as a neighbor
    cache entry". The MN does not answer NS then, so the NS cannot succeed.
    The HA is recognised by the source MAC of the BA's frame.
    Example: H BU with MH-LLA (frame 1), NS for the home address from the HA's MAC (frame 2),
    BA from the same MAC (frame 3) -> warning at 2.
    """

    def __init__(self) -> None:
        super().__init__()
        self.home: list[HomeOutcome] = []  # answered RFC H-flag BUs with MH-LLA (rare)

    def observe(self, p: ev.BindingUpdateProcessed | ev.HomeNdOwner | ev.BindingEnded,
                reader: EventReader) -> None:
        if not isinstance(p, ev.BindingUpdateProcessed):
            self.observe_window(p, reader)
            return
        if p.ba_frame is None:
            return
        home = home_outcome(p, reader)
        if home is not None and home.lla and home.ba is not None and home.ba[2] is not None:
            self.home.append(home)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        forget_home_outcome()
        hits: list[Hit] = []
        if not ctx.nd_by_target:  # no NS at all
            return hits
        windows = {(w.o.key.hoa, w.o.frame): w.end for w in self.by_home_address()}
        for h in self.home:
            p = h.p
            _frame, ba_time, ha_mac = h.ba  # type: ignore[misc]  # the HA's home-link MAC: the BA's frame
            end = windows.get((p.key.hoa, p.ba_frame), ba_time)  # RETURNHOME: the HA keeps owning ND
            for n in _nd(ctx, p.key.hoa):
                icmp = n.icmp6
                if icmp is None or icmp.type != NS or not h.bu_time < n.time < end:
                    continue
                if n.path.src == UNSPECIFIED or n.path.mac_src != ha_mac:
                    continue  # DAD is MCOA410; other routers' NS are answered by proxy ND (MCOA411)
                hits.append(Hit(f"Neighbor Solicitation for {p.key.hoa} although the H-flag BU (frame "
                                f"{h.bu_frame}) gave the mobile node's link-layer address.", n.frame, n.time,
                                p.key.hoa, h.home[0], ctx.dialect_of(h.bu_frame)))
        return hits


ha_solicits_despite_lla = PerKey(HaSolicitsDespiteLla, ev.BindingUpdateProcessed, ev.HomeNdOwner,
                                 ev.BindingEnded,
                                 name="ha_solicits_despite_lla", packets=frozenset({"BU-home", "ND"}))


class NdWithOtherRouters:
    """What: the mobile node does Neighbor Discovery for its home address on the home link after
    an H-flag BA with status 0 while another router (not the HA) advertises the home prefix.
    Why: RFC §5.6.2 "If there are routers other than the home agent on the home link ... the
    mobile node MUST NOT operate the Neighbor Discovery protocol for the home address"; draft
    §5.6.3 (only the HA as only router lets the MN do ND). The HA's wrong status 0 is MCOA408;
    this is the MN's side. Routers are told apart by source MAC (the HA's is the BA frame's).
    Example: RA for the home /64 from another router, H BU, BA 0, NA for the home address from
    the MN -> error at the NA.
    """

    def __init__(self) -> None:
        self.home: list[HomeOutcome] = []  # H-flag BUs answered 0 by a BA with a MAC (rare)

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        home = home_outcome(p, reader)
        if home is None or home.ba is None or home.ba[2] is None:
            return
        if any(r.bid in home.home and r.status == 0 for r in p.results):
            self.home.append(home)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        forget_home_outcome()
        hits: list[Hit] = []
        if not ctx.nd_by_target or not ctx.ra_packets:  # needs both ND and another router's RA
            return hits
        routers: dict[int, list[Packet]] = {}  # /64 -> RAs advertising it, in frame order
        for ra in ctx.ra_packets:
            for pfx in ra.icmp6.prefixes if ra.icmp6 is not None and ra.path.mac_src else ():
                key = prefix64(pfx.split("/")[0])
                if key is not None:
                    routers.setdefault(key, []).append(ra)
        for h in self.home:
            p = h.p
            _frame, ba_time, ba_mac = h.ba  # type: ignore[misc]
            other = next((ra for ra in routers.get(prefix64(p.key.hoa) or -1, [])
                          if ra.path.mac_src != ba_mac), None)
            if other is None:
                continue
            macs = _mn_macs(ctx, p.key.hoa)
            for n in _nd(ctx, p.key.hoa):
                if n.time <= ba_time or n.time < other.time:
                    continue
                if _by_mn(n, p.key.hoa, macs):
                    message = ("Mobile node did Neighbor Discovery for its home address although router "
                               f"{other.path.src} (RA frame {other.frame}) also serves the home link.")
                    hits.append(Hit(message, n.frame, n.time, p.key.hoa, h.home[0],
                                    ctx.dialect_of(h.bu_frame)))
                    break
        return hits


nd_with_other_routers = PerKey(NdWithOtherRouters, ev.BindingUpdateProcessed, name="nd_with_other_routers",
                               packets=frozenset({"BU-home", "ND", "RA"}))
