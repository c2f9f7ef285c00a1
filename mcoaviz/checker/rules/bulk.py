"""MCOA2xx: bulk registration (several BID options in one Binding Update)."""

from __future__ import annotations

from dissector.codepoints import BAStatus
from mcoaviz.checker.answers import AnswerReader, PerOutcome
from mcoaviz.checker.context import HistoryContext, PacketContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, EventReader, PerKey
from mcoaviz.checker.rules._common import home_registration, is_draft, packet_hit
from mcoaviz.engine import events as ev

# draft MCOA BULK REGISTRATION NOT SUPPORTED / RFC BULK REGISTRATION PROHIBITED
BULK_REFUSED = int(BAStatus.MCOA_BULK_REGISTRATION_PROHIBITED)


def bulk_to_correspondent(ctx: PacketContext) -> list[Hit]:
    """What: a BU to a correspondent node (no H header flag) carrying more than one BID option.
    Why: draft §2 "A mobile node MUST NOT perform bulk registration with correspondent nodes"
    (also §5.4); RFC §2 and §5.3 (home registration only).
    Example: BU without H, BID options 1 and 2 -> finding at the BU.
    """
    bu = ctx.bu
    if bu is None or home_registration(bu) or len(ctx.message.bids) < 2:  # type: ignore[union-attr]
        return []
    bids = ctx.message.bids  # type: ignore[union-attr]
    return [packet_hit(ctx, f"Bulk registration ({len(bids)} BID options) sent to a correspondent "
                       "node.", bids[0])]


def _draft_bulk(ctx: PacketContext):  # noqa: ANN202 - tuple of BindingIdentifier
    bu = ctx.bu
    if bu is None:
        return ()
    bids = ctx.message.bids  # type: ignore[union-attr]
    if len(bids) < 2 or not all(is_draft(b) for b in bids):
        return ()
    return bids


def mixed_coa_flags(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a bulk BU in which some BID options have the C flag and others do not.
    Why: draft §5.7 "if the C flag is set, all mobility options MUST have C flag" (I-24: a
    finding against the mobile node; an HA that accepts it is not flagged).
    Example: draft bulk BU, BID 1 with C, BID 2 without -> finding at the BU.
    """
    bids = _draft_bulk(ctx)
    with_c = [b.bid for b in bids if b.coa_flag]
    if not with_c or len(with_c) == len(bids):
        return []
    return [packet_hit(ctx, f"Bulk BU mixes BID options with the C flag ({', '.join(map(str, with_c))}) "
                       "and without it.", bids[0])]


def mixed_overwrite_flags(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a bulk BU in which some BID options have the O flag and others do not.
    Why: draft §5.7 "It is same for O flag" (all options MUST agree).
    Example: draft bulk BU, BID 1 with C+O, BID 2 with C only -> finding at the BU.
    """
    bids = _draft_bulk(ctx)
    with_o = [b.bid for b in bids if b.overwrite_flag]
    if not with_o or len(with_o) == len(bids):
        return []
    return [packet_hit(ctx, f"Bulk BU mixes BID options with the O flag ({', '.join(map(str, with_o))}) "
                       "and without it.", bids[0])]


def bulk_without_coa(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a bulk registration to the home agent (BU H flag, Lifetime > 0) in which no
    BID option has the C flag.
    Why: draft §4.2.1 "This flag MUST be used whenever a mobile node sends multiple care-of
    addresses in a single Binding Update" and §5.4 (Figure 3). A bulk BU to a correspondent node
    is MCOA201 (C is not valid there at all).
    Example: draft bulk BU H, Lifetime 400, BID options without C -> finding at the BU.
    """
    bids = _draft_bulk(ctx)
    bu = ctx.bu
    if not bids or bu is None or not home_registration(bu) or bu.lifetime == 0:
        return []
    if any(b.coa_flag for b in bids):
        return []
    return [packet_hit(ctx, "Bulk registration whose BID options carry no care-of address "
                       "(C flag clear).", bids[0])]


def coa_in_bulk_deregistration(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a bulk de-registration (Lifetime 0) whose BID options carry CoA fields.
    Why: draft §5.5 "the care-of addresses field of each mobility option SHOULD be omitted";
    RFC §5.4 only says they "can be omitted", so RFC captures are not checked.
    Example: draft BU Lifetime 0 with BIDs 1 and 2, each Length 20 -> warning at the BU.
    """
    bids = _draft_bulk(ctx)
    if not bids or ctx.bu.lifetime != 0:  # type: ignore[union-attr]
        return []
    with_coa = [b for b in bids if b.coa is not None]
    if not with_coa:
        return []
    return [packet_hit(ctx, "Bulk de-registration carries care-of addresses in "
                       f"{len(with_coa)} BID option(s).", with_coa[0])]


class BulkSequenceBelowBinding:
    """What: a bulk BU whose sequence number is older than the last one the MN used for one of
    the bulked BIDs towards the same peer.
    Why: draft §5.4 "a mobile node MUST use the largest sequence number from the binding update
    list used for the bulk registration". I-19: never an error on draft sequence numbers.
    RFC §4.1 uses one counter per peer, so every BU must be newer anyway.
    Example: BU seq 10 for BID 1, then bulk BU seq 7 for BIDs 1+2 -> warning at the bulk BU.
    """

    def __init__(self) -> None:
        self.last: dict[tuple[str | None, str | None], dict[int, int]] = {}  # (HoA, peer) -> BID -> seq
        self.found: list[tuple[ev.MessageSeen, int, int]] = []  # (bulk BU, BID, its last seq)

    def observe(self, m: ev.MessageSeen, reader: EventReader) -> None:
        seq = m.seq  # fed BU sightings only (``seen=``)
        if seq is None:
            return
        pair = (m.hoa, m.peer)
        mine = self.last.get(pair)
        if mine is None:
            mine = self.last[pair] = {}
        bids = m.bids
        # seq_before inlined (asked per BID of every BU): a is older than b when
        # 0 < (b - a) % 65536 < 32768
        if len(bids) > 1 and mine:
            for b in bids:  # the first bulked BID whose last sequence number is newer
                prev = mine.get(b)
                if prev is not None and 0 < (prev - seq) % 65536 < 32768:
                    self.found.append((m, b, prev))
                    break
        for b in bids:
            prev = mine.get(b)
            if prev is None or 0 < (seq - prev) % 65536 < 32768:
                mine[b] = seq

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [Hit(f"Bulk BU uses sequence number {m.seq}, older than the last one used for BID {bid} "
                    f"({last}).", m.frame, m.time, m.hoa, bid, ctx.dialect_of(m.frame))
                for m, bid, last in self.found]


bulk_sequence_below_binding = PerKey(BulkSequenceBelowBinding, ev.MessageSeen,
                                     name="bulk_sequence_below_binding", seen=BU_SIGHTINGS)


def _refused(p: ev.BindingUpdateProcessed, status: int) -> bool:
    return p.ba_status == status or any(r.status == status for r in p.results)


class BulkAfterRefusal:
    """What: the MN keeps sending bulk BUs to a peer that answered BULK REGISTRATION NOT
    SUPPORTED / PROHIBITED (168).
    Why: draft §5.7 "the mobile node SHOULD stop using bulk registration to the peer"; RFC §5.7.
    Example: bulk BU -> BA 168 -> another bulk BU to the same peer -> warning at the last BU.
    """

    def __init__(self) -> None:
        self.refused_at: dict[tuple[str, str], int] = {}  # (HoA, peer) -> the first 168's BA frame
        self.later: list[tuple[ev.MessageSeen, int]] = []  # (bulk BU after it, that BA frame)

    def observe(self, e: ev.BindingUpdateProcessed | ev.MessageSeen, reader: EventReader) -> None:
        if isinstance(e, ev.MessageSeen):
            if self.refused_at and e.kind == "BU" and len(e.bids) > 1:
                since = self.refused_at.get((e.hoa or "", e.peer or ""))
                if since is not None and e.frame > since:
                    self.later.append((e, since))
        elif e.ba_frame is not None and _refused(e, BULK_REFUSED):
            self.refused_at.setdefault((e.key.hoa, e.key.node), e.ba_frame)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [Hit(f"Bulk BU sent after the peer refused bulk registration (BA frame {since}).",
                    m.frame, m.time, m.hoa, m.bids[0], ctx.dialect_of(m.frame))
                for m, since in self.later]


bulk_after_refusal = PerKey(BulkAfterRefusal, ev.BindingUpdateProcessed, ev.MessageSeen,
                            name="bulk_after_refusal", seen=BU_SIGHTINGS)


@PerOutcome
def correspondent_accepted_bulk(p: ev.BindingUpdateProcessed, ctx: AnswerReader) -> list[Hit]:
    """What: a correspondent node accepted (effective status < 128) a bulk registration.
    Why: draft §6.3 "Only a home agent can accept the bulk registration. Otherwise, it MUST
    reject the Binding Update"; RFC §6.2 a CN MUST reject it with 168.
    Example: bulk BU to a CN answered by BA status 0 -> finding at the BA.
    """
    if p.role == "correspondent" and p.bulk and p.ba_frame is not None and \
            any(r.accepted for r in p.results):
        return [Hit("Correspondent node accepted a bulk registration instead of rejecting it.",
                    p.ba_frame, p.time, p.key.hoa, None, ctx.dialect_of(p.bu_frame))]
    return []


@PerOutcome
def bulk_refused_with_wrong_status(p: ev.BindingUpdateProcessed, ctx: AnswerReader) -> list[Hit]:
    """What: a correspondent node rejected a bulk registration with a status other than MCOA BULK
    REGISTRATION NOT SUPPORTED / PROHIBITED (168).
    Why: draft §6.3 "it MUST reject the Binding Update and returns the status value set to [MCOA
    BULK REGISTRATION NOT SUPPORT]"; RFC §6.2 a CN MUST reject it with 168. The MN's §5.7
    reaction (stop bulk) depends on that code.
    Example: bulk BU to a CN -> BA status 129 -> finding at the BA.
    """
    if p.role == "correspondent" and p.bulk and p.ba_frame is not None and p.ba_status is not None \
            and p.ba_status >= 128 and p.ba_status != BULK_REFUSED:
        return [Hit(f"Correspondent node refused a bulk registration with status {p.ba_status} "
                    "instead of 168.", p.ba_frame, p.time, p.key.hoa, None, ctx.dialect_of(p.bu_frame))]
    return []
