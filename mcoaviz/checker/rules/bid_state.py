"""MCOA317-324: what the receiver did with a BID versus what it held, and how the MN uses its
care-of addresses afterwards (RFC 5648 §5.1, §5.4, §5.7, §6.2, §6.3; draft §3, §5.1, §5.3, §5.5).
(MCOA316, the receiver refusing a BID it holds, sits with the other BA rules in acknowledgement.py.)

History rules. Each replays the engine's events once, keeping a small per-key state, so the
cost is linear in the events (no scan over all bindings per packet).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from dissector.codepoints import BAStatus, Dialect
from dissector.records import BindingIdentifier, Packet
from mcoaviz.checker.answers import AnswerReader, PerAnswer
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey

UNKNOWN_COA = int(BAStatus.MCOA_UNKNOWN_COA)
IN_FLIGHT = 1.0  # seconds: data already on its way when the bindings went is not a finding
RFC5648 = Dialect.RFC5648.value  # a plain str: an enum's .value is a property call, asked per outcome


def _answered(ctx: HistoryContext) -> Iterator[tuple[ev.BindingUpdateProcessed, Packet, Packet]]:
    yield from ctx.answered


def _rfc(p: ev.BindingUpdateProcessed) -> bool:
    return p.dialect == RFC5648


def _option(packet: Packet | None, bid: int) -> BindingIdentifier | None:
    mh = packet.mobility if packet is not None else None
    return next((b for b in mh.bids if b.bid == bid), None) if mh is not None else None


def no_coa_after_unknown_coa(ctx: HistoryContext) -> list[Hit]:
    """What: (RFC 5648) after a BA answered a refreshing BID option with MCOA UNKNOWN COA (167),
    the MN's next BU to that peer carrying the BID again omits the care-of address.
    Why: RFC §5.7 "If the mobile node is trying to refresh a binding, it SHOULD send a Binding
    Identifier mobility option including the Care-of Address field" (a de-registration "need
    not do anything further", so it is not checked).
    Example: BU BID 7 Length 4 -> BA BID 7 status 167 -> BU BID 7 Length 4 again -> warning there.
    """
    hits = []
    for p, _bu, ba in _answered(ctx):
        if not _rfc(p) or p.deregistration:
            continue
        unknown = [r.bid for r in p.results if r.status == UNKNOWN_COA and r.bid is not None]
        if not unknown:
            continue
        nxt = ctx.next_bu(p.key.hoa, p.key.node, ba.frame)
        packet = ctx.packet(nxt.frame) if nxt is not None else None
        if nxt is None or packet is None or getattr(packet.mobility.body, "lifetime", 0) == 0:  # type: ignore[union-attr]
            continue
        for bid in unknown:
            option = _option(packet, bid)
            if option is not None and option.coa is None:
                hits.append(Hit(f"BID {bid} is sent again without its care-of address after MCOA UNKNOWN "
                                f"COA (frame {ba.frame}).", nxt.frame, nxt.time, p.key.hoa, bid,
                                Dialect.RFC5648))
    return hits


def _first_ends(ctx: HistoryContext) -> dict[BindingKey, float]:
    """When each binding key first ended in the capture (de-registered, expired, replaced...)."""
    ends: dict[BindingKey, float] = {}
    for e in ctx.of(ev.BindingEnded):
        ends.setdefault(e.key, e.time)
    return ends


def unknown_bid_without_coa_accepted(ctx: HistoryContext) -> list[Hit]:
    """What: (RFC 5648) the receiver accepted a BID option without care-of address (Length 4)
    for a BID whose binding had ended earlier in the capture and that it no longer held.
    Why: RFC §6.2 "When the length value is 4 and the Binding Identifier is present in the
    binding cache, the receiving node MUST update the associated binding entry. Otherwise, the
    receiving node MUST reject that Binding Identifier mobility option and send ... [MCOA
    UNKNOWN]" (167). Only a BID seen deleted in the capture is known to be absent; one never
    seen may predate the capture (I-6). The engine then records the BU's source as the CoA.
    Example: BID 1 registered, de-registered; BU BID 1 Length 4 -> BA status 0 -> finding at the BA.
    """
    ends = _first_ends(ctx)
    if not ends:
        return []
    hits = []
    for p, bu, ba in _answered(ctx):
        if not _rfc(p) or p.deregistration:
            continue
        no_coa = {b.bid for b in bu.mobility.bids if b.coa is None and b.length == 4}  # type: ignore[union-attr]
        for r in p.results:
            if r.bid not in no_coa or not r.accepted:
                continue
            ended = ends.get(BindingKey(p.key.node, p.key.hoa, r.bid))
            if ended is None or ended > p.bu_time:
                continue
            held = {k.bid for k, _c in ctx.held_at(p.bu_time, node=p.key.node, hoa=p.key.hoa)}
            if r.bid not in held:
                hits.append(Hit(f"BID {r.bid} without a care-of address was accepted although its binding "
                                "was deleted earlier; expected MCOA UNKNOWN COA (167).", ba.frame, ba.time,
                                p.key.hoa, r.bid, Dialect.RFC5648))
    return hits


NON_ROUTABLE_V6 = ("ff", "fe8", "fe9", "fea", "feb")  # multicast, link-local (fe80::/10)


def routable(address: str) -> bool:
    """A unicast address that can be routed to a node (RFC 6275 §5.2 "unicast routable"): not
    multicast, unspecified, loopback, link-local or broadcast. Read from the dissector's
    canonical text form with string tests, as this runs for every registered CoA."""
    if ":" in address:
        lower = address.lower()
        return not (lower.startswith(NON_ROUTABLE_V6) or lower in ("::", "::1"))
    first = address.split(".", 1)[0]
    if not first.isdigit():
        return False
    octet = int(first)
    return not (octet in (0, 127) or 224 <= octet <= 255 or address.startswith("169.254."))


_VERDICTS: dict[str, bool] = {}  # CoA -> routable: a CoA comes back with every refresh, judged once
_VERDICTS_LIMIT = 1 << 14  # a memory bound: past it the memo starts over


@PerAnswer
def non_routable_coa_accepted(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                              ctx: AnswerReader) -> list[Hit]:
    """What: (RFC 5648) the receiver accepted a BID option whose Care-of Address field is not a
    unicast routable address (multicast, unspecified, loopback, link-local, broadcast).
    Why: RFC §6.2 "If the unicast routable address [RFC3775] is not present in the Care-of
    Address field, the receiver MUST reject the Binding Identifier mobility option and return
    the status value set to [MCOA MALFORMED]". (The draft has no such rule.)
    Example: BU BID 1 with CoA fe80::1 -> BA status 0 -> finding at the BA.
    """
    if not _rfc(p) or p.deregistration:
        return []
    hits = []
    verdicts = _VERDICTS
    accepted: set[int | None] | None = None  # asked only about a non-routable CoA
    for b in bu.mobility.bids:  # type: ignore[union-attr]
        if b.coa is None:
            continue
        ok = verdicts.get(b.coa)
        if ok is None:
            if len(verdicts) >= _VERDICTS_LIMIT:
                verdicts.clear()
            ok = verdicts[b.coa] = routable(b.coa)
        if ok:
            continue
        if accepted is None:
            accepted = {r.bid for r in p.results if r.accepted}
        if b.bid in accepted:
            hits.append(Hit(f"BID {b.bid} with care-of address {b.coa}, which is not unicast routable, "
                            "was accepted instead of rejected with MCOA MALFORMED.", ba.frame, ba.time,
                            p.key.hoa, b.bid, Dialect.RFC5648))
    return hits


def same_coa_under_two_bids(ctx: HistoryContext) -> list[Hit]:
    """What: a node holds two BIDs of one home address bound to the same care-of address after
    a BU has been processed (home bindings, CoA = HoA, excepted).
    Why: draft §3 "the mobile node MUST generate a BID for each care-of address" and §5.1 (the
    BID is unique per HoA/CoA pair); RFC §5.1 "A mobile node assigns a BID to each care-of
    address". A warning: the capture shows the receiver's state, which also results when the
    MN moved a CoA to another BID and the BU de-registering the old one was lost.
    Example: BID 1 -> CoA a, then BID 2 -> CoA a (BID 1 still bound) -> warning at the second BA.
    """
    by_coa: dict[tuple[str, str, str], dict[int, BindingKey]] = defaultdict(dict)  # (node, hoa, coa)
    coa_of: dict[BindingKey, str] = {}
    pending: list[ev.BindingStarted] = []
    hits: list[Hit] = []

    def settle() -> None:  # after all events of one BU: a CoA moved inside one bulk BU is fine
        for s in pending:
            slot = by_coa.get((s.key.node, s.key.hoa, s.coa), {})
            if s.key.bid in slot and len(slot) > 1:
                others = sorted(b for b in slot if b != s.key.bid)
                hits.append(Hit(f"Care-of address {s.coa} is bound under BID {s.key.bid} and BID(s) "
                                f"{', '.join(map(str, others))} of {s.key.hoa} at {s.key.node}.", s.frame,
                                s.time, s.key.hoa, s.key.bid, key=s.coa))
        pending.clear()

    for e in ctx.in_order(ev.BindingStarted, ev.BindingEnded):
        if pending and getattr(e, "frame", None) != pending[0].frame:
            settle()
        if isinstance(e, ev.BindingStarted):
            old = coa_of.pop(e.key, None)
            if old is not None:
                by_coa[(e.key.node, e.key.hoa, old)].pop(e.key.bid, None)  # type: ignore[arg-type]
            if e.key.bid is None or e.home:
                continue
            coa_of[e.key] = e.coa
            slot = by_coa[(e.key.node, e.key.hoa, e.coa)]
            slot[e.key.bid] = e.key
            if len(slot) > 1:  # judged once the whole BU is processed (settle)
                pending.append(e)
        elif isinstance(e, ev.BindingEnded) and coa_of.get(e.key) == e.coa:
            del coa_of[e.key]
            by_coa[(e.key.node, e.key.hoa, e.coa)].pop(e.key.bid, None)  # type: ignore[arg-type]
    settle()
    return hits


def _use_after_wipe(ctx: HistoryContext,
                    wiped: set[int]) -> Iterator[tuple[ev.DataWithoutBinding, int]]:
    """Data from the MN through a CoA at a node after a BU (BU frames in ``wiped``)
    that removed all its bindings there, before the MN's next BU to that node. One replay."""
    if not wiped or not any(d.direction == "from-mn" for d in ctx.of(ev.DataWithoutBinding)):
        return
    since: dict[tuple[str, str], tuple[int, float]] = {}  # (node, HoA) -> (BA frame, time)
    for e in ctx.in_order(ev.BindingUpdateProcessed, ev.MessageSeen, ev.DataWithoutBinding):
        if isinstance(e, ev.BindingUpdateProcessed):
            if e.bu_frame in wiped and e.ba_frame is not None:
                since[(e.key.node, e.key.hoa)] = (e.ba_frame, e.time)
        elif isinstance(e, ev.MessageSeen) and e.kind == "BU" and e.peer and e.hoa:
            since.pop((e.peer, e.hoa), None)
        elif isinstance(e, ev.DataWithoutBinding) and e.direction == "from-mn" \
                and e.reason == "no-binding" and e.via != "route-optimised":
            at = since.get((e.key.peer, e.key.hoa))
            if at is not None and e.time >= at[1] + IN_FLIGHT:
                yield e, at[0]


def _data_hit(d: ev.DataWithoutBinding, message: str, dialect: Dialect | None) -> Hit:
    return Hit(message, d.frame, d.time, d.key.hoa, None, dialect, key=f"{d.coa}:{d.time}",
               episode=f"{d.key.peer}|{d.key.hoa}|{d.coa}|{d.via}")


def use_after_full_deregistration(ctx: HistoryContext) -> list[Hit]:
    """What: after the home agent accepted a Lifetime-0 BU without BID option (which deletes
    every binding of the home address), the mobile node keeps tunnelling data to it from a
    care-of address without registering again.
    Why: draft §5.5 "If the mobile node wants to de-register a particular binding(s) ... it MUST
    carry the Binding Identifier mobility option(s)" (RFC §5.4 the same): a BU without BID
    "de-registers all the bindings" (draft §6.3, RFC §6.2). An MN that goes on using its other
    CoAs meant a selective de-registration and left out the BID option(s) (Q27). Only judged
    when BID bindings were held before; data within 1 s of the BA is in flight; route-optimised
    data is MCOA601's.
    Example: BIDs 1, 2 bound; BU Lifetime 0 no BID -> BA 0; data tunnelled from CoA 2 -> warning.
    """
    wiped = {p.bu_frame for p in ctx.of(ev.BindingUpdateProcessed)
             if p.regular and p.deregistration and p.ba_status is not None and p.ba_status < 128
             and any(k.bid is not None for k, _c in ctx.held_at(p.bu_time, node=p.key.node, hoa=p.key.hoa))}
    return [_data_hit(d, f"Data for {d.key.hoa} still comes from {d.coa} after the de-registration "
                      f"without BID option (frame {ba}) removed every binding; a selective "
                      "de-registration must carry the BID option(s).", None)
            for d, ba in _use_after_wipe(ctx, wiped)]


def foreign_use_after_legacy_home_ack(ctx: HistoryContext) -> list[Hit]:
    """What: (RFC 5648) the home agent answered the home-link (H-flag) registration with a BA
    without BID option, and the mobile node keeps tunnelling data through a foreign care-of
    address before registering again.
    Why: RFC §6.3 "If the BID option is not included in the Binding Acknowledgement ... the home
    agent might have processed the home registration Binding Update as a regular
    de-registration ... and deleted all the registered binding cache entries. Thus, the mobile
    node SHOULD stop using the interface attached to the foreign link" (the engine deletes them:
    I-10).
    Example: H-flag BU BID 1 CoA = HoA -> BA 0 without BID; tunnel from CoA 2 -> warning.
    """
    wiped: set[int] = set()
    for p in ctx.of(ev.BindingUpdateProcessed):
        if not _rfc(p) or not p.legacy_receiver or p.ba_status is None or p.ba_status >= 128:
            continue
        bu = ctx.packet(p.bu_frame)
        if bu is not None and bu.mobility is not None and any(b.home_flag for b in bu.mobility.bids):
            wiped.add(p.bu_frame)
    return [_data_hit(d, f"Data for {d.key.hoa} still comes from foreign care-of address {d.coa} after "
                      f"the home registration was acknowledged without BID option (frame {ba}).",
                      Dialect.RFC5648)
            for d, ba in _use_after_wipe(ctx, wiped)]


def several_coas_without_bids(ctx: HistoryContext) -> list[Hit]:
    """What: while a node holds one regular (non-BID) binding for a home address, data from the
    mobile node also arrives there from another care-of address, and the MN then refreshes the
    regular binding for its old CoA instead of registering the CoAs with BIDs.
    Why: RFC §5.1 "once the mobile node has several care-of addresses in use, all of them MUST
    be mapped to BIDs" (draft §5.3: a multiple-CoA registration "MUST carry" BID options, Q18).
    A warning: data from a second CoA alone may be a move in progress; the refresh for the
    old CoA shows that both stay in use. (A Length-4 refresh of a BID the regular BU wiped,
    answered 167, is MCOA115.)
    Example: regular BU from CoA a -> BA 0; data tunnelled from CoA b; regular BU from a -> warning.
    """
    if not any(d.direction == "from-mn" and d.reason == "unregistered-coa"
               for d in ctx.of(ev.DataWithoutBinding)):
        return []
    regular: dict[tuple[str, str], str] = {}  # (node, HoA) -> CoA of the regular binding
    other: dict[tuple[str, str], ev.DataWithoutBinding] = {}  # first data from another CoA
    hits = []
    for e in ctx.in_order(ev.BindingStarted, ev.BindingEnded, ev.DataWithoutBinding,
                          ev.BindingUpdateProcessed):
        if isinstance(e, ev.BindingStarted) and e.key.bid is None:
            regular[(e.key.node, e.key.hoa)] = e.coa
        elif isinstance(e, ev.BindingEnded) and e.key.bid is None:
            regular.pop((e.key.node, e.key.hoa), None)
            other.pop((e.key.node, e.key.hoa), None)
        elif isinstance(e, ev.DataWithoutBinding) and e.direction == "from-mn" \
                and e.reason == "unregistered-coa":
            pair = (e.key.peer, e.key.hoa)
            if pair in regular and e.coa != regular[pair]:
                other.setdefault(pair, e)
        elif isinstance(e, ev.BindingUpdateProcessed) and e.regular and not e.deregistration:
            pair = (e.key.node, e.key.hoa)
            seen = other.pop(pair, None)
            coa = e.results[0].coa if e.results else None
            if seen is not None and any(r.accepted for r in e.results) and coa == regular.get(pair):
                hits.append(Hit(f"Regular BU keeps {coa} as the only binding of {e.key.hoa} while data also "
                                f"comes from {seen.coa}; with several care-of addresses in use, all must be "
                                "registered with BIDs.", e.bu_frame, e.bu_time, e.key.hoa, None))
    return hits


def use_of_coa_after_bid_moved(ctx: HistoryContext) -> list[Hit]:
    """What: after a BU moved a BID from care-of address a to another address (the engine's
    BindingReplaced), data from the mobile node keeps arriving at that node from a, which no
    BID holds any more (from 1 s after the move, until a is registered again).
    Why: draft §3 "the mobile node MUST generate a BID for each care-of address" and §5.1 (Q11,
    §3-a); RFC §5.1 "A mobile node assigns a BID to each care-of address". An MN still using a
    after giving its BID to another CoA uses a CoA without a BID (the receiver discards that
    data: MCOA601/602 report it without saying why). A warning, one finding per episode.
    Example: BID 1 -> CoA a; BU BID 1 -> CoA b; data tunnelled from a -> warning.
    """
    if not any(d.direction == "from-mn" and d.reason == "unregistered-coa"
               for d in ctx.of(ev.DataWithoutBinding)):
        return []
    moved: dict[tuple[str, str, str], tuple[int, float]] = {}  # (node, HoA, old CoA) -> (BID, time)
    hits = []
    for e in ctx.in_order(ev.BindingReplaced, ev.BindingStarted, ev.DataWithoutBinding):
        if isinstance(e, ev.BindingReplaced) and e.key.bid is not None:
            moved[(e.key.node, e.key.hoa, e.coa)] = (e.key.bid, e.time)
        elif isinstance(e, ev.BindingStarted):
            moved.pop((e.key.node, e.key.hoa, e.coa), None)
        elif isinstance(e, ev.DataWithoutBinding) and e.direction == "from-mn" \
                and e.reason == "unregistered-coa":
            found = moved.get((e.key.peer, e.key.hoa, e.coa))
            if found is not None and e.time >= found[1] + IN_FLIGHT:
                hits.append(_data_hit(e, f"Data for {e.key.hoa} still comes from {e.coa} after its BID "
                                      f"{found[0]} moved to another care-of address; every CoA in use "
                                      "needs its own BID.", None))
    return hits
