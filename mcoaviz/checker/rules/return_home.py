"""MCOA4xx: returning home with the H (simultaneous home and foreign binding) flag.

Draft-05 (§5.6.3): a Lifetime-0 BU from the home link with H=0x20 in the BID option. RFC 5648
(§5.6.3): a Lifetime>0 BU with H=0x80 and CoA field = HoA. ND ownership after the BA comes from
the engine's ``HomeNdOwner`` events.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dissector.codepoints import BAStatus
from dissector.records import BindingIdentifier, BindingUpdate, LinkLayerAddress, Packet
from mcoaviz.checker.answers import AnswerReader, PerOutcome
from mcoaviz.checker.context import HistoryContext, PacketContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import EventReader, PerKey
from mcoaviz.checker.rules._common import is_draft, packet_hit, same_prefix64
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey

RETURNHOME = int(BAStatus.MCOA_RETURNHOME_WO_NDP)
MAX_RTR_ADV_INTERVAL = 600.0  # s, RFC 4861 §6.2.1 default: the longest gap between two RAs


def _home_bids(ctx: PacketContext) -> tuple[BindingIdentifier, ...]:
    if ctx.bu is None:
        return ()
    return tuple(b for b in ctx.packet.mobility.bids if b.home_flag)  # type: ignore[union-attr]


def home_bu_not_from_home_link(ctx: PacketContext) -> list[Hit]:
    """What: a BU with the BID option's H flag that was not sent from the home link (its source
    is outside the home address's /64, or it is tunnelled / UDP-encapsulated).
    Why: draft §5.6.3 "The mobile node sends a de-registration binding update to the home agent
    from the interface attached to the home link"; RFC §5.6.3 (the MN is attached to the home
    link). No keyword, and "home link" is inferred from the /64, hence a warning.
    Example: BU from CoA 2001:db8:2::5 with HAO, BID H flag -> warning at the BU.
    """
    bids = _home_bids(ctx)
    path = ctx.packet.path
    if not bids or (path.tunnel is None and same_prefix64(ctx.hoa, path.src)):
        return []
    return [packet_hit(ctx, f"BU with the H flag for BID {bids[0].bid} was sent from {path.src}, not "
                       "from the home link.", bids[0])]


def draft_home_flag_with_lifetime(ctx: PacketContext) -> list[Hit]:
    """What: (draft-05) a BU with the H flag in a BID option and a non-zero Lifetime.
    Why: draft §5.6.3: the H flag goes in "a de-registration binding update" (Lifetime 0); the
    RFC later changed this to a registration (§5.6.3).
    Example: draft BU Lifetime 400, BID flags H -> warning at the BU.
    """
    bu = ctx.bu
    return [packet_hit(ctx, f"BID {b.bid} sets H in a BU with Lifetime {bu.lifetime}; draft-05 uses a "
                       "de-registration (Lifetime 0).", b)
            for b in _home_bids(ctx) if is_draft(b) and bu is not None and bu.lifetime != 0]


def rfc_home_flag_with_zero_lifetime(ctx: PacketContext) -> list[Hit]:
    """What: (RFC 5648) a BU with the H flag in a BID option and Lifetime 0.
    Why: RFC §5.6.3 "the Lifetime field MUST be set to a non-zero value" for the home binding.
    I-16: first suspect a draft-05 capture decoded as RFC (draft C uses the same bit).
    Example: RFC BU Lifetime 0, BID flags byte 0x80 -> finding at the BU.
    """
    bu = ctx.bu
    return [packet_hit(ctx, f"BID {b.bid} sets H in a BU with Lifetime 0; RFC 5648 requires a "
                       "registration (or this is a draft-05 C flag).", b)
            for b in _home_bids(ctx) if not is_draft(b) and bu is not None and bu.lifetime == 0]


def rfc_home_coa_not_hoa(ctx: PacketContext) -> list[Hit]:
    """What: (RFC 5648) a registering BU with the H flag whose CoA field is not the home address.
    Why: RFC §5.6.3 "the care-of address field MUST be set to the home address" (I-15).
    Example: RFC BU Lifetime 400, BID H with CoA 2001:db8:2::5 (HoA 2001:db8:1::5) -> finding.
    """
    bu = ctx.bu
    return [packet_hit(ctx, f"BID {b.bid} sets H but its care-of address field is {b.coa or 'absent'}, "
                       f"not the home address {ctx.hoa}.", b)
            for b in _home_bids(ctx)
            if not is_draft(b) and bu is not None and bu.lifetime != 0 and b.coa != ctx.hoa]


# ----------------------------------------------------------------------- history rules


@dataclass(frozen=True, slots=True)
class HomeOutcome:
    """What the returning-home rules keep of the outcome of an H-flag BU (rare): the facts they
    read of its BU and BA packets, taken as the outcome arrives (the packets are not kept)."""

    p: ev.BindingUpdateProcessed
    bu_frame: int
    bu_time: float
    bu_mac: bytes | None  # the mobile node's home-link MAC: the BU frame's source
    home: tuple[int, ...]  # the BIDs with the H flag
    lla: bool  # an RFC BU carrying a Mobility Header Link-Layer Address option (MCOA418)
    ba: tuple[int, float, bytes | None] | None  # the captured BA: (frame, time, source MAC)


_LAST: list[Any] = [None, None, None]  # (outcome, reader, its HomeOutcome): see ``home_outcome``


def home_outcome(p: ev.BindingUpdateProcessed, reader: EventReader) -> HomeOutcome | None:
    """The outcome's ``HomeOutcome`` when its BU had a BID option with the H flag, else None.
    Six rules ask about every outcome, one after the other: the last answer is remembered (the
    same event read through the same reader is the same answer; ``forget_home_outcome``)."""
    last = _LAST
    if last[0] is p and last[1] is reader:  # both held here: their ids cannot be reused meanwhile
        return last[2]
    found = last[2] = _home_outcome(p, reader)
    last[0], last[1] = p, reader
    return found


def forget_home_outcome() -> None:
    """Drop the remembered answer (each rule's ``hits``: the reader, a context or the streaming
    checker's, is not held past the analysis)."""
    _LAST[:] = [None, None, None]


def _home_outcome(p: ev.BindingUpdateProcessed, reader: EventReader) -> HomeOutcome | None:
    bu = reader.packet(p.bu_frame)
    if bu is None or bu.mobility is None:
        return None
    for b in bu.mobility.bids:
        if b.flags_byte & 0xA0:  # H in either dialect (RFC 0x80, draft 0x20) may be set
            break
    else:
        return None  # the usual BU: no need to look closer
    home = _home_flag_bids(bu)
    if not home:
        return None
    ba = reader.packet(p.ba_frame)
    mh = bu.mobility
    lla = mh is not None and not is_draft(mh.bids[0]) and any(isinstance(o, LinkLayerAddress)
                                                            for o in mh.options)
    return HomeOutcome(p, bu.frame, bu.time, bu.path.mac_src, home, lla,
                       None if ba is None else (ba.frame, ba.time, ba.path.mac_src))


def _home_flag_bids(bu: Packet | None) -> tuple[int, ...]:
    """The BIDs with the H flag of a Binding Update packet (none for anything else)."""
    if bu is None or bu.mobility is None or not isinstance(bu.mobility.body, BindingUpdate):
        return ()
    return tuple(b.bid for b in bu.mobility.bids if b.home_flag)


@PerOutcome
def home_unexpected_status(p: ev.BindingUpdateProcessed, ctx: AnswerReader) -> list[Hit]:
    """What: the HA accepted an H-flag BU with a status other than 0 or MCOA RETURNHOME WO/NDP.
    Why: draft §5.6.3 "it MUST store one of two status values such as [Binding Update Accepted
    (0)] [MCOA RETURNHOME WO/NDP]"; RFC §6.3 (0 or 5; 169 to refuse). Either place (BA Status or
    BID Status) is accepted (I-18).
    Example: H BU -> BA status 1 -> finding at the BA.
    """
    if p.ba_frame is None:
        return []
    home = _home_flag_bids(ctx.packet(p.bu_frame))
    if not home:
        return []
    return [Hit(f"Home agent answered the H-flag BU for BID {r.bid} with status {r.status}, "
                "not 0 or MCOA RETURNHOME WO/NDP (5).", p.ba_frame, p.time, p.key.hoa,
                r.bid, ctx.dialect_of(p.bu_frame))
            for r in p.results
            if r.bid in home and r.status is not None and r.status < 128
            and r.status not in (BAStatus.ACCEPTED, BAStatus.MCOA_RETURNHOME_WO_NDP)]


def _nd_from_mn(ctx: HistoryContext, hoa: str, mn_mac: bytes | None, lo: int, hi: int) -> Iterator[Packet]:
    """NS/NA about ``hoa`` sent by the mobile node between frames lo and hi (exclusive)."""
    for pkt in ctx.nd_by_target.get(hoa, ()):  # NS / NA about ``hoa``, in frame order
        if not lo < pkt.frame < hi:
            continue
        by_mn = pkt.path.mac_src == mn_mac if (mn_mac and pkt.path.mac_src) else pkt.path.src == hoa
        if by_mn:
            yield pkt


class AnsweredHomeOutcomes:
    """A state that keeps the answered H-flag outcomes (rare) as ``HomeOutcome`` facts and
    judges them at the end against what the capture shows of the home link."""

    def __init__(self) -> None:
        self.home: list[HomeOutcome] = []

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        if p.ba_frame is not None and (home := home_outcome(p, reader)) is not None:
            self.home.append(home)


class NdBeforeHomeAck(AnsweredHomeOutcomes):
    """What: the mobile node sends a Neighbor Solicitation or Advertisement for its home address
    after its H-flag BU and before the BA.
    Why: draft §5.6.3 "MUST NOT attempt NDP operations for the home address before the completion
    of binding de-registration. It MUST NOT send and reply to Neighbor Solicitation"; RFC §5.6.3.
    The MN is recognised by the BU frame's source MAC (else by source = home address).
    Example: H BU (frame 1), NA for the HoA from the MN (frame 2), BA (frame 3) -> finding at 2.
    """

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        forget_home_outcome()
        hits: list[Hit] = []
        if not ctx.nd_by_target:  # no ND in the capture: nothing to find (a cost only where ND is)
            return hits
        for h in self.home:
            p = h.p
            for pkt in _nd_from_mn(ctx, p.key.hoa, h.bu_mac, h.bu_frame, p.ba_frame or 0):
                hits.append(Hit("Mobile node did Neighbor Discovery for its home address before the home "
                                "agent acknowledged the H-flag BU.", pkt.frame, pkt.time, p.key.hoa,
                                h.home[0], ctx.dialect_of(h.bu_frame)))
        return hits


nd_before_home_ack = PerKey(NdBeforeHomeAck, ev.BindingUpdateProcessed, name="nd_before_home_ack",
                            packets=frozenset({"BU-home", "ND"}))


class Window:
    """An ND-ownership window after MCOA RETURNHOME WO/NDP: from the home agent's RETURNHOME
    (``o``) to the next ND-owner change for the home address or the home binding's end."""

    __slots__ = ("end", "ha_mac", "next_frame", "o")

    def __init__(self, o: ev.HomeNdOwner, ha_mac: bytes | None) -> None:
        self.o = o
        self.ha_mac = ha_mac  # the RETURNHOME BA frame's source MAC (the HA's on the home link)
        self.end = math.inf  # the next ND-owner change's time or a later end of the binding
        self.next_frame = 1 << 62  # the frame of the next ND-owner change for the home address


class ReturnhomeWindows:
    """The RETURNHOME windows, kept as the ND-owner changes (and binding ends, when fed) arrive:
    a per-key state the returning-home rules share (each has its own)."""

    def __init__(self) -> None:
        self.windows: list[Window] = []  # in processing order
        self.rank: dict[str, int] = {}  # HoA -> order of its first ND-owner change
        self.last: dict[str, Window | None] = {}  # HoA -> its latest change's window (None: not one)
        self.by_key: dict[BindingKey, list[Window]] = {}

    def observe_window(self, e: ev.HomeNdOwner | ev.BindingEnded, reader: EventReader) -> None:
        if isinstance(e, ev.BindingEnded):
            for w in self.by_key.get(e.key, ()):
                if e.time > w.o.time:
                    w.end = min(w.end, e.time)
            return
        hoa = e.key.hoa
        self.rank.setdefault(hoa, len(self.rank))
        prev = self.last.get(hoa)
        if prev is not None:  # the change right after a RETURNHOME closes its window
            prev.end = min(prev.end, e.time)
            prev.next_frame = e.frame or 1 << 62
        if e.owner == "home-agent" and e.status == RETURNHOME:
            ba = reader.packet(e.frame)  # the BA the change came with
            w = Window(e, ba.path.mac_src if ba is not None else None)
            self.windows.append(w)
            self.by_key.setdefault(e.key, []).append(w)
            self.last[hoa] = w
        else:
            self.last[hoa] = None

    def by_home_address(self) -> list[Window]:
        """The windows grouped by home address (in the order of their first ND-owner change),
        each group in processing order."""
        return sorted(self.windows, key=lambda w: self.rank[w.o.key.hoa])


class NdAfterReturnhome(ReturnhomeWindows):
    """What: the mobile node sends NS/NA for its home address while the home agent owns ND after
    MCOA RETURNHOME WO/NDP (5).
    Why: draft §4.3 "When a mobile node returns home, it MUST NOT use NDP for the home address on
    the home link" and §5.6.3; RFC §4.4, §5.6.4.
    Example: H BU -> BA 5 (frame 2) -> NA for the HoA from the MN (frame 3) -> finding at 3.
    """

    def __init__(self) -> None:
        super().__init__()
        self.macs: dict[str, bytes | None] = {}  # HoA -> source MAC of its latest H-flag BU

    def observe(self, e: ev.BindingUpdateProcessed | ev.HomeNdOwner, reader: EventReader) -> None:
        if isinstance(e, ev.HomeNdOwner):
            self.observe_window(e, reader)
        elif (home := home_outcome(e, reader)) is not None:
            self.macs[e.key.hoa] = home.bu_mac

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        forget_home_outcome()
        if not ctx.nd_by_target:
            return []
        hits = []
        for w in self.windows:  # until the next ND-owner change
            o = w.o
            if o.frame is None:
                continue
            hoa = o.key.hoa
            for pkt in _nd_from_mn(ctx, hoa, self.macs.get(hoa), o.frame, w.next_frame):
                hits.append(Hit("Mobile node did Neighbor Discovery for its home address after MCOA "
                                f"RETURNHOME WO/NDP (frame {o.frame}).", pkt.frame, pkt.time, hoa, o.key.bid,
                                ctx.dialect_of(o.frame)))
        return hits


nd_after_returnhome = PerKey(NdAfterReturnhome, ev.BindingUpdateProcessed, ev.HomeNdOwner,
                             name="nd_after_returnhome", packets=frozenset({"BU-home", "ND"}))


class NotOnlyRouterAllowedNd:
    """What: the home agent answered an H-flag BU with 0 (ND allowed) although another router
    advertises the home prefix on the home link: an RA from it before the BA, or within
    MAX_RTR_ADV_INTERVAL (600 s) after it.
    Why: draft §5.6.3 "if the home agent is not the only router, it MUST continue defending the
    home address by proxy NDP ... returns [MCOA RETURNHOME WO/NDP]"; RFC §6.3 "Only if the home
    agent is the only router in the home link MAY it ... respond with the [Binding Update
    Accepted] status". Routers send unsolicited RAs 200-600 s apart (RFC 4861 §6.2.1 defaults), so a
    router present at the BA may show itself only after it. Routers are told apart by source MAC:
    the HA's is the BA frame's.
    Example: H BU, BA status 0, then an RA for the home /64 from another router -> finding at the BA.
    """

    def __init__(self) -> None:
        self.allowed: list[tuple[HomeOutcome, int]] = []  # (H-flag answer with status 0, its BID)

    def observe(self, p: ev.BindingUpdateProcessed, reader: EventReader) -> None:
        home = home_outcome(p, reader)
        if home is None or home.ba is None or home.ba[2] is None:
            return
        allowed = [r for r in p.results if r.bid in home.home and r.status == 0]
        if allowed:
            self.allowed.append((home, allowed[0].bid))  # type: ignore[arg-type]

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        forget_home_outcome()
        hits: list[Hit] = []
        if not ctx.ra_packets:  # no router advertised anything
            return hits
        for home, bid in self.allowed:
            p = home.p
            ba_frame, ba_time, ha_mac = home.ba  # type: ignore[misc]
            other = next((ra for ra in ctx.ra_packets
                          if (ra.frame < ba_frame or ra.time - ba_time <= MAX_RTR_ADV_INTERVAL)
                          and ra.path.mac_src and ra.path.mac_src != ha_mac
                          and any(same_prefix64(pfx.split("/")[0], p.key.hoa)
                                  for pfx in ra.icmp6.prefixes)), None)  # type: ignore[union-attr]
            if other is not None:
                hits.append(Hit(f"Home agent allowed ND (status 0) for the home address although another "
                                f"router advertises the home link (RA frame {other.frame}).", ba_frame,
                                ba_time, p.key.hoa, bid, ctx.dialect_of(p.bu_frame)))
        return hits


not_only_router_allowed_nd = PerKey(NotOnlyRouterAllowedNd, ev.BindingUpdateProcessed,
                                    name="not_only_router_allowed_nd", packets=frozenset({"BU-home", "RA"}))
