"""Applying one BU at its peer (draft §6.3 / RFC §6.2), as its acknowledgement shows (I-0).

Called when the outcome is known: the BA was seen, or the BU had no A flag (it takes effect
when sent), or later evidence (data through the CoA) shows that a BU whose BA was never captured
was accepted: then the BU is applied *unconfirmed* at its own time with its own lifetime as the
upper bound (I-29). Every interpretation taken is named (I-n of draft05-vs-rfc5648.md §5) in the
``BindingUpdateProcessed`` event. The mobile node's side (its BUL) is updated here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dissector.codepoints import ACCEPTED_BELOW, BAStatus, Dialect
from dissector.records import BindingAck, BindingIdentifier, MobileNetworkPrefix, MobilityMessage
from dissector.sequence import seq_newer
from mcoaviz.engine.bul import BulTable
from mcoaviz.engine.cache import BindingCache, BindingRow
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
from mcoaviz.engine.keys import BindingKey, BulKey, Role
from mcoaviz.engine.pairing import PendingBU
from mcoaviz.engine.preparation import Preparation
from mcoaviz.engine.reasons import coa_reason, has_alternate_coa, processing
from mcoaviz.engine.states import BindingState, Input, Step, step_for

REJECTED_FROM = ACCEPTED_BELOW  # effective status >= 128 refuses
SEQUENCE_OUT_OF_WINDOW = int(BAStatus.SEQUENCE_OUT_OF_WINDOW)
RETURNHOME = int(BAStatus.MCOA_RETURNHOME_WO_NDP)
BID_CONFLICT = int(BAStatus.MCOA_NON_MCOA_BINDING_EXISTS)  # draft: MCOA BID CONFLICT (I-2)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the BU's peer answered: the BA (if seen) and how sure we are."""

    time: float  # when the node acted: BA time, or BU time
    frame: int
    ba: BindingAck | None
    ba_message: MobilityMessage | None
    confirmed: bool


def _draft_cn(bu: PendingBU) -> bool:
    """I-32: C, O and H are valid only towards the HA in draft-05; a CN's state ignores them."""
    return bu.dialect is Dialect.DRAFT05 and bu.role is Role.CORRESPONDENT


def overwrite_flag(bu: PendingBU) -> bool:
    """O lives in the BID option in draft-05 and in the BU header (P=0) in RFC 5648: the
    dissector's flag letters say which, read in the BU's dialect. Decided once per BU."""
    found = bu.overwrite
    if found is None:
        if not bu.bids or _draft_cn(bu):
            found = False
        elif bu.dialect is Dialect.DRAFT05:
            found = any(b.overwrite_flag for b in bu.bids)
        else:
            flags = bu.bu.flags
            found = "O" in flags and "P" not in flags
        bu.overwrite = found
    return found


def draft_home(bu: PendingBU, option: BindingIdentifier | None) -> bool:
    """Draft §5.6.3: H (0x20) in a lifetime-0 BU to the HA makes a home binding (I-13)."""
    # the flag (a property of the option) last: most BUs fail a cheaper test first
    return (option is not None and bu.bu.lifetime == 0 and bu.dialect is Dialect.DRAFT05
            and bu.role is Role.HOME_AGENT and option.home_flag)


def rfc_home(bu: PendingBU, option: BindingIdentifier | None) -> bool:
    """RFC §5.6.3: H (0x80), lifetime > 0 and CoA field = HoA (I-15, I-30)."""
    return (option is not None and option.coa == bu.key.hoa and bu.dialect is Dialect.RFC5648
            and bu.bu.lifetime > 0 and option.home_flag)


class Registrar:
    """Applies BU outcomes to the binding caches and the MNs' binding update lists."""

    def __init__(self, cache: BindingCache, bul: BulTable, *, bid_conflict_installs: bool,
                 capture_start: list[float]) -> None:
        self.cache = cache
        self.bul = bul
        self.bid_conflict_installs = bid_conflict_installs
        self._capture_start = capture_start  # one-element list shared with the engine
        self.prefixes: dict[tuple[str, str], set[str]] = {}  # (node, hoa) -> NEMO prefixes
        self.prefix_version = 0  # bumped when a prefix is learnt (the engine memoises attribution)
        self.evidence: set[tuple[str, str, str]] = set()  # (node, hoa, coa) seen in data
        self.tunnel_seen_before: Callable[[str, str], bool] | None = None  # set by the engine
        self.preparation = Preparation()  # RR tests and binding-set resets (first registrations)

    # ------------------------------------------------------------------ CoA selection
    def coa_for(self, bu: PendingBU, option: BindingIdentifier) -> tuple[str, str | None]:
        """(effective CoA, claimed CoA) of one BID option at the node."""
        if option.coa is None or _draft_cn(bu):
            if bu.dialect is Dialect.RFC5648:
                row = self.cache.get(BindingKey(bu.key.node, bu.key.hoa, option.bid))
                if row is not None:  # I-6: Length 4 refreshes a known BID, keeps its CoA
                    return row.coa, None
            return bu.source_coa, None  # I-5 (draft C=0, or C towards a CN), I-6 (unknown BID)
        claimed = option.coa
        if ":" not in claimed and bu.outer_ipv4:
            return bu.outer_ipv4, (claimed if claimed != bu.outer_ipv4 else None)  # I-22
        return claimed, None

    # ------------------------------------------------------------------ MN side: sending
    def mn_entries(self, bu: PendingBU) -> tuple[tuple[int | None, str | None], ...]:
        """(BID, CoA) pairs as the MN's BUL sees the BU; CoA None = 'whatever is registered'."""
        alive = bu.bu.lifetime > 0
        if not bu.bids:
            return ((None, bu.source_coa if alive else None),)
        entries: list[tuple[int | None, str | None]] = []
        for option in bu.bids:
            coa = option.coa
            if coa is None and alive and bu.dialect is Dialect.DRAFT05:
                # one BU is sent from one CoA: only a bulk BU needs the MN's BID -> CoA mapping
                known = self._known_coa(bu.key.hoa, bu.key.node, option.bid) if len(bu.bids) > 1 else None
                coa = known or bu.source_coa
            elif coa is None and alive and self._first_without_coa(bu, option.bid):
                coa = bu.source_coa  # the MN's side of I-6: a first registration from its source
            entries.append((option.bid, coa if alive else None))
        return tuple(entries)

    def _first_without_coa(self, bu: PendingBU, bid: int) -> bool:
        """An RFC Length-4 option for a BID the MN has no entry for, and the capture shows the
        registration prepared (``preparation.py``): the MN's BUL starts an entry for its source."""
        if self.bul.coa_of(BulKey(bu.key.hoa, bu.key.node, bid)) is not None:
            return False
        key = BindingKey(bu.key.node, bu.key.hoa, bid)
        if self.cache.ever_registered(key, bu.source_coa):
            return False
        return bool(self.preparation.evidence(node=bu.key.node, hoa=bu.key.hoa, bid=bid,
                                              coa=bu.source_coa, bu_time=bu.time))

    def _known_coa(self, hoa: str, peer: str, bid: int) -> str | None:
        """The CoA the MN already uses for ``bid``: draft §3, the MN uses the same BID towards
        a CN as for its home registration, and a draft BU to a CN carries no CoA field."""
        own = self.bul.coa_of(BulKey(hoa, peer, bid))
        if own is not None:
            return own
        return self.bul.first_coa(hoa, bid)

    def bu_sent(self, bu: PendingBU) -> list[Event]:
        bu.entries = self.mn_entries(bu)
        events: list[Event] = []
        pair = (bu.key.hoa, bu.key.node)
        last = self.bul.last_seq.get(pair)
        self.bul.last_seq[pair] = bu.key.seq
        if last is not None and not seq_newer(bu.key.seq, last) and overwrite_flag(bu):
            # an O-flag BU whose number went backwards: the MN rebooted and bootstraps (§5.10)
            self.bul.forget(*pair)
            events.append(DialectNote(bu.time, bu.frame, bu.key, "bootstrap",
                                      f"sequence {bu.key.seq} after {last} with O: the mobile node "
                                      "lost its binding update list (draft §5.10)"))
        homes = {o.bid for o in bu.bids if rfc_home(bu, o)}
        hoa, node, seq, lifetime, sent = bu.key.hoa, bu.key.node, bu.key.seq, bu.bu.lifetime, self.bul.sent
        for bid, coa in bu.entries:
            events += sent(BulKey(hoa, node, bid), coa, peer_role=bu.role_value, time=bu.time,
                           frame=bu.frame, seq=seq, lifetime=lifetime, home=bid in homes)
        return events

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
        if outcome.confirmed:
            events += self._bul_outcome(bu, outcome, ba_bids)
        self._learn_prefixes(bu, results)
        events.insert(0, BindingUpdateProcessed(
            time=outcome.time, frame=outcome.frame, key=bu.key, role=bu.role_value,
            bu_frame=bu.frame, bu_time=bu.time, ba_frame=outcome.frame if ba is not None else None,
            requested_lifetime=bu.bu.lifetime, granted_lifetime=ba.lifetime if ba is not None else None,
            ba_status=ba.status if ba is not None else None, ack_requested="A" in bu.bu.flags,
            regular=not bu.bids, bulk=len(bu.bids) > 1, overwrite=overwrite_flag(bu),
            deregistration=bu.bu.lifetime == 0, legacy_receiver=legacy,
            confirmed=outcome.confirmed, results=tuple(results), dialect=bu.dialect_value,
            interpretations=tuple(dict.fromkeys(used)),
        ))
        return events

    def _granted(self, bu: PendingBU, outcome: Outcome) -> int:
        """I-29: the BA lifetime when an accepting BA was seen, else the BU lifetime."""
        ba = outcome.ba
        if ba is not None and ba.status < REJECTED_FROM:
            return ba.lifetime
        return bu.bu.lifetime

    def _regular(self, bu: PendingBU, outcome: Outcome, legacy: bool) -> tuple[list[BidResult], list[Event]]:
        """A BU without BID (or a legacy receiver, I-10) replaces or deletes every binding (§6.3)."""
        node, hoa, t, f = bu.key.node, bu.key.hoa, outcome.time, outcome.frame
        status = outcome.ba.status if outcome.ba is not None else None
        key = BindingKey(node, hoa, None)
        coa = bu.source_coa
        events: list[Event] = []
        sec = processing(bu)
        legacy_note = " (a BA without BID option answered a BID BU: legacy receiver, I-10)" if legacy else ""
        if status is not None and status >= REJECTED_FROM:
            events.append(BindingRejected(t, f, key, coa, status, bu.frame,
                                          why=f"{sec}: the BA status {status} (>= 128) refuses the BU"))
            return [BidResult(None, coa, None, status, False, "rejected")], events
        self.preparation.set_complete(node, hoa, t, bu.frame, ())
        if bu.bu.lifetime == 0 or (legacy and any(rfc_home(bu, o) for o in bu.bids)):
            why = f"{sec}: a lifetime-0 BU without BID option deletes every binding of the home address"
            for other in self.cache.keys_of(node, hoa):
                events += self.cache.end(other, time=t, frame=f, kind=BindingDeregistered,
                                         why=why + legacy_note)
            return [BidResult(None, None, None, status, True, "deregistered")], events
        why = f"{sec}: a BU without BID option replaces every binding by one regular binding (Q66-Q68)"
        for other in self.cache.keys_of(node, hoa):
            if other.bid is not None:
                events += self.cache.end(other, time=t, frame=f, kind=BindingOverwritten,
                                         why=why + legacy_note)
        regular = f"{sec}: regular binding, CoA = Alternate CoA or source (6275 §9.5.1)"
        action, more = self._register(bu, outcome, key, coa, None, self._granted(bu, outcome),
                                      home=False, refresh_hint=False, why=regular + legacy_note)
        return [BidResult(None, coa, None, status, True, action)], events + more

    def _with_bids(
        self, bu: PendingBU, outcome: Outcome, ba_bids: dict[int, BindingIdentifier], used: list[str],
    ) -> tuple[list[BidResult], list[Event]]:
        node, hoa, t, f = bu.key.node, bu.key.hoa, outcome.time, outcome.frame
        ba = outcome.ba
        ba_status = ba.status if ba is not None else None
        draft = bu.dialect is Dialect.DRAFT05
        events: list[Event] = []
        if _draft_cn(bu) and any(o.coa_flag or o.overwrite_flag or o.home_flag for o in bu.bids):
            used.append("I-32")

        reported: dict[int, int | None] = {}  # what the MN reads: the effective status (I-9)
        for o in bu.bids:
            echoed = ba_bids.get(o.bid)
            reported[o.bid] = echoed.status if echoed is not None and echoed.status != 0 else ba_status
        statuses = dict(reported)  # what the node did
        if ba_status == BID_CONFLICT and not draft:  # I-8: RFC 165, nothing processed
            used.append("I-8")
            results: list[BidResult] = []
            for o in bu.bids:
                coa, claimed = self.coa_for(bu, o)
                key = BindingKey(node, hoa, o.bid)
                events.append(BindingRejected(t, f, key, coa, BID_CONFLICT, bu.frame,
                                              why="RFC §6.2: NON-MCOA BINDING EXISTS (165): nothing "
                                                  "changes (I-8)"))
                results.append(BidResult(o.bid, coa, claimed, BID_CONFLICT, False, "kept"))
            return results, events
        conflict = draft and BID_CONFLICT in statuses.values()
        unconfirmed = not outcome.confirmed
        if conflict:  # I-7: the draft HA replaced its regular binding and installed these
            used.append("I-7")
            events.append(DialectNote(t, f, bu.key, "I-7", "draft-05 MCOA BID CONFLICT: the node "
                                      "replaced its regular binding and installed the BID bindings "
                                      "(unconfirmed)"))
            if not self.bid_conflict_installs:
                refused = [BidResult(o.bid, None, o.coa, BID_CONFLICT, False, "rejected") for o in bu.bids]
                return refused, events
            statuses = {b: (0 if s == BID_CONFLICT else s) for b, s in statuses.items()}
            unconfirmed = True
        accepted = [o for o in bu.bids if (s := statuses[o.bid]) is None or s < REJECTED_FROM]
        lifetime = bu.bu.lifetime if conflict else self._granted(bu, outcome)
        sec = processing(bu)
        conflict_note = " (draft BID CONFLICT: installed unconfirmed, I-7)" if conflict else ""
        if accepted and bu.bu.lifetime > 0:
            doomed: list[BindingKey] = []
            why = ""
            if overwrite_flag(bu):  # every binding goes, then the BU's are registered (§6.3)
                doomed = self.cache.keys_of(node, hoa)
                partial = len(accepted) < len(bu.bids)
                if partial:
                    used.append("I-28")
                why = (f"{sec}: O flag: every binding of the home address is replaced by the BU's (I-26"
                       + (", NOTCOMPLETE does not stop the removal: I-28)" if partial else ")"))
                self.preparation.set_complete(node, hoa, t, bu.frame, tuple(o.bid for o in accepted))
            elif self.cache.get(BindingKey(node, hoa, None)) is not None:
                doomed = [BindingKey(node, hoa, None)]  # draft §6.3 (I-7), or a node that accepted
                why = f"{sec}: BID bindings accepted while a regular binding existed: it is removed (I-7)"
            for key in doomed:
                events += self.cache.end(key, time=t, frame=f, kind=BindingOverwritten, why=why)
        results = []
        alternate: bool | None = None  # the BU has an Alternate CoA option (asked once, if at all)
        confirmed = outcome.confirmed and not unconfirmed
        held = self.cache.active
        for o in bu.bids:
            key = BindingKey(node, hoa, o.bid)
            status = statuses[o.bid]
            coa, claimed = self.coa_for(bu, o)
            how = self._read(bu, o, status, confirmed)
            row = held.get(key)
            step = step_for(row.state if row is not None else BindingState.ABSENT, how)
            if step is Step.KEEP:
                source = "BID option" if ba_bids.get(o.bid) is not None and ba_bids[o.bid].status else "BA"
                events.append(BindingRejected(t, f, key, coa, status, bu.frame,  # type: ignore[arg-type]  # KEEP: status >= 128
                                              why=f"{sec}: effective status {status} (>= 128, from the "
                                                  f"{source} Status: I-9) refuses BID {o.bid}"))
                results.append(BidResult(o.bid, coa, claimed, status, False, "rejected"))
            elif step is Step.IGNORE:
                used.append("I-11")
                results.append(BidResult(o.bid, None, o.coa, reported[o.bid], True, "unknown-bid"))
            elif step is Step.END:
                events += self.cache.end(key, time=t, frame=f, kind=BindingDeregistered,
                                         why=f"{sec}: lifetime-0 BU with BID {o.bid}: that binding "
                                             "is de-registered" + (" (RFC H with lifetime 0 read as a "
                                             "de-registration: I-16, R2)" if o.home_flag and not draft
                                             else ""))
                results.append(BidResult(o.bid, coa, claimed, reported[o.bid], True, "deregistered"))
            elif how is Input.ACCEPT_HOME and bu.bu.lifetime == 0:  # draft home binding (I-13)
                used.append("I-13")
                action, more = self._register(bu, outcome, key, hoa, None, None, home=True,
                                              refresh_hint=False, unconfirmed=unconfirmed, held=(row, step),
                                              why="draft §5.6.3/§6.3: H flag in a lifetime-0 BU to the HA: "
                                                  "home binding, no expiry (I-13, I-14)" + conflict_note)
                events += more + self._nd_owner(t, f, key, ba_bids.get(o.bid), ba_status)
                results.append(BidResult(o.bid, hoa, o.coa, reported[o.bid], True, action, home=True))
            else:
                home = how is Input.ACCEPT_HOME  # RFC home binding, CoA = HoA (I-15)
                if home:
                    used.append("I-15")
                    reason = "home binding, CoA = HoA (I-15, I-30)"
                else:
                    if alternate is None:
                        alternate = has_alternate_coa(bu)
                    reason = coa_reason(bu, o, self.cache, alternate)
                hint = o.coa is None and bu.dialect is Dialect.RFC5648
                answer = "no BA" if reported[o.bid] is None else f"effective status {reported[o.bid]}, I-9"
                overruled = conflict and reported[o.bid] == BID_CONFLICT
                verb = "installed although refused" if overruled else "accepted"
                why = f"{sec}: BID {o.bid} {verb} ({answer}); {reason}{conflict_note}"
                action, more = self._register(bu, outcome, key, coa, claimed, lifetime, home=home,
                                              refresh_hint=hint, unconfirmed=unconfirmed, why=why,
                                              held=(row, step))
                events += more
                if home:
                    events += self._nd_owner(t, f, key, ba_bids.get(o.bid), ba_status)
                results.append(BidResult(o.bid, coa, claimed, reported[o.bid], True, action, home=home))
        return results, events

    @staticmethod
    def _read(bu: PendingBU, option: BindingIdentifier, status: int | None, confirmed: bool) -> Input:
        """One BID option's outcome as an input of the transition table (``states.STEPS``)."""
        if status is not None and status >= REJECTED_FROM:
            return Input.REJECT  # effective status >= 128 (I-9)
        if draft_home(bu, option):
            return Input.ACCEPT_HOME  # draft: H in a lifetime-0 BU to the HA (I-13)
        if bu.bu.lifetime == 0:
            return Input.DEREGISTER
        if rfc_home(bu, option):
            return Input.ACCEPT_HOME  # RFC: H, lifetime > 0, CoA = HoA (I-15)
        return Input.ACCEPT if confirmed else Input.INSTALL_UNCONFIRMED

    def _register(
        self, bu: PendingBU, outcome: Outcome, key: BindingKey, coa: str, claimed: str | None,
        lifetime: int | None, *, home: bool, refresh_hint: bool, unconfirmed: bool = False,
        why: str = "", held: tuple[BindingRow | None, Step] | None = None,
    ) -> tuple[str, list[Event]]:
        """Start, refresh or replace one binding; returns (action, events). ``held``: the row
        held for ``key`` and the step for this registration, when the caller already looked
        them up (the same input: ``_read`` gives what ``how`` below gives)."""
        t, f = outcome.time, outcome.frame
        confirmed = outcome.confirmed and not unconfirmed
        if not outcome.confirmed:
            why += ("; no BA captured: the node later sent data to this CoA, so it accepted the BU "
                    "(unconfirmed, from the BU's time, BU lifetime: I-29)")
        elif outcome.ba is None:
            why += "; BU without the A flag: it takes effect when sent"
        expires = None if lifetime is None else t + lifetime
        if held is None:
            row = self.cache.get(key)
            how = Input.ACCEPT_HOME if home else (Input.ACCEPT if confirmed else Input.INSTALL_UNCONFIRMED)
            step = step_for(row.state if row is not None else BindingState.ABSENT, how)
        else:
            row, step = held
        if step is Step.RENEW and row is not None and row.coa == coa and row.home == home:
            return "refreshed", self.cache.refresh(key, time=t, frame=f, lifetime=lifetime,
                                                   expires=expires, confirmed=confirmed,
                                                   claimed_coa=claimed, why=why + "; same CoA: a refresh")
        events: list[Event] = []
        action = "home" if home else "started"
        if step is Step.RENEW:
            events += self.cache.end(key, time=t, frame=f, kind=BindingReplaced,
                                     why=f"{processing(bu)}: a new CoA ({coa}) was registered under "
                                         "the same BID")
            action = "replaced"
        pre_existing, note, first = (False, "", "") if step is Step.RENEW else \
            self._pre_existing(bu, key, coa, refresh_hint)
        events += self.cache.start(
            key, role=bu.role_value, coa=coa, time=t, frame=f, lifetime=lifetime, expires=expires,
            home=home, confirmed=confirmed, pre_existing=pre_existing, claimed_coa=claimed,
            start=self._capture_start[0] if pre_existing else None, why=why + note,
            first_registration=first,
        )
        return action, events

    def _pre_existing(self, bu: PendingBU, key: BindingKey, coa: str,
                      refresh_hint: bool) -> tuple[bool, str, str]:
        """(pre-existing?, why, first-registration evidence). A binding first seen as a refresh:
        data the node sent to (HoA, CoA), or a tunnel between the node and the CoA, before any
        registration of it; or an RFC Length-4 BID option (only a re-registration may omit the
        CoA, RFC §5.1) unless the capture shows the registration being prepared (then it is a
        first registration without the CoA: ``preparation.py``). Never once the capture has
        shown this BID, or this CoA at this node, registered (data after a binding ended is
        just data in flight)."""
        if self.cache.ever_registered(key, coa):
            return False, "", ""
        older = "; the binding is older than the capture (start = first record): "
        if (key.node, key.hoa, coa) in self.evidence:
            return True, older + "the node sent data to this CoA before any registration of it", ""
        if self.tunnel_seen_before is not None and self.tunnel_seen_before(key.node, coa):
            return True, older + "a tunnel between the node and this CoA was seen before any registration", ""
        if not refresh_hint or key.bid is None:
            return False, "", ""
        first = self.preparation.evidence(node=key.node, hoa=key.hoa, bid=key.bid, coa=coa, bu_time=bu.time)
        if first:
            return False, (f"; a first registration, not a refresh ({first}): RFC §5.1 requires the CoA "
                           "in it; CoA = the BU's source (I-6)"), first
        return True, older + ("a Length-4 BID option for a BID the capture never saw: only a "
                              "re-registration may omit the CoA (RFC §5.1)"), ""

    def _nd_owner(self, t: float, f: int, key: BindingKey, echoed: BindingIdentifier | None,
                  ba_status: int | None) -> list[Event]:
        """I-18: RETURNHOME in the BID Status or the BA Status means the HA keeps proxy ND."""
        if ba_status is None:
            return []
        statuses = {ba_status, echoed.status if echoed is not None else None}
        owner = "home-agent" if RETURNHOME in statuses else "mobile-node"
        return [HomeNdOwner(t, f, key, owner, RETURNHOME if RETURNHOME in statuses else ba_status)]

    # ------------------------------------------------------------------ MN side: outcome
    def _bul_outcome(self, bu: PendingBU, outcome: Outcome,
                     ba_bids: dict[int, BindingIdentifier]) -> list[Event]:
        """What the MN concludes from the BA (draft §5.7, RFC §5.7); a BU without A is accepted
        when sent."""
        hoa, peer, t, f = bu.key.hoa, bu.key.node, outcome.time, outcome.frame
        ba = outcome.ba
        ba_status = ba.status if ba is not None else 0
        lifetime = ba.lifetime if ba is not None else bu.bu.lifetime
        seq = ba.seq if ba is not None else bu.key.seq

        def status_of(bid: int | None) -> int:
            echoed = ba_bids.get(bid) if bid is not None else None
            return echoed.status if echoed is not None and echoed.status else ba_status

        sent = [bid for bid, _ in bu.entries if bid is not None]
        events: list[Event] = []
        if ba is not None and ba.status == SEQUENCE_OUT_OF_WINDOW:
            return events  # the MN retries with a newer number; its entries stay pending
        if bu.bu.lifetime == 0:
            if any(draft_home(bu, o) for o in bu.bids):
                # back home: the BIDs the HA accepted (0 or RETURNHOME) end; a refused one stays,
                # as the HA kept that binding (6275 §11.7.3)
                home: list[int | None] = [bid for bid in sent if status_of(bid) < REJECTED_FROM]
                return self.bul.end(hoa, peer, home, "deregistered", time=t, frame=f) if home else events
            done: list[int | None] = [bid for bid, _ in bu.entries if status_of(bid) < REJECTED_FROM]
            if done:
                events += self.bul.end(hoa, peer, None if not sent else done, "deregistered", time=t, frame=f)
            return events
        accepted_any = False
        for bid, coa in bu.entries:
            key = BulKey(hoa, peer, bid)
            status = status_of(bid)
            if status < REJECTED_FROM:
                accepted_any = True
                events += self.bul.accept(key, coa, time=t, frame=f, status=status, lifetime=lifetime,
                                          seq=seq)
            else:
                events += self.bul.reject(key, coa, time=t, frame=f, status=status)
        if accepted_any and overwrite_flag(bu):
            events += self.bul.end_orphans(hoa, peer, time=t, frame=f)
        if accepted_any and (overwrite_flag(bu) or not bu.bids):
            mine = {bid for bid, _ in bu.entries}
            stale: list[int | None] = [k.bid for k in self.bul.keys_of(hoa, peer) if k.bid not in mine]
            if stale:
                events += self.bul.end(hoa, peer, stale, "overwritten", time=t, frame=f)
        return events

    def _learn_prefixes(self, bu: PendingBU, results: list[BidResult]) -> None:
        """NEMO: an accepted BU's Mobile Network Prefix options route that prefix to the MR."""
        if not any(r.accepted for r in results):
            return
        for option in bu.message.options:
            if isinstance(option, MobileNetworkPrefix):
                self.prefixes.setdefault((bu.key.node, bu.key.hoa), set()).add(
                    f"{option.prefix}/{option.prefix_length}")
                self.prefix_version += 1
