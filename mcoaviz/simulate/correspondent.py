"""The correspondent node: return routability (draft §6.2 CoTI/CoT with BID), BU processing per
§6.3 / RFC §6.2 (via ``Registrar``: bulk refused with 168, status in the BA only), BRR with a
BID (§6.4), and route-optimised data (type 2 routing header to the CoA).

``policy.mcoa = False`` makes a legacy CN: no BID in the CoT or BA, one regular binding.
"""

from __future__ import annotations

import hashlib
import struct

from dissector.encode import binding_identifier, ipv6_packet, udp_datagram
from dissector.records import (
    BindingError,
    BindingIdentifier,
    BindingRefreshRequest,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
    MobilityOption,
)
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.network import Iface, TrafficMeta
from mcoaviz.simulate.node import Received
from mcoaviz.simulate.registrar import MALFORMED, Registrar, auth_data

UNKNOWN_BINDING_FOR_HAO = 1  # Binding Error status (RFC 6275 §6.1.9)


def token(*parts: bytes) -> bytes:
    return hashlib.sha1(b"|".join(parts)).digest()[:8]


class CorrespondentNode(Registrar):
    role = "correspondent"

    def __init__(self, sim: Simulation, name: str, address: str, link: str, mac_base: int = 0x0C01) -> None:
        super().__init__(sim, name, mac_base, address)
        self.iface = self.add_iface("eth0", sim.network.links[link], address)
        sim.network.route(address, self.iface)
        self.nonce_index = 1
        self.policy.max_lifetime = 420  # RFC 6275 MAX_RR_BINDING_LIFETIME
        self._turn: dict[str, int] = {}
        self._errors_sent: dict[tuple[str, str], int] = {}  # (HoA, CoA) -> time of the last BE

    def ipv4_address(self) -> str:
        return "0.0.0.0"

    def ba_auth_options(self) -> list[MobilityOption]:
        return [auth_data(self.address.encode(), str(self.nonce_index).encode())]

    def receive_mh(self, message: Received) -> None:
        body = message.spec.body
        if isinstance(body, HomeTestInit):
            self.sim.after(self.sim.processing_delay(), lambda: self._home_test(message))
        elif isinstance(body, CareOfTestInit):
            self.sim.after(self.sim.processing_delay(), lambda: self._care_of_test(message))
        elif isinstance(body, BindingUpdate):
            super().receive_mh(message)

    def _home_test(self, message: Received) -> None:
        spec = message.spec
        assert isinstance(spec.body, HomeTestInit)
        hoa = spec.src
        reply = HomeTest(self.nonce_index, spec.body.cookie, token(b"home", hoa.encode()))
        target = self.sim.network.iface_for(hoa)  # the HA intercepts and tunnels it
        if target is not None:
            self.send_mh(MobilitySpec(reply, self.address, hoa), self.iface, target)

    def _care_of_test(self, message: Received) -> None:
        """Draft §6.2: a supporting CN answers with the BID (status 0, or MALFORMED when C or O
        is set), copied without the CoA; a legacy CN ignores the option."""
        spec = message.spec
        assert isinstance(spec.body, CareOfTestInit)
        coa = spec.src
        self.serving = coa
        options: tuple[MobilityOption, ...] = ()
        if self.policy.mcoa:
            copies = []
            for option in spec.options:
                if isinstance(option, BindingIdentifier):
                    bad = self.dialect.value == "draft05" and bool(option.flags_byte & 0xC0)
                    copies.append(
                        binding_identifier(
                            option.bid,
                            status=MALFORMED if bad else 0,
                            dialect=self.dialect,
                            bid_type=self.sim.bid_type,
                        )
                    )
            options = tuple(copies)
        reply = CareOfTest(self.nonce_index, spec.body.cookie, token(b"care-of", coa.encode()))
        self.send_mh(MobilitySpec(reply, self.address, coa, options), self.iface, message.sender)

    def receive_home_address_data(self, hoa: str, coa: str, sender: Iface) -> None:
        """§6.5 / RFC 6275 §9.3.1: a packet with a Home Address option from a CoA that has no
        binding is discarded and answered with a Binding Error, status 1 (at most 1/s)."""
        if any(b.coa == coa for b in self.cache.of(hoa).values()):
            return
        last = self._errors_sent.get((hoa, coa))
        if last is not None and self.sim.now - last < 1_000_000_000:
            return
        self._errors_sent[(hoa, coa)] = self.sim.now
        spec = MobilitySpec(BindingError(UNKNOWN_BINDING_FOR_HAO, hoa), self.address, coa)
        self.sim.after(self.sim.processing_delay(), lambda: self.send_mh(spec, self.iface, sender))

    def send_brr(self, hoa: str, bid: int | None) -> None:
        """BRR to the home address, via the binding's CoA (type 2 RH), with the BID (§6.4)."""
        binding = self.cache.of(hoa).get(bid)
        if binding is None:
            return
        self.serving = hoa
        target = self.sim.network.iface_for(binding.coa)
        if target is None:
            return
        options = (
            (binding_identifier(bid, dialect=self.dialect, bid_type=self.sim.bid_type),)
            if bid is not None
            else ()
        )
        self.send_mh(
            MobilitySpec(BindingRefreshRequest(), self.address, binding.coa, options, rh2=hoa),
            self.iface,
            target,
        )

    # ----------------------------------------------------------------- data
    def send_data(self, hoa: str, size: int, sport: int = 5001, dport: int = 5001) -> None:
        """One UDP datagram to the MN: route-optimised when a binding exists, else via the HA."""
        payload = struct.pack("!I", self.nonce_index) + bytes(max(0, size - 4))
        bindings = [b for _, b in sorted(self.cache.of(hoa).items(), key=lambda kv: kv[0] or 0)]
        if bindings:
            turn = self._turn.get(hoa, 0)
            self._turn[hoa] = turn + 1
            binding = bindings[turn % len(bindings)]
            target = self.sim.network.iface_for(binding.coa)
            datagram = udp_datagram(self.address, hoa, sport, dport, payload)
            packet = ipv6_packet(self.address, binding.coa, 17, datagram, rh2=hoa)
            meta = TrafficMeta(self.address, hoa, binding.bid, "to-mn", "route-optimised")
            if target is None:  # the CoA is gone: sent anyway, lost on the way
                self.sim.network.send_lost(self.iface, packet, kind="data", traffic=meta)
            else:
                self.sim.network.send(self.iface, target, packet, kind="data", traffic=meta)
            return
        target = self.sim.network.iface_for(hoa)
        if target is None:
            return
        inner = ipv6_packet(self.address, hoa, 17, udp_datagram(self.address, hoa, sport, dport, payload))
        ha = target.node
        self.sim.network.send(
            self.iface, target, inner, kind="data", on_arrival=lambda _p, _i: ha.forward_to_mn(inner, hoa)
        )
