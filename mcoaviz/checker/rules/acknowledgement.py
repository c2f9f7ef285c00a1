"""MCOA3xx: Binding Acknowledgement contents, per-BID status, and how the MN reacts to them.

All rules here are history rules: they pair BU and BA through the engine's
``BindingUpdateProcessed`` events (the engine owns pairing) and read both packets.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

from dissector.codepoints import BAStatus, Dialect
from dissector.records import Packet
from mcoaviz.checker.answers import AnswerReader, PerAnswer
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, EventReader, PerKey
from mcoaviz.checker.rules._common import VALID_BID_LENGTHS, answer_packets, bid_list, seq_before
from mcoaviz.checker.spill import FloatLog
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey

NOTCOMPLETE = int(BAStatus.MCOA_NOTCOMPLETE)
RETURNHOME = int(BAStatus.MCOA_RETURNHOME_WO_NDP)
OUT_OF_WINDOW = int(BAStatus.SEQUENCE_OUT_OF_WINDOW)
NOT_HOME_AGENT = int(BAStatus.NOT_HOME_AGENT)
MALFORMED = int(BAStatus.MCOA_MALFORMED)
CONFLICT = int(BAStatus.MCOA_NON_MCOA_BINDING_EXISTS)  # draft: MCOA BID CONFLICT
PROHIBITED = int(BAStatus.MCOA_PROHIBITED)
UNKNOWN_COA = int(BAStatus.MCOA_UNKNOWN_COA)
DRAFT05 = Dialect.DRAFT05.value  # a plain str: an enum's .value is a property call, asked per outcome


def _dialect(p: ev.BindingUpdateProcessed) -> Dialect:
    return Dialect.DRAFT05 if p.dialect == DRAFT05 else Dialect.RFC5648


def _ba_hit(p: ev.BindingUpdateProcessed, ba: Packet, message: str, bid: int | None = None) -> Hit:
    return Hit(message, ba.frame, ba.time, p.key.hoa, bid, _dialect(p))


@PerAnswer
def ack_without_bid(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet, ctx: AnswerReader) -> list[Hit]:
    """What: a BA answering a BU that had the A flag and BID option(s) carries no BID option.
    Why: draft §5.7 "a Binding Acknowledgment MUST carry a Binding Identifier mobility option";
    RFC §5.7 SHOULD / §6.2 MUST. A warning, because the same picture is what a peer without
    MCoA support legitimately sends (I-10).
    Example: BU A-flag + BID 1 -> BA status 0 without options -> warning at the BA.
    """
    if p.ack_requested and p.legacy_receiver:
        return [_ba_hit(p, ba, "BA answers a BU with BID option(s) but carries none; the peer seems not "
                        "to support MCoA.")]
    return []


@PerAnswer
def ack_missing_bid(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet, ctx: AnswerReader) -> list[Hit]:
    """What: a BA that carries BID options but not a copy of every BID option of its BU.
    Why: draft §6.3 "all the Binding Identifier mobility options stored in the Binding Update
    MUST be copied to the Binding Acknowledgment"; RFC §6.2 the same (Status excepted).
    Example: bulk BU with BIDs 1, 2 -> BA with BID 1 only -> finding at the BA.
    """
    ba_bids = {b.bid for b in ba.mobility.bids}  # type: ignore[union-attr]
    if not ba_bids:
        return []
    missing = [b.bid for b in bu.mobility.bids if b.bid not in ba_bids]  # type: ignore[union-attr]
    if missing:
        return [_ba_hit(p, ba, f"BA does not copy the BID option(s) {bid_list(missing)} of "
                        "its Binding Update.", missing[0])]
    return []


@PerAnswer
def notcomplete_without_bid_error(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                                  ctx: AnswerReader) -> list[Hit]:
    """What: a BA with Status MCOA NOTCOMPLETE (4) in which no BID option has a non-zero Status.
    Why: draft §4.3/§6.3: NOTCOMPLETE means per-binding errors are "stored in the status field
    of the binding identifier mobility option"; RFC §4.4, §6.2.
    Example: bulk BU -> BA status 4 with BID options all status 0 -> finding at the BA.
    """
    mh = ba.mobility
    if mh.body.status == NOTCOMPLETE and not any(b.status for b in mh.bids):  # type: ignore[union-attr]
        return [_ba_hit(p, ba, "BA says MCOA NOTCOMPLETE but no BID option carries an error status.")]
    return []


@PerAnswer
def bid_error_without_notcomplete(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                                  ctx: AnswerReader) -> list[Hit]:
    """What: a home agent's BA with a non-zero BID option Status while the BA Status is not MCOA
    NOTCOMPLETE: in RFC 5648 any such BA, in draft-05 a BA to a bulk BU.
    Why: draft §6.3 "If the status value is specific to one of bindings in the bulk registration,
    the status value MUST be stored in the Status field in the corresponding Binding Identifier
    mobility option. In this case, [MCOA NOTCOMPLETE] MUST be set"; RFC §6.2 the same, and
    "Otherwise, the Status field of the Binding Identifier mobility option MUST be set to zero"
    (so a single-BID RFC BA is checked too). The draft lets a single-BID status be stored in
    either field, so single-BID draft BAs are not checked. Accepted everywhere: status 5
    (RETURNHOME, §5.6.3, RFC §6.3, I-18) and a BID Status equal to the BA Status (the status
    "can be stored in" either field, RFC §6.2; stored in both, they agree).
    Example: RFC BU with BID 1 -> BA status 0, BID 1 status 164 -> finding at the BA.
    """
    status = ba.mobility.body.status  # type: ignore[union-attr]
    draft = _dialect(p) is Dialect.DRAFT05
    if p.role != "home-agent" or (draft and not p.bulk) or status == NOTCOMPLETE:
        return []
    odd = [b.bid for b in ba.mobility.bids  # type: ignore[union-attr]
           if b.status not in (0, RETURNHOME, status)]
    if odd:
        return [_ba_hit(p, ba, f"BID option(s) {bid_list(odd)} carry their own status but the "
                        f"BA Status is {status}, not MCOA NOTCOMPLETE (4).", odd[0])]
    return []


@PerAnswer
def correspondent_bid_status(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                             ctx: AnswerReader) -> list[Hit]:
    """What: a correspondent node's BA with a non-zero Status in a BID option.
    Why: draft §6.3 "the status value MUST be always stored in the Status field of the Binding
    Acknowledgment and keep the Status field of Binding Identifier mobility option to zero";
    RFC §6.2 the same.
    Example: BU to a CN -> BA status 164 with BID status 164 -> finding at the BA.
    """
    if p.role != "correspondent":
        return []
    return [_ba_hit(p, ba, f"Correspondent node put status {b.status} in the BID option "
                    f"for BID {b.bid}; it must be 0.", b.bid)
            for b in ba.mobility.bids if b.status]  # type: ignore[union-attr]


@PerAnswer
def malformed_accepted(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                       ctx: AnswerReader) -> list[Hit]:
    """What: a receiver accepted (effective status < 128) a BID option it MUST reject as
    malformed: Length not 4/8/20, or (draft) C set without a care-of address.
    Why: draft §6.3 "the receiver MUST rejects the Binding Update and returns ... [MCOA
    MALFORMED]" (length) and "MUST reject the Binding Identifier mobility option" (C without
    CoA); RFC §6.2 (length). I-0: the state follows the node; the checker flags it.
    Example: BU with BID option Length 6 -> BA status 0 -> finding at the BA.
    """
    bids = bu.mobility.bids  # type: ignore[union-attr]
    bad_length = any(b.length not in VALID_BID_LENGTHS for b in bids)
    if not bad_length and not any(b.coa_flag and b.length == 4 for b in bids):
        return []  # nothing malformed in this BU (the usual case): its outcome does not matter
    accepted = {r.bid for r in p.results if r.accepted}
    if bad_length and (accepted or ba.mobility.body.status < 128):  # type: ignore[union-attr]
        return [_ba_hit(p, ba, "BU with a BID option of invalid Length was accepted instead of "
                        "rejected with MCOA MALFORMED.")]
    return [_ba_hit(p, ba, f"BID {b.bid} had the C flag without a care-of address but "
                    "was accepted instead of rejected with MCOA MALFORMED.", b.bid)
            for b in bids if b.dialect is Dialect.DRAFT05 and b.coa_flag and b.length == 4
            and b.bid in accepted]


class UnknownBidDeregistrationAccepted:
    """What: a de-registration of a BID the receiver did not hold, answered with success.
    Why: draft §6.3 "it MUST reject this de-registration Binding Update"; RFC §6.2 MUST reject
    with 133. (The engine decides "unknown" from its binding cache: action "unknown-bid".)
    Example: BU Lifetime 0 for BID 9 never registered -> BA status 0 -> finding at the BA.
    """

    def __init__(self) -> None:
        self.found: list[Hit] = []

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        if p.ba_frame is None or not p.deregistration:
            return
        for r in p.results:
            if r.action == "unknown-bid" and r.accepted:
                self.found.append(Hit(f"De-registration of unknown BID {r.bid} was accepted; it must "
                                      "be rejected.", p.ba_frame, p.time, p.key.hoa, r.bid, _dialect(p)))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return list(self.found)


unknown_bid_deregistration_accepted = PerKey(UnknownBidDeregistrationAccepted, ev.BindingUpdateProcessed,
                                             name="unknown_bid_deregistration_accepted")


class UnknownBidDeregistrationStatus:
    """What: a rejected de-registration of a BID the receiver did not hold, with a status other
    than 133 (RFC 5648 also allows 167).
    Why: draft §6.3 an HA "SHOULD also return ... [not Home Agent for this mobile node, 133]"
    (a CN has no code: not checked); RFC §6.2 MUST return 133 (any receiver; 167 per §5.7, I-11).
    Whether the BID was held comes from the engine's binding events before the BU.
    Example: BU Lifetime 0 for unknown BID 9 to the HA -> BA status 128 -> finding at the BA.
    """

    def __init__(self) -> None:
        self.rejected: list[ev.BindingUpdateProcessed] = []  # rejected de-registrations (rare)

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        if p.ba_frame is None or not p.deregistration:
            return
        if p.role != "home-agent" and _dialect(p) is Dialect.DRAFT05:
            return
        if any(r.action == "rejected" for r in p.results):  # the bindings held only matter then
            self.rejected.append(p)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for p in self.rejected:
            draft = _dialect(p) is Dialect.DRAFT05
            allowed = {NOT_HOME_AGENT} if draft else {NOT_HOME_AGENT, UNKNOWN_COA}
            held = {k.bid for k, _coa in ctx.held_at(p.bu_time, node=p.key.node, hoa=p.key.hoa)}
            for r in p.results:
                if r.action == "rejected" and r.bid not in held and r.status not in allowed:
                    hits.append(Hit(f"De-registration of unknown BID {r.bid} was rejected with status "
                                    f"{r.status} instead of 133.", p.ba_frame, p.time, p.key.hoa, r.bid,
                                    _dialect(p)))
        return hits


# fed the outcomes; ``held_at`` at the end reads the binding events (still kept)
unknown_bid_deregistration_status = PerKey(UnknownBidDeregistrationStatus, ev.BindingUpdateProcessed,
                                           name="unknown_bid_deregistration_status")


class ConflictNotReported:
    """What: a receiver holding a regular (non-BID) binding for the home address accepted a BU
    with BID options and without the O flag, instead of answering BID CONFLICT / 165.
    Why: draft §6.3 "If the receiver has a regular binding ... In this case, the receiver MUST
    return [MCOA BID CONFLICT]" (error); RFC §6.2 "it must not process the Binding Update. The
    receiver should send ... [MCOA NON-MCOA BINDING EXISTS]" (lowercase: warning). Whether a
    regular binding was held comes from the engine's binding events.
    Example: regular BU + BA 0, then BU with BID 1 (no O) -> BA status 0 -> finding at that BA.
    """

    def __init__(self) -> None:
        # accepted BID BUs without O, as 5 floats each ((node, HoA) number, BA frame, time, BU
        # time, status code) in a log that goes to a temporary file: whether a regular binding
        # covered the BU is known only at the end (a regular binding older than the capture is
        # found at its first refresh, starting at the capture's start, and then covers every
        # earlier BU of that (node, HoA): each is a finding with its own frame, time and
        # status), so every one is kept, but not in memory (40 bytes each on disk)
        self.pairs: dict[tuple[str, str], int] = {}  # (node, HoA) -> its number (O(pairs))
        self.accepted = FloatLog(5, "MCOA315's accepted BUs")

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        if p.ba_frame is None or p.regular or p.overwrite or p.deregistration:
            return
        status = p.ba_status
        if status is None or status >= 128 or status == CONFLICT:
            return
        pairs = self.pairs
        pair = (p.key.node, p.key.hoa)
        number = pairs.get(pair)
        if number is None:
            number = pairs[pair] = len(pairs)
        self.accepted.append(number, p.ba_frame, p.time, p.bu_time, status * 2 + (p.dialect == DRAFT05))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        ever = ctx.regular_pairs
        if not ever:  # no node ever held a regular binding
            return []
        which = {n: pair for pair, n in self.pairs.items() if pair in ever}
        if not which:
            return []
        found: list[tuple[float, Hit]] = []
        for rows in self.accepted.chunks():
            for i in range(0, len(rows), 5):
                pair = which.get(int(rows[i]))
                if pair is None:
                    continue
                node, hoa = pair
                frame, time, bu_time, code = rows[i + 1:i + 5]
                if any(k.bid is None for k, _coa in ctx.held_at(bu_time, node=node, hoa=hoa)):
                    status, draft = divmod(int(code), 2)
                    found.append((frame, Hit(f"BU with BID option(s) and no O flag was accepted (status "
                                             f"{status}) although a regular binding existed; expected BID "
                                             "CONFLICT / 165.", int(frame), time, hoa, None,
                                             Dialect.DRAFT05 if draft else Dialect.RFC5648)))
        found.sort(key=lambda f: f[0])  # BA frame order, as the outcomes came
        return [hit for _frame, hit in found]


# fed the outcomes; ``held_at`` at the end reads the binding events (still kept)
conflict_not_reported = PerKey(ConflictNotReported, ev.BindingUpdateProcessed, name="conflict_not_reported")


class CoaMissingForUnknownBid:
    """What: (RFC 5648) the MN registered a BID without a care-of address (Length 4) that its
    peer did not know: the BA rejected it with MCOA UNKNOWN COA (167).
    Why: RFC §5.1 "the mobile node MUST include the care-of address in the Binding Identifier
    mobility option" when it first registers a BID (only re-registrations may omit it); §6.2
    answers 167. Judged from the peer's 167, because a BID bound before the capture started
    legitimately goes without a CoA (I-6).
    A BID the peer accepted earlier and still holds is not unknown: then the 167 is the peer's
    error (MCOA316), not the MN's.
    Example: RFC BU Lifetime 400 with BID 7 Length 4 -> BA with BID 7 status 167 -> finding at the BU.
    """

    def __init__(self) -> None:
        # (outcome, BU frame, BU time, the 167 BIDs the BU sent without a CoA): rare
        self.refused: list[tuple[ev.BindingUpdateProcessed, int, float, list[int]]] = []

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        if p.ba_frame is None or p.deregistration or _dialect(p) is not Dialect.RFC5648:
            return
        unknown = {r.bid for r in p.results if r.status == UNKNOWN_COA}
        if not unknown:
            return
        answer = answer_packets(p, reader)
        if answer is None:
            return
        bu = answer[0]
        bids = [b.bid for b in bu.mobility.bids if b.bid in unknown and b.coa is None]  # type: ignore[union-attr]
        if bids:
            self.refused.append((p, bu.frame, bu.time, bids))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for p, frame, time, bids in self.refused:
            held = _held_bids(ctx, p)  # a BID the peer still held is its mistake, not the MN's (MCOA316)
            hits += [Hit(f"BID {bid} was registered without a care-of address although the peer "
                         "did not know it (MCOA UNKNOWN COA).", frame, time, p.key.hoa, bid, Dialect.RFC5648)
                     for bid in bids if bid not in held]
        return hits


# fed the outcomes; ``held_at`` at the end reads the binding events (still kept)
coa_missing_for_unknown_bid = PerKey(CoaMissingForUnknownBid, ev.BindingUpdateProcessed,
                                     name="coa_missing_for_unknown_bid")


def _held_bids(ctx: HistoryContext, p: ev.BindingUpdateProcessed) -> set[int]:
    """BIDs the BU's receiver held for the home address when the BU arrived."""
    return {k.bid for k, _coa in ctx.held_at(p.bu_time, node=p.key.node, hoa=p.key.hoa)
            if k.bid is not None}


class KnownBidRejected:
    """What: the receiver answered a registering BU for a BID it had accepted earlier and still
    held with 133 (unknown BID), 167 (MCOA UNKNOWN COA) or 165 (BID CONFLICT / NON-MCOA BINDING
    EXISTS, while it held no regular binding).
    Why: draft §3 / §6.3 and RFC §6.2: a BID present in the binding cache "MUST update the
    associated binding entry" and return 0 (Q86). The engine's binding events say the BID was
    held, so the rejection is the receiver's error, not the mobile node's (MCOA115 stays quiet).
    Other rejections (6275 statuses such as 135) are base-protocol reasons and not checked, nor
    is a BID the engine installed only unconfirmed (draft BID CONFLICT, I-7; no BA seen).
    Example: BU BID 1 CoA c -> BA 0; BU BID 1 Length 4 -> BA with BID 1 status 167 -> finding at the BA.
    """

    def __init__(self) -> None:
        self.refused: list[tuple[ev.BindingUpdateProcessed, int, float]] = []  # (outcome, BA frame, time)
        # the start times (processing order) of the keys that had a start not confirmed, from
        # their first such start on, with a bit per start (1: confirmed). A key with no
        # unconfirmed start needs nothing: ``hits`` asks only about a key held at the BU's
        # time, which had a start at or before it (its interval's), and all its starts were
        # confirmed; starts before a key's first unconfirmed one read the same way (O(keys with
        # an unconfirmed start), not a float per start of every key)
        self.starts: dict[BindingKey, tuple[array[float], list[bool]]] = {}

    def observe(self, p: ev.BindingUpdateProcessed | ev.BindingStarted, reader: EventReader) -> None:
        if isinstance(p, ev.BindingStarted):
            found = self.starts.get(p.key)
            if found is not None:
                found[0].append(p.time)
                found[1].append(p.confirmed)
            elif not p.confirmed:
                self.starts[p.key] = (array("d", (p.time,)), [False])
            return
        if p.ba_frame is None or p.deregistration:
            return
        if not any(r.bid is not None and r.status in (NOT_HOME_AGENT, CONFLICT, UNKNOWN_COA)
                   for r in p.results):
            return
        answer = answer_packets(p, reader)
        if answer is not None:
            self.refused.append((p, answer[1].frame, answer[1].time))

    def _last_start_confirmed(self, key: BindingKey, t: float) -> bool:
        """Whether the key's latest start (processing order) at or before ``t`` was confirmed;
        asked only of a key held at ``t`` (so one of its starts is at or before ``t``)."""
        found = self.starts.get(key)
        if found is None:
            return True  # every start of the key was confirmed
        times, confirmed = found
        for i in range(len(times) - 1, -1, -1):
            if times[i] <= t:
                return confirmed[i]
        return True  # a start before its first unconfirmed one: confirmed

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for p, frame, time in self.refused:
            odd = [r for r in p.results
                   if r.bid is not None and r.status in (NOT_HOME_AGENT, CONFLICT, UNKNOWN_COA)]
            held = ctx.held_at(p.bu_time, node=p.key.node, hoa=p.key.hoa)
            if any(k.bid is None for k, _coa in held):  # a regular binding: 165 is the right answer
                odd = [r for r in odd if r.status != CONFLICT]
            bids = {k.bid for k, _coa in held if self._last_start_confirmed(k, p.bu_time)}
            for r in odd:
                if r.bid in bids:
                    hits.append(Hit(f"BID {r.bid} was accepted earlier and is still bound, yet the BU "
                                    f"refreshing it was answered {r.status} instead of updating it.",
                                    frame, time, p.key.hoa, r.bid, _dialect(p)))
        return hits


# fed the outcomes; ``held_at`` and the binding starts at the end read the binding events (kept)
# fed the outcomes and the starts; ``held_at`` reads the folded intervals
known_bid_rejected = PerKey(KnownBidRejected, ev.BindingUpdateProcessed, ev.BindingStarted,
                            name="known_bid_rejected")


# ----------------------------------------------------------------------- the MN's reactions


def _effective_statuses(p: ev.BindingUpdateProcessed) -> set[int]:
    found = {r.status for r in p.results if r.status is not None}
    if p.ba_status is not None:
        found.add(p.ba_status)
    return found


class _BidBusAfter:
    """MCOA309 / MCOA310: per (HoA, peer), the first BA frame that told the MN to stop using BID
    options (``since``), and every BU with BID options first seen after it (frames of the BA and
    of the BU: the dialect of a hit is decided at the end)."""

    def __init__(self) -> None:
        self.since: dict[tuple[str, str], int] = {}
        self.later: list[tuple[ev.MessageSeen, int]] = []  # (the BU's sighting, the BA's frame)

    def stops(self, p: ev.BindingUpdateProcessed) -> bool:
        raise NotImplementedError

    def observe(self, e: ev.BindingUpdateProcessed | ev.MessageSeen, reader: EventReader) -> None:
        if isinstance(e, ev.MessageSeen):
            if e.kind == "BU" and e.bids:
                frame = self.since.get((e.hoa or "", e.peer or ""))
                if frame is not None and e.frame > frame:
                    self.later.append((e, frame))
        elif e.ba_frame is not None and self.stops(e):
            self.since.setdefault((e.key.hoa, e.key.node), e.ba_frame)


class BidAfterProhibited(_BidBusAfter):
    """What: the MN keeps sending BID options to a peer that answered MCOA PROHIBITED (166).
    Why: draft §5.7 "the mobile node MUST give up registering multiple bindings to the peer ...
    It MUST return to the regular Mobile IPv6"; RFC §5.7.
    Example: BU BID 1 -> BA 166 -> BU BID 2 to the same peer -> finding at the last BU.
    """

    def stops(self, p: ev.BindingUpdateProcessed) -> bool:
        return PROHIBITED in _effective_statuses(p)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [Hit(f"BU with BID option(s) sent after the peer answered MCOA PROHIBITED (frame "
                    f"{frame}).", m.frame, m.time, m.hoa, m.bids[0], ctx.dialect_of(m.frame))
                for m, frame in self.later]


bid_after_prohibited = PerKey(BidAfterProhibited, ev.BindingUpdateProcessed, ev.MessageSeen,
                              name="bid_after_prohibited", seen=BU_SIGHTINGS)


class BidAfterLegacyAck(_BidBusAfter):
    """What: the MN keeps sending BID options to a peer whose BA carried no BID option.
    Why: draft §5.7 "The mobile node SHOULD stop registering multiple care-of addresses by using
    a Binding Identifier mobility option"; RFC §5.7 the same.
    Example: BU BID 1 -> BA without BID -> BU BID 1 again -> warning at the last BU.
    """

    def stops(self, p: ev.BindingUpdateProcessed) -> bool:
        return p.legacy_receiver

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [Hit(f"BU with BID option(s) sent although the peer's BA (frame {frame}) carried no "
                    "BID option.", m.frame, m.time, m.hoa, m.bids[0], ctx.dialect_of(m.frame))
                for m, frame in self.later]


bid_after_legacy_ack = PerKey(BidAfterLegacyAck, ev.BindingUpdateProcessed, ev.MessageSeen,
                              name="bid_after_legacy_ack", seen=BU_SIGHTINGS)


def overwrite_requested(packet: Packet | None) -> bool:
    """O as the dialect places it: in any BID option (draft) or the BU header with P clear (RFC)."""
    if packet is None or packet.mobility is None:
        return False
    body = packet.mobility.body
    header_o = getattr(body, "flags", ()) and "O" in body.flags and "P" not in body.flags  # type: ignore[union-attr]
    return bool(header_o) or any(b.overwrite_flag for b in packet.mobility.bids)


class ConflictNotResolved:
    """What: after BID CONFLICT (draft) / NON-MCOA BINDING EXISTS (RFC, 165), the MN's next BU
    with BID options to that peer does not set the O flag.
    Why: draft §5.7 the MN "SHOULD stop sending Binding Updates with BID, or SHOULD use O flag";
    RFC §5.7 the MN MUST set O (I-8). Warning in draft-05, error in RFC 5648.
    Example: BU BID 1 -> BA 165 -> BU BID 1 without O -> finding at the last BU.
    """

    def __init__(self) -> None:
        # (HoA, peer) -> the first 165 answer's (BA frame, dialect) until the next BU resolves it
        self.waiting: dict[tuple[str | None, str | None], tuple[int, Dialect]] = {}
        self.judged: set[tuple[str | None, str | None]] = set()  # only the first 165 of a pair counts
        self.found: list[Hit] = []

    def observe(self, e: ev.BindingUpdateProcessed | ev.MessageSeen, reader: EventReader) -> None:
        if isinstance(e, ev.MessageSeen):
            waiting = self.waiting
            if not waiting or e.kind != "BU":
                return
            pair = (e.hoa, e.peer)
            first = waiting.get(pair)
            if first is None or e.frame <= first[0]:
                return
            del waiting[pair]  # the next BU to that peer: judged once
            if e.bids and not overwrite_requested(reader.packet(e.frame)):
                self.found.append(Hit(f"BU with BID option(s) after status 165 (frame {first[0]}) does not "
                                      "set the O flag.", e.frame, e.time, e.hoa, e.bids[0], first[1]))
        elif e.ba_frame is not None and CONFLICT in _effective_statuses(e):
            pair = (e.key.hoa, e.key.node)
            if pair not in self.judged:
                self.judged.add(pair)
                self.waiting[pair] = (e.ba_frame, _dialect(e))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return list(self.found)


conflict_not_resolved = PerKey(ConflictNotResolved, ev.BindingUpdateProcessed, ev.MessageSeen,
                               name="conflict_not_resolved", seen=BU_SIGHTINGS)


Retry = tuple[int, float, str | None, int | None, int, int, Dialect]


class _RetryAfter135:
    """MCOA312 / MCOA313: every BA with status 135 (paired or not) waits, per (HoA, peer), for the
    MN's next BU to that peer; the retry (its facts and the BA's sequence number) is kept."""

    def __init__(self) -> None:
        # (HoA, peer) -> (order, BA frame, BA sequence number) of the 135 answers waiting
        self.waiting: dict[tuple[str | None, str | None], list[tuple[tuple[int, int], int, int]]] = {}
        self.count = 0
        # (order of the 135 answer, the retry's frame, time, HoA, first BID, seq, the BA's seq)
        self.retries: list[tuple[tuple[int, int], int, float, str | None, int | None, int, int]] = []

    def observe(self, e: ev.BindingUpdateProcessed | ev.UnmatchedBA | ev.MessageSeen,
                reader: EventReader) -> None:
        if isinstance(e, ev.MessageSeen):
            if self.waiting and e.kind == "BU":
                self._retry(e)
            return
        if isinstance(e, ev.BindingUpdateProcessed):
            if e.ba_status != OUT_OF_WINDOW:
                return
            frame, order = e.ba_frame, (0, self.count)
        else:
            if e.status != OUT_OF_WINDOW:
                return
            frame, order = e.frame, (1, self.count)  # outcomes first, then unmatched BAs
        ba = reader.packet(frame)
        if ba is None or ba.mobility is None:
            return
        self.count += 1
        pair = (e.key.hoa, e.key.node)
        self.waiting.setdefault(pair, []).append((order, ba.frame, ba.mobility.body.seq))  # type: ignore[union-attr]

    def _retry(self, m: ev.MessageSeen) -> None:
        """The MN's next BU to the peer after one or more 135 answers: each of them is resolved."""
        pair = (m.hoa, m.peer)
        found = self.waiting.get(pair)
        if not found:
            return
        due = [w for w in found if w[1] < m.frame]
        if not due:
            return
        later = [w for w in found if w[1] >= m.frame]
        if later:
            self.waiting[pair] = later
        else:
            del self.waiting[pair]
        if m.seq is None:
            return
        first = m.bids[0] if m.bids else None
        self.retries += [(order, m.frame, m.time, m.hoa, first, m.seq, ba_seq)
                         for order, _frame, ba_seq in due]

    def found(self, ctx: HistoryContext) -> Iterator[Retry]:
        """(frame, time, HoA, first BID, seq of the retry, BA seq, dialect) in the answers' order."""
        for _order, frame, time, hoa, bid, seq, ba_seq in sorted(self.retries, key=lambda r: r[0]):
            yield frame, time, hoa, bid, seq, ba_seq, ctx.dialect_of(frame)


class StaleSequenceAfter135(_RetryAfter135):
    """What: after a BA with status 135 (sequence number out of window), the MN's next BU to
    that peer uses a sequence number older than the BA's (draft) / not newer than it (RFC).
    Why: draft §5.10 "it MUST retry sending a Binding Update with the last accepted sequence
    number which is notified by the Binding Acknowledgment"; 6275 §11.7.3 (the next BU must be
    newer). I-19/I-20: only a warning, never an error.
    Example: BU seq 5 -> BA 135 seq 40 -> BU seq 6 -> warning at the last BU.
    """

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for frame, time, hoa, bid, seq, ba_seq, dialect in self.found(ctx):
            stale = seq_before(seq, ba_seq) if dialect is Dialect.DRAFT05 else not seq_before(ba_seq, seq)
            if stale:
                hits.append(Hit(f"BU after status 135 uses sequence number {seq}, not newer than the "
                                f"BA's {ba_seq}.", frame, time, hoa, bid, dialect))
        return hits


stale_sequence_after_135 = PerKey(StaleSequenceAfter135, ev.BindingUpdateProcessed, ev.UnmatchedBA,
                                  ev.MessageSeen, name="stale_sequence_after_135", seen=BU_SIGHTINGS)


class LiteralRetryAfter135(_RetryAfter135):
    """What: (draft-05) after status 135, the MN retries with exactly the BA's sequence number.
    Why: that is what draft §5.10 literally asks, but 6275 §9.5.1 rejects it again (D19); I-20
    says to note it, not to flag it.
    Example: BU seq 5 -> BA 135 seq 40 -> BU seq 40 -> info at the last BU.
    """

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [Hit(f"BU after status 135 reuses the BA's sequence number {ba_seq} (draft §5.10 "
                    "literal retry; 6275 would reject it).", frame, time, hoa, bid, dialect)
                for frame, time, hoa, bid, seq, ba_seq, dialect in self.found(ctx)
                if dialect is Dialect.DRAFT05 and seq == ba_seq]


literal_retry_after_135 = PerKey(LiteralRetryAfter135, ev.BindingUpdateProcessed, ev.UnmatchedBA,
                                 ev.MessageSeen, name="literal_retry_after_135", seen=BU_SIGHTINGS)


class BootstrapWithoutOverwrite:
    """What: the first BU with BID options a home address sends to its home agent in the capture
    registers bindings without the O flag.
    Why: draft §5.10 "it SHOULD set O flag in the Binding Identifier mobility option"; RFC §5.9
    MUST set O. Whether a BU is really a bootstrap cannot be proven from a capture (Q55), so
    this stays a warning in both dialects and is skipped when the engine saw pre-existing
    bindings for the home address.
    Example: capture starts with BU H, BID 1 (no O), Lifetime 400 -> warning at the BU.
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()  # home addresses whose first BU went by
        self.pre_existing: set[str] = set()  # home addresses with a binding older than the capture
        self.first: list[ev.MessageSeen] = []  # first BUs without O (few: one per home address)

    def observe(self, m: ev.MessageSeen | ev.BindingStarted, reader: EventReader) -> None:
        if isinstance(m, ev.BindingStarted):
            if m.pre_existing:
                self.pre_existing.add(m.key.hoa)
            return
        if m.kind != "BU" or m.hoa is None or m.hoa in self.seen:
            return
        self.seen.add(m.hoa)
        packet = reader.packet(m.frame)
        body = packet.mobility.body if packet is not None and packet.mobility else None
        if m.role != "home-agent" or not m.bids or getattr(body, "lifetime", 0) == 0:
            return
        if not overwrite_requested(packet):
            self.first.append(m)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        # a pre-existing binding found later in the capture still excuses the first BU
        return [Hit("First multiple-CoA registration of this home address does not set the "
                    "O flag.", m.frame, m.time, m.hoa, m.bids[0], ctx.dialect_of(m.frame))
                for m in self.first if m.hoa not in self.pre_existing]


bootstrap_without_overwrite = PerKey(BootstrapWithoutOverwrite, ev.MessageSeen, ev.BindingStarted,
                                     name="bootstrap_without_overwrite", seen=BU_SIGHTINGS)

