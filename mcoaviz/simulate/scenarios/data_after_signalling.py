"""Deliberate violations that only data *after* signalling shows (issue 15): the rules compare a
BU/BA with the tunnelled traffic that follows it, so each needs a capture with both and the time
between them (data within 1 s of the BA is in flight and not judged).

Four interfaces (BID 1..4), the MN's own registrations, and data injected as the simulator's
ordinary 6in6 tunnel packets (MN CoA <-> HA), each a truth violation at its frame:

* BU from CoA 1 moves BID 1 to CoA 2 while BID 2 holds CoA 2: two live BIDs on one CoA
  (MCOA320, at the BA); the MN keeps tunnelling from CoA 1 (MCOA324);
* BU from CoA 4 (never registered) whose BID 4 option names another address; the HA then
  tunnels to CoA 4, the BU's source (MCOA620);
* Lifetime-0 BU without BID option (removes every binding); data still from CoA 3 (MCOA321);
* regular (no BID) binding from CoA 1; data also from CoA 2; the MN refreshes the regular
  binding for CoA 1 (MCOA323, at that BU);
* (RFC 5648) the HA handles the home-link H-flag BU as a legacy RFC 6275 HA (CoA = HoA deletes
  every binding) and answers without BID option (MCOA301); data still from the foreign CoA 1
  (MCOA322).

The receiver discards data from unbound CoAs, which MCOA602 (tunnel from an unregistered CoA)
and MCOA607 (traffic to an unregistered CoA) also report as warnings; the truth lists them too,
so the sample has no finding outside its truth file.
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.encode import binding_identifier, binding_update, ip6ip6, ipv6_packet, udp_datagram
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation, Transmission
from mcoaviz.simulate.network import TrafficMeta
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import CN_ADDRESS, coa, standard, steady_traffic

ELSEWHERE = coa(4, 0x200)  # the address BID 4's option names (no interface holds it)


@scenario(
    "data-after-signalling-violations",
    title="Deliberate violations shown by data after signalling (BID moved, wiped bindings, BU source)",
    section="§3, §5.1, §5.3, §5.5, §6.3; RFC 5648 §6.2, §6.3",
    look_at="`mcoaviz check` lists MCOA320/324 (BID 1 moved onto CoA 2, data still from CoA 1), MCOA620 "
    "(HA tunnels to a BU's source), MCOA321 (data after a de-registration without BID), MCOA323 "
    "(regular binding refreshed while CoA 2 is in use) and, RFC 5648, MCOA322 at the truth file's frames",
    dialects=(Dialect.RFC5648, Dialect.DRAFT05),
)
def data_after_signalling_violations(sim: Simulation) -> float:
    net = standard(sim, interfaces=4, cns=1)
    mn, ha, cn = net.mn, net.ha, net.cn
    assert cn is not None
    mn.auto_refresh = False  # the phases below are the only BUs
    sim.at(1.0, lambda: mn.register([1, 2, 3], bulk=True))

    def tunnel_from(bid: int, rule: str, section: str, description: str, *,
                    unregistered: bool = True) -> None:
        """A reverse-tunnelled datagram HoA -> CN from the interface of ``bid`` (6in6 to the HA)."""
        iface = mn.iface_of_bid(bid)
        assert iface.address is not None
        inner = ipv6_packet(mn.hoa, CN_ADDRESS, 17, udp_datagram(mn.hoa, CN_ADDRESS, 5001, 5001, bytes(96)))
        tx = sim.network.send(iface, ha.uplink, ip6ip6(iface.address, ha.address, inner), kind="data",
                              traffic=TrafficMeta(ha.address, mn.hoa, None, "from-mn", "tunnel"),
                              on_arrival=lambda p, _i: ha.forward_from_mn(inner, CN_ADDRESS, p))
        violate(tx, section, description, rule)
        if unregistered and rule != "MCOA602":  # the HA holds other bindings, none for this CoA
            violate(tx, "9.3.2", "reverse-tunnelled data from a CoA the HA holds no binding for", "MCOA602")

    def violate(tx: Transmission, section: str, description: str, rule: str) -> None:
        sim.truth.violation(tx, section, description, rule)

    def mark_next_ba(when: float, since: list[int], section: str, description: str, rule: str) -> None:
        """At ``when``, mark the HA's first BA sent after transmission index ``since[0]``."""
        def mark() -> None:
            for tx in sim.transmissions[since[0]:]:
                if tx.kind == "BA" and tx.sender == ha.name:
                    violate(tx, section, description, rule)
                    return
        sim.at(when, mark)

    # MCOA320 + MCOA324: BID 1 moved onto CoA 2 (held by BID 2) by a BU from CoA 1
    def move_bid1() -> None:
        if1 = mn.iface_of_bid(1)
        coa2 = mn.iface_of_bid(2).address
        assert if1.address is not None and coa2 is not None
        spec = MobilitySpec(binding_update(mn.next_seq(ha), 400, "A", "H"), if1.address, ha.address,
                            (binding_identifier(1, coa2, dialect=sim.dialect, bid_type=sim.bid_type),),
                            hao=mn.hoa)
        moved[0] = len(sim.transmissions)
        mn.send_raw(spec, if1, ha.uplink)

    moved = [0]
    sim.at(10.0, move_bid1)
    mark_next_ba(10.8, moved, "5.1", "BID 1 and BID 2 both bound to CoA 2", "MCOA320")
    sim.at(12.0, lambda: tunnel_from(1, "MCOA324", "5.1", "data still from CoA 1 after BID 1 moved"))

    # MCOA620: a BU from CoA 4 (never registered) whose BID 4 option names ELSEWHERE; the HA
    # then tunnels the MN's traffic to the BU's source instead of the registered CoA
    def bu_for_elsewhere() -> None:
        if4 = mn.iface_of_bid(4)
        assert if4.address is not None
        spec = MobilitySpec(binding_update(mn.next_seq(ha), 400, "A", "H"), if4.address, ha.address,
                            (binding_identifier(4, ELSEWHERE, dialect=sim.dialect, bid_type=sim.bid_type),),
                            hao=mn.hoa)
        mn.send_raw(spec, if4, ha.uplink)

    def tunnel_to_source() -> None:
        if4 = mn.iface_of_bid(4)
        assert if4.address is not None
        inner = ipv6_packet(CN_ADDRESS, mn.hoa, 17, udp_datagram(CN_ADDRESS, mn.hoa, 5001, 5001, bytes(80)))
        tx = sim.network.send(ha.uplink, if4, ip6ip6(ha.address, if4.address, inner), kind="data",
                              traffic=TrafficMeta(ha.address, mn.hoa, 4, "to-mn", "tunnel"))
        violate(tx, "6.3", "HA tunnels to the BU's source, not the BID option's CoA", "MCOA620")
        violate(tx, "6.3", "traffic to a CoA the HA holds no binding for", "MCOA607")

    sim.at(14.0, bu_for_elsewhere)
    sim.at(16.0, tunnel_to_source)

    # MCOA321: a Lifetime-0 BU without BID option removes every binding; CoA 3 still tunnels
    sim.at(20.0, lambda: mn.deregister(None, via=2))
    sim.at(22.0, lambda: tunnel_from(3, "MCOA321", "5.5", "data from CoA 3 after a BID-less de-registration"))

    # MCOA323: a regular binding for CoA 1, data also from CoA 2, then a refresh for CoA 1 only
    regular = [0]

    def regular_bu() -> None:
        regular[0] = len(sim.transmissions)
        mn.register_regular(1)

    sim.at(25.0, lambda: mn.register_regular(1))  # replaces nothing: the HA holds no binding
    sim.at(27.0, lambda: tunnel_from(2, "MCOA602", "9.3.2", "data from CoA 2 beside the regular binding"))
    sim.at(29.0, regular_bu)

    def mark_refresh() -> None:
        for tx in sim.transmissions[regular[0]:]:
            if tx.kind == "BU" and tx.sender == mn.name:
                violate(tx, "5.3", "regular binding refreshed while CoA 2 is also in use", "MCOA323")
                return

    sim.at(29.5, mark_refresh)

    # MCOA322 (RFC 5648): BID bindings again, then the H-flag BU from home answered without BID
    sim.at(32.0, lambda: mn.register([1, 2, 3], bulk=True))
    sim.at(36.0, lambda: mn.attach_home("if3"))
    if sim.dialect is Dialect.RFC5648:  # the HA handles this one BU as a legacy RFC 6275 HA would:
        # CoA = HoA deletes every binding, and its BA carries no BID option (RFC §6.3, I-10)
        sim.at(36.4, lambda: setattr(ha.policy, "mcoa", False))
        sim.at(37.0, lambda: setattr(ha.policy, "mcoa", True))
        home_bu = [0]
        sim.at(36.45, lambda: home_bu.__setitem__(0, len(sim.transmissions)))
        mark_next_ba(36.9, home_bu, "6.2", "home registration acknowledged without BID", "MCOA301")
    sim.at(36.5, lambda: mn.return_home_simultaneous("if3"))
    if sim.dialect is Dialect.RFC5648:
        sim.at(39.0, lambda: tunnel_from(1, "MCOA322", "6.3", "foreign CoA 1 used after a BID-less home BA",
                                         unregistered=False))
    steady_traffic(sim, net, start=2.0, end=9.0, rate=2.0)
    steady_traffic(sim, net, start=33.0, end=35.5, rate=2.0)
    return 42.0
