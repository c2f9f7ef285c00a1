"""Behaviour shared by every simulated node: interfaces, sending MH messages, hooks.

Hooks let a scenario make a node misbehave on purpose. ``node.mangle_next("BA", fn,
violation=("6.3", "BA without the BID copies"))`` passes the next outgoing BA's
``MobilitySpec`` through ``fn`` before it is built and records a truth violation on the frame
that carries it. ``node.send_raw(spec, src_iface, dst_iface)`` sends any hand-made message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Transmission
from mcoaviz.simulate.network import Iface, Link

if TYPE_CHECKING:
    from mcoaviz.simulate.model import Simulation

Mangler = Callable[[MobilitySpec], MobilitySpec]


@dataclass(frozen=True, slots=True)
class Received:
    """A Mobility Header message as it reached a node."""

    spec: MobilitySpec
    iface: Iface
    packet: bytes  # IP packet as delivered (after NAT)
    tx: Transmission
    sender: Iface  # where an answer goes

    @property
    def outer_ipv4(self) -> tuple[str, int] | None:
        """(source address, source port) of a DSMIPv6 packet as it arrived (after NAT)."""
        import socket
        import struct

        if self.packet[0] >> 4 != 4:
            return None
        return (
            socket.inet_ntop(socket.AF_INET, self.packet[12:16]),
            struct.unpack("!H", self.packet[20:22])[0],
        )


class Node:
    role = "node"

    def __init__(self, sim: Simulation, name: str, mac_base: int) -> None:
        self.sim = sim
        self.name = name
        self.interfaces: dict[str, Iface] = {}
        self._mac_base = mac_base
        self._manglers: list[tuple[str, Mangler, tuple[str, str, str | None] | None]] = []
        sim.nodes[name] = self

    def add_iface(self, name: str, link: Link | None, address: str | None) -> Iface:
        index = len(self.interfaces) + 1
        mac = bytes((0x02, 0x00, 0x5E, (self._mac_base >> 8) & 0xFF, self._mac_base & 0xFF, index))
        iface = Iface(self, name, mac, link, address)
        self.interfaces[name] = iface
        return iface

    # ----------------------------------------------------------------- deliberate misbehaviour
    def mangle_next(
        self, kind: str, fn: Mangler, *, violation: tuple[str, str] | tuple[str, str, str] | None = None
    ) -> None:
        """Apply ``fn`` to the next outgoing message of ``kind`` ("BU", "BA", "CoT", ...);
        ``violation`` = (section, description[, rule]) is recorded on its frame."""
        recorded = None
        if violation is not None:
            recorded = (violation[0], violation[1], violation[2] if len(violation) > 2 else None)
        self._manglers.append((kind, fn, recorded))

    def _apply_manglers(self, spec: MobilitySpec) -> tuple[MobilitySpec, tuple[str, str, str | None] | None]:
        for index, (kind, fn, violation) in enumerate(self._manglers):
            if kind == spec.type_name:
                del self._manglers[index]
                return fn(spec), violation
        return spec, None

    # ----------------------------------------------------------------- sending
    def send_mh(self, spec: MobilitySpec, src: Iface, dst: Iface, *, kind: str | None = None) -> Transmission:
        """Send a Mobility Header message; the receiving node's ``receive_mh`` runs on arrival."""
        spec, violation = self._apply_manglers(spec)
        receiver = dst.node

        def arrived(packet: bytes, iface: Iface) -> None:
            receiver.receive_mh(Received(spec, iface, packet, tx, src))

        tx = self.sim.network.send(
            src, dst, spec.build(), kind=kind or spec.type_name, intent=spec, on_arrival=arrived
        )
        if violation is not None:
            self.sim.truth.violation(tx, *violation)
        return tx

    def send_raw(
        self,
        spec: MobilitySpec,
        src: Iface,
        dst: Iface,
        *,
        violation: tuple[str, str] | tuple[str, str, str] | None = None,
        deliver: bool = True,
    ) -> Transmission:
        """Send a hand-made message as is (no manglers). With ``deliver=False`` the receiver
        sees the frames on the wire but does not act on it."""
        receiver = dst.node

        def arrived(packet: bytes, iface: Iface) -> None:
            if deliver:
                receiver.receive_mh(Received(spec, iface, packet, tx, src))

        tx = self.sim.network.send(
            src, dst, spec.build(), kind=spec.type_name, intent=spec, on_arrival=arrived
        )
        if violation is not None:
            self.sim.truth.violation(
                tx, violation[0], violation[1], violation[2] if len(violation) > 2 else None
            )
        return tx

    def receive_mh(self, message: Received) -> None:  # overridden
        return None

    def receive_data(self, packet: bytes, iface: Iface, meta: object) -> None:  # overridden
        return None
