"""The home agent: §6.3 registration (via ``Registrar``), tunnels, relaying RR, BRR, home-link ND.

Data to a home address (or a NEMO mobile network prefix) arriving on the uplink is tunnelled
to one of the HoA's bindings, chosen round-robin (the draft leaves the choice out of scope,
§5.6.3); a home binding delivers it on the home link instead. IPv4 CoAs get RFC 5555 UDP
encapsulation to the address and port the BU came from.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from dissector.encode import (
    ip6ip6,
    ipv6_packet,
    mobile_prefix_advertisement,
    neighbor_advertisement,
    router_advertisement,
)
from dissector.encode.ip import dsmip_udp
from dissector.records import BindingRefreshRequest, BindingUpdate
from dissector.sequence import seq_newer
from mcoaviz.simulate.bindings import Binding
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation, Transmission
from mcoaviz.simulate.network import Iface, TrafficMeta
from mcoaviz.simulate.node import Received
from mcoaviz.simulate.registrar import DSMIP_PORT, Registrar

ALL_NODES = "ff02::1"
DAD_RETRANS_TIMER = 1.0  # seconds: RFC 4861 RetransTimer, one DAD transmission (RFC 4862)


class HomeAgent(Registrar):
    role = "home-agent"

    def __init__(
        self,
        sim: Simulation,
        name: str,
        address: str,
        ipv4: str,
        home_prefix: str,
        uplink: str,
        home_link: str,
    ) -> None:
        super().__init__(sim, name, 0x0A01, address)
        self.ipv4 = ipv4
        self.home_prefix = home_prefix
        self.uplink = self.add_iface("uplink", sim.network.links[uplink], address)
        self.home = self.add_iface("home", sim.network.links[home_link], self.link_local())
        self._turn: dict[str, int] = {}
        self._dad_running: dict[str, list[Received]] = {}  # HoA -> BUs waiting for its DAD
        # RFC 3775 alone: relay tunnelled HoTIs and answer MPSs only from the primary CoA (the
        # lowest BID); draft/RFC 5648 §9.2, §9.3.1 require any registered CoA (a violation)
        self.primary_only = False
        sim.network.route(address, self.uplink)
        sim.network.route(ipv4, self.uplink)

    def link_local(self) -> str:
        return "fe80::a:1"

    def ipv4_address(self) -> str:
        return self.ipv4

    def reply_iface(self, message: Received) -> Iface:
        return message.iface

    # ----------------------------------------------------------------- MH relaying
    def receive_mh(self, message: Received) -> None:
        spec = message.spec
        if spec.tunnel is not None and spec.dst != self.address:
            if not self._accepts_from(spec.src, spec.tunnel[0]):
                return  # silently dropped (RFC 3775 check against the primary CoA only)
            inner = replace(spec, tunnel=None)  # reverse-tunnelled HoTI: forward it plainly
            target = self.sim.network.iface_for(inner.dst)
            if target is not None:
                self.sim.after(0.0001, lambda: self.send_mh(inner, self.uplink, target))
            return
        if spec.dst != self.address and not isinstance(spec.body, BindingUpdate):
            self.sim.after(0.0001, lambda: self.tunnel_mh(spec))  # e.g. a HoT for the home address
            return
        super().receive_mh(message)

    def _accepts_from(self, hoa: str, coa: str) -> bool:
        """A registered CoA of ``hoa`` (draft §9.2/§9.3.1); with ``primary_only`` its lowest BID's."""
        bound = [b for _, b in sorted(self.cache.of(hoa).items(), key=lambda kv: kv[0] or 0) if not b.home]
        if self.primary_only:
            bound = bound[:1]
        return any(b.coa == coa for b in bound)

    def answer_prefix_solicitation(self, hoa: str, coa: str, identifier: int) -> Transmission | None:
        """Mobile Prefix Advertisement to the soliciting CoA, type 2 routing header to the HoA,
        ESP-NULL transport mode (RFC 6275 §10.6.2, §11.4.3); None when the HA drops the MPS."""
        target = self.sim.network.iface_for(coa)
        if target is None or not self._accepts_from(hoa, coa):
            return None
        body = mobile_prefix_advertisement(identifier, [(self.home_prefix, 64)])
        packet = ipv6_packet(self.address, coa, 58, body, rh2=hoa, esp=self.next_esp())
        return self.sim.network.send(self.uplink, target, packet, kind="mpd")

    def tunnel_mh(self, spec: MobilitySpec, via: Binding | None = None) -> None:
        binding = via or self.pick_binding(spec.dst, foreign_only=True)
        if binding is None:
            return
        target = self.sim.network.iface_for(binding.coa)
        if target is None:
            return
        if binding.udp_port is not None:
            wrapped = replace(spec, udp=(self.ipv4, binding.coa, DSMIP_PORT, binding.udp_port))
        else:
            wrapped = replace(spec, tunnel=(self.address, binding.coa))
        self.send_mh(wrapped, self.uplink, target)

    # ----------------------------------------------------------------- home registration + ND
    def process_bu(self, message: Received, *, dad_done: bool = False) -> None:
        """RFC 6275 §10.3.1: before accepting the first binding of a HoA, run DAD for it on the
        home link (one NS, RetransTimer = 1 s); §10.4.1: once serving, multicast a proxy NA."""
        spec = message.spec
        bu = spec.body
        assert isinstance(bu, BindingUpdate)
        hoa = spec.hao or spec.src
        last = self.last_seq.get(hoa)
        fresh = not self.cache.of(hoa)
        if (
            not dad_done
            and fresh
            and bu.lifetime > 0
            and self.policy.dad
            and (last is None or seq_newer(bu.seq, last))
        ):
            waiting = self._dad_running.get(hoa)
            if waiting is not None:  # DAD already running: answer this BU after it, in order
                waiting.append(message)
                return
            self._dad_running[hoa] = [message]
            self.duplicate_address_detection(hoa)

            def done() -> None:
                for queued in self._dad_running.pop(hoa, []):
                    self.process_bu(queued, dad_done=True)

            self.sim.after(DAD_RETRANS_TIMER, done)
            return
        super().process_bu(message)
        if fresh and self.cache.of(hoa) and hoa in self.defends:
            self.sim.after(0.0002, lambda: self.proxy_neighbor_advertisement(hoa))

    def duplicate_address_detection(self, hoa: str) -> Transmission:
        """DAD NS for the home address: from ::, to its solicited-node group, no SLLA (RFC 4862)."""
        from dissector.encode import neighbor_solicitation, solicited_node

        group = solicited_node(hoa)
        packet = ipv6_packet("::", group, 58, neighbor_solicitation(hoa), hop_limit=255)
        return self.sim.network.multicast(self.home, group, packet, kind="nd")

    def send_brr(self, hoa: str, bids: list[int]) -> None:
        """BRR for the given BIDs (§6.4), sent to the home address through the tunnel of the
        first named binding (any binding when the HA holds none of them)."""
        from dissector.encode import binding_identifier

        self.serving = hoa
        options = tuple(
            binding_identifier(bid, dialect=self.dialect, bid_type=self.sim.bid_type) for bid in bids
        )
        spec = MobilitySpec(
            BindingRefreshRequest(), self.address, hoa, options, esp=self.next_esp() if self.sim.esp else None
        )
        named = next((self.cache.of(hoa)[b] for b in bids if b in self.cache.of(hoa)), None)
        if named is not None and named.home:
            named = None
        self.tunnel_mh(spec, via=named)

    # ----------------------------------------------------------------- data plane
    def owner_of(self, address: str) -> str | None:
        """The HoA whose bindings carry packets for ``address`` (itself, or a NEMO prefix)."""
        if address in self.cache.entries and self.cache.entries[address]:
            return address
        for hoa, table in self.cache.entries.items():
            for binding in table.values():
                for prefix in binding.prefixes:
                    if ipaddress.ip_address(address) in ipaddress.ip_network(prefix, strict=False):
                        return hoa
        return None

    def pick_binding(self, address: str, *, foreign_only: bool = False) -> Binding | None:
        hoa = self.owner_of(address)
        if hoa is None:
            return None
        choices = [
            b
            for _, b in sorted(self.cache.of(hoa).items(), key=lambda kv: kv[0] or 0)
            if not (foreign_only and b.home)
        ]
        if not choices:
            return None
        turn = self._turn.get(hoa, 0)
        self._turn[hoa] = turn + 1
        return choices[turn % len(choices)]

    def forward_to_mn(self, inner: bytes, dst: str) -> None:
        """A data packet for ``dst`` arrived on the uplink: tunnel it (or deliver at home)."""
        binding = self.pick_binding(dst)
        if binding is None:
            return
        if binding.home:
            target = self.sim.network.iface_for(binding.hoa + "%home")
            if target is not None:
                self.sim.network.send(self.home, target, inner, kind="data")
            return
        target = self.sim.network.iface_for(binding.coa)
        meta = TrafficMeta(
            self.address,
            binding.hoa,
            binding.bid,
            "to-mn",
            "udp" if binding.udp_port is not None else "tunnel",
        )
        if binding.udp_port is not None:
            packet = dsmip_udp(self.ipv4, binding.coa, DSMIP_PORT, binding.udp_port, inner)
        else:
            packet = ip6ip6(self.address, binding.coa, inner)
        if target is None:  # the CoA is gone (handover): tunnelled anyway, lost on the way
            self.sim.network.send_lost(self.uplink, packet, kind="data", traffic=meta)
            return
        mn_node = target.node
        self.sim.network.send(
            self.uplink,
            target,
            packet,
            kind="data",
            traffic=meta,
            on_arrival=lambda _p, _i: mn_node.receive_tunnelled(inner, dst),
        )

    def forward_from_mn(self, inner: bytes, dst: str, outer: bytes | None = None) -> None:
        """Decapsulated (or home-link) traffic from the MN towards ``dst``. A tunnelled packet
        (``outer``) is forwarded only if its outer source is a registered CoA (draft §9.3.2)."""
        if outer is not None and not self._registered_source(outer):
            return
        target = self.sim.network.iface_for(dst)
        if target is not None:
            self.sim.network.send(self.uplink, target, inner, kind="data")

    def _registered_source(self, outer: bytes) -> bool:
        import socket

        if outer[0] >> 4 == 4:
            source = socket.inet_ntop(socket.AF_INET, outer[12:16])
        else:
            source = socket.inet_ntop(socket.AF_INET6, outer[8:24])
        return any(b.coa == source for table in self.cache.entries.values() for b in table.values())

    # ----------------------------------------------------------------- home-link ND
    def send_router_advertisement(self) -> None:
        body = router_advertisement(self.home.mac, [(self.home_prefix, 64)], home_agent=True)
        packet = ipv6_packet(self.link_local(), ALL_NODES, 58, body, hop_limit=255)
        self.sim.network.multicast(self.home, ALL_NODES, packet, kind="nd")

    def proxy_neighbor_advertisement(
        self, hoa: str, to: str | None = None, dst_mac: bytes | None = None
    ) -> None:
        """Proxy NA for the HoA with the HA's MAC (RFC 6275 §10.4.1): R=0 (on behalf of a host);
        unsolicited to all-nodes with O=1; a solicited reply with O=0 (RFC 4861 §7.2.8)."""
        body = neighbor_advertisement(
            hoa, self.home.mac, router=False, solicited=to is not None, override=to is None
        )
        packet = ipv6_packet(self.link_local(), to or ALL_NODES, 58, body, hop_limit=255)
        self.sim.network.multicast(self.home, to or ALL_NODES, packet, kind="nd", dst_mac=dst_mac)

    @property
    def defends(self) -> set[str]:
        """HoAs the HA defends on the home link: every HoA with a foreign binding, unless the MN
        took ND back with status 0 (§5.6.3)."""
        owned = set()
        for hoa, table in self.cache.entries.items():
            home = [b for b in table.values() if b.home]
            if table and not (home and self.policy.only_router):
                owned.add(hoa)
        return owned

    def resolve_home_address(self, hoa: str) -> None:
        """NS for the HoA on the home link (HA as the only router, after status 0: §5.6.3 says the
        neighbor entry forms by the regular NS/NA exchange); the MN answers."""
        from dissector.encode import neighbor_solicitation, solicited_node

        group = solicited_node(hoa)
        packet = ipv6_packet(
            self.link_local(), group, 58, neighbor_solicitation(hoa, self.home.mac), hop_limit=255
        )

        def answered(_packet: bytes, iface: Iface) -> None:
            node = iface.node
            if getattr(node, "hoa", None) == hoa and iface.address == hoa:
                node.answer_neighbor_solicitation(iface, self.link_local(), self.home.mac)

        self.sim.network.multicast(self.home, group, packet, kind="nd", on_arrival=answered)
