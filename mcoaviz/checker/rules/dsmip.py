"""MCOA7xx: DSMIPv6 applicability (draft §8, RFC 5648 §8): IPv4 care-of and home addresses."""

from __future__ import annotations

import math
from collections.abc import Iterator

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
from mcoaviz.checker.rules._common import carried, ipv4_bid_carried, packet_hit
from mcoaviz.engine import events as ev


def _ipv4_bids(packet: Packet | None) -> tuple[BindingIdentifier, ...]:
    if packet is None or packet.mobility is None:
        return ()
    return tuple(b for b in packet.mobility.bids if b.coa is not None and b.length == 8)


def _new_to(ctx: HistoryContext, hoa: str | None, coa: str | None, frame: int) -> bool:
    """No binding with (HoA, CoA), claimed IPv4 CoAs included, started before ``frame``."""
    return ctx.first_started_frame.get((hoa or "", coa or ""), 1 << 62) >= frame


def ipv4_first_registration_in_bulk(ctx: HistoryContext) -> list[Hit]:
    """What: a bulk BU that registers an IPv4 care-of address the home agent never held before.
    Why: draft §8.1 "The bulk registration MUST NOT be used for the first binding update of the
    IPv4 care-of address"; RFC §8.1 the same.
    Example: bulk BU with BID 1 (IPv6 CoA) and BID 2 (IPv4 CoA 192.0.2.7, new) -> finding.
    """
    hits: list[Hit] = []
    if not ipv4_bid_carried(ctx):
        return hits
    for m in ctx.bu_seen:
        if len(m.bids) < 2:
            continue
        for b in _ipv4_bids(ctx.packet(m.frame)):
            if _new_to(ctx, m.hoa, b.coa, m.frame):
                hits.append(Hit(f"IPv4 care-of address {b.coa} (BID {b.bid}) is first registered in a bulk "
                                "BU.", m.frame, m.time, m.hoa, b.bid, b.dialect, key=str(b.bid)))
    return hits


def ipv4_first_registration_not_udp(ctx: HistoryContext) -> list[Hit]:
    """What: the first BU registering an IPv4 care-of address was not sent over IPv4/UDP to the
    home agent's IPv4 address.
    Why: draft §8.1 "The Binding Update MUST be sent to the IPv4 home agent address by using UDP
    and IPv4 headers as shown in Figure 6" (and "If the mobile node sends a BU from IPv4 care-of
    address, it MUST follows the Figure 6"); RFC §8.1, Figure 9.
    Example: BU from IPv6 CoA with BID 2 (IPv4 CoA, new), no UDP encapsulation -> finding.
    """
    hits: list[Hit] = []
    if not ipv4_bid_carried(ctx):
        return hits
    for m in ctx.bu_seen:
        packet = ctx.packet(m.frame)
        if packet is None or packet.path.tunnel == "udp":
            continue
        for b in _ipv4_bids(packet):
            if _new_to(ctx, m.hoa, b.coa, m.frame):
                hits.append(Hit(f"First BU for IPv4 care-of address {b.coa} (BID {b.bid}) was not sent over "
                                "IPv4/UDP.", m.frame, m.time, m.hoa, b.bid, b.dialect, key=str(b.bid)))
    return hits


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


def _acks(ctx: HistoryContext) -> Iterator[tuple[ev.BindingUpdateProcessed, Packet, Packet]]:
    yield from ctx.answered


def bulk_after_nat(ctx: HistoryContext) -> list[Hit]:
    """What: the MN bulk-registers an IPv4 care-of address after the home agent reported a NAT
    (NAT Detection option) for it.
    Why: draft §8.1 "Whenever the NAT detection option is found, the mobile node MUST NOT use the
    bulk registration for the IPv4 care-of address"; RFC §8.1 only implies it (warning).
    Example: BU BID 2 (IPv4) -> BA with NAT Detection -> bulk BU with BID 2 -> finding.
    """
    if not carried(ctx, NATDetection):
        return []
    natted: dict[tuple[str, str], tuple[int, set[int], set[str]]] = {}
    for p, bu, ba in _acks(ctx):
        if any(isinstance(o, NATDetection) for o in ba.mobility.options):  # type: ignore[union-attr]
            v4 = _ipv4_bids(bu)
            entry = natted.setdefault((p.key.hoa, p.key.node), (ba.frame, set(), set()))
            entry[1].update(b.bid for b in v4)
            entry[2].update(b.coa for b in v4 if b.coa)
            if bu.path.outer_src and "." in bu.path.outer_src:
                entry[2].add(bu.path.outer_src)
    hits = []
    for m in ctx.bu_seen:
        found = natted.get((m.hoa or "", m.peer or ""))
        if found is None or m.frame <= found[0] or len(m.bids) < 2:
            continue
        for b in _ipv4_bids(ctx.packet(m.frame)):
            if b.bid in found[1] or b.coa in found[2]:
                hits.append(Hit(f"IPv4 care-of address {b.coa} (BID {b.bid}) is bulk-registered after NAT "
                                f"was detected (frame {found[0]}).", m.frame, m.time, m.hoa, b.bid,
                                b.dialect, key=str(b.bid)))
    return hits


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


def ipv4_hoa_option_dropped(ctx: HistoryContext) -> list[Hit]:
    """What: after the home agent assigned an IPv4 home address A (IPv4 Address Acknowledgement
    with a success status), a later registering BU of the same home address to that HA omits the
    IPv4 Home Address option while IPv4 traffic from A continues after it.
    Why: draft §8.2 "the mobile node MUST include the IPv4 home address option in the Binding
    Update"; RFC §8.2 "for any purposes". Traffic from A after the BU shows the MN still holds A.
    Example: BU with IPv4 HoA -> BA with IPv4AA 203.0.113.9 -> BU without the option (frame 3) ->
    UDP from 203.0.113.9 -> finding at 3.
    """
    assigned: dict[tuple[str, str], tuple[str, int]] = {}  # (HA, HoA) -> (IPv4 HoA, BA frame)
    hits: list[Hit] = []
    if not carried(ctx, IPv4AddressAck):  # nothing was ever assigned
        return hits
    for p in ctx.of(ev.BindingUpdateProcessed):
        if p.role != "home-agent":
            continue
        bu, ba = ctx.packet(p.bu_frame), ctx.packet(p.ba_frame)
        pair = (p.key.node, p.key.hoa)
        if bu is not None and bu.mobility is not None and not p.deregistration and pair in assigned \
                and not any(isinstance(o, IPv4HomeAddress) for o in bu.mobility.options):
            address, at = assigned[pair]
            if ctx.ipv4_hoa_last.get(address, -math.inf) > bu.time:
                hits.append(Hit(f"BU omits the IPv4 Home Address option although {address} was assigned "
                                f"(BA frame {at}) and traffic from it continues.", bu.frame, bu.time,
                                p.key.hoa, None, ctx.dialect_of(p.bu_frame)))
        if ba is not None and ba.mobility is not None:
            for o in ba.mobility.options:
                if isinstance(o, IPv4AddressAck) and o.status < 128:
                    assigned[pair] = (o.address, ba.frame)
    return hits
