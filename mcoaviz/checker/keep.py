"""Which signalling packets a history rule reads (``Rule.packets``), so the streaming checker keeps
only those until the end (issue 8: memory that does not grow with the signalling).

A declaration is a set of *needs*, each a name for a set of packets decided as they arrive:

* a packet kind (``packet_kind``): every Mobility Header message of a type ("BU", "BA", "BRR",
  "CoTI", ...), every ICMPv6 message of a kind ("ND" = NS/NA, "RA", "RS", "MPD" = Mobile Prefix
  Solicitation/Advertisement, "ICMPv6" = the rest) or "IKE";
* a kind narrowed by what the message itself says (``MESSAGE_NEEDS``), e.g. "BA-rejecting";
* the BU and BA of an answered BU whose outcome says so (``ANSWER_NEEDS``), e.g.
  "answer-rejected", decided when the engine emits the outcome.

``tests/checker/test_rule_reads.py`` runs every rule on a context that holds only the packets
its needs keep and refuses to hand out any other (``context.StrictPackets``): it must find
exactly what it finds with every packet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from dissector.records import BindingAck, BindingUpdate, IPv4AddressAck, NATDetection, Packet
from mcoaviz.engine.events import BindingUpdateProcessed

ICMP_KINDS = {133: "RS", 134: "RA", 135: "ND", 136: "ND", 146: "MPD", 147: "MPD"}


def packet_kind(packet: Packet) -> str:
    """The kind a declaration names a signalling packet by."""
    mh = packet.mobility
    if mh is not None:
        return mh.type_name
    if packet.icmp6 is not None:
        return ICMP_KINDS.get(packet.icmp6.type, "ICMPv6")
    return "IKE" if packet.ike is not None else "other"


def _ba(packet: Packet) -> BindingAck | None:
    mh = packet.mobility
    return mh.body if mh is not None and isinstance(mh.body, BindingAck) else None


def _bu(packet: Packet) -> BindingUpdate | None:
    mh = packet.mobility
    return mh.body if mh is not None and isinstance(mh.body, BindingUpdate) else None


def _rejecting_ba(packet: Packet) -> bool:
    """A BA whose Status or a BID option's Status is a rejection (>= 128)."""
    ba = _ba(packet)
    return ba is not None and (ba.status >= 128 or any(b.status >= 128 for b in packet.mobility.bids))  # type: ignore[union-attr]


def _dsmip_ba(packet: Packet) -> bool:
    """A BA carrying a NAT Detection or IPv4 Address Acknowledgement option."""
    return _ba(packet) is not None and any(isinstance(o, NATDetection | IPv4AddressAck)
                                           for o in packet.mobility.options)  # type: ignore[union-attr]


def _home_bu(packet: Packet) -> bool:
    """A BU with a BID option carrying the H flag (returning home)."""
    return _bu(packet) is not None and any(b.home_flag for b in packet.mobility.bids)  # type: ignore[union-attr]


def _bu_to_correspondent(packet: Packet) -> bool:
    """A BU without the header's H flag: to a correspondent node."""
    bu = _bu(packet)
    return bu is not None and "H" not in bu.flags


def _bu_from_home_link(packet: Packet) -> bool:
    """A BU sent untunnelled from the home address itself (no Home Address option)."""
    path = packet.path
    return _bu(packet) is not None and path.tunnel is None and path.home_address_option is None


def _bu_source_not_bid_coa(packet: Packet) -> bool:
    """A BU (not UDP-encapsulated) whose source is not one of its BID options' CoAs (MCOA620)."""
    mh = packet.mobility
    if _bu(packet) is None or packet.path.tunnel == "udp" or not packet.path.src:
        return False
    coas = {b.coa for b in mh.bids}  # type: ignore[union-attr]
    return any(coas) and packet.path.src not in coas


def _ipv4_bu(packet: Packet) -> bool:
    """A BU with a BID option carrying an IPv4 care-of address (Length 8)."""
    return _bu(packet) is not None and any(b.coa is not None and b.length == 8
                                           for b in packet.mobility.bids)  # type: ignore[union-attr]


def _k_bu(packet: Packet) -> bool:
    """A BU with the K flag (its IKE SA moves with the CoA)."""
    bu = _bu(packet)
    return bu is not None and "K" in bu.flags


def _rejected(p: BindingUpdateProcessed, bu: Packet, ba: Packet) -> bool:
    """The outcome has a rejection: the BA's Status or a BID's effective status >= 128."""
    return (p.ba_status is not None and p.ba_status >= 128) \
        or any(r.status is not None and r.status >= 128 for r in p.results)


def _home(p: BindingUpdateProcessed, bu: Packet, ba: Packet) -> bool:
    return _home_bu(bu)


def _legacy(p: BindingUpdateProcessed, bu: Packet, ba: Packet) -> bool:
    """A BID BU answered by a BA without BID option (I-10)."""
    return p.legacy_receiver


def _natted(p: BindingUpdateProcessed, bu: Packet, ba: Packet) -> bool:
    return any(isinstance(o, NATDetection) for o in ba.mobility.options)  # type: ignore[union-attr]


def _no_coa_bid(p: BindingUpdateProcessed, bu: Packet, ba: Packet) -> bool:
    """A registration (not a de-registration) in which the peer accepted a BID option without
    care-of address (Length 4)."""
    if p.deregistration:
        return False
    no_coa = {b.bid for b in bu.mobility.bids if b.coa is None and b.length == 4}  # type: ignore[union-attr]
    return bool(no_coa) and any(r.bid in no_coa and r.accepted for r in p.results)


# needs decided by the message alone: (the kind it narrows, the test)
MESSAGE_NEEDS: dict[str, tuple[str, Callable[[Packet], bool]]] = {
    "BA-rejecting": ("BA", _rejecting_ba),
    "BA-dsmip": ("BA", _dsmip_ba),
    "BU-home": ("BU", _home_bu),
    "BU-to-CN": ("BU", _bu_to_correspondent),
    "BU-from-home-link": ("BU", _bu_from_home_link),
    "BU-source-not-coa": ("BU", _bu_source_not_bid_coa),
    "BU-ipv4": ("BU", _ipv4_bu),
    "BU-K": ("BU", _k_bu),
}
# needs decided by an answered BU's outcome: both its packets are kept
ANSWER_NEEDS: dict[str, Callable[[BindingUpdateProcessed, Packet, Packet], bool]] = {
    "answer-rejected": _rejected,
    "answer-home": _home,
    "answer-legacy": _legacy,
    "answer-nat": _natted,
    "answer-no-coa": _no_coa_bid,
}
# needs with a little state of their own (O(home addresses)), kept by ``Keeper``:
# "BU-after-rejected": every BU from a home address after an outcome for it had a rejection
# (the MN's reaction to it: MCOA311, 317); "BU-first-of-hoa": the first BU of each home address
# (MCOA314); "after-dsmip": every BU once a BA with DSMIPv6 options was seen (MCOA709);
# "after-IKE": every BU and BA, and the BU of an answer, once an IKE message was seen (MCOA1002)
STATEFUL_NEEDS = {"BU-after-rejected": ("BU",), "BU-first-of-hoa": ("BU",), "after-dsmip": ("BU",),
                  "after-IKE": ("BU", "BA")}


def kinds_of(needs: Iterable[str]) -> frozenset[str]:
    """The packet kinds a declaration reads at all (narrowed or not): a rule asking for a packet
    of another kind reads something it did not declare."""
    kinds: set[str] = set()
    for need in needs:
        if need in MESSAGE_NEEDS:
            kinds.add(MESSAGE_NEEDS[need][0])
        elif need in ANSWER_NEEDS:
            kinds.update(("BU", "BA"))
        elif need in STATEFUL_NEEDS:
            kinds.update(STATEFUL_NEEDS[need])
        else:
            kinds.add(need)
    return frozenset(kinds)


def _hoa(packet: Packet) -> str | None:
    return packet.path.home_address_option or packet.path.src


class Keeper:
    """Decides, for a union of declarations, which packets to keep: as each is observed
    (``keeps``), and the BU and BA of each answered BU when its outcome comes (``keeps_answer``)."""

    def __init__(self, needs: Iterable[str]) -> None:
        needs = frozenset(needs)
        self.needs = needs
        self.kinds = frozenset(n for n in needs if n not in MESSAGE_NEEDS and n not in ANSWER_NEEDS
                               and n not in STATEFUL_NEEDS)
        self._messages = tuple(MESSAGE_NEEDS[n][1] for n in sorted(needs) if n in MESSAGE_NEEDS)
        self._answers = tuple(ANSWER_NEEDS[n] for n in sorted(needs) if n in ANSWER_NEEDS)
        self._after_rejected = "BU-after-rejected" in needs
        self._first_of_hoa = "BU-first-of-hoa" in needs
        self._after_dsmip = "after-dsmip" in needs
        self._after_ike = "after-IKE" in needs
        self.rejected_hoas: set[str] = set()  # home addresses with a rejected outcome so far
        self.hoas_seen: set[str] = set()  # home addresses whose first BU went by
        self.dsmip_seen = False
        self.ike_seen = False

    @property
    def judges_answers(self) -> bool:
        return bool(self._answers) or self._after_rejected or self._after_ike or self._after_dsmip

    def keeps(self, packet: Packet) -> bool:
        kind = packet_kind(packet)
        keep = kind in self.kinds or any(need(packet) for need in self._messages)
        if kind == "BU":
            hoa = _hoa(packet)
            if self._first_of_hoa and hoa is not None and hoa not in self.hoas_seen:
                self.hoas_seen.add(hoa)
                keep = True
            keep = keep or (self._after_rejected and hoa in self.rejected_hoas) or self.dsmip_seen \
                or self.ike_seen
        elif kind == "BA":
            if self._after_dsmip and not self.dsmip_seen and _dsmip_ba(packet):
                self.dsmip_seen = True
            keep = keep or self.ike_seen
        elif kind == "IKE" and self._after_ike:
            self.ike_seen = True
        return keep

    def keeps_answer(self, p: BindingUpdateProcessed, bu: Packet, ba: Packet) -> bool:
        if self._after_rejected and _rejected(p, bu, ba):
            self.rejected_hoas.add(p.key.hoa)
        return self.ike_seen or (self._after_dsmip and self.dsmip_seen) \
            or any(need(p, bu, ba) for need in self._answers)


def kept_frames(needs: Iterable[str], packets: Mapping[int, Packet],
                answered: Iterable[tuple[BindingUpdateProcessed, Packet, Packet]]) -> frozenset[int]:
    """The frames a streaming checker keeps for ``needs`` (tests: what a rule may read): the
    packets in frame order, each answered BU's outcome right after its BA, as the checker sees
    them."""
    keeper = Keeper(needs)
    by_ba: dict[int, list[tuple[BindingUpdateProcessed, Packet, Packet]]] = {}
    for answer in answered:
        by_ba.setdefault(answer[2].frame, []).append(answer)
    frames: set[int] = set()
    for frame in sorted(packets):
        if keeper.keeps(packets[frame]):
            frames.add(frame)
        for p, bu, ba in by_ba.get(frame, ()):
            if keeper.keeps_answer(p, bu, ba):
                frames.update((bu.frame, ba.frame))
    return frozenset(frames)


__all__ = ["ANSWER_NEEDS", "MESSAGE_NEEDS", "STATEFUL_NEEDS", "Keeper", "kept_frames", "kinds_of",
           "packet_kind"]
