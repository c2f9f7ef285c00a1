"""Per-CoA data traffic: totals and per-second bins, attributed to bindings.

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
from dataclasses import dataclass
from typing import Any

from mcoaviz.engine.cache import BindingCache

TrafficKey = tuple[int, str, str, str, int | None, str, str]
KEY_FIELDS = ("interface", "node", "hoa", "coa", "bid", "direction", "via")
EARLY_TUNNEL_LIMIT = 10_000  # endpoint pairs remembered (bounds memory on unrelated tunnels)
VIA_OF_TUNNEL = {"ip6ip6": "tunnel", "ip4ip6": "tunnel", "ip6ip4": "tunnel", "udp": "udp"}


@dataclass(frozen=True, slots=True)
class Attribution:
    node: str
    hoa: str
    coa: str
    bid: int | None
    direction: str
    bound: bool  # the node held a binding for (hoa, coa)
    any_binding: bool  # the node held some binding for hoa


class TrafficTable:
    """Totals and per-second bins; memory grows with keys and seconds, not packets."""

    def __init__(self) -> None:
        self.totals: dict[TrafficKey, list[Any]] = {}  # [packets, bytes, first, last]
        self.bins: dict[TrafficKey, dict[int, list[int]]] = {}  # key -> second -> [packets, bytes]
        self.unattributed_packets = 0

    def add(self, key: TrafficKey, packets: int, nbytes: int, first: float, last: float,
            second: int) -> None:
        total = self.totals.get(key)
        if total is None:
            self.totals[key] = [packets, nbytes, first, last]
        else:
            total[0] += packets
            total[1] += nbytes
            total[2] = min(total[2], first)
            total[3] = max(total[3], last)
        seconds = self.bins.get(key)
        if seconds is None:
            seconds = self.bins[key] = {}
        cell = seconds.get(second)
        if cell is None:
            seconds[second] = [packets, nbytes]
        else:
            cell[0] += packets
            cell[1] += nbytes

    def fold_before(self, second: int) -> int:
        """Bounded memory for long live runs: the per-second bins of every key older than
        ``second`` become one bin at ``second - 1`` holding their sum (totals are unchanged).
        Returns how many bins were folded away."""
        folded = 0
        target = second - 1
        for seconds in self.bins.values():
            old = [s for s in seconds if s < target]
            if not old:
                continue
            cell = seconds.setdefault(target, [0, 0])
            for s in old:
                packets, nbytes = seconds.pop(s)
                cell[0] += packets
                cell[1] += nbytes
            folded += len(old)
        return folded

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for key, (packets, nbytes, first, last) in self.totals.items():
            row = dict(zip(KEY_FIELDS, key, strict=True))
            row.update(packets=packets, bytes=nbytes, first=first, last=last)
            out.append(row)
        return sorted(out, key=_row_order)

    def bin_rows(self) -> list[dict[str, Any]]:
        out = []
        for key, seconds in self.bins.items():
            for second, (packets, nbytes) in seconds.items():
                row = dict(zip(KEY_FIELDS, key, strict=True))
                row.update(second=second, packets=packets, bytes=nbytes)
                out.append(row)
        return sorted(out, key=lambda r: (r["second"], *_row_order(r)))


def _row_order(row: dict[str, Any]) -> tuple[Any, ...]:
    bid = -1 if row["bid"] is None else row["bid"]
    return (row["interface"], row["node"], row["hoa"], row["coa"], bid, row["direction"], row["via"])


class Attributor:
    """Finds (node, hoa, coa, bid, direction) for a data packet from the engine's knowledge."""

    def __init__(self, cache: BindingCache, prefixes: dict[tuple[str, str], set[str]]) -> None:
        self.cache = cache
        self.prefixes = prefixes
        self.aliases: dict[str, str] = {}  # HA IPv4 address (DSMIPv6 outer dst) -> HA node address
        self.hoa_aliases: dict[str, str] = {}  # IPv4 HoA -> IPv6 HoA
        self.hoas: set[str] = set()
        self.home_agents: set[str] = set()
        self._net_cache: dict[str, Any] = {}
        # tunnel endpoint pairs seen before signalling named them (a capture starting mid-life:
        # such a tunnel shows that a binding older than the capture existed)
        self.early_tunnels: set[frozenset[str]] = set()

    def tunnel_seen_before(self, node: str, coa: str) -> bool:
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
        if via in ("tunnel", "udp"):
            node = self._node(outer_src)
            if node is not None and outer_dst is not None:
                hoa = self._hoa(dst, node)
                if hoa is not None:
                    return self.bind(node, hoa, outer_dst, "to-mn")
            node = self._node(outer_dst)
            if node is not None and outer_src is not None:
                hoa = self._hoa(src, node)
                if hoa is not None:
                    return self.bind(node, hoa, outer_src, "from-mn")
            if outer_src and outer_dst and len(self.early_tunnels) < EARLY_TUNNEL_LIMIT:
                self.early_tunnels.add(frozenset((outer_src, outer_dst)))
            return None
        if via == "route-optimised":
            if hao is not None and dst is not None and src is not None:
                return self.bind(dst, hao, src, "from-mn")
            if rh2 is not None and src is not None and dst is not None:
                return self.bind(src, rh2, dst, "to-mn")
        return None

    def bind(self, node: str, hoa: str, coa: str, direction: str) -> Attribution:
        keys = self.cache.keys_of(node, hoa)
        for key in keys:
            row = self.cache.get(key)
            if row is not None and (row.coa == coa or row.claimed_coa == coa):
                return Attribution(node, hoa, coa, key.bid, direction, True, True)
        return Attribution(node, hoa, coa, None, direction, False, bool(keys))
