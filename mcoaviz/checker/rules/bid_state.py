"""MCOA317-324: what the receiver did with a BID versus what it held, and how the MN uses its
care-of addresses afterwards (RFC 5648 §5.1, §5.4, §5.7, §6.2, §6.3; draft §3, §5.1, §5.3, §5.5).
(MCOA316, the receiver refusing a BID it holds, sits with the other BA rules in acknowledgement.py.)

History rules. Each replays the engine's events once, keeping a small per-key state, so the
cost is linear in the events (no scan over all bindings per packet).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator

from dissector.codepoints import BAStatus, Dialect
from dissector.records import BindingIdentifier, Packet
from mcoaviz.checker.answers import AnswerReader, PerAnswer
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, EventReader, PerKey, StreamReader
from mcoaviz.checker.rules._common import answer_packets
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


class NoCoaAfterUnknownCoa:
    """What: (RFC 5648) after a BA answered a refreshing BID option with MCOA UNKNOWN COA (167),
    the MN's next BU to that peer carrying the BID again omits the care-of address.
    Why: RFC §5.7 "If the mobile node is trying to refresh a binding, it SHOULD send a Binding
    Identifier mobility option including the Care-of Address field" (a de-registration "need
    not do anything further", so it is not checked).
    Example: BU BID 7 Length 4 -> BA BID 7 status 167 -> BU BID 7 Length 4 again -> warning there.
    """

    def __init__(self) -> None:
        # (HoA, peer) -> (order, BA frame, the 167 BIDs) waiting for the MN's next BU to that peer
        self.waiting: dict[tuple[str | None, str | None], list[tuple[int, int, list[int]]]] = {}
        self.count = 0
        self.found: list[tuple[int, Hit]] = []  # (order of the 167 answer, hit)

    def observe(self, e: ev.BindingUpdateProcessed | ev.MessageSeen, reader: EventReader) -> None:
        if isinstance(e, ev.MessageSeen):
            if self.waiting and e.kind == "BU":
                self._next_bu(e, reader)
            return
        if not _rfc(e) or e.deregistration or e.ba_frame is None:
            return
        unknown = [r.bid for r in e.results if r.status == UNKNOWN_COA and r.bid is not None]
        if not unknown:
            return
        answer = answer_packets(e, reader)
        if answer is not None:
            waiting = self.waiting.setdefault((e.key.hoa, e.key.node), [])
            waiting.append((self.count, answer[1].frame, unknown))
            self.count += 1

    def _next_bu(self, m: ev.MessageSeen, reader: EventReader) -> None:
        pair = (m.hoa, m.peer)
        found = self.waiting.get(pair)
        due = [w for w in found if w[1] < m.frame] if found else None
        if not found or not due:
            return
        later = [w for w in found if w[1] >= m.frame]
        if later:
            self.waiting[pair] = later
        else:
            del self.waiting[pair]
        packet = reader.packet(m.frame)
        if packet is None or getattr(packet.mobility.body, "lifetime", 0) == 0:  # type: ignore[union-attr]
            return
        for order, ba_frame, unknown in due:
            for bid in unknown:
                option = _option(packet, bid)
                if option is not None and option.coa is None:
                    hit = Hit(f"BID {bid} is sent again without its care-of address after MCOA UNKNOWN "
                              f"COA (frame {ba_frame}).", m.frame, m.time, pair[0], bid, Dialect.RFC5648)
                    self.found.append((order, hit))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [hit for _order, hit in sorted(self.found, key=lambda f: f[0])]


no_coa_after_unknown_coa = PerKey(NoCoaAfterUnknownCoa, ev.BindingUpdateProcessed, ev.MessageSeen,
                                  name="no_coa_after_unknown_coa", seen=BU_SIGHTINGS)


class UnknownBidWithoutCoaAccepted:
    """What: (RFC 5648) the receiver accepted a BID option without care-of address (Length 4)
    for a BID whose binding had ended earlier in the capture and that it no longer held.
    Why: RFC §6.2 "When the length value is 4 and the Binding Identifier is present in the
    binding cache, the receiving node MUST update the associated binding entry. Otherwise, the
    receiving node MUST reject that Binding Identifier mobility option and send ... [MCOA
    UNKNOWN]" (167). Only a BID seen deleted in the capture is known to be absent; one never
    seen may predate the capture (I-6). The engine then records the BU's source as the CoA.
    Example: BID 1 registered, de-registered; BU BID 1 Length 4 -> BA status 0 -> finding at the BA.
    """

    def __init__(self) -> None:
        # accepted Length-4 BIDs of RFC registrations: (node, HoA, BU time, BA frame, BA time,
        # BIDs); whether each BID's binding had ended (and was not held) is read at the end
        self.accepted: list[tuple[str, str, float, int, float, tuple[int | None, ...]]] = []
        # when each binding key first ended in the capture (de-registered, expired, replaced...)
        self.first_end: dict[BindingKey, float] = {}

    def observe(self, p: ev.BindingUpdateProcessed | ev.BindingEnded, reader: EventReader) -> None:
        if isinstance(p, ev.BindingEnded):
            self.first_end.setdefault(p.key, p.time)
            return
        if not _rfc(p) or p.deregistration or p.ba_frame is None:
            return
        bu = reader.packet(p.bu_frame)  # the usual BU carries every CoA: decided before the BA is looked at
        if bu is None or bu.mobility is None:
            return
        no_coa = {b.bid for b in bu.mobility.bids if b.coa is None and b.length == 4}
        if not no_coa:
            return
        answer = answer_packets(p, reader)
        if answer is None:
            return
        ba = answer[1]
        bids = tuple(r.bid for r in p.results if r.bid in no_coa and r.accepted)
        if bids:
            self.accepted.append((p.key.node, p.key.hoa, p.bu_time, ba.frame, ba.time, bids))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        if not self.accepted:
            return []
        ends = self.first_end
        if not ends:
            return []
        hits = []
        for node, hoa, bu_time, frame, time, bids in self.accepted:
            for bid in bids:
                ended = ends.get(BindingKey(node, hoa, bid))
                if ended is None or ended > bu_time:
                    continue
                held = {k.bid for k, _c in ctx.held_at(bu_time, node=node, hoa=hoa)}
                if bid not in held:
                    hits.append(Hit(f"BID {bid} without a care-of address was accepted although its binding "
                                    "was deleted earlier; expected MCOA UNKNOWN COA (167).", frame, time,
                                    hoa, bid, Dialect.RFC5648))
        return hits


# fed the outcomes and the binding ends; ``held_at`` at the end reads the folded intervals
unknown_bid_without_coa_accepted = PerKey(UnknownBidWithoutCoaAccepted, ev.BindingUpdateProcessed,
                                          ev.BindingEnded, name="unknown_bid_without_coa_accepted")


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


class SameCoaUnderTwoBids:
    """What: a node holds two BIDs of one home address bound to the same care-of address after
    a BU has been processed (home bindings, CoA = HoA, excepted).
    Why: draft §3 "the mobile node MUST generate a BID for each care-of address" and §5.1 (the
    BID is unique per HoA/CoA pair); RFC §5.1 "A mobile node assigns a BID to each care-of
    address". A warning: the capture shows the receiver's state, which also results when the
    MN moved a CoA to another BID and the BU de-registering the old one was lost.
    Example: BID 1 -> CoA a, then BID 2 -> CoA a (BID 1 still bound) -> warning at the second BA.
    """

    def __init__(self) -> None:
        # (node, HoA, CoA) -> the BIDs bound to it (a tuple: almost always one); binding key ->
        # its CoA. O(bindings held), not O(events)
        self.by_coa: dict[tuple[str, str, str], tuple[int, ...]] = {}
        self.coa_of: dict[BindingKey, str] = {}
        self.pending: list[ev.BindingStarted] = []  # starts sharing a CoA, judged after their BU
        self.found: list[Hit] = []

    def _settled(self) -> list[Hit]:
        """The hits of the pending starts once all events of their BU are in (a CoA moved inside
        one bulk BU is fine); reads the state, changes nothing."""
        hits = []
        for s in self.pending:
            slot = self.by_coa.get((s.key.node, s.key.hoa, s.coa), ())
            if s.key.bid in slot and len(slot) > 1:
                others = sorted(b for b in slot if b != s.key.bid)
                hits.append(Hit(f"Care-of address {s.coa} is bound under BID {s.key.bid} and BID(s) "
                                f"{', '.join(map(str, others))} of {s.key.hoa} at {s.key.node}.", s.frame,
                                s.time, s.key.hoa, s.key.bid, key=s.coa))
        return hits

    def observe(self, e: ev.BindingStarted | ev.BindingEnded, reader: EventReader) -> None:
        pending = self.pending
        if pending and e.frame != pending[0].frame:
            self.found += self._settled()
            pending.clear()
        coa_of, key = self.coa_of, e.key
        if isinstance(e, ev.BindingStarted):
            old = coa_of.pop(key, None)
            if old is not None:
                self._unbind((key.node, key.hoa, old), key.bid)
            if key.bid is None or e.home:
                return
            coa = coa_of[key] = sys.intern(e.coa)  # one copy for the states and the fold
            where = (key.node, key.hoa, coa)
            slot = self.by_coa.get(where, ())
            if key.bid not in slot:
                slot = self.by_coa[where] = (*slot, key.bid)
            if len(slot) > 1:  # judged once the whole BU is processed (``_settled``)
                pending.append(e)
        elif coa_of.get(key) == e.coa:
            del coa_of[key]
            self._unbind((key.node, key.hoa, e.coa), key.bid)

    def _unbind(self, where: tuple[str, str, str], bid: int | None) -> None:
        slot = self.by_coa.get(where)
        if slot is not None and bid in slot:
            rest = tuple(b for b in slot if b != bid)
            if rest:
                self.by_coa[where] = rest
            else:  # a CoA given up: forgotten
                del self.by_coa[where]

    def prune(self, horizon: float, reader: StreamReader) -> None:
        """Nothing to drop (the tables hold the live bindings only); copied so that their hash
        tables stay sized for the live bindings (deletions and insertions would otherwise
        double them once: ~0.5 MiB at 9 000 bindings)."""
        self.by_coa, self.coa_of = dict(self.by_coa), dict(self.coa_of)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return self.found + self._settled()


same_coa_under_two_bids = PerKey(SameCoaUnderTwoBids, ev.BindingStarted, ev.BindingEnded,
                                 name="same_coa_under_two_bids")


Wipe = tuple[ev.BindingUpdateProcessed, int, float]  # (outcome, BA frame, time)


class _UseAfterWipe:
    """MCOA321 / MCOA322: data from the MN through a CoA at a node after a BU that removed all its
    bindings there (a "wipe"), before the MN's next BU to that node. Per (node, HoA), the wipes
    since the MN's last BU; each such data event is kept with them (both rare). Whether a
    candidate wipe really was one may be known only at the end (``wiped``)."""

    def __init__(self) -> None:
        # (node, HoA) -> the candidate wipes since the MN's last BU: (outcome, BA frame, time)
        self.since: dict[tuple[str, str], list[Wipe]] = {}
        # (data event, the candidate wipes then): the latest real wipe among them is the one
        self.data: list[tuple[ev.DataWithoutBinding, tuple[Wipe, ...]]] = []

    def candidate(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> bool:
        raise NotImplementedError

    def wiped(self, p: ev.BindingUpdateProcessed, ctx: HistoryContext) -> bool:
        return True

    def observe(self, e: ev.BindingUpdateProcessed | ev.MessageSeen | ev.DataWithoutBinding,
                reader: EventReader) -> None:
        if isinstance(e, ev.DataWithoutBinding):
            if self.since and e.direction == "from-mn" and e.reason == "no-binding" \
                    and e.via != "route-optimised":
                wipes = self.since.get((e.key.peer, e.key.hoa))
                if wipes:
                    self.data.append((e, tuple(wipes)))
        elif isinstance(e, ev.MessageSeen):
            if self.since and e.kind == "BU" and e.peer and e.hoa:
                self.since.pop((e.peer, e.hoa), None)
        elif e.ba_frame is not None and self.candidate(e, reader):
            self.since.setdefault((e.key.node, e.key.hoa), []).append((e, e.ba_frame, e.time))

    def found(self, ctx: HistoryContext) -> Iterator[tuple[ev.DataWithoutBinding, int]]:
        """(data event, BA frame of the wipe it follows), as the data came."""
        for d, wipes in self.data:
            at = next(((frame, time) for p, frame, time in reversed(wipes) if self.wiped(p, ctx)), None)
            if at is not None and d.time >= at[1] + IN_FLIGHT:
                yield d, at[0]


def _data_hit(d: ev.DataWithoutBinding, message: str, dialect: Dialect | None) -> Hit:
    return Hit(message, d.frame, d.time, d.key.hoa, None, dialect, key=f"{d.coa}:{d.time}",
               episode=f"{d.key.peer}|{d.key.hoa}|{d.coa}|{d.via}")


class UseAfterFullDeregistration(_UseAfterWipe):
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

    def candidate(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> bool:
        return p.regular and p.deregistration and p.ba_status is not None and p.ba_status < 128

    def wiped(self, p: ev.BindingUpdateProcessed, ctx: HistoryContext) -> bool:
        """Only when BID bindings were held before (the binding events, read at the end)."""
        return any(k.bid is not None for k, _c in ctx.held_at(p.bu_time, node=p.key.node, hoa=p.key.hoa))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [_data_hit(d, f"Data for {d.key.hoa} still comes from {d.coa} after the de-registration "
                          f"without BID option (frame {ba}) removed every binding; a selective "
                          "de-registration must carry the BID option(s).", None)
                for d, ba in self.found(ctx)]


# fed outcomes, BU sightings and unbound data; ``held_at`` at the end reads the binding events (kept)
use_after_full_deregistration = PerKey(UseAfterFullDeregistration, ev.BindingUpdateProcessed, ev.MessageSeen,
                                       ev.DataWithoutBinding, name="use_after_full_deregistration",
                                       seen=BU_SIGHTINGS)


class ForeignUseAfterLegacyHomeAck(_UseAfterWipe):
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

    def candidate(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> bool:
        if not _rfc(p) or not p.legacy_receiver or p.ba_status is None or p.ba_status >= 128:
            return False
        bu = reader.packet(p.bu_frame)  # still pending: its outcome is being observed
        return bu is not None and bu.mobility is not None and any(b.home_flag for b in bu.mobility.bids)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [_data_hit(d, f"Data for {d.key.hoa} still comes from foreign care-of address {d.coa} after "
                          f"the home registration was acknowledged without BID option (frame {ba}).",
                          Dialect.RFC5648)
                for d, ba in self.found(ctx)]


foreign_use_after_legacy_home_ack = PerKey(ForeignUseAfterLegacyHomeAck, ev.BindingUpdateProcessed,
                                           ev.MessageSeen, ev.DataWithoutBinding,
                                           name="foreign_use_after_legacy_home_ack", seen=BU_SIGHTINGS)


class SeveralCoasWithoutBids:
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

    def __init__(self) -> None:
        self.regular: dict[tuple[str, str], str] = {}  # (node, HoA) -> CoA of the regular binding
        self.other: dict[tuple[str, str], ev.DataWithoutBinding] = {}  # first data from another CoA
        self.found: list[Hit] = []

    def observe(self, e: object, reader: EventReader) -> None:
        if isinstance(e, ev.BindingStarted):
            if e.key.bid is None:
                self.regular[(e.key.node, e.key.hoa)] = e.coa
        elif isinstance(e, ev.BindingEnded):
            if e.key.bid is None:
                self.regular.pop((e.key.node, e.key.hoa), None)
                self.other.pop((e.key.node, e.key.hoa), None)
        elif isinstance(e, ev.DataWithoutBinding):
            if self.regular and e.direction == "from-mn" and e.reason == "unregistered-coa":
                pair = (e.key.peer, e.key.hoa)
                if pair in self.regular and e.coa != self.regular[pair]:
                    self.other.setdefault(pair, e)
        elif isinstance(e, ev.BindingUpdateProcessed) and self.other and e.regular and not e.deregistration:
            pair = (e.key.node, e.key.hoa)
            seen = self.other.pop(pair, None)
            coa = e.results[0].coa if e.results else None
            if seen is not None and any(r.accepted for r in e.results) and coa == self.regular.get(pair):
                self.found.append(Hit(f"Regular BU keeps {coa} as the only binding of {e.key.hoa} while data "
                                      f"also comes from {seen.coa}; with several care-of addresses in use, "
                                      "all must be registered with BIDs.", e.bu_frame, e.bu_time, e.key.hoa,
                                      None))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return list(self.found)


several_coas_without_bids = PerKey(SeveralCoasWithoutBids, ev.BindingStarted, ev.BindingEnded,
                                   ev.DataWithoutBinding, ev.BindingUpdateProcessed,
                                   name="several_coas_without_bids")


def _pack_move(bid: int, time: float) -> int:
    """(BID, time) as one int: the BID above the time's 64 IEEE bits (exact both ways)."""
    return bid << 64 | _BITS.unpack(_FLOAT.pack(time))[0]


def _unpack_move(packed: int) -> tuple[int, float]:
    return packed >> 64, _FLOAT.unpack(_BITS.pack(packed & 0xFFFFFFFFFFFFFFFF))[0]


_BITS, _FLOAT = struct.Struct("<Q"), struct.Struct("<d")


class UseOfCoaAfterBidMoved:
    """What: after a BU moved a BID from care-of address a to another address (the engine's
    BindingReplaced), data from the mobile node keeps arriving at that node from a, which no
    BID holds any more (from 1 s after the move, until a is registered again).
    Why: draft §3 "the mobile node MUST generate a BID for each care-of address" and §5.1 (Q11,
    §3-a); RFC §5.1 "A mobile node assigns a BID to each care-of address". An MN still using a
    after giving its BID to another CoA uses a CoA without a BID (the receiver discards that
    data: MCOA601/602 report it without saying why). A warning, one finding per episode.
    Example: BID 1 -> CoA a; BU BID 1 -> CoA b; data tunnelled from a -> warning.
    """

    def __init__(self) -> None:
        # (node, HoA, old CoA) -> (BID, time of the move) packed in one int, until the CoA is
        # registered again: O(CoAs moved away from), not O(messages), yet kept to the end (data
        # from such a CoA may come at any later time, and each such run is a finding). The int
        # (~36 bytes) instead of a (BID, float) tuple (~80); the CoA interned: kept long after
        # its bindings, shared with the folds (node and HoA are the engine's interned ones)
        self.moved: dict[tuple[str, str, str], int] = {}
        self.found: list[Hit] = []

    def observe(self, e: ev.BindingReplaced | ev.BindingStarted | ev.DataWithoutBinding,
                reader: EventReader) -> None:
        if isinstance(e, ev.BindingReplaced):
            if e.key.bid is not None:
                self.moved[(e.key.node, e.key.hoa, sys.intern(e.coa))] = _pack_move(e.key.bid, e.time)
        elif isinstance(e, ev.BindingStarted):
            if self.moved:
                self.moved.pop((e.key.node, e.key.hoa, e.coa), None)
        elif self.moved and e.direction == "from-mn" and e.reason == "unregistered-coa":
            packed = self.moved.get((e.key.peer, e.key.hoa, e.coa))
            if packed is not None:
                bid, when = _unpack_move(packed)
                if e.time >= when + IN_FLIGHT:
                    self.found.append(_data_hit(e, f"Data for {e.key.hoa} still comes from {e.coa} after its "
                                                f"BID {bid} moved to another care-of address; every CoA in "
                                                "use needs its own BID.", None))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return list(self.found)


use_of_coa_after_bid_moved = PerKey(UseOfCoaAfterBidMoved, ev.BindingReplaced, ev.BindingStarted,
                                    ev.DataWithoutBinding, name="use_of_coa_after_bid_moved")
