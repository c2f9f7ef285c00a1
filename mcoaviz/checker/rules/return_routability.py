"""MCOA5xx: return routability (CoTI/CoT with BID, draft §5.2/§6.2) and Binding Refresh Request.

The CoTI/CoT procedure exists only in draft-05; RFC 5648 lists the carriers but defines no
procedure, so MCOA501-505 apply to draft-05 captures only.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from dissector.codepoints import Dialect
from mcoaviz.checker.context import HistoryContext, PacketContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, EventReader, PerKey
from mcoaviz.checker.rules._common import bid_list, is_draft, packet_hit
from mcoaviz.engine import events as ev

MALFORMED = 164


def _draft(ctx: HistoryContext, frame: int | None) -> bool:
    return ctx.dialect_of(frame) is Dialect.DRAFT05


class CotiWithoutBid:
    """What: (draft-05) a CoTI without a BID option sent from a care-of address that the mobile
    node has registered under a BID at its home agent.
    Why: draft §5.2 "If the Mobile Node manages bindings with BID, it MUST include a Binding
    Identifier mobility option in a Care-of Test Init message". A CoTI carries no home address,
    so the MN is recognised by the engine's bindings for that CoA.
    Example: BID 1 bound to CoA c at the HA, then CoTI from c without BID -> finding at the CoTI.
    """

    def __init__(self) -> None:
        # CoTIs without a BID option: (frame, time, CoA); whether a BID binding held the CoA then
        # is read from the binding history at the end (the dialect of the frame too)
        self.plain: list[tuple[int, float, str]] = []

    def observe(self, c: ev.CareOfTestSeen, reader: EventReader) -> None:
        if c.kind == "CoTI" and not c.bids:
            self.plain.append((c.frame, c.time, c.key.coa))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for frame, time, coa in self.plain:
            if not _draft(ctx, frame):
                continue
            held = [k for k, _coa in ctx.held_at(time, coa=coa) if k.bid is not None]
            if held:
                hits.append(Hit(f"CoTI from {coa}, which is registered under BID {held[0].bid}, carries "
                                "no BID option.", frame, time, held[0].hoa, held[0].bid, Dialect.DRAFT05))
        return hits


coti_without_bid = PerKey(CotiWithoutBid, ev.CareOfTestSeen, name="coti_without_bid")


def coti_flags_set(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a CoTI whose BID option has any of the C, O, H, D flags set.
    Why: draft §5.2 "It MUST NOT set the any flags in the mobility option" (I-25).
    Example: draft CoTI with BID flags C -> finding at the CoTI.
    """
    mh = ctx.message
    if mh is None or mh.type_name != "CoTI":
        return []
    return [packet_hit(ctx, f"CoTI BID option for BID {b.bid} sets flag(s) {''.join(b.flags)}.", b)
            for b in mh.bids if is_draft(b) and b.flags]


class _AnsweredTests:
    """MCOA503 / MCOA504: the CoTIs not answered yet (by frame; the engine pairs a CoTI with one
    CoT), each judged against the CoT that answers it; the dialect of the CoTI's frame is
    decided at the end."""

    def __init__(self) -> None:
        self.cotis: dict[int, ev.CareOfTestSeen] = {}
        self.found: list[tuple[int, Hit]] = []  # (the CoTI's frame, the hit)

    def judge(self, cot: ev.CareOfTestSeen, coti: ev.CareOfTestSeen) -> list[Hit]:
        raise NotImplementedError

    def observe(self, e: ev.CareOfTestSeen, reader: EventReader) -> None:
        if e.kind == "CoTI":
            self.cotis[e.frame] = e
        elif e.kind == "CoT" and e.answers is not None:
            coti = self.cotis.pop(e.answers, None)
            if coti is not None:
                self.found.extend((coti.frame, hit) for hit in self.judge(e, coti))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [hit for frame, hit in self.found if _draft(ctx, frame)]


class CotDoesNotEchoBid(_AnsweredTests):
    """What: (draft-05) a CoT that carries BID options (so the CN supports MCoA) but none for a
    BID of the CoTI it answers.
    Why: draft §6.2: the CN "MUST include a Binding Identifier mobility option" in the CoT and
    the options "SHOULD be copied from the received one".
    Example: CoTI BID 1 -> CoT with BID 2 only -> finding at the CoT.
    """

    def judge(self, cot: ev.CareOfTestSeen, coti: ev.CareOfTestSeen) -> list[Hit]:
        if not cot.bids or not coti.bids:
            return []
        missing = sorted({b for b, _s, _f in coti.bids} - {b for b, _s, _f in cot.bids})
        if not missing:
            return []
        return [Hit(f"CoT does not return BID option(s) {bid_list(missing)} of the CoTI "
                    f"(frame {coti.frame}).", cot.frame, cot.time, None, missing[0], Dialect.DRAFT05)]


cot_does_not_echo_bid = PerKey(CotDoesNotEchoBid, ev.CareOfTestSeen, name="cot_does_not_echo_bid")


class CotWrongStatus(_AnsweredTests):
    """What: (draft-05) a CoT whose BID Status is not MCOA MALFORMED although the CoTI set C or O,
    or not 0 although it set neither.
    Why: draft §6.2 "If either or both C and O flag is set ... MUST include a Binding Identifier
    mobility option which status value set to [MCOA MALFORMED]"; "Otherwise ... status value
    MUST be set to zero". I-25: only C/O matter for the CN.
    Example: CoTI BID 1 flags C -> CoT BID 1 status 0 -> finding at the CoT.
    """

    def judge(self, cot: ev.CareOfTestSeen, coti: ev.CareOfTestSeen) -> list[Hit]:
        sent = {b: flags for b, _s, flags in coti.bids}
        hits = []
        for bid, status, _flags in cot.bids:
            if bid not in sent:
                continue
            want = MALFORMED if {"C", "O"} & set(sent[bid]) else 0
            if status != want:
                hits.append(Hit(f"CoT returns BID {bid} with status {status}; expected {want} for CoTI "
                                f"flags {''.join(sent[bid]) or 'none'}.", cot.frame, cot.time, None, bid,
                                Dialect.DRAFT05))
        return hits


cot_wrong_status = PerKey(CotWrongStatus, ev.CareOfTestSeen, name="cot_wrong_status")


class BidAfterCotWithoutBid:
    """What: (draft-05) the MN sends a BU with BID options to a correspondent node whose CoT,
    answering a CoTI with a BID option, carried none, from any of its care-of addresses.
    Why: draft §5.2 "the correspondent node does not support the Multiple Care-of Address
    registration. Thus, the mobile node MUST NOT use a Binding Identifier mobility option in the
    future Binding Update": the MUST is per correspondent node, so a BU from another CoA counts.
    The CoT names only a CoA; the MN behind it is the home address of the BUs sent from that CoA
    (else the CoA itself).
    Example: CoTI BID 1 from c1 -> CoT without BID -> BU BID 2 from c2 to that CN -> finding at the BU.
    """

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}  # CoA -> the HoA of the first BU sent from it
        # frames of CoTIs with BID options not answered yet (the engine pairs a CoTI with one CoT)
        self.cotis: set[int] = set()
        # CoTs without BID answering a CoTI with BID: (CoA, CN, CoT frame, CoTI frame)
        self.legacy: list[tuple[str, str, int, int]] = []
        self.legacy_peers: set[str] = set()
        # BUs with BID options to a CN that had sent such a CoT: (frame, time, HoA, source, CN, BID)
        self.later: list[tuple[int, float, str | None, str | None, str, int]] = []

    def observe(self, e: Any, reader: EventReader) -> None:
        if e.__class__ is ev.CareOfTestSeen:
            if e.kind == "CoTI":
                if e.bids:
                    self.cotis.add(e.frame)
            elif e.kind == "CoT" and e.answers is not None and e.answers in self.cotis:
                self.cotis.discard(e.answers)
                if not e.bids:
                    self.legacy.append((e.key.coa, e.key.peer, e.frame, e.answers))
                    self.legacy_peers.add(e.key.peer)
            return
        if e.kind != "BU":
            return
        if e.src and e.hoa and e.src != e.hoa and e.src not in self.owners:
            self.owners[sys.intern(e.src)] = e.hoa  # interned: shared with the folds' copy
        if e.bids and e.peer is not None and e.peer in self.legacy_peers:
            self.later.append((e.frame, e.time, e.hoa, e.src, e.peer, e.bids[0]))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        legacy: dict[tuple[str, str], int] = {}  # (HoA or CoA, CN) -> frame of the first legacy CoT
        for coa, peer, frame, coti in self.legacy:
            if _draft(ctx, coti):
                legacy.setdefault((self.owners.get(coa, coa), peer), frame)
        hits = []
        for frame, time, hoa, src, peer, bid in self.later:
            since = min((f for f in (legacy.get((hoa or "", peer)), legacy.get((src or "", peer)))
                         if f is not None), default=None)
            if since is not None and frame > since:
                hits.append(Hit(f"BU with BID option(s) sent to a correspondent node whose CoT (frame "
                                f"{since}) had no BID option.", frame, time, hoa, bid, Dialect.DRAFT05))
        return hits


bid_after_cot_without_bid = PerKey(BidAfterCotWithoutBid, ev.CareOfTestSeen, ev.MessageSeen,
                                   name="bid_after_cot_without_bid", seen=BU_SIGHTINGS)


class _BrrAnswers:
    """MCOA506 / MCOA507: per (HoA, peer), the BRRs with BID options still waiting for the next
    BU (first sighting) from the HoA to that peer; each is judged against that BU when it comes."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str | None, str | None], list[ev.BrrSeen]] = {}
        self.found: list[tuple[int, Hit]] = []  # (the BRR's frame, the hit): dialects at the end

    def judge(self, brr: ev.BrrSeen, nxt: ev.MessageSeen) -> Hit | None:
        raise NotImplementedError

    def observe(self, e: Any, reader: EventReader) -> None:
        if e.__class__ is ev.BrrSeen:
            if e.bids:
                self.waiting.setdefault((e.key.hoa, e.key.peer), []).append(e)
            return
        if e.kind != "BU" or not self.waiting:
            return
        brrs = self.waiting.get((e.hoa, e.peer))
        if not brrs:
            return
        # the BRRs before this BU are answered by it (a BU sighting comes after the BRRs before it)
        answered = [brr for brr in brrs if brr.frame < e.frame]
        rest = [brr for brr in brrs if brr.frame >= e.frame]
        if rest:
            self.waiting[(e.hoa, e.peer)] = rest
        else:
            del self.waiting[(e.hoa, e.peer)]
        for brr in answered:
            hit = self.judge(brr, e)
            if hit is not None:
                self.found.append((brr.frame, hit))


class BrrAnswerLacksBid(_BrrAnswers):
    """What: the BU that answers a Binding Refresh Request with BID option(s) does not carry all
    of those BIDs.
    Why: draft §5.8 "The mobile node MUST put a Binding Identifier mobility option into the
    Binding Update sent to refresh the entry" (error); RFC §5.8 SHOULD send a BU "at least" for
    that binding (warning).
    Example: BRR BID 2 -> next BU to that node carries BID 1 only -> finding at the BU.
    """

    def judge(self, brr: ev.BrrSeen, nxt: ev.MessageSeen) -> Hit | None:
        missing = [b for b in brr.bids if b not in nxt.bids]
        if not missing:
            return None
        return Hit(f"BU answering the BRR of frame {brr.frame} lacks BID(s) {bid_list(missing)}.",
                   nxt.frame, nxt.time, nxt.hoa, missing[0])

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [dataclasses.replace(hit, dialect=ctx.dialect_of(frame)) for frame, hit in self.found]


brr_answer_lacks_bid = PerKey(BrrAnswerLacksBid, ev.BrrSeen, ev.MessageSeen, name="brr_answer_lacks_bid",
                              seen=BU_SIGHTINGS)


class BrrAnswerExtraBids(_BrrAnswers):
    """What: (draft-05) the BU answering a BRR with BID option(s) also refreshes other BIDs.
    Why: draft §5.8 "The mobile node SHOULD update only the respective binding"; RFC §5.8 asks
    for "at least" that binding, so RFC captures are not checked (I-21).
    Example: BRR BID 2 -> BU with BIDs 1 and 2 -> warning at the BU.
    """

    def judge(self, brr: ev.BrrSeen, nxt: ev.MessageSeen) -> Hit | None:
        extra = [b for b in nxt.bids if b not in brr.bids]
        if not extra or not all(b in nxt.bids for b in brr.bids):
            return None
        return Hit(f"BU answering the BRR of frame {brr.frame} also refreshes BID(s) "
                   f"{bid_list(extra)}.", nxt.frame, nxt.time, nxt.hoa, extra[0], Dialect.DRAFT05)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [hit for frame, hit in self.found if _draft(ctx, frame)]


brr_answer_extra_bids = PerKey(BrrAnswerExtraBids, ev.BrrSeen, ev.MessageSeen, name="brr_answer_extra_bids",
                               seen=BU_SIGHTINGS)


class BrrWithoutBid:
    """What: a Binding Refresh Request without a BID option from a node that holds BID bindings
    for that home address.
    Why: draft §6.4 "the node SHOULD contain a Binding Identifier mobility option in the Binding
    Refresh Request"; RFC §6.4 the same.
    Example: HA holds (HoA, BID 1); BRR from the HA without options -> warning at the BRR.
    """

    def __init__(self) -> None:
        # BRRs without a BID option: (frame, time, sender, HoA); whether the sender held BID
        # bindings for the HoA then is read from the binding history at the end
        self.plain: list[tuple[int, float, str, str]] = []

    def observe(self, brr: ev.BrrSeen, reader: EventReader) -> None:
        if not brr.bids:
            self.plain.append((brr.frame, brr.time, brr.key.peer, brr.key.hoa))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for frame, time, peer, hoa in self.plain:
            held = [k for k, _coa in ctx.held_at(time, node=peer, hoa=hoa) if k.bid is not None]
            if held:
                hits.append(Hit("Binding Refresh Request for a binding registered with a BID carries no BID "
                                "option.", frame, time, hoa, held[0].bid, ctx.dialect_of(frame)))
        return hits


brr_without_bid = PerKey(BrrWithoutBid, ev.BrrSeen, name="brr_without_bid")
