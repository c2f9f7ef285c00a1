"""MCOA7xx: DSMIPv6 applicability (draft §8, RFC 5648 §8): IPv4 care-of and home addresses."""

from __future__ import annotations

import math
from typing import Any

from dissector.codepoints import Dialect
from dissector.records import (
    BindingAck,
    BindingIdentifier,
    IPv4AddressAck,
    IPv4CareOfAddress,
    IPv4HomeAddress,
    NATDetection,
    Packet,
)
from mcoaviz.checker.answers import AnswerReader, PerAnswer, PerOutcome
from mcoaviz.checker.context import HistoryContext, PacketContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, EventReader, PerKey
from mcoaviz.checker.rules._common import carried, ipv4_bid_carried, packet_hit
from mcoaviz.engine import events as ev

_STARTED = ev.BindingStarted
_SEEN = ev.MessageSeen


# the last packet asked and its IPv4 BIDs (MCOA701, 702 and 707 ask in turn for the same BU),
# one tuple replaced at once (held here, so no other packet can have the same identity)
_LAST_BIDS: list[tuple[Packet | None, tuple[BindingIdentifier, ...]]] = [(None, ())]


def _ipv4_bids(packet: Packet | None) -> tuple[BindingIdentifier, ...]:
    last, found = _LAST_BIDS[0]
    if packet is last:
        return found
    if packet is None or packet.mobility is None:
        return ()
    found = tuple(b for b in packet.mobility.bids if b.coa is not None and b.length == 8)
    _LAST_BIDS[0] = (packet, found)
    return found


class _FirstIpv4Registration:
    """MCOA701 / MCOA707: per (HoA, IPv4 CoA), the first frame of a binding the engine started
    with it (or with it as the claimed CoA), and the IPv4 BID options of the BUs the rule looks at
    that no binding started before yet. Bindings a BU the engine gave up on installs come later
    but carry the BU's frame (``events`` module): those BUs are judged at the end."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], int] = {}  # (HoA, IPv4 CoA) -> first started frame
        self.found: list[tuple[ev.MessageSeen, BindingIdentifier]] = []

    def looks_at(self, m: ev.MessageSeen, reader: EventReader) -> bool:
        raise NotImplementedError

    def _started(self, hoa: str, coa: str, frame: int) -> None:
        if coa and frame < self.first.get((hoa, coa), 1 << 62):
            self.first[(hoa, coa)] = frame

    def _new(self, hoa: str | None, coa: str | None, frame: int) -> bool:
        """No binding with (HoA, CoA), claimed IPv4 CoAs included, started before ``frame``."""
        return self.first.get((hoa or "", coa or ""), 1 << 62) >= frame

    def observe(self, e: Any, reader: EventReader) -> None:  # a BU sighting or a BindingStarted
        if e.__class__ is _STARTED:
            # only IPv4 CoAs are asked about (a Length-8 BID option's): IPv6 ones are not kept
            if ":" not in e.coa:
                self._started(e.key.hoa, e.coa, e.frame)
            claimed = e.claimed_coa
            if claimed and ":" not in claimed:
                self._started(e.key.hoa, claimed, e.frame)
            return
        if not e.bids or not self.looks_at(e, reader):
            return
        packet = reader.packet(e.frame)
        for b in _ipv4_bids(packet):
            if self._new(e.hoa, b.coa, e.frame):
                self.found.append((e, b))


class Ipv4FirstRegistrationInBulk(_FirstIpv4Registration):
    """What: a bulk BU that registers an IPv4 care-of address the home agent never held before.
    Why: draft §8.1 "The bulk registration MUST NOT be used for the first binding update of the
    IPv4 care-of address"; RFC §8.1 the same.
    Example: bulk BU with BID 1 (IPv6 CoA) and BID 2 (IPv4 CoA 192.0.2.7, new) -> finding.
    """

    def looks_at(self, m: ev.MessageSeen, reader: EventReader) -> bool:
        return len(m.bids) >= 2

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        if not ipv4_bid_carried(ctx):
            return []
        return [Hit(f"IPv4 care-of address {b.coa} (BID {b.bid}) is first registered in a bulk "
                    "BU.", m.frame, m.time, m.hoa, b.bid, b.dialect, key=str(b.bid))
                for m, b in self.found if self._new(m.hoa, b.coa, m.frame)]


ipv4_first_registration_in_bulk = PerKey(Ipv4FirstRegistrationInBulk, ev.MessageSeen, ev.BindingStarted,
                                         name="ipv4_first_registration_in_bulk", seen=BU_SIGHTINGS)


class Ipv4FirstRegistrationNotUdp(_FirstIpv4Registration):
    """What: the first BU registering an IPv4 care-of address was not sent over IPv4/UDP to the
    home agent's IPv4 address.
    Why: draft §8.1 "The Binding Update MUST be sent to the IPv4 home agent address by using UDP
    and IPv4 headers as shown in Figure 6" (and "If the mobile node sends a BU from IPv4 care-of
    address, it MUST follows the Figure 6"); RFC §8.1, Figure 9.
    Example: BU from IPv6 CoA with BID 2 (IPv4 CoA, new), no UDP encapsulation -> finding.
    """

    def looks_at(self, m: ev.MessageSeen, reader: EventReader) -> bool:
        packet = reader.packet(m.frame)
        return packet is not None and packet.path.tunnel != "udp"

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        if not ipv4_bid_carried(ctx):
            return []
        return [Hit(f"First BU for IPv4 care-of address {b.coa} (BID {b.bid}) was not sent over "
                    "IPv4/UDP.", m.frame, m.time, m.hoa, b.bid, b.dialect, key=str(b.bid))
                for m, b in self.found if self._new(m.hoa, b.coa, m.frame)]


ipv4_first_registration_not_udp = PerKey(Ipv4FirstRegistrationNotUdp, ev.MessageSeen, ev.BindingStarted,
                                         name="ipv4_first_registration_not_udp", seen=BU_SIGHTINGS)


@PerOutcome
def nat_not_reported(p: ev.BindingUpdateProcessed, ctx: AnswerReader) -> list[Hit]:
    """What: the home agent registered an IPv4 care-of address from behind a NAT (outer IPv4
    source differs from the address in the BID option) but its BA has no NAT Detection option.
    Why: draft §8.1 "When the home agent detects NAT for the received binding update, it MUST send
    the NAT detection option in the Binding Acknowledgment"; dropped from RFC 5648's text but
    RFC 5555 §4.2 still applies (warning). The NAT is the engine's conclusion (I-22).
    Example: BU over UDP from 203.0.113.5 with BID CoA 192.0.2.7 -> BA status 0, no NAT option.
    """
    # a claimed IPv4 CoA comes only from a BID option's (I-22)
    natted = [r for r in p.results if r.accepted and r.claimed_coa and r.coa and r.coa != r.claimed_coa
              and "." in r.claimed_coa]
    if not natted:
        return []
    ba = ctx.packet(p.ba_frame)
    if ba is None or ba.mobility is None or any(isinstance(o, NATDetection) for o in ba.mobility.options):
        return []
    r = natted[0]
    return [Hit(f"IPv4 care-of address {r.claimed_coa} (BID {r.bid}) was registered from behind "
                f"a NAT ({r.coa}) but the BA has no NAT Detection option.", ba.frame, ba.time,
                p.key.hoa, r.bid, ctx.dialect_of(p.bu_frame))]


class BulkAfterNat:
    """What: the MN bulk-registers an IPv4 care-of address after the home agent reported a NAT
    (NAT Detection option) for it.
    Why: draft §8.1 "Whenever the NAT detection option is found, the mobile node MUST NOT use the
    bulk registration for the IPv4 care-of address"; RFC §8.1 only implies it (warning).
    Example: BU BID 2 (IPv4) -> BA with NAT Detection -> bulk BU with BID 2 -> finding.
    """

    def __init__(self) -> None:
        # (HoA, HA) -> (frame of the first BA with NAT Detection, IPv4 BIDs, IPv4 CoAs reported)
        self.natted: dict[tuple[str, str], tuple[int, set[int], set[str]]] = {}
        # IPv4 BID options of bulk BUs after such a BA: judged at the end (later BAs add BIDs)
        self.found: list[tuple[ev.MessageSeen, tuple[str, str], BindingIdentifier]] = []

    def observe(self, e: Any, reader: EventReader) -> None:  # a BU sighting or an outcome
        if e.__class__ is _SEEN:
            if len(e.bids) < 2 or not self.natted:
                return
            pair = (e.hoa or "", e.peer or "")
            found = self.natted.get(pair)
            if found is not None and e.frame > found[0]:
                self.found.extend((e, pair, b) for b in _ipv4_bids(reader.packet(e.frame)))
            return
        if e.ba_frame is None:
            return
        ba = reader.packet(e.ba_frame)
        if ba is None or ba.mobility is None or not isinstance(ba.mobility.body, BindingAck) \
                or not any(isinstance(o, NATDetection) for o in ba.mobility.options):
            return
        bu = reader.packet(e.bu_frame)
        if bu is None or bu.mobility is None:  # not an answered BU (``HistoryContext.answered``)
            return
        v4 = _ipv4_bids(bu)
        entry = self.natted.setdefault((e.key.hoa, e.key.node), (ba.frame, set(), set()))
        entry[1].update(b.bid for b in v4)
        entry[2].update(b.coa for b in v4 if b.coa)
        if bu.path.outer_src and "." in bu.path.outer_src:
            entry[2].add(bu.path.outer_src)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits = []
        for m, pair, b in self.found:
            at, bids, coas = self.natted[pair]
            if b.bid in bids or b.coa in coas:
                hits.append(Hit(f"IPv4 care-of address {b.coa} (BID {b.bid}) is bulk-registered after NAT "
                                f"was detected (frame {at}).", m.frame, m.time, m.hoa, b.bid,
                                b.dialect, key=str(b.bid)))
        return hits


bulk_after_nat = PerKey(BulkAfterNat, ev.BindingUpdateProcessed, ev.MessageSeen, name="bulk_after_nat",
                        seen=BU_SIGHTINGS)


def ipv4_ack_after_bid(ctx: PacketContext) -> list[Hit]:
    """What: a BA whose IPv4 Address Acknowledgement option comes after a BID option.
    Why: draft §8.2 "this option MUST be presented before any BID options"; RFC §8.2 the same.
    Example: BA options [BID 1, IPv4AA] -> finding at the BA.
    """
    mh = ctx.packet.mobility
    if mh is None or not isinstance(mh.body, BindingAck) or not mh.bids:
        return []
    after_bid = False  # one pass over the options (this runs on every BA)
    for o in mh.options:
        if isinstance(o, BindingIdentifier):
            after_bid = True
        elif after_bid and isinstance(o, IPv4AddressAck):
            break
    else:
        return []
    return [packet_hit(ctx, "IPv4 Address Acknowledgement option follows a BID option; it must precede "
                       "them.", mh.bids[0])]


def _ipv4aa_case(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet) -> bool | None:
    """For a BA with an IPv4AA whose BU asked no IPv4 HoA: whether an IPv4 CoA was rejected;
    None for any other answer."""
    if not any(isinstance(o, IPv4AddressAck) for o in ba.mobility.options):  # type: ignore[union-attr]
        return None
    if any(isinstance(o, IPv4HomeAddress) for o in bu.mobility.options):  # type: ignore[union-attr]
        return None  # requested: presence is right (I-23)
    v4 = {b.bid for b in _ipv4_bids(bu)}
    return any(r.bid in v4 and r.status is not None and r.status >= 128 for r in p.results)


@PerAnswer
def ipv4_ack_without_request(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                             ctx: AnswerReader) -> list[Hit]:
    """What: a BA with an IPv4 Address Acknowledgement although the BU requested no IPv4 home
    address (and rejected no IPv4 CoA; that case is MCOA705).
    Why: draft §8.2 "The home agent MUST returns ... IPv4 address acknowledgment option ... only
    when a mobile node requests IPv4 home address mobility management"; RFC §8.2.
    Example: BU without IPv4 HoA option -> BA status 0 with IPv4AA -> finding at the BA.
    """
    if _ipv4aa_case(p, bu, ba) is False:
        return [Hit("BA carries an IPv4 Address Acknowledgement but the BU requested no IPv4 home address.",
                    ba.frame, ba.time, p.key.hoa, None, ctx.dialect_of(p.bu_frame))]
    return []


@PerAnswer
def ipv4_ack_while_rejecting_ipv4_coa(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                                      ctx: AnswerReader) -> list[Hit]:
    """What: a BA that rejects an IPv4 care-of address and carries an IPv4 Address Acknowledgement
    although no IPv4 home address was requested.
    Why: draft §8.1 "In this case, the IPv4 address acknowledgment option MUST NOT be included";
    RFC §8.1 SHOULD NOT (warning). With an IPv4 HoA request both are allowed (I-23).
    Example: BU BID 2 (IPv4 CoA) -> BA with BID 2 status 129 and an IPv4AA -> finding at the BA.
    """
    if _ipv4aa_case(p, bu, ba):
        return [Hit("BA rejecting an IPv4 care-of address carries an IPv4 Address Acknowledgement; the "
                    "error belongs in the BID option.", ba.frame, ba.time, p.key.hoa, None,
                    ctx.dialect_of(p.bu_frame))]
    return []


def ipv4_coa_option_with_bid(ctx: PacketContext) -> list[Hit]:
    """What: a BU that carries both a BID option and an IPv4 Care-of Address option (type 32).
    Why: RFC §8.1 "the IPv4 Care-of Address option MUST NOT be used" with the BID option (error);
    draft §8.1 says the BID option is used "instead of" it (warning).
    Example: BU with BID 1 (Length 8) and an IPv4 CoA option -> finding at the BU.
    """
    mh = ctx.message
    if ctx.bu is None or not mh.bids:  # type: ignore[union-attr]
        return []
    if not any(isinstance(o, IPv4CareOfAddress) for o in mh.options):  # type: ignore[union-attr]
        return []
    return [packet_hit(ctx, "BU carries an IPv4 Care-of Address option beside BID option(s).",
                       mh.bids[0])]  # type: ignore[union-attr]




RFC5555_STATUSES = frozenset({0, 128, 129, 130, 131, 132, 133})  # RFC 5555 §3.2.1
RFC5648 = Dialect.RFC5648.value  # a plain str (an enum's .value is a property call)


def _ipv4_hoa_registration(p: ev.BindingUpdateProcessed, bu: Packet) -> bool:
    """An RFC 5648 registration (Lifetime > 0) that requested an IPv4 home address."""
    return p.dialect == RFC5648 and not p.deregistration \
        and any(isinstance(o, IPv4HomeAddress) for o in bu.mobility.options)  # type: ignore[union-attr]


@PerAnswer
def ipv4_address_ack_missing(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                             ctx: AnswerReader) -> list[Hit]:
    """What: (RFC 5648) a BA to a registration carrying the IPv4 Home Address option has no IPv4
    Address Acknowledgement option.
    Why: RFC §8.2 "The home agent MUST always include the IPv4 Address Acknowledgement mobility
    option in the Binding Acknowledgement for the IPv4 home address registration". (Draft §8.2
    only says "only when"; I-23.)
    Example: BU with IPv4 HoA option and BID 1 -> BA 0 with BID 1 only -> finding at the BA.
    """
    if _ipv4_hoa_registration(p, bu) \
            and not any(isinstance(o, IPv4AddressAck) for o in ba.mobility.options):  # type: ignore[union-attr]
        return [Hit("BA to an IPv4 home address registration carries no IPv4 Address Acknowledgement.",
                    ba.frame, ba.time, p.key.hoa, None, Dialect.RFC5648)]
    return []


@PerAnswer
def ipv4_address_ack_foreign_status(p: ev.BindingUpdateProcessed, bu: Packet, ba: Packet,
                                    ctx: AnswerReader) -> list[Hit]:
    """What: (RFC 5648) an IPv4 Address Acknowledgement whose Status is not one of RFC 5555's
    (0, 128-133), e.g. an MCoA status copied from the BA or a BID option.
    Why: RFC §8.2 "The Status field of the IPv4 Address Acknowledgement option contains only the
    error code defined in Section 3.2.1 of [RFC5555]": it has its own status.
    Example: BA status 4 with an IPv4AA status 164 -> finding at the BA.
    """
    if not _ipv4_hoa_registration(p, bu):
        return []
    return [Hit(f"IPv4 Address Acknowledgement carries status {o.status}, not an RFC 5555 "
                "code (0, 128-133).", ba.frame, ba.time, p.key.hoa, None, Dialect.RFC5648)
            for o in ba.mobility.options  # type: ignore[union-attr]
            if isinstance(o, IPv4AddressAck) and o.status not in RFC5555_STATUSES]


class Ipv4HoaOptionDropped:
    """What: after the home agent assigned an IPv4 home address A (IPv4 Address Acknowledgement
    with a success status), a later registering BU of the same home address to that HA omits the
    IPv4 Home Address option while IPv4 traffic from A continues after it.
    Why: draft §8.2 "the mobile node MUST include the IPv4 home address option in the Binding
    Update"; RFC §8.2 "for any purposes". Traffic from A after the BU shows the MN still holds A.
    Example: BU with IPv4 HoA -> BA with IPv4AA 203.0.113.9 -> BU without the option (frame 3) ->
    UDP from 203.0.113.9 -> finding at 3.
    """

    def __init__(self) -> None:
        self.assigned: dict[tuple[str, str], tuple[str, int]] = {}  # (HA, HoA) -> (IPv4 HoA, BA frame)
        # registering BUs without the option after an assignment: (IPv4 HoA, BA frame, BU frame,
        # BU time, HoA); whether traffic from the address continued after is known at the end
        self.dropped: list[tuple[str, int, int, float, str]] = []

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        if p.role != "home-agent":
            return
        pair = (p.key.node, p.key.hoa)
        if pair in self.assigned and not p.deregistration:
            bu = reader.packet(p.bu_frame)
            if bu is not None and bu.mobility is not None \
                    and not any(isinstance(o, IPv4HomeAddress) for o in bu.mobility.options):
                address, at = self.assigned[pair]
                self.dropped.append((address, at, bu.frame, bu.time, p.key.hoa))
        ba = reader.packet(p.ba_frame)
        if ba is not None and ba.mobility is not None:
            for o in ba.mobility.options:
                if isinstance(o, IPv4AddressAck) and o.status < 128:
                    self.assigned[pair] = (o.address, ba.frame)

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        hits: list[Hit] = []
        if not carried(ctx, IPv4AddressAck):  # nothing was ever assigned
            return hits
        for address, at, frame, time, hoa in self.dropped:
            if ctx.ipv4_hoa_last.get(address, -math.inf) > time:
                hits.append(Hit(f"BU omits the IPv4 Home Address option although {address} was assigned "
                                f"(BA frame {at}) and traffic from it continues.", frame, time,
                                hoa, None, ctx.dialect_of(frame)))
        return hits


ipv4_hoa_option_dropped = PerKey(Ipv4HoaOptionDropped, ev.BindingUpdateProcessed,
                                 name="ipv4_hoa_option_dropped")
