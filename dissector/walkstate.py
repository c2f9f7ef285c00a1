"""The mutable scratchpad of one decode_frame call.

The walkers (link, ipv6, mobility, icmp6) fill it in as they read, so that when one of them raises
Truncated/Malformed halfway, decode_frame still builds a Packet from everything read before.
It never leaves the dissector: decode_frame freezes it into records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dissector.records import (
    EspInfo,
    Icmp6Message,
    IkeHeader,
    MessageBody,
    MobilityOption,
    Problem,
)


@dataclass(slots=True)
class MobilityDraft:
    offset: int
    mh_type: int
    type_name: str
    payload_proto: int
    header_len: int
    checksum: int
    checksum_ok: bool | None = None
    body: MessageBody | None = None
    # a list while the walk appends; the walk cache's shared tuple when the whole area was known
    options: list[MobilityOption] | tuple[MobilityOption, ...] = field(default_factory=list)


MAX_PACKET_PROBLEMS = 32  # problems kept per packet; the rest are counted in one summary problem


@dataclass(slots=True)
class WalkState:
    frame_len: int
    snapped: bool  # captured fewer bytes than were on the wire
    layer: str = "link"
    # addressing
    src: str | None = None
    dst: str | None = None
    outer_src: str | None = None
    outer_dst: str | None = None
    tunnel: str | None = None
    udp_sport: int | None = None
    udp_dport: int | None = None
    home_address_option: str | None = None
    routing_type2: str | None = None
    mac_src: bytes | None = None
    mac_dst: bytes | None = None
    vlans: tuple[int, ...] = ()
    protocol: int | None = None
    ip_headers: int = 0  # how many IP headers were entered (1 = no tunnel)
    # payloads
    mobility: MobilityDraft | None = None
    icmp6: Icmp6Message | None = None
    esp: EspInfo | None = None
    ike: IkeHeader | None = None
    fragment: bool = False
    problems: list[Problem] = field(default_factory=list)
    problems_dropped: int = 0  # problems beyond MAX_PACKET_PROBLEMS: counted, not kept
    encapsulations: int = 0  # UDP and ESP layers followed; they count against the nesting limit

    def problem(self, offset: int, reason: str, severity: str = "error", layer: str | None = None) -> None:
        # a hostile packet can hold one bad option every two bytes: keep a few, count the rest
        if len(self.problems) >= MAX_PACKET_PROBLEMS:
            self.problems_dropped += 1
            return
        self.problems.append(Problem(layer or self.layer, offset, reason, severity))

    def enter_ip(self, src: str, dst: str, tunnel_kind: str | None) -> None:
        """A new IP header: the innermost header's addresses win, the outermost are kept as outer_*.

        HAO / RH2 belong to the header that carries the payload, so they reset with each new header.
        """
        self.ip_headers += 1
        if self.ip_headers == 2:
            self.outer_src, self.outer_dst = self.src, self.dst
            self.tunnel = tunnel_kind
        self.src, self.dst = src, dst
        self.home_address_option = None
        self.routing_type2 = None
