"""§9.2 / §9.3.1: messages the home agent must accept from *any* registered care-of address.

Both are normally ESP-protected (6275 §11.4.2, §5.2.5), so they are only judged where the capture
shows them in the clear or under ESP-NULL (the dissector decodes ESP-NULL; encrypted ESP leaves
no ICMPv6 or Mobility Header to read). One pass over the signalling packets, dictionary state
per (HA, HoA, CoA) / cookie: O(1) amortised per packet.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

from dissector.records import HomeTestInit, Packet
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit

MPS, MPA = 146, 147
# RFC 6275 §11.8/§12: the MN retransmits a Mobile Prefix Solicitation after INITIAL_SOLICIT_TIMER
# (3 s) without an answer, so an HA that has not answered by then has not answered that one
MPA_WAIT = 3.0
# RFC 6275 §11.8/§12: a HoTI is retransmitted after INITIAL_BINDACK_TIMEOUT (1 s); the HA forwards
# at once, so a copy beyond the HA later than that is not this HoTI being forwarded
HOTI_FORWARD_WAIT = 1.0


def _registered(ctx: HistoryContext, t: float, ha: str, hoa: str, coa: str) -> bool:
    """The HA held a binding of ``hoa`` with care-of address ``coa`` at ``t`` (engine's view)."""
    return any(k.node == ha and k.hoa == hoa for k, _c in ctx.held_at(t, coa=coa))


def _outer(p: Packet) -> tuple[str | None, str | None]:
    return (p.path.outer_src or p.path.src), (p.path.outer_dst or p.path.dst)


def _answered(sent: list[tuple[float, int | None]], t: float, ident: int | None) -> bool:
    """An MPA (time-sorted ``sent``) within MPA_WAIT of ``t`` whose Identifier matches (or is unknown)."""
    at = bisect_left(sent, t, key=lambda a: a[0])
    while at < len(sent) and sent[at][0] <= t + MPA_WAIT:
        if sent[at][1] is None or ident is None or sent[at][1] == ident:
            return True
        at += 1
    return False


def prefix_solicitation_unanswered(ctx: HistoryContext) -> list[Hit]:
    """What: a Mobile Prefix Solicitation (ICMPv6 146) from a care-of address the home agent has
    registered for the MN's home address gets no Mobile Prefix Advertisement (147) to that CoA
    within 3 s (INITIAL_SOLICIT_TIMER, after which the MN retransmits: RFC 6275 §11.8, §12).
    Only judged where the capture shows the solicitation (in the clear or ESP-NULL) and, at the
    same capture point, some packet from the HA to that CoA (so an answer would be visible), and
    the capture goes on for 3 s. An MPA with another Identifier does not answer it.
    Why: draft §9.2 "This document requires the home agent implementation to process the
    message as long as the source address is is one of the care-of addresses in the binding
    cache entry for the mobile node" (RFC §9.2: "with the same rules of data packets described
    in Section 6.5"); 6275 §10.6.2: the HA MUST send prefix information when "the mobile node
    requests the information with a Mobile Prefix Solicitation". An HA that answers only
    solicitations from the primary CoA drops the others.
    Example: BIDs 1, 2 bound; MPS from CoA 2 (HAO = HoA) -> no MPA to CoA 2 in 3 s -> finding at
    the MPS.
    """
    packets = [p for p in ctx.packets.values() if p.icmp6 is not None and p.icmp6.type in (MPS, MPA)]
    if not any(p.icmp6.type == MPS for p in packets):  # type: ignore[union-attr]
        return []
    # the MPAs' times per (HA, CoA); which capture points show the HA sending to a CoA is
    # ``ctx.visible`` (folded from every signalling packet)
    answers: dict[tuple[str, str], list[tuple[float, int | None]]] = defaultdict(list)
    for p in packets:
        src, dst = _outer(p)
        if p.icmp6 is not None and p.icmp6.type == MPA and src and dst:
            answers[(src, dst)].append((p.time, p.icmp6.identifier))
    for times in answers.values():
        times.sort(key=lambda a: a[0])
    end = ctx.capture_end
    judged: dict[tuple[str, str, str, int | None], float] = {}  # one MPS seen at several points
    hits = []
    for p in sorted(packets, key=lambda q: q.frame):
        icmp = p.icmp6
        coa, ha = _outer(p)
        hoa = p.path.home_address_option
        if icmp is None or icmp.type != MPS or not (coa and ha and hoa):
            continue
        key = (ha, hoa, coa, icmp.identifier)
        if key in judged and p.time - judged[key] < MPA_WAIT:
            continue
        judged[key] = p.time
        if not ctx.visible(p.interface, ha, coa) or p.time + MPA_WAIT > end \
                or not _registered(ctx, p.time, ha, hoa, coa):
            continue
        if _answered(answers.get((ha, coa), []), p.time, icmp.identifier):
            continue
        hits.append(Hit(f"Home agent {ha} sent no Mobile Prefix Advertisement to {coa} within {MPA_WAIT:g} s "
                        f"of its Mobile Prefix Solicitation, although {coa} is a registered care-of address "
                        f"of {hoa}.", p.frame, p.time, hoa, None, key=coa))
    return hits


def _hoti(p: Packet) -> bytes | None:
    body = p.mobility.body if p.mobility is not None else None
    return body.cookie if isinstance(body, HomeTestInit) else None


def tunnelled_hoti_not_forwarded(ctx: HistoryContext) -> list[Hit]:
    """What: a HoTI reverse-tunnelled to the home agent from a care-of address it has registered
    for the home address, with no forwarded copy (HoA -> CN, not tunnelled, the same cookie)
    beyond the HA within 1 s (INITIAL_BINDACK_TIMEOUT, the MN's retransmission interval: RFC
    6275 §11.8, §12). Judged only when the capture has a point beyond the HA: some capture
    point shows a HoTI or HoT between a home address and a correspondent outside any tunnel
    (what the HA forwards, or the HoT before the HA tunnels it); a capture of the MN's links only
    cannot see forwarding. The HoTI must be readable (clear or ESP-NULL) and the capture must
    go on for 1 s.
    Why: draft §9.3.1 "This document requires the home agent implementation to decapsulate and
    forward the HoTi message as long as the source address is one of the care-of addresses in
    the binding cache entry for the mobile node" (RFC §9.3.1 the same); an HA following RFC
    3775 alone forwards only HoTIs from the primary CoA.
    Example: BIDs 1, 2 bound; HoTI tunnelled from CoA 2 -> no HoA -> CN HoTI with its cookie
    within 1 s although other HoTIs are forwarded -> finding at the tunnelled HoTI.
    """
    tunnelled: list[Packet] = []
    forwarded: dict[tuple[str, str, bytes], list[float]] = defaultdict(list)  # (HoA, CN, cookie)
    beyond = False
    for p in ctx.packets.values():
        mh = p.mobility
        if mh is None or mh.type_name not in ("HoTI", "HoT"):
            continue
        if p.path.tunnel is None:
            beyond = True
            cookie = _hoti(p)
            if cookie is not None and p.path.src and p.path.dst:
                forwarded[(p.path.src, p.path.dst, cookie)].append(p.time)
        elif _hoti(p) is not None:
            tunnelled.append(p)
    if not beyond or not tunnelled:
        return []
    end = ctx.capture_end
    judged: set[tuple[str, str, bytes]] = set()  # one HoTI seen at several capture points
    hits = []
    for p in sorted(tunnelled, key=lambda q: q.frame):
        cookie = _hoti(p)
        hoa, cn, coa, ha = p.path.src, p.path.dst, p.path.outer_src, p.path.outer_dst
        if cookie is None or not (hoa and cn and coa and ha) or (hoa, cn, cookie) in judged:
            continue
        judged.add((hoa, cn, cookie))
        if p.time + HOTI_FORWARD_WAIT > end or not _registered(ctx, p.time, ha, hoa, coa):
            continue
        if any(p.time <= t <= p.time + HOTI_FORWARD_WAIT for t in forwarded.get((hoa, cn, cookie), ())):
            continue
        hits.append(Hit(f"Home agent {ha} did not forward the HoTI (cookie {cookie.hex()}) reverse-tunnelled "
                        f"from {coa}, a registered care-of address of {hoa}, to {cn} within "
                        f"{HOTI_FORWARD_WAIT:g} s.", p.frame, p.time, hoa, None, key=cookie.hex()))
    return hits
