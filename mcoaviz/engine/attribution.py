"""Who a data packet belongs to: its (node, HoA, CoA, direction) and the binding that covered it.

Keys are (interface, node, hoa, coa, bid, direction, via). How a packet is attributed:

* tunnel (IPv6/IPv4-in-IPv6, IPv6-in-IPv4) and DSMIPv6 UDP: the outer addresses are the home
  agent and the CoA. To the MN when the outer source is a known home agent (or its IPv4
  address from a DSMIPv6 BU) and the inner destination is a HoA (or a host of a NEMO prefix
  registered by that HoA, draft §7); from the MN in the mirror case. For DSMIPv6 the IPv4 CoA
  is the outer IPv4 address (I-22).
* route-optimised: a Home Address option means from the MN (CoA = source, HoA = HAO, node =
  destination); a type 2 routing header means to the MN (CoA = destination, HoA = RH2 address,
  node = source).
* plain packets (no tunnel, HAO or RH2) are not mobility traffic and are not counted. Mobility
  Header and ICMPv6 packets are signalling and never reach this module.

The BID is that of the node's binding for (HoA, CoA) at the time of the packet; None when the
node holds none (then a ``DataWithoutBinding`` event is raised once per key and state change).
"""

from __future__ import annotations

import ipaddress
from typing import Any, NamedTuple

from mcoaviz.engine.cache import BindingCache

EARLY_TUNNEL_LIMIT = 10_000  # endpoint pairs remembered (bounds memory on unrelated tunnels)
VIA_OF_TUNNEL = {"ip6ip6": "tunnel", "ip4ip6": "tunnel", "ip6ip4": "tunnel", "udp": "udp"}


class Attribution(NamedTuple):
    """Who a data row belongs to (a named tuple: one is made per traffic row, cheaply)."""

    node: str
    hoa: str
    coa: str
    bid: int | None
    direction: str
    bound: bool  # the node held a binding for (hoa, coa)
    any_binding: bool  # the node held some binding for hoa


class Attributor:
    """Finds (node, hoa, coa, bid, direction) for a data packet from the engine's knowledge."""

    def __init__(self, cache: BindingCache, prefixes: dict[tuple[str, str], set[str]]) -> None:
        self.cache = cache
        self.prefixes = prefixes
        self.aliases: dict[str, str] = {}  # HA IPv4 address (DSMIPv6 outer dst) -> HA node address
        self.hoa_aliases: dict[str, str] = {}  # IPv4 HoA -> IPv6 HoA
        self.hoas: set[str] = set()
        self.home_agents: set[str] = set()
        self.version = 0  # bumped whenever the sets and aliases above change (``locate`` memo)
        self._net_cache: dict[str, Any] = {}
        # tunnel endpoint pairs seen before signalling named them (a capture starting mid-life:
        # such a tunnel shows that a binding older than the capture existed)
        self.early_tunnels: set[frozenset[str]] = set()

    def tunnel_seen_before(self, node: str, coa: str) -> bool:
        if not self.early_tunnels:  # the usual case: asked for every new binding
            return False
        ends = {node, *(alias for alias, real in self.aliases.items() if real == node)}
        return any(frozenset((end, coa)) in self.early_tunnels for end in ends)

    def _node(self, address: str | None) -> str | None:
        if address is None:
            return None
        address = self.aliases.get(address, address)
        return address if address in self.home_agents else None

    def _hoa(self, address: str | None, node: str) -> str | None:
        if address is None:
            return None
        address = self.hoa_aliases.get(address, address)
        if address in self.hoas:
            return address
        for (pnode, hoa), nets in self.prefixes.items():
            if pnode == node and any(self._in(address, net) for net in nets):
                return hoa
        return None

    def _in(self, address: str, net: str) -> bool:
        network = self._net_cache.get(net)
        if network is None:
            network = self._net_cache[net] = ipaddress.ip_network(net, strict=False)
        try:
            return ipaddress.ip_address(address) in network
        except ValueError:
            return False

    def attribute(
        self, via: str, outer_src: str | None, outer_dst: str | None, src: str | None,
        dst: str | None, hao: str | None, rh2: str | None,
    ) -> Attribution | None:
        found = self.locate(via, outer_src, outer_dst, src, dst, hao, rh2)
        return None if found is None else self.bind(*found)

    def locate(
        self, via: str, outer_src: str | None, outer_dst: str | None, src: str | None,
        dst: str | None, hao: str | None, rh2: str | None,
    ) -> tuple[str, str, str, str] | None:
        """(node, HoA, CoA, direction) of a data packet's addressing, from the addresses learnt
        so far (``version`` changes when they do); the binding part is ``bind``."""
        if via in ("tunnel", "udp"):
            node = self._node(outer_src)
            if node is not None and outer_dst is not None:
                hoa = self._hoa(dst, node)
                if hoa is not None:
                    return node, hoa, outer_dst, "to-mn"
            node = self._node(outer_dst)
            if node is not None and outer_src is not None:
                hoa = self._hoa(src, node)
                if hoa is not None:
                    return node, hoa, outer_src, "from-mn"
            if outer_src and outer_dst and len(self.early_tunnels) < EARLY_TUNNEL_LIMIT:
                self.early_tunnels.add(frozenset((outer_src, outer_dst)))
            return None
        if via == "route-optimised":
            if hao is not None and dst is not None and src is not None:
                return dst, hao, src, "from-mn"
            if rh2 is not None and src is not None and dst is not None:
                return src, rh2, dst, "to-mn"
        return None

    def bind(self, node: str, hoa: str, coa: str, direction: str) -> Attribution:
        keys = self.cache.keys_of(node, hoa)
        for key in keys:
            row = self.cache.get(key)
            if row is not None and (row.coa == coa or row.claimed_coa == coa):
                return Attribution(node, hoa, coa, key.bid, direction, True, True)
        return Attribution(node, hoa, coa, None, direction, False, bool(keys))


__all__ = ["EARLY_TUNNEL_LIMIT", "VIA_OF_TUNNEL", "Attribution", "Attributor"]
