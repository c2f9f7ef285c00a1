"""A second router on the home link (draft Figure 11, topology b): it advertises the home
prefix and resolves the home address with Neighbor Solicitations, which the HA answers with
proxy Neighbor Advertisements while it defends the HoA (RETURNHOME WO/NDP)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dissector.encode import ipv6_packet, neighbor_solicitation, router_advertisement, solicited_node
from mcoaviz.simulate.network import Iface
from mcoaviz.simulate.node import Node

if TYPE_CHECKING:
    from mcoaviz.simulate.model import Simulation, Transmission

LINK_LOCAL = "fe80::f:1"


class HomeRouter(Node):
    role = "router"

    def __init__(self, sim: Simulation, name: str, link: str, prefix: str = "2001:db8:1::") -> None:
        super().__init__(sim, name, 0x0D01)
        self.prefix = prefix
        self.iface = self.add_iface("eth0", sim.network.links[link], LINK_LOCAL)

    def advertise(self) -> None:
        body = router_advertisement(self.iface.mac, [(self.prefix, 64)])
        packet = ipv6_packet(LINK_LOCAL, "ff02::1", 58, body, hop_limit=255)
        self.sim.network.multicast(self.iface, "ff02::1", packet, kind="nd")

    def resolve(self, target: str, on_answer: Iface | None = None) -> Transmission:
        """NS for ``target`` to its solicited-node group; the HA answers when it defends it."""
        group = solicited_node(target)
        packet = ipv6_packet(
            LINK_LOCAL, group, 58, neighbor_solicitation(target, self.iface.mac), hop_limit=255
        )
        ha = next((n for n in self.sim.nodes.values() if n.role == "home-agent"), None)

        def answered(_packet: bytes, iface: Iface) -> None:
            if ha is not None and iface is ha.interfaces["home"] and getattr(ha, "defends", set()) & {target}:
                ha.proxy_neighbor_advertisement(target, to=LINK_LOCAL, dst_mac=self.iface.mac)

        return self.sim.network.multicast(self.iface, group, packet, kind="nd", on_arrival=answered)
