"""The standard topology of draft Appendix A and steady bidirectional data traffic.

Addresses follow the documentation prefixes: home link 2001:db8:1::/64 (HA ::1, MN HoA
::100), foreign links 2001:db8:aN::/64 (MN CoA ::100 on interface N, BID N), CNs on
2001:db8:c0::/64 and 2001:db8:c1::/64, the HA's IPv4 address 198.51.100.1. Access delays
differ per link (Wi-Fi, LTE, wired) and carry seeded jitter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mcoaviz.simulate.correspondent import CorrespondentNode
from mcoaviz.simulate.home_agent import HomeAgent
from mcoaviz.simulate.home_router import HomeRouter
from mcoaviz.simulate.mobile_node import MobileNode
from mcoaviz.simulate.model import Simulation, Transmission
from mcoaviz.simulate.network import Nat

HA_ADDRESS = "2001:db8:1::1"
HA_IPV4 = "198.51.100.1"
HOME_PREFIX = "2001:db8:1::"
HOA = "2001:db8:1::100"
CN_ADDRESS = "2001:db8:c0::10"
CN2_ADDRESS = "2001:db8:c1::20"
# (delay ms, jitter ms, description) per MN access link
ACCESS = [(8.0, 2.0, "Wi-Fi"), (25.0, 6.0, "LTE"), (4.0, 1.0, "wired"), (12.0, 3.0, "Wi-Fi 2")]


def router_mac(index: int) -> bytes:
    return bytes((0x02, 0x00, 0x5E, 0x0F, 0x00, index))


def coa(index: int, host: int = 0x100) -> str:
    return f"2001:db8:a{index}::{host:x}"


@dataclass
class Topology:
    sim: Simulation
    ha: HomeAgent
    mn: MobileNode
    cn: CorrespondentNode | None = None
    cn2: CorrespondentNode | None = None
    router: HomeRouter | None = None  # a second router on the home link (Figure 11 b)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def cns(self) -> list[CorrespondentNode]:
        return [c for c in (self.cn, self.cn2) if c is not None]


def standard(
    sim: Simulation,
    *,
    interfaces: int = 3,
    cns: int = 1,
    ipv4_interface: int | None = None,
    nat: bool = True,
    home_router: bool = False,
    prefixes: tuple[str, ...] = (),
    lifetime: int = 400,
) -> Topology:
    """HA (uplink + home link), ``cns`` CNs, and an MN with ``interfaces`` interfaces on foreign
    links. Interface ``ipv4_interface`` (1-based) gets an IPv4 CoA, behind a NAT if ``nat``."""
    net = sim.network
    net.add_link("ha-uplink", delay_ms=1.0, jitter_ms=0.2, router_mac=router_mac(1), description="HA uplink")
    net.add_link("home-link", delay_ms=0.5, jitter_ms=0.1, router_mac=router_mac(2), description="home link")
    if cns >= 1:
        net.add_link("cn-link", delay_ms=2.0, jitter_ms=0.3, router_mac=router_mac(3), description="CN link")
    if cns >= 2:
        net.add_link(
            "cn2-link", delay_ms=6.0, jitter_ms=0.8, router_mac=router_mac(4), description="CN2 link"
        )
    for index in range(1, interfaces + 1):
        delay, jitter, kind = ACCESS[(index - 1) % len(ACCESS)]
        translator = Nat("203.0.113.7") if ipv4_interface == index and nat else None
        net.add_link(
            f"mn-if{index}",
            delay_ms=delay,
            jitter_ms=jitter,
            router_mac=router_mac(10 + index),
            nat=translator,
            description=f"MN interface {index} ({kind})",
        )
    ha = HomeAgent(sim, "ha", HA_ADDRESS, HA_IPV4, HOME_PREFIX, "ha-uplink", "home-link")
    mn = MobileNode(sim, "mn", HOA, ha, prefixes=prefixes, lifetime=lifetime)
    sim.network.route(HOA, ha.uplink)
    for index in range(1, interfaces + 1):
        address = ("10.0.0.23" if nat else "192.0.2.23") if ipv4_interface == index else coa(index)
        mn.add_interface(f"if{index}", f"mn-if{index}", address, index)
    topology = Topology(sim, ha, mn)
    if cns >= 1:
        topology.cn = CorrespondentNode(sim, "cn", CN_ADDRESS, "cn-link", mac_base=0x0C01)
    if cns >= 2:
        topology.cn2 = CorrespondentNode(sim, "cn2", CN2_ADDRESS, "cn2-link", mac_base=0x0C02)
    if home_router:
        topology.router = HomeRouter(sim, "router", "home-link")
    return topology


def steady_traffic(
    sim: Simulation,
    net: Topology,
    *,
    start: float,
    end: float,
    rate: float = 8.0,
    cn_index: int = 0,
    size: tuple[int, int] = (40, 160),
) -> None:
    """Bidirectional UDP between a CN and the MN: the CN sends ``rate`` packets/s to the HoA
    (route-optimised or via the HA, as the CN's cache says), and the MN sends ``rate``
    packets/s spread over its interfaces (HAO, reverse tunnel or UDP, as its state says)."""
    cns = net.cns
    if not cns:
        return
    cn = cns[cn_index]
    mn = net.mn
    interval = 1.0 / rate

    def tick(t: float, turn: int) -> None:
        if t > end:
            return
        low, high = size
        cn.send_data(mn.hoa, sim.rng.randint(low, high))
        names = [n for n, i in sorted(mn.interfaces.items()) if i.up and i.address and n in mn.bids]
        if names:
            bid = mn.bids[names[turn % len(names)]]
            mn.send_data(cn, bid, sim.rng.randint(low, high))
        gap = interval * sim.rng.uniform(0.8, 1.2)
        sim.at(t + gap, lambda: tick(t + gap, turn + 1))

    sim.at(start, lambda: tick(start, 0))


def mark_first(
    sim: Simulation,
    when: float,
    predicate: Callable[[Transmission], bool],
    section: str,
    description: str,
    rule: str | None = None,
) -> None:
    """At ``when``, record a truth violation on the first transmission matching ``predicate``
    (for a deliberate deviation made by the model itself, e.g. a BU without O)."""

    def mark() -> None:
        for tx in sim.transmissions:
            if tx.intent is not None and predicate(tx):
                sim.truth.violation(tx, section, description, rule)
                return

    sim.at(when, mark)
