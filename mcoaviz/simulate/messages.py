"""What a node means to send: a Mobility Header message and how it is carried.

``MobilitySpec`` is both the recipe for the bytes and the record of intent: the tests compare
tshark's reading of each captured MH message with the spec that produced it. Scenarios craft
wrong messages by changing a spec (``dataclasses.replace``): wrong flags, a forced Header Len,
a wrong checksum, options without alignment, a different MH type.
"""

from __future__ import annotations

from dataclasses import dataclass

from dissector.codepoints import MH_SHORT_NAMES
from dissector.encode import dsmip_udp, ip6ip6, ipv6_packet, mobility_header
from dissector.records import MessageBody, MobilityOption, RawMessage

MOBILITY = 135


@dataclass(frozen=True, slots=True)
class MobilitySpec:
    """A Mobility Header message and its IP carriage.

    ``src``/``dst``: the IPv6 header carrying the MH. ``hao``: Home Address option (a BU from
    a CoA). ``rh2``: type 2 routing header address (a BA to a CoA). ``esp``: (SPI, sequence)
    for ESP-NULL transport mode. ``tunnel``: outer IPv6 (src, dst) when the message travels in
    the HA tunnel (HoTI/HoT, BRR from the HA). ``udp``: DSMIPv6 outer (IPv4 src, IPv4 dst,
    sport, dport). The remaining fields override what the encoder would compute.
    """

    body: MessageBody
    src: str
    dst: str
    options: tuple[MobilityOption, ...] = ()
    hao: str | None = None
    rh2: str | None = None
    esp: tuple[int, int] | None = None
    tunnel: tuple[str, str] | None = None
    udp: tuple[str, str, int, int] | None = None
    mh_type: int | None = None
    header_len: int | None = None
    align: bool = True
    checksum: int | None = None
    payload_proto: int = 59

    @property
    def type_name(self) -> str:
        if self.mh_type is not None:
            return MH_SHORT_NAMES.get(self.mh_type, f"MH{self.mh_type}")
        return {
            "BindingRefreshRequest": "BRR",
            "HomeTestInit": "HoTI",
            "CareOfTestInit": "CoTI",
            "HomeTest": "HoT",
            "CareOfTest": "CoT",
            "BindingUpdate": "BU",
            "BindingAck": "BA",
            "BindingError": "BE",
            "RawMessage": "MH",
        }[type(self.body).__name__]

    def mobility_header(self) -> bytes:
        mh_type = self.mh_type if self.mh_type is not None or not isinstance(self.body, RawMessage) else 255
        return mobility_header(
            self.body,
            self.options,
            mh_type=mh_type,
            payload_proto=self.payload_proto,
            header_len=self.header_len,
            align=self.align,
        )

    def build(self) -> bytes:
        """The IP packet (IPv6, or IPv4 for DSMIPv6) that carries the message."""
        packet = ipv6_packet(
            self.src,
            self.dst,
            MOBILITY,
            self.mobility_header(),
            hao=self.hao,
            rh2=self.rh2,
            esp=self.esp,
            checksum=self.checksum,
        )
        if self.tunnel is not None:
            packet = ip6ip6(self.tunnel[0], self.tunnel[1], packet)
        if self.udp is not None:
            outer_src, outer_dst, sport, dport = self.udp
            packet = dsmip_udp(outer_src, outer_dst, sport, dport, packet)
        return packet
