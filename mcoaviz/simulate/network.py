"""Links, interfaces and packet delivery with per-access delays, seeded jitter, NAT and loss.

The Internet core is not captured. A packet from interface A (on link La) to interface B (on
link Lb) is seen on La when A sends it (if La is a capture point), then on Lb when it arrives
(if Lb is one), with Ethernet headers of that link: sender -> access router on La, access
router -> receiver on Lb, or sender -> receiver when both are on the same link. Arrival time
is send time + delay(La) + core + delay(Lb), each with seeded jitter. The hop limit (or IPv4
TTL) is lowered by the routers crossed, as a real path would.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from dissector.encode import ethernet_for, inet_checksum, ipv4_pseudo_header, multicast_mac
from dissector.encode.checksum import patch_checksum
from mcoaviz.simulate.model import Sighting, Transmission

if TYPE_CHECKING:
    from mcoaviz.simulate.model import Simulation

CORE_DELAY_MS = 4.0
CORE_HOPS = 4


@dataclass(eq=False)
class Nat:
    """A NAPT in front of a link: private IPv4 (addr, port) <-> public (addr, port)."""

    public_address: str
    mappings: dict[tuple[str, int], int] = field(default_factory=dict)
    next_port: int = 40000

    def outbound(self, packet: bytes) -> bytes:
        if packet[0] >> 4 != 4 or packet[9] != 17:
            return packet
        src = socket.inet_ntop(socket.AF_INET, packet[12:16])
        sport = struct.unpack("!H", packet[20:22])[0]
        port = self.mappings.setdefault((src, sport), self.next_port + len(self.mappings))
        return _rewrite_ipv4_udp(packet, src=self.public_address, sport=port)

    def inbound(self, packet: bytes) -> bytes:
        if packet[0] >> 4 != 4 or packet[9] != 17:
            return packet
        dport = struct.unpack("!H", packet[22:24])[0]
        for (address, port), public in self.mappings.items():
            if public == dport:
                return _rewrite_ipv4_udp(packet, dst=address, dport=port)
        return packet


def _rewrite_ipv4_udp(
    packet: bytes,
    *,
    src: str | None = None,
    dst: str | None = None,
    sport: int | None = None,
    dport: int | None = None,
) -> bytes:
    header, udp = bytearray(packet[:20]), bytearray(packet[20:])
    if src:
        header[12:16] = socket.inet_pton(socket.AF_INET, src)
    if dst:
        header[16:20] = socket.inet_pton(socket.AF_INET, dst)
    if sport is not None:
        udp[0:2] = struct.pack("!H", sport)
    if dport is not None:
        udp[2:4] = struct.pack("!H", dport)
    header[10:12] = b"\0\0"
    header[10:12] = struct.pack("!H", inet_checksum(bytes(header)))
    pseudo = ipv4_pseudo_header(
        socket.inet_ntop(socket.AF_INET, bytes(header[12:16])),
        socket.inet_ntop(socket.AF_INET, bytes(header[16:20])),
        len(udp),
        17,
    )
    return bytes(header) + patch_checksum(bytes(udp), 6, pseudo, zero_is_ffff=True)


def _lower_hop_limit(packet: bytes, hops: int) -> bytes:
    if hops <= 0:
        return packet
    if packet[0] >> 4 == 6:
        return packet[:7] + bytes((max(packet[7] - hops, 1),)) + packet[8:]
    header = bytearray(packet[:20])
    header[8] = max(header[8] - hops, 1)
    header[10:12] = b"\0\0"
    header[10:12] = struct.pack("!H", inet_checksum(bytes(header)))
    return bytes(header) + packet[20:]


@dataclass(eq=False)
class Link:
    """An access network, a home link or a server link; a capture point when ``capture``."""

    name: str
    capture: bool
    delay_ms: float  # one-way delay between this link and the core
    jitter_ms: float
    router_mac: bytes
    lan_delay_ms: float = 0.15
    nat: Nat | None = None
    interface_id: int | None = None  # capture interface id
    description: str | None = None


@dataclass(eq=False)
class Iface:
    """A node's network interface: MAC, addresses, the link it is attached to (or None)."""

    node: Any
    name: str
    mac: bytes
    link: Link | None = None
    address: str | None = None  # IPv6 or IPv4 unicast address on this link
    up: bool = True


@dataclass(frozen=True, slots=True)
class TrafficMeta:
    """What a data packet is, for the truth's per-interface traffic counts."""

    node: str  # the HA or CN address whose binding carries the packet
    hoa: str
    bid: int | None
    direction: str  # "to-mn" | "from-mn"
    via: str  # "tunnel" | "udp" | "route-optimised"


Arrival = Callable[[bytes, "Iface"], None]


class Network:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.links: dict[str, Link] = {}
        self._drops: list[tuple[Callable[[Transmission], bool], list[int]]] = []
        self.routes: dict[str, Iface] = {}  # address -> interface that receives packets for it

    def route(self, address: str, iface: Iface) -> None:
        self.routes[address] = iface

    def iface_for(self, address: str) -> Iface | None:
        return self.routes.get(address)

    def add_link(
        self,
        name: str,
        *,
        capture: bool = True,
        delay_ms: float = 10.0,
        jitter_ms: float = 1.0,
        router_mac: bytes,
        nat: Nat | None = None,
        description: str | None = None,
    ) -> Link:
        link = Link(name, capture, delay_ms, jitter_ms, router_mac, nat=nat, description=description)
        if capture:
            link.interface_id = sum(1 for existing in self.links.values() if existing.capture)
        self.links[name] = link
        return link

    def capture_links(self) -> list[Link]:
        return sorted(
            (link for link in self.links.values() if link.capture), key=lambda x: x.interface_id or 0
        )

    def drop(self, predicate: Callable[[Transmission], bool], count: int = 1) -> None:
        """Lose the next ``count`` transmissions matching ``predicate`` after the sender's link."""
        self._drops.append((predicate, [count]))

    def _should_drop(self, tx: Transmission) -> bool:
        for predicate, remaining in self._drops:
            if remaining[0] > 0 and predicate(tx):
                remaining[0] -= 1
                return True
        return False

    def _see(
        self, link: Link, when: int, frame: bytes, tx: Transmission, traffic: TrafficMeta | None
    ) -> None:
        if not link.capture or link.interface_id is None:
            return
        sighting: Sighting = self.sim.capture(link.interface_id, when, frame)
        tx.sightings.append(sighting)
        if traffic is not None:
            public = {} if link.nat is None else {a: link.nat.public_address for a, _ in link.nat.mappings}
            self.sim.truth.count_traffic(sighting, link.name, traffic, public)

    def send(
        self,
        src: Iface,
        dst: Iface,
        packet: bytes,
        *,
        kind: str,
        intent: Any = None,
        on_arrival: Arrival | None = None,
        traffic: TrafficMeta | None = None,
    ) -> Transmission:
        """Send ``packet`` (an IP packet) from ``src`` to ``dst``; returns the transmission."""
        tx = Transmission(kind, src.node.name, intent)
        self.sim.transmissions.append(tx)
        la, lb = src.link, dst.link
        if la is None or not src.up:
            return tx
        now = self.sim.now
        same_link = lb is la
        first_hop = dst.mac if same_link and dst.up else la.router_mac
        self._see(la, now, ethernet_for(first_hop, src.mac, packet), tx, traffic)
        if self._should_drop(tx):
            return tx
        if same_link:
            arrival, hops = now + self.sim.jitter(la.lan_delay_ms, la.lan_delay_ms / 3), 0
        else:
            if la.nat is not None:
                packet = la.nat.outbound(packet)
            arrival = now + self.sim.jitter(la.delay_ms, la.jitter_ms) + self.sim.jitter(CORE_DELAY_MS, 0.5)
            if lb is None:
                return tx
            arrival += self.sim.jitter(lb.delay_ms, lb.jitter_ms)
            hops = CORE_HOPS
        packet = _lower_hop_limit(packet, hops)
        assert lb is not None  # on the same link lb is la; otherwise a missing lb returned above

        def arrive() -> None:
            if dst.link is not lb or not dst.up:
                return  # the receiver moved away: the access router cannot deliver it
            delivered = packet
            if not same_link:
                if lb.nat is not None:
                    delivered = lb.nat.inbound(delivered)
                self._see(lb, self.sim.now, ethernet_for(dst.mac, lb.router_mac, delivered), tx, traffic)
            tx.delivered = True
            if on_arrival is not None:
                on_arrival(delivered, dst)

        self.sim.at_ns(arrival, arrive)
        return tx

    def send_lost(
        self, src: Iface, packet: bytes, *, kind: str, traffic: TrafficMeta | None = None
    ) -> Transmission:
        """A packet for an address nobody holds any more (the MN moved away): it is seen
        leaving on the sender's link and then lost in the network."""
        tx = Transmission(kind, src.node.name)
        self.sim.transmissions.append(tx)
        if src.link is not None and src.up:
            frame = ethernet_for(src.link.router_mac, src.mac, packet)
            self._see(src.link, self.sim.now, frame, tx, traffic)
        return tx

    def multicast(
        self,
        src: Iface,
        group: str,
        packet: bytes,
        *,
        kind: str,
        intent: Any = None,
        on_arrival: Arrival | None = None,
        dst_mac: bytes | None = None,
    ) -> Transmission:
        """Link-local multicast (ND): one frame on the sender's link, delivered to the others on it."""
        tx = Transmission(kind, src.node.name, intent)
        self.sim.transmissions.append(tx)
        link = src.link
        if link is None or not src.up:
            return tx
        mac = dst_mac or multicast_mac(group)
        self._see(link, self.sim.now, ethernet_for(mac, src.mac, packet), tx, None)
        if on_arrival is not None:
            for node in self.sim.nodes.values():
                for iface in node.interfaces.values():
                    if iface is not src and iface.link is link and iface.up:
                        delay = self.sim.jitter(link.lan_delay_ms, link.lan_delay_ms / 3)
                        self.sim.at_ns(self.sim.now + delay, partial(on_arrival, packet, iface))
        return tx
