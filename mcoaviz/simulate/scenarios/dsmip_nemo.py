"""DSMIPv6 (draft §8) with an IPv4 care-of address behind a NAT, and NEMO (draft §7)."""

from __future__ import annotations

from dissector.encode import ipv6_packet, udp_datagram
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.node import Node
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import router_mac, standard, steady_traffic

MNP = "2001:db8:77::/48"
MNP_HOST = "2001:db8:77::10"


@scenario(
    "dsmipv6-nat",
    title="IPv4 care-of address over UDP 4191 behind a NAT, with an IPv6 CoA",
    section="§8.1, §8.2; RFC 5555 §4",
    look_at="BU for BID 2 from 10.0.0.23 over IPv4/UDP 4191 (BID Length 8, IPv4 HoA request); the "
    "NAT rewrites it to 203.0.113.7:40000; the BA carries IPv4AA then NAT Detection (F) "
    "then the BID; traffic for BID 2 is UDP-encapsulated (decode with -d udp.port==4191,ipv6)",
    esp=True,
)
def dsmipv6_nat(sim: Simulation) -> float:
    net = standard(sim, interfaces=2, cns=2, ipv4_interface=2, nat=True)
    mn = net.mn
    mn.ipv4_hoa_request = True
    sim.at(1.0, lambda: mn.register(bulk=True))
    steady_traffic(sim, net, start=2.0, end=20.0, rate=6.0, cn_index=1)
    return 22.0


class Host(Node):
    role = "host"


@scenario(
    "nemo",
    title="NEMO mobile router with a mobile network prefix and two CoAs",
    section="§7; RFC 3963",
    look_at="bulk BU with R flag, two BIDs and a Mobile Network Prefix option (8n+4); BA with R; "
    "traffic between the CN and a host in 2001:db8:77::/48 tunnelled to either CoA",
)
def nemo(sim: Simulation) -> float:
    net = standard(sim, interfaces=2, cns=2, prefixes=(MNP,))
    sim.network.add_link(
        "mnp-lan",
        delay_ms=0.3,
        jitter_ms=0.05,
        router_mac=router_mac(40),
        description="mobile network behind the MR",
    )
    mr, cn = net.mn, net.cns[1]
    lan = mr.add_iface("lan", sim.network.links["mnp-lan"], "2001:db8:77::1")
    host = Host(sim, "host", 0x0E01)
    host_iface = host.add_iface("eth0", sim.network.links["mnp-lan"], MNP_HOST)
    sim.network.route(MNP_HOST, net.ha.uplink)  # the prefix is routed to the home agent
    sim.at(1.0, lambda: mr.register(bulk=True))

    def tick(t: float, turn: int) -> None:
        if t > 20.0:
            return
        size = sim.rng.randint(60, 300)
        inner = ipv6_packet(
            cn.address, MNP_HOST, 17, udp_datagram(cn.address, MNP_HOST, 443, 50000, bytes(size))
        )
        sim.network.send(
            cn.iface,
            net.ha.uplink,
            inner,
            kind="data",
            on_arrival=lambda _p, _i: net.ha.forward_to_mn(inner, MNP_HOST),
        )
        reply = sim.rng.randint(40, 120)
        outbound = ipv6_packet(
            MNP_HOST, cn.address, 17, udp_datagram(MNP_HOST, cn.address, 50000, 443, bytes(reply))
        )
        bid = 1 + turn % 2
        sim.network.send(
            host_iface,
            lan,
            outbound,
            kind="data",
            on_arrival=lambda _p, _i: mr.send_data(cn, bid, reply, src=MNP_HOST),
        )
        gap = 0.25 * sim.rng.uniform(0.8, 1.2)
        sim.at(t + gap, lambda: tick(t + gap, turn + 1))

    sim.at(2.0, lambda: tick(2.0, 0))
    steady_traffic(sim, net, start=2.0, end=20.0, rate=2.0, cn_index=0)
    return 22.0
