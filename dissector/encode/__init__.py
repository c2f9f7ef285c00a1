"""Builders: the exact inverse of the decoders, used by the simulator and the tests.

* ``options``: mobility option records -> bytes, with automatic alignment padding.
* ``mobility``: Mobility Header messages 0-7 (checksum left 0 for the IPv6 builder).
* ``ip``: IPv6 with HAO / type 2 RH / ESP-NULL, IPv4, UDP, tunnels (6in6, 6in4, DSMIPv6
  UDP 4191) and Ethernet; fills upper-layer checksums with the right pseudo-header.
* ``icmp6``: Neighbor Discovery messages with link-layer address options.

Typical use::

    mh = mobility_header(binding_update(7, 400, "A", "H"), [binding_identifier(1, coa)])
    packet = ipv6_packet(coa, ha, 135, mh, hao=hoa)      # checksum uses HoA as source
    frame = ethernet_for(router_mac, mn_mac, packet)
"""

from dissector.encode.checksum import inet_checksum, ipv4_pseudo_header, ipv6_pseudo_header
from dissector.encode.icmp6 import (
    echo,
    mobile_prefix_advertisement,
    mobile_prefix_solicitation,
    multicast_mac,
    neighbor_advertisement,
    neighbor_solicitation,
    router_advertisement,
    router_solicitation,
    solicited_node,
)
from dissector.encode.ip import (
    dsmip_udp,
    esp_null,
    ethernet,
    ethernet_for,
    ip6ip4,
    ip6ip6,
    ipv4_packet,
    ipv6_header,
    ipv6_packet,
    mac,
    udp_datagram,
)
from dissector.encode.mobility import (
    ba_flags,
    binding_ack,
    binding_update,
    bu_flags,
    mobility_header,
)
from dissector.encode.options import binding_identifier, encode_option, layout_options, padding

__all__ = [
    "ba_flags",
    "binding_ack",
    "binding_identifier",
    "binding_update",
    "bu_flags",
    "dsmip_udp",
    "echo",
    "mobile_prefix_advertisement",
    "mobile_prefix_solicitation",
    "encode_option",
    "esp_null",
    "ethernet",
    "ethernet_for",
    "inet_checksum",
    "ip6ip4",
    "ip6ip6",
    "ipv4_packet",
    "ipv4_pseudo_header",
    "ipv6_header",
    "ipv6_packet",
    "ipv6_pseudo_header",
    "layout_options",
    "mac",
    "mobility_header",
    "multicast_mac",
    "neighbor_advertisement",
    "neighbor_solicitation",
    "padding",
    "router_advertisement",
    "router_solicitation",
    "solicited_node",
    "udp_datagram",
]
