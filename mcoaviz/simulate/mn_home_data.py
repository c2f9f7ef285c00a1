"""Returning home (draft §5.6, home-link ND) and data traffic of the mobile node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dissector.codepoints import Dialect
from dissector.encode import (
    ipv6_packet,
    mobile_prefix_solicitation,
    neighbor_advertisement,
    router_solicitation,
    udp_datagram,
)
from dissector.encode.ip import dsmip_udp, ip6ip6
from dissector.records import LinkLayerAddress
from mcoaviz.simulate.mn_state import PendingBU
from mcoaviz.simulate.model import Transmission
from mcoaviz.simulate.network import Iface, TrafficMeta
from mcoaviz.simulate.registrar import DSMIP_PORT
from mcoaviz.simulate.truth import BulRow

if TYPE_CHECKING:
    from mcoaviz.simulate.correspondent import CorrespondentNode
    from mcoaviz.simulate.mn_base import MobileNodeBase
else:
    MobileNodeBase = object  # the attributes come from MobileNode at run time


class HomeAndDataMixin(MobileNodeBase):
    """Returning home and data of ``MobileNode``."""

    mpd_esp_seq = 0  # ESP sequence number of the MN's Mobile Prefix Solicitations

    # ----------------------------------------------------------------- returning home (§5.6)
    def attach_home(self, name: str) -> None:
        """Interface ``name`` attaches to the home link (the HoA stays tentative) and sends an RS."""
        iface = self.interfaces[name]
        iface.link = self.ha.interfaces["home"].link
        iface.address = self.hoa
        iface.up = True
        self.sim.network.route(self.hoa + "%home", iface)
        rs = ipv6_packet("::", "ff02::2", 58, router_solicitation(), hop_limit=255)

        def solicited(_packet: bytes, receiver: Iface) -> None:
            node = receiver.node
            if hasattr(node, "send_router_advertisement"):
                self.sim.after(0.002, node.send_router_advertisement)
            elif hasattr(node, "advertise"):
                self.sim.after(0.004, node.advertise)

        self.sim.network.multicast(iface, "ff02::2", rs, kind="nd", on_arrival=solicited)

    def return_home_deregister_all(self, name: str) -> None:
        """§5.6.1: from the home link, de-register every binding at the HA (no BID option)."""
        iface = self.interfaces[name]
        self._send_bu(PendingBU(self.ha, [(None, None)], 0, iface, home=True))

    def return_home_simultaneous(self, name: str) -> None:
        """§5.6.3: draft = Lifetime 0 with H (0x20); RFC = Lifetime > 0, H (0x80), CoA = HoA, MH-LLA."""
        iface = self.interfaces[name]
        bid = self.bids[name]
        if self.dialect is Dialect.DRAFT05:
            self._send_bu(PendingBU(self.ha, [(bid, None)], 0, iface, home=True))
        else:
            lla = (LinkLayerAddress(0, 2, iface.mac),)
            self._send_bu(PendingBU(self.ha, [(bid, self.hoa)], self.lifetime, iface, home=True, extra=lla))

    def _after_home_ba(self) -> None:
        """Status 0: the MN owns ND for the HoA (unsolicited NA); RETURNHOME: it stays silent."""
        status, self.on_home_status = self.on_home_status, None
        home = next((i for i in self.interfaces.values() if i.address == self.hoa), None)
        if status != 0 or home is None:
            return
        body = neighbor_advertisement(self.hoa, home.mac, solicited=False, override=True)
        packet = ipv6_packet(self.hoa, "ff02::1", 58, body, hop_limit=255)
        self.sim.network.multicast(home, "ff02::1", packet, kind="nd")

    def answer_neighbor_solicitation(self, iface: Iface, asker: str, asker_mac: bytes) -> None:
        """Solicited NA for the HoA (only after status 0: the MN owns ND, §5.6.3)."""
        body = neighbor_advertisement(self.hoa, iface.mac, solicited=True, override=True)
        packet = ipv6_packet(self.hoa, asker, 58, body, hop_limit=255)
        self.sim.network.multicast(iface, asker, packet, kind="nd", dst_mac=asker_mac)

    # ----------------------------------------------------------------- Mobile Prefix Discovery
    def solicit_prefixes(self, bid: int) -> Transmission | None:
        """Mobile Prefix Solicitation from the CoA of ``bid`` with the Home Address option,
        ESP-NULL transport mode (RFC 6275 §11.4.2); the HA answers from any registered CoA."""
        iface = self.iface_of_bid(bid)
        if not iface.up or not iface.address:
            return None
        identifier = self.sim.rng.randrange(1, 0x10000)  # "a random value" (6275 §11.4.2)
        coa = iface.address
        self.mpd_esp_seq += 1
        packet = ipv6_packet(coa, self.ha.address, 58, mobile_prefix_solicitation(identifier), hao=self.hoa,
                             esp=(0x1001, self.mpd_esp_seq))
        return self.sim.network.send(
            iface, self.ha.interfaces["uplink"], packet, kind="mpd",
            on_arrival=lambda _p, _i: self.sim.after(
                0.0005, lambda: self.ha.answer_prefix_solicitation(self.hoa, coa, identifier)),
        )

    # ----------------------------------------------------------------- data
    def send_data(self, cn: CorrespondentNode, bid: int, size: int, src: str | None = None) -> None:
        """A UDP datagram to ``cn`` from interface ``bid``: route-optimised with HAO when the CN
        acknowledged that BID, else reverse-tunnelled (6in6, or UDP 4191 for an IPv4 CoA)."""
        iface = self.iface_of_bid(bid)
        if not iface.up or not iface.address:
            return
        source = src or self.hoa
        payload = bytes(max(0, size))
        datagram = udp_datagram(source, cn.address, 5001, 5001, payload)
        ro = self.bul_rows.get((cn.address, bid))
        regular = self.bul_rows.get((cn.address, None))
        if ro is None and regular is not None and regular.coa == iface.address:
            ro = regular  # a legacy CN: one regular binding, usable from its CoA only
        target_cn = cn.interfaces["eth0"]
        if iface.address == self.hoa:
            self.sim.network.send(
                iface,
                self.ha.interfaces["home"],
                ipv6_packet(source, cn.address, 17, datagram),
                kind="data",
                on_arrival=lambda p, _i: self.ha.forward_from_mn(p, cn.address),
            )
            return
        if self._usable(ro, cn.address, iface) and src is None and ":" in iface.address:
            packet = ipv6_packet(iface.address, cn.address, 17, datagram, hao=self.hoa)
            meta = TrafficMeta(cn.address, self.hoa, ro.bid if ro else bid, "from-mn", "route-optimised")
            coa = iface.address
            self.sim.network.send(
                iface,
                target_cn,
                packet,
                kind="data",
                traffic=meta,
                on_arrival=lambda _p, _i: cn.receive_home_address_data(self.hoa, coa, iface),
            )
            return
        inner = ipv6_packet(source, cn.address, 17, datagram)
        home = self.bul_rows.get((self.ha.address, bid))
        regular_home = self.bul_rows.get((self.ha.address, None))
        if home is None and regular_home is not None and regular_home.coa == iface.address:
            home = regular_home
        if not self._usable(home, self.ha.address, iface):
            return  # the MN's BUL has no acknowledged binding with the HA for this CoA
        if ":" not in iface.address:
            packet = dsmip_udp(iface.address, self.ha.ipv4_address(), DSMIP_PORT, DSMIP_PORT, inner)
            via, target = "udp", self.sim.network.iface_for(self.ha.ipv4_address())
        else:
            packet = ip6ip6(iface.address, self.ha.address, inner)
            via, target = "tunnel", self.ha.interfaces["uplink"]
        assert target is not None
        meta = TrafficMeta(self.ha.address, self.hoa, home.bid if home else None, "from-mn", via)
        self.sim.network.send(
            iface,
            target,
            packet,
            kind="data",
            traffic=meta,
            on_arrival=lambda p, _i: self.ha.forward_from_mn(inner, cn.address, p),
        )

    def send_unbound_ro_data(self, cn: CorrespondentNode, bid: int, size: int) -> Transmission | None:
        """A datagram to ``cn`` with a Home Address option from interface ``bid`` although the CN
        holds no binding for it (a misbehaving MN: only its home agent has that CoA). The CN
        discards it and answers with a Binding Error (§6.5, 6275 §9.3.1)."""
        iface = self.iface_of_bid(bid)
        if not iface.up or not iface.address:
            return None
        datagram = udp_datagram(self.hoa, cn.address, 5001, 5001, bytes(max(0, size)))
        packet = ipv6_packet(iface.address, cn.address, 17, datagram, hao=self.hoa)
        coa = iface.address
        return self.sim.network.send(
            iface, cn.interfaces["eth0"], packet, kind="data",
            traffic=TrafficMeta(cn.address, self.hoa, None, "from-mn", "route-optimised"),
            on_arrival=lambda _p, _i: cn.receive_home_address_data(self.hoa, coa, iface),
        )

    def _usable(self, row: BulRow | None, peer: str, iface: Iface) -> bool:
        """An acknowledged, open BUL entry for this CoA that the MN is not de-registering."""
        return (
            row is not None
            and row.end_reason is None
            and row.acknowledged
            and row.coa == iface.address
            and (peer, row.bid) not in self.leaving
        )

    def receive_tunnelled(self, inner: bytes, dst: str) -> None:
        """A tunnelled packet arrived; a mobile router forwards MNP traffic to its hosts."""
        if dst == self.hoa or not self.prefixes:
            return
        host = self.sim.network.iface_for(dst)
        lan = self.interfaces.get("lan")
        if host is not None and lan is not None:
            self.sim.network.send(lan, host, inner, kind="data")
