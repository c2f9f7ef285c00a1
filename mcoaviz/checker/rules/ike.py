"""MCOA10xx: IKEv2 and the care-of address (draft §9.1, RFC 5648 §9.1).

Only the IKE header is read (``dissector.ike``): the SPI pair names the IKE SA, the I flag says
whether the original initiator (the mobile node) sent it, the exchange type shows a new
IKE_SA_INIT. An IKE SA belongs to a home address through the home agent it talks to and the
care-of address it is sent from (a binding of that HA). Per IKE SA the rules keep one small
record (current source), so they stay linear in the number of IKE messages, which are rare.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from dissector.ike import IKE_SA_INIT
from dissector.records import BindingUpdate, Packet
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import EventReader, PerKey, StreamReader
from mcoaviz.engine import events as ev

Removed = tuple[float, int, str, str, str, int | None]  # MCOA1002: (time, frame, HA, CoA, HoA, BID)


def mn_side(pkt: Packet) -> tuple[str, str] | None:
    """(the MN's address, the HA's address) of an IKE message the original initiator sent."""
    ike = pkt.ike
    if ike is None or ike.major_version != 2 or not pkt.path.src or not pkt.path.dst:
        return None
    if ike.initiator:
        return pkt.path.src, pkt.path.dst
    return pkt.path.dst, pkt.path.src


class IkeSaFromSeveralCoas:
    """What: messages of one IKE SA (same SPI pair) come from a second care-of address of the
    mobile node without an accepted K-flag BU that moved the SA to that address.
    Why: draft §9.1 "the mobile node must pick one care-of address and use that as the source
    address for all IKEv2 messages" and moves it with "a Binding Update with the care-of address
    it wants to use ... and with the 'K' bit set"; RFC §9.1 the same. Lowercase "must": a warning.
    Example: IKE_AUTH from CoA 1 (frame 1), INFORMATIONAL of the same SA from CoA 2 (frame 2) ->
    finding at 2.
    """

    def __init__(self) -> None:
        # (HA, CoA) -> the earliest accepted BU with the K flag moving the MN's IKE SA there
        self.moves: dict[tuple[str, str], float] = {}

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        packet = reader.packet(p.bu_frame)
        mh = packet.mobility if packet is not None else None
        if mh is None or not isinstance(mh.body, BindingUpdate) or "K" not in mh.body.flags:
            return
        moves = self.moves
        for r in p.results:
            if r.accepted and r.coa:
                key = (p.key.node, r.coa)
                if p.time < moves.get(key, math.inf):
                    moves[key] = p.time

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        moves = self.moves
        current: dict[tuple[int, int], str] = {}  # IKE SA -> the MN address it is bound to
        hits = []
        for pkt in ctx.ike_packets:
            side = mn_side(pkt)
            ike = pkt.ike
            if side is None or ike is None or ike.responder_spi == 0:
                continue  # an IKE_SA_INIT request has no SA yet
            mn, ha = side
            sa = (ike.initiator_spi, ike.responder_spi)
            was = current.setdefault(sa, mn)
            if was == mn:
                continue
            current[sa] = mn
            if moves.get((ha, mn), math.inf) > pkt.time:
                # IKE carries no home address: name it only when a binding at that HA ties a CoA to one
                hoa = next((k.hoa for address in (was, mn) for k, _c in ctx.held_at(pkt.time, coa=address)
                            if k.node == ha), None)
                hits.append(Hit(f"IKE SA {ike.initiator_spi:016x}/{ike.responder_spi:016x} used from {mn} "
                                f"after {was} without a BU with the K flag for the new care-of address.",
                                pkt.frame, pkt.time, hoa, None, None, episode=f"ike|{sa}"))
        return hits


ike_sa_from_several_coas = PerKey(IkeSaFromSeveralCoas, ev.BindingUpdateProcessed,
                                  name="ike_sa_from_several_coas", packets=frozenset({"IKE"}))


class IkeNotRerunAfterCoaRemoved:
    """What: the care-of address the IKE SA with the home agent runs on is de-registered (or
    replaced) by a BU without the K flag, and no new IKE_SA_INIT follows while ESP with the home
    agent continues.
    Why: draft §9.1 "If the 'K' bit is not supported on the mobile node or the home agent, the
    mobile node MUST re-establish the IKEv2 security association with the new care-of address";
    RFC §9.1 the same.
    Example: IKE_SA_INIT from CoA 1, binding of CoA 1 de-registered without K (frame 5), ESP to
    the HA later, no new IKE_SA_INIT -> finding at 5.
    """

    def __init__(self) -> None:
        # (BA frame, BU frame) of the latest BA's first outcome: the binding events of an outcome
        # follow its ``BindingUpdateProcessed``, while the BU is still at hand
        self.outcome: tuple[int, int] | None = None
        # CoAs removed by a BU without the K flag, in processing order: (time, frame, HA, CoA,
        # HoA, BID); judged at the end against the IKE messages, IKE_SA_INITs and ESP of the
        # whole capture. ``prune`` drops those no later IKE message can make a finding of, so
        # only the last EVIDENCE_MARGIN seconds' removals stay, and the rare real candidates
        self.removed: deque[Removed] = deque()
        self.candidates: list[Removed] = []  # pruned survivors (older than every ``removed``)

    def observe(self, e: Any, reader: EventReader) -> None:
        if e.__class__ is ev.BindingUpdateProcessed:
            if e.ba_frame is not None and (self.outcome is None or self.outcome[0] != e.ba_frame):
                self.outcome = (e.ba_frame, e.bu_frame)
            return
        if not isinstance(e, (ev.BindingDeregistered, ev.BindingReplaced)) or e.frame is None:
            return
        packet = reader.packet(e.frame)
        mh = packet.mobility if packet is not None else None
        if mh is not None and mh.type_name == "BA":
            outcome = self.outcome
            k = _k_flag(reader.packet(outcome[1])) if outcome is not None and outcome[0] == e.frame else None
        else:
            k = _k_flag(packet)
        if k is False:
            key = e.key
            self.removed.append((e.time, e.frame, key.node, e.coa, key.hoa, key.bid))

    @staticmethod
    def _hopeless(r: Removed, last: tuple[str, float] | None) -> bool:
        """Whether removal ``r`` can no longer be a finding, its HA's latest IKE message so far
        being ``last`` and every later one coming after ``r``: ``hits`` needs the HA's last IKE
        message of the capture to be from the removed CoA and no later than the removal, and a
        later message would be the last one."""
        return last is None or last[0] != r[3] or last[1] > r[0]

    def prune(self, horizon: float, reader: StreamReader) -> None:
        last = reader.ike_last
        hopeless = self._hopeless
        if self.candidates:
            self.candidates = [r for r in self.candidates if not hopeless(r, last.get(r[2]))]
        removed = self.removed
        while removed and removed[0][0] < horizon:  # in processing order; times nearly in order
            r = removed.popleft()
            if not hopeless(r, last.get(r[2])):
                self.candidates.append(r)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        if not self.removed and not self.candidates:
            return []
        ike_coa: dict[str, tuple[str, float]] = {}  # HA -> (MN address of the latest IKE message, time)
        inits: list[tuple[float, str]] = []  # (time, HA) of IKE_SA_INIT requests
        for pkt in ctx.ike_packets:
            side = mn_side(pkt)
            if side is None or pkt.ike is None:
                continue
            ike_coa[side[1]] = (side[0], pkt.time)
            if pkt.ike.exchange_type == IKE_SA_INIT and not pkt.ike.response:
                inits.append((pkt.time, side[1]))
        hits = []
        for time, frame, node, coa, hoa, bid in (*self.candidates, *self.removed):
            found = ike_coa.get(node)
            if found is None or found[0] != coa or found[1] > time:
                continue
            if any(t > time and ha == node for t, ha in inits):
                continue
            esp_after = any(t > time for (a, b), t in ctx.esp_last.items() if node in (a, b))
            if esp_after:
                hits.append(Hit(f"Care-of address {coa} of the IKE SA with {node} was removed "
                                "without the K flag and IKEv2 was not re-run while ESP continues.", frame,
                                time, hoa, bid, ctx.dialect_of(frame)))
        return hits


def _k_flag(packet: Packet | None) -> bool | None:
    """Whether a BU packet has the K flag; None if it is not a BU."""
    mh = packet.mobility if packet is not None else None
    if mh is None or not isinstance(mh.body, BindingUpdate):
        return None
    return "K" in mh.body.flags


ike_not_rerun_after_coa_removed = PerKey(IkeNotRerunAfterCoaRemoved, ev.BindingUpdateProcessed,
                                         ev.BindingEnded, name="ike_not_rerun_after_coa_removed",
                                         packets=frozenset({"IKE"}))
