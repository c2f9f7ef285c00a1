"""Applying one BU at its peer (draft §6.3 / RFC §6.2), as its acknowledgement shows (I-0).

Called when the outcome is known: the BA was seen, the BU had no A flag (it takes effect when
sent), or the engine gave up waiting for the BA (the BU is applied *unconfirmed*, with its own
lifetime as the upper bound, I-29). Every interpretation taken is named (I-n of
draft05-vs-rfc5648.md §5) in the ``BindingUpdateProcessed`` event.
"""

from __future__ import annotations

from dataclasses import dataclass

from dissector.codepoints import BU_FLAG_O, BU_FLAG_P, BAStatus, Dialect
from dissector.records import BindingAck, BindingIdentifier, MobileNetworkPrefix, MobilityMessage
from mcoaviz.engine.cache import BindingCache, BulTable
from mcoaviz.engine.events import (
    BidResult,
    BindingDeregistered,
    BindingOverwritten,
    BindingRejected,
    BindingReplaced,
    BindingUpdateProcessed,
    DialectNote,
    Event,
    HomeNdOwner,
)
from mcoaviz.engine.keys import BindingKey, BulKey
from mcoaviz.engine.pairing import PendingBU

REJECTED_FROM = 128
RETURNHOME = int(BAStatus.MCOA_RETURNHOME_WO_NDP)
BID_CONFLICT = int(BAStatus.MCOA_NON_MCOA_BINDING_EXISTS)  # draft: MCOA BID CONFLICT


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the BU's peer answered: the BA (if seen) and how sure we are."""

    time: float  # when the node acted: BA time, or BU time
    frame: int
    ba: BindingAck | None
    ba_message: MobilityMessage | None
    confirmed: bool


def overwrite_flag(bu: PendingBU) -> bool:
    """O lives in the BID option in draft-05 and in the BU header (0x0040, P=0) in RFC 5648."""
    if not bu.bids:
        return False
    if bu.dialect is Dialect.DRAFT05:
        return any(b.overwrite_flag for b in bu.bids)
    return bool(bu.bu.flags_word & BU_FLAG_O) and not bu.bu.flags_word & BU_FLAG_P


class Registrar:
    """Applies BU outcomes to the binding caches and the MNs' binding update lists."""

    def __init__(self, cache: BindingCache, bul: BulTable, *, bid_conflict_installs: bool,
                 capture_start: list[float]) -> None:
        self.cache = cache
        self.bul = bul
        self.bid_conflict_installs = bid_conflict_installs
        self._capture_start = capture_start  # one-element list shared with the engine
        self.prefixes: dict[tuple[str, str], set[str]] = {}  # (node, hoa) -> NEMO prefixes
        self.evidence: set[tuple[str, str, str]] = set()  # (node, hoa, coa) seen in data

    # ------------------------------------------------------------------ CoA selection
    def coa_for(self, bu: PendingBU, option: BindingIdentifier | None) -> tuple[str, str | None]:
        """(effective CoA, claimed CoA) of one BID option, or of a regular BU (option None)."""
        if option is None or option.coa is None:
            if option is not None and bu.dialect is Dialect.RFC5648:
                row = self.cache.get(BindingKey(bu.key.node, bu.key.hoa, option.bid))
                if row is not None:  # I-6: Length 4 refreshes a known BID, keeps its CoA
                    return row.coa, None
            return bu.source_coa, None  # I-5 (draft C=0), I-6 (unknown BID accepted)
        claimed = option.coa
        if ":" not in claimed and bu.outer_ipv4 and bu.outer_ipv4 != claimed:
            return bu.outer_ipv4, claimed  # I-22: NAT, the outer IPv4 source is the CoA
        return claimed, None

    def mn_coa_for(self, bu: PendingBU, option: BindingIdentifier | None) -> str:
        """The CoA the MN meant (BUL side): the option's field, else the stored or source CoA."""
        if option is not None and option.coa is not None:
            return option.coa
        if option is not None:
            row = self.bul.active.get(BulKey(bu.key.hoa, bu.key.node, option.bid))
            if row is not None:
                return row.coa
        return bu.source_coa

    # ------------------------------------------------------------------ MN side: sending
    def bu_sent(self, bu: PendingBU) -> list[Event]:
        """The MN's binding update list when a (first-sighting) BU leaves."""
        events: list[Event] = []
        hoa, peer, t, f, seq = bu.key.hoa, bu.key.node, bu.time, bu.frame, bu.key.seq
        lifetime = bu.bu.lifetime
        options: list[BindingIdentifier | None] = list(bu.bids) or [None]
        if lifetime > 0 and (not bu.bids or overwrite_flag(bu)):
            keep = {None if o is None else o.bid for o in options}
            for key in self.bul.keys_of(hoa, peer):
                if key.bid not in keep:
                    events += self.bul.close(key, time=t, frame=f, reason="overwritten")
        for option in options:
            key = BulKey(hoa, peer, None if option is None else option.bid)
            draft_home = self._draft_home(bu, option)
            if lifetime == 0 and not draft_home:
                if key in self.bul.active:
                    events += self.bul.touch(key, time=t, frame=f, seq=seq, lifetime=0)
                continue
            coa = hoa if (draft_home or self._rfc_home(bu, option)) else self.mn_coa_for(bu, option)
            row = self.bul.active.get(key)
            if row is not None and row.coa == coa:
                events += self.bul.touch(key, time=t, frame=f, seq=seq, lifetime=lifetime)
                continue
            if row is not None:
                events += self.bul.close(key, time=t, frame=f, reason="replaced")
            events += self.bul.open(key, peer_role=bu.role.value, coa=coa, time=t, frame=f, seq=seq,
                                    lifetime=lifetime, home=draft_home or self._rfc_home(bu, option))
            if draft_home:
                self.bul.active[key].expires = None
        return events

    @staticmethod
    def _draft_home(bu: PendingBU, option: BindingIdentifier | None) -> bool:
        return (option is not None and bu.dialect is Dialect.DRAFT05 and option.home_flag
                and bu.bu.lifetime == 0)

    @staticmethod
    def _rfc_home(bu: PendingBU, option: BindingIdentifier | None) -> bool:
        return (option is not None and bu.dialect is Dialect.RFC5648 and option.home_flag
                and bu.bu.lifetime > 0)

    # ------------------------------------------------------------------ node side: outcome
    def apply(self, bu: PendingBU, outcome: Outcome) -> list[Event]:
        ba = outcome.ba
        ba_bids = {b.bid: b for b in outcome.ba_message.bids} if outcome.ba_message else {}
        legacy = bool(bu.bids) and ba is not None and not ba_bids and ba.status < REJECTED_FROM
        used: list[str] = []
        events: list[Event] = []
        if not bu.bids or legacy:
            if legacy:
                used.append("I-10")
                events.append(DialectNote(outcome.time, outcome.frame, bu.key, "I-10",
                                          "BA without BID option answers a BID BU: legacy receiver"))
            results, more = self._regular(bu, outcome, legacy)
        else:
            results, more = self._with_bids(bu, outcome, ba_bids, used)
        events += more
        events += self._bul_outcome(bu, outcome, results)
        self._learn_prefixes(bu, results)
        granted = ba.lifetime if ba is not None else None
        events.insert(0, BindingUpdateProcessed(
            time=outcome.time, frame=outcome.frame, key=bu.key, role=bu.role.value,
            bu_frame=bu.frame, bu_time=bu.time, ba_frame=outcome.frame if ba is not None else None,
            requested_lifetime=bu.bu.lifetime, granted_lifetime=granted,
            ba_status=ba.status if ba is not None else None, ack_requested="A" in bu.bu.flags,
            regular=not bu.bids, bulk=len(bu.bids) > 1, overwrite=overwrite_flag(bu),
            deregistration=bu.bu.lifetime == 0, legacy_receiver=legacy,
            confirmed=outcome.confirmed, results=tuple(results), dialect=bu.dialect.value,
            interpretations=tuple(used),
        ))
        return events

    def _lifetime(self, bu: PendingBU, outcome: Outcome) -> int:
        """I-29: the BA lifetime when an accepting BA was seen, else the BU lifetime."""
        ba = outcome.ba
        if ba is not None and ba.status < REJECTED_FROM:
            return ba.lifetime
        return bu.bu.lifetime

    def _regular(self, bu: PendingBU, outcome: Outcome, legacy: bool) -> tuple[list[BidResult], list[Event]]:
        """A BU without BID (or a legacy receiver, I-10) replaces or deletes every binding (§6.3)."""
        node, hoa, t, f = bu.key.node, bu.key.hoa, outcome.time, outcome.frame
        ba = outcome.ba
        status = ba.status if ba is not None else None
        key = BindingKey(node, hoa, None)
        coa = bu.source_coa
        events: list[Event] = []
        if status is not None and status >= REJECTED_FROM:
            events.append(BindingRejected(t, f, key, coa, status, bu.frame))
            return [BidResult(None, coa, None, status, False, "rejected")], events
        rfc_home = legacy and any(self._rfc_home(bu, o) for o in bu.bids)
        if bu.bu.lifetime == 0 or rfc_home:
            for other in self.cache.keys_of(node, hoa):
                events += self.cache.end(other, time=t, frame=f, kind=BindingDeregistered)
            return [BidResult(None, None, None, status, True, "deregistered")], events
        lifetime = self._lifetime(bu, outcome)
        for other in self.cache.keys_of(node, hoa):
            if other.bid is not None:
                events += self.cache.end(other, time=t, frame=f, kind=BindingOverwritten)
        action, more = self._register(bu, outcome, key, coa, None, lifetime, home=False,
                                      refresh_hint=False)
        return [BidResult(None, coa, None, status, True, action)], events + more

    def _with_bids(
        self, bu: PendingBU, outcome: Outcome, ba_bids: dict[int, BindingIdentifier], used: list[str],
    ) -> tuple[list[BidResult], list[Event]]:
        node, hoa, t, f = bu.key.node, bu.key.hoa, outcome.time, outcome.frame
        ba = outcome.ba
        ba_status = ba.status if ba is not None else None
        draft = bu.dialect is Dialect.DRAFT05
        events: list[Event] = []

        def effective(bid: int) -> int | None:  # I-9
            echoed = ba_bids.get(bid)
            if echoed is not None and echoed.status != 0:
                return echoed.status
            return ba_status

        statuses = {o.bid: effective(o.bid) for o in bu.bids}
        reported = dict(statuses)  # what the MN reads (I-7 installs despite a rejection code)
        conflict = draft and BID_CONFLICT in statuses.values()
        if ba_status == BID_CONFLICT and not draft:  # I-8: RFC 165, nothing processed
            used.append("I-8")
            results = []
            for o in bu.bids:
                coa, claimed = self.coa_for(bu, o)
                key = BindingKey(node, hoa, o.bid)
                events.append(BindingRejected(t, f, key, coa, BID_CONFLICT, bu.frame))
                results.append(BidResult(o.bid, coa, claimed, BID_CONFLICT, False, "kept"))
            return results, events
        unconfirmed = not outcome.confirmed
        if conflict:
            used.append("I-7")
            events.append(DialectNote(t, f, bu.key, "I-7", "draft-05 MCOA BID CONFLICT: the node replaced "
                                      "its regular binding and installed the BID bindings (unconfirmed)"))
            if not self.bid_conflict_installs:
                refused = [BidResult(o.bid, None, o.coa, BID_CONFLICT, False, "rejected") for o in bu.bids]
                return refused, events
            statuses = {b: (0 if s == BID_CONFLICT else s) for b, s in statuses.items()}
            unconfirmed = True
        accepted_bu = ba_status is None or ba_status < REJECTED_FROM or conflict
        any_accepted = any(s is None or s < REJECTED_FROM for s in statuses.values())
        lifetime = self._lifetime(bu, outcome) if not conflict else bu.bu.lifetime
        if accepted_bu and bu.bu.lifetime > 0:
            keep: set[BindingKey] = set()
            if overwrite_flag(bu):
                if any(s is not None and s >= REJECTED_FROM for s in statuses.values()):
                    used.append("I-28")
                keep = {BindingKey(node, hoa, o.bid) for o in bu.bids
                        if (s := statuses[o.bid]) is None or s < REJECTED_FROM}
                for other in self.cache.keys_of(node, hoa):
                    if other not in keep:
                        events += self.cache.end(other, time=t, frame=f, kind=BindingOverwritten)
            elif any_accepted:  # draft §6.3: the regular binding gives way to BID bindings
                regular = BindingKey(node, hoa, None)
                if self.cache.get(regular) is not None:
                    events += self.cache.end(regular, time=t, frame=f, kind=BindingOverwritten)
        results: list[BidResult] = []
        for o in bu.bids:
            key = BindingKey(node, hoa, o.bid)
            status = statuses[o.bid]
            coa, claimed = self.coa_for(bu, o)
            if status is not None and status >= REJECTED_FROM:
                events.append(BindingRejected(t, f, key, coa, status, bu.frame))
                results.append(BidResult(o.bid, coa, claimed, status, False, "rejected"))
                continue
            if self._draft_home(bu, o):
                used.append("I-13")
                action, more = self._register(bu, outcome, key, hoa, None, 0, home=True,
                                              refresh_hint=False, unconfirmed=unconfirmed)
                events += more + self._nd_owner(t, f, key, ba_bids.get(o.bid), ba_status)
                results.append(BidResult(o.bid, hoa, claimed or o.coa, reported[o.bid], True, action,
                                         home=True))
                continue
            if bu.bu.lifetime == 0:
                if self.cache.get(key) is not None:
                    events += self.cache.end(key, time=t, frame=f, kind=BindingDeregistered)
                    results.append(BidResult(o.bid, coa, claimed, reported[o.bid], True, "deregistered"))
                else:
                    used.append("I-11")
                    results.append(BidResult(o.bid, None, o.coa, reported[o.bid], True, "unknown-bid"))
                continue
            home = self._rfc_home(bu, o)
            if home:
                used.append("I-15")
                coa, claimed = hoa, (o.coa if o.coa != hoa else None)
            hint = o.coa is None and bu.dialect is Dialect.RFC5648
            action, more = self._register(bu, outcome, key, coa, claimed, lifetime, home=home,
                                          refresh_hint=hint, unconfirmed=unconfirmed)
            events += more
            if home:
                events += self._nd_owner(t, f, key, ba_bids.get(o.bid), ba_status)
            results.append(BidResult(o.bid, coa, claimed, reported[o.bid], True, action, home=home))
        return results, events

    def _register(
        self, bu: PendingBU, outcome: Outcome, key: BindingKey, coa: str, claimed: str | None,
        lifetime: int, *, home: bool, refresh_hint: bool, unconfirmed: bool = False,
    ) -> tuple[str, list[Event]]:
        """Start, refresh or replace one binding; returns (action, events)."""
        t, f = outcome.time, outcome.frame
        confirmed = outcome.confirmed and not unconfirmed
        expires = None if (home and bu.dialect is Dialect.DRAFT05) else t + lifetime
        row = self.cache.get(key)
        if row is not None and row.coa == coa and row.home == home:
            return "refreshed", self.cache.refresh(key, time=t, frame=f, lifetime=lifetime,
                                                   expires=expires, confirmed=confirmed)
        events: list[Event] = []
        action = "home" if home else "started"
        if row is not None:
            events += self.cache.end(key, time=t, frame=f, kind=BindingReplaced)
            action = "replaced"
        pre_existing = row is None and self._pre_existing(bu, key, coa, refresh_hint)
        start = self._capture_start[0] if pre_existing else None
        events += self.cache.start(
            key, role=bu.role.value, coa=coa, time=t, frame=f, lifetime=lifetime, expires=expires,
            home=home, confirmed=confirmed, pre_existing=pre_existing, claimed_coa=claimed, start=start,
        )
        return action, events

    def _pre_existing(self, bu: PendingBU, key: BindingKey, coa: str, refresh_hint: bool) -> bool:
        """A binding first seen as a refresh: RFC Length-4 BID option for a BID never registered
        in the capture, or data for (node, HoA, CoA) seen before any registration of it."""
        if (key.node, key.hoa, coa) in self.evidence:
            return True
        return refresh_hint and not any(r.key == key for r in self.cache.rows)

    def _nd_owner(self, t: float, f: int, key: BindingKey, echoed: BindingIdentifier | None,
                  ba_status: int | None) -> list[Event]:
        """I-18: RETURNHOME in the BID Status or the BA Status means the HA keeps proxy ND."""
        statuses = {ba_status, echoed.status if echoed is not None else None}
        if ba_status is None:
            return []
        owner = "home-agent" if RETURNHOME in statuses else "mobile-node"
        status = RETURNHOME if RETURNHOME in statuses else ba_status
        return [HomeNdOwner(t, f, key, owner, status)]

    # ------------------------------------------------------------------ MN side: outcome
    def _bul_outcome(self, bu: PendingBU, outcome: Outcome, results: list[BidResult]) -> list[Event]:
        events: list[Event] = []
        hoa, peer, t, f = bu.key.hoa, bu.key.node, outcome.time, outcome.frame
        if outcome.ba is None:
            if "A" not in bu.bu.flags and bu.bu.lifetime == 0:  # no A flag: done when sent
                for r in results:
                    for key in self._bul_keys(hoa, peer, r.bid):
                        events += self.bul.close(key, time=bu.time, frame=bu.frame, reason="deregistered")
            return events
        lifetime = self._lifetime(bu, outcome)
        ba_status = outcome.ba.status
        for r in results:
            for key in self._bul_keys(hoa, peer, r.bid):
                row = self.bul.active[key]
                mn_status = ba_status if r.status is None else r.status
                if r.action in ("deregistered", "unknown-bid") and not row.home:
                    events += self.bul.close(key, time=t, frame=f, reason="deregistered", status=mn_status)
                elif not r.accepted or (mn_status is not None and mn_status >= REJECTED_FROM):
                    events += self.bul.close(key, time=t, frame=f, reason="rejected", status=mn_status)
                else:
                    events += self.bul.acknowledge(key, time=t, frame=f, status=mn_status,
                                                   lifetime=lifetime, accepted_at=t)
                    if row.home and bu.dialect is Dialect.DRAFT05:
                        row.expires = None
        return events

    def _bul_keys(self, hoa: str, peer: str, bid: int | None) -> list[BulKey]:
        """The BUL entries a result speaks for (all of them for a full de-registration)."""
        key = BulKey(hoa, peer, bid)
        if key in self.bul.active:
            return [key]
        if bid is None:
            return self.bul.keys_of(hoa, peer)
        return []

    def _learn_prefixes(self, bu: PendingBU, results: list[BidResult]) -> None:
        """NEMO: an accepted BU's Mobile Network Prefix options route that prefix to the MR."""
        if not any(r.accepted for r in results):
            return
        for option in bu.message.options:
            if isinstance(option, MobileNetworkPrefix):
                self.prefixes.setdefault((bu.key.node, bu.key.hoa), set()).add(
                    f"{option.prefix}/{option.prefix_length}")
