"""Deliberate home-link and IKEv2 violations (issue 15 B): what only a capture of the home link,
several capture points or timing can show.

Figure 11 topology b (another router on the home link, so the HA answers RETURNHOME WO/NDP),
with these misbehaviours, each a truth violation at its frame:

* the HA accepts the first registration without DAD (6275 §10.3.1, draft §6.3): MCOA409;
* the HA runs DAD for the home address while it holds bindings (draft §6.3): MCOA410;
* the MN uses one IKE SA from a second CoA without a K-flag BU (§9.1): MCOA1001;
* the MN de-registers the IKE SA's CoA without K and keeps using ESP without a new IKE_SA_INIT
  (§9.1): MCOA1002;
* the MN drops the IPv4 HoA option while it keeps using the assigned IPv4 HoA (§8.2): MCOA709;
* the MN pings from its home address before the H-flag BA (§5.6.3): MCOA413;
* (RFC 5648) the HA solicits the home address although the H-flag BU gave the MN's MAC (§6.3):
  MCOA418;
* the HA leaves the router's NS for the home address unanswered after RETURNHOME (§5.6.3): MCOA411;
* the MN solicits the router from its home address after RETURNHOME (§5.6.3): MCOA412.

A second scenario (draft-05 only) breaks §5.6.1 and §5.6.2: MCOA414, MCOA415. A third has the
HA answer 0 beside another router (MCOA408) and the MN then do ND for its home address (MCOA419).
A fourth breaks RETURNHOME WO/NDP in data frames: router R delivers home-address data straight to
the MN's MAC (MCOA420) and the MN sends off-link data to a MAC that is no router (MCOA421).
"""

from __future__ import annotations

import struct
from dataclasses import replace

from dissector.codepoints import Dialect
from dissector.encode import (
    binding_identifier,
    binding_update,
    echo,
    ipv4_packet,
    ipv6_packet,
    neighbor_solicitation,
    solicited_node,
    udp_datagram,
)
from dissector.ike import IKE_AUTH, IKE_PORT, INFORMATIONAL, IkeHeaderLayout
from dissector.records import BindingAck, BindingIdentifier, BindingUpdate, IPv4HomeAddress
from mcoaviz.simulate.home_router import LINK_LOCAL as ROUTER_LINK_LOCAL
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation, Transmission
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import mark_first, standard, steady_traffic

IPV4_HOA = "198.51.100.100"  # what the simulated HA assigns for a 0.0.0.0 request
CN_IPV4 = "192.0.2.80"
IKE_SPIS = (0x6D636F6176697A01, 0x6D636F6176697A02)  # the IKE SA the MN set up with the HA


def _ike(exchange: int, message_id: int) -> bytes:
    """An IKEv2 request from the original initiator (I flag), header only (no payloads)."""
    return bytes(IkeHeaderLayout(initiator_spi=IKE_SPIS[0], responder_spi=IKE_SPIS[1], next_payload=0,
                                 exchange_type=exchange, flags=0x08, message_id=message_id, length=28))


@scenario(
    "home-link-violations",
    title="Deliberate home-link and IKEv2 violations (DAD, proxy ND, HoA before the BA, IKE CoA)",
    section="§5.6.3, §6.3, §9.1; RFC 6275 §10.3.1",
    look_at="`mcoaviz check` lists MCOA409-413, MCOA418 (RFC), MCOA709, MCOA1001 and MCOA1002 at the truth "
    "file's frames",
    dialects=(Dialect.RFC5648, Dialect.DRAFT05),
)
def home_link_violations(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1, home_router=True)
    mn, ha, cn, router = net.mn, net.ha, net.cn, net.router
    assert cn is not None and router is not None
    ha.policy.only_router = False  # router R serves the home link too: RETURNHOME WO/NDP
    ha.policy.dad = False  # MCOA409: no DAD before the first registration
    mn.ipv4_hoa_request = True  # the HA assigns IPV4_HOA in its first BA (RFC 5555)
    sim.at(0.5, router.advertise)
    sim.at(1.0, lambda: mn.register(bulk=True))
    mark_first(sim, 3.0, lambda tx: tx.kind == "BA" and tx.sender == ha.name, "6.3",
               "first registration accepted without DAD on the home link", "MCOA409")

    def dad_while_bound() -> None:  # MCOA410: the HA holds three bindings for the HoA
        tx = ha.duplicate_address_detection(mn.hoa)
        sim.truth.violation(tx, "6.3", "DAD for the home address while bindings exist", "MCOA410")

    sim.at(4.0, dad_while_bound)

    def ike_from(name: str, exchange: int, message_id: int) -> Transmission:
        iface = mn.interfaces[name]
        assert iface.address is not None
        datagram = udp_datagram(iface.address, ha.address, IKE_PORT, IKE_PORT, _ike(exchange, message_id))
        return sim.network.send(iface, ha.uplink, ipv6_packet(iface.address, ha.address, 17, datagram),
                                kind="ike")

    sim.at(2.0, lambda: ike_from("if1", IKE_AUTH, 1))

    def ike_moves() -> None:  # MCOA1001: the same IKE SA from CoA 2, no BU with K moved it
        tx = ike_from("if2", INFORMATIONAL, 2)
        sim.truth.violation(tx, "9.1", "IKE SA used from a second care-of address without K", "MCOA1001")

    sim.at(6.0, ike_moves)

    # MCOA1002: the IKE SA's CoA (CoA 2 since t=6) is de-registered without K, ESP goes on from
    # CoA 1 and no new IKE_SA_INIT follows
    sim.at(8.0, lambda: mn.deregister([2], via=1))
    mark_first(sim, 8.5, lambda tx: tx.kind == "BA" and tx.sender == ha.name and tx.intent is not None
               and isinstance(tx.intent.body, BindingAck) and tx.intent.body.lifetime == 0, "9.1",
               "IKE care-of address de-registered without K, IKEv2 not re-run", "MCOA1002")

    def esp_from_coa1() -> None:
        iface = mn.interfaces["if1"]
        assert iface.address is not None
        packet = ipv6_packet(iface.address, ha.address, 50, struct.pack("!II", 0x15B0, 1) + bytes(48))
        sim.network.send(iface, ha.uplink, packet, kind="esp")

    sim.at(9.0, esp_from_coa1)

    # MCOA709: the HA assigned an IPv4 home address at t=1; the BU at t=9.5 drops the request
    # while the MN keeps sending from that address (IPv4 in IPv6 from CoA 1)
    def drop_ipv4_hoa() -> None:
        mn.ipv4_hoa_request = False
        mn.register([1], bulk=False)

    sim.at(9.5, drop_ipv4_hoa)
    mark_first(sim, 9.8, lambda tx: tx.kind == "BU" and tx.sender == mn.name and tx.intent is not None
               and isinstance(tx.intent.body, BindingUpdate) and tx.intent.body.lifetime > 0
               and not any(isinstance(o, IPv4HomeAddress) for o in tx.intent.options), "8.2",
               "BU without the IPv4 HoA option while the assigned IPv4 HoA is in use", "MCOA709")

    def ipv4_from_hoa() -> None:
        iface = mn.interfaces["if1"]
        assert iface.address is not None
        inner = ipv4_packet(IPV4_HOA, CN_IPV4, 17, udp_datagram(IPV4_HOA, CN_IPV4, 5001, 5001, bytes(64)))
        sim.network.send(iface, ha.uplink, ipv6_packet(iface.address, ha.address, 4, inner), kind="data")

    sim.at(10.0, ipv4_from_hoa)

    sim.at(12.0, lambda: mn.attach_home("if3"))

    def home_bu_then_ping() -> None:  # MCOA413: the HoA in use before the H-flag BA
        mn.return_home_simultaneous("if3")
        home = mn.interfaces["if3"]

        def ping() -> None:
            packet = ipv6_packet(mn.hoa, cn.address, 58, echo(True, 0x15B, 1))
            tx = sim.network.send(home, ha.home, packet, kind="data")
            sim.truth.violation(tx, "5.6.3", "data from the home address before the H-flag BA", "MCOA413")

        def solicit_hoa() -> None:  # MCOA418 (RFC): the BU gave the MN's MAC in its MH-LLA option
            group = solicited_node(mn.hoa)
            body = neighbor_solicitation(mn.hoa, ha.home.mac)
            tx = sim.network.multicast(ha.home, group, ipv6_packet(ha.link_local(), group, 58, body,
                                                                   hop_limit=255), kind="nd")
            if sim.dialect is Dialect.RFC5648:  # draft-05 BUs carry no MH-LLA option
                sim.truth.violation(tx, "6.3", "HA solicits the HoA despite the BU's MH-LLA", "MCOA418")

        sim.after(0.0001, ping)
        sim.after(0.0002, solicit_hoa)

    sim.at(12.5, home_bu_then_ping)

    def unanswered_ns() -> None:  # MCOA411: the HA's proxy ND is off for this one NS
        original = ha.proxy_neighbor_advertisement
        setattr(ha, "proxy_neighbor_advertisement", lambda *_args, **_kw: None)  # noqa: B010
        tx = router.resolve(mn.hoa)
        sim.truth.violation(tx, "5.6.3", "NS for the home address unanswered after RETURNHOME", "MCOA411")
        sim.after(0.5, lambda: setattr(ha, "proxy_neighbor_advertisement", original))

    sim.at(14.0, unanswered_ns)

    def solicit_router() -> None:  # MCOA412: the MN resolves its router from the home address
        home = mn.interfaces["if3"]
        group = solicited_node(ROUTER_LINK_LOCAL)
        body = neighbor_solicitation(ROUTER_LINK_LOCAL, home.mac)
        packet = ipv6_packet(mn.hoa, group, 58, body, hop_limit=255)
        tx = sim.network.multicast(home, group, packet, kind="nd")
        sim.truth.violation(tx, "5.6.3", "NS from the home address after RETURNHOME", "MCOA412")

    sim.at(16.0, solicit_router)
    steady_traffic(sim, net, start=2.0, end=24.0, rate=3.0)
    return 26.0


@scenario(
    "return-home-links-violations",
    title="Deliberate violations of which link de-registers what when returning home (draft §5.6.1, §5.6.2)",
    section="§5.6.1, §5.6.2",
    look_at="BID 3 de-registered from the home address while BIDs 1-2 stay (MCOA415); everything "
    "de-registered from the home link, then a first BU to the CN from CoA 1 (MCOA414)",
    dialects=(Dialect.DRAFT05,),  # RFC 5648 dropped both sentences (§5.5.1, §5.5.2)
)
def return_home_links_violations(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn, cn = net.mn, net.cn
    assert cn is not None
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(10.0, lambda: mn.attach_home("if3"))
    # §5.6.2: the home interface's binding MUST be removed from a foreign interface, not from home
    sim.at(10.5, lambda: mn.deregister([3], via=3))
    mark_first(sim, 11.0, lambda tx: tx.kind == "BU" and tx.sender == mn.name and tx.intent is not None
               and tx.intent.src == mn.hoa, "5.6.2", "home interface's BID de-registered from the home link",
               "MCOA415")
    sim.at(14.0, lambda: mn.return_home_deregister_all("if3"))  # §5.6.1 from the home link

    def late_cn_bu() -> None:  # §5.6.1: CN bindings for the foreign interfaces come too late
        iface = mn.interfaces["if1"]
        assert iface.address is not None
        spec = MobilitySpec(binding_update(mn.next_seq(cn), 400, "A"), iface.address, cn.address,
                            (binding_identifier(1, dialect=sim.dialect),), hao=mn.hoa)
        mn.send_raw(spec, iface, cn.iface, deliver=False,
                    violation=("5.6.1", "first BU to the CN after returning home", "MCOA414"))

    sim.at(16.0, late_cn_bu)
    steady_traffic(sim, net, start=2.0, end=20.0, rate=3.0)
    return 22.0


@scenario(
    "other-router-nd-violations",
    title="Deliberate violation: status 0 although another router serves the home link, and the MN's ND",
    section="§5.6.3; RFC 5648 §5.6.2, §6.3",
    look_at="router R advertises the home prefix; the HA answers the H-flag BU with 0 instead of "
    "RETURNHOME (MCOA408) and the MN then advertises its home address by ND (MCOA419)",
)
def other_router_nd_violations(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1, home_router=True)
    mn, ha, router = net.mn, net.ha, net.router
    assert router is not None
    ha.policy.only_router = False
    sim.at(0.5, router.advertise)
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(10.0, lambda: mn.attach_home("if3"))

    def accepted(spec: MobilitySpec) -> MobilitySpec:  # status 0 in the BA and every BID option
        assert isinstance(spec.body, BindingAck)
        options = tuple(replace(o, status=0) if isinstance(o, BindingIdentifier) else o for o in spec.options)
        return replace(spec, body=replace(spec.body, status=0), options=options)

    sim.at(10.5, lambda: ha.mangle_next(
        "BA", accepted, violation=("5.6.3", "status 0 although router R serves the home link", "MCOA408")))
    sim.at(10.5, lambda: mn.return_home_simultaneous("if3"))

    def mark_mn_na() -> None:  # ND has no MobilitySpec intent, so mark_first does not see it
        for tx in sim.transmissions:
            frame = tx.first.data if tx.first is not None else b""
            # Ethernet + IPv6 without extension headers: the ICMPv6 type is byte 54
            if tx.kind == "nd" and tx.sender == mn.name and len(frame) > 54 and frame[54] == 136:
                sim.truth.violation(tx, "5.6.3", "MN does ND for its home address beside router R", "MCOA419")
                return

    sim.at(11.5, mark_mn_na)
    steady_traffic(sim, net, start=2.0, end=16.0, rate=3.0)
    return 18.0


STRAY_MAC = bytes.fromhex("02005e0e0099")  # a home-link host that is no router (it never sends an RA)


@scenario(
    "returnhome-data-violations",
    title="Deliberate violations of RETURNHOME WO/NDP in data frames: router R reaches the MN's MAC "
    "directly, the MN sends off-link data to a MAC that is no router",
    section="§5.6.3; RFC 5648 §5.6.2, §5.6.4",
    look_at="after the RETURNHOME BA, router R's frame to the home address addressed to the MN's MAC "
    "(MCOA420) and the MN's frame to the CN addressed to a host's MAC (MCOA421), each sent twice: one "
    "finding per episode at the truth frame",
    dialects=(Dialect.RFC5648, Dialect.DRAFT05),
)
def returnhome_data_violations(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1, home_router=True)
    mn, ha, cn, router = net.mn, net.ha, net.cn, net.router
    assert cn is not None and router is not None
    ha.policy.only_router = False  # router R serves the home link too: RETURNHOME WO/NDP
    sim.at(0.5, router.advertise)
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(10.0, lambda: mn.attach_home("if3"))
    sim.at(10.5, lambda: mn.return_home_simultaneous("if3"))

    def udp(src: str, dst: str) -> bytes:
        return ipv6_packet(src, dst, 17, udp_datagram(src, dst, 5003, 5003, bytes(64)))

    def router_delivers(mark: bool) -> None:  # MCOA420: R resolved the HoA to the MN's MAC itself
        home = mn.interfaces["if3"]
        tx = sim.network.multicast(router.iface, mn.hoa, udp(cn.address, mn.hoa), kind="data",
                                   dst_mac=home.mac)
        if mark:
            sim.truth.violation(tx, "5.6.3", "router R delivers home-address data to the MN's MAC after "
                                "RETURNHOME (the HA did not intercept it)", "MCOA420")

    def to_stray_mac(mark: bool) -> None:  # MCOA421: next hop is a host, not the router it learned
        home = mn.interfaces["if3"]
        tx = sim.network.multicast(home, cn.address, udp(mn.hoa, cn.address), kind="data", dst_mac=STRAY_MAC)
        if mark:
            sim.truth.violation(tx, "5.6.3", "off-link data from the home address to a MAC that is no "
                                "router after RETURNHOME", "MCOA421")

    sim.at(12.0, lambda: router_delivers(True))
    sim.at(12.7, lambda: router_delivers(False))  # the same episode
    sim.at(13.0, lambda: to_stray_mac(True))
    sim.at(13.6, lambda: to_stray_mac(False))
    steady_traffic(sim, net, start=2.0, end=16.0, rate=3.0)
    return 18.0
