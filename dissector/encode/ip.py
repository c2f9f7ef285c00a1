"""IPv6 (with HAO / type 2 RH / ESP-NULL), IPv4, UDP, tunnels and Ethernet.

The central builder is ``ipv6_packet``: it lays out, in RFC 8200/6275 order,
``IPv6 | RH type 2 | Destination Options (HAO) | ESP | upper layer`` and fills the upper
layer's checksum (MH, UDP, ICMPv6) with the pseudo-header RFC 6275 §6.1.1 prescribes: the HAO
address as source and the RH2 address (the final destination) as destination.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import struct

from dissector.encode.checksum import inet_checksum, ipv4_pseudo_header, ipv6_pseudo_header, patch_checksum

ETH_IPV6 = 0x86DD
ETH_IPV4 = 0x0800
ESP_ICV_LENGTH = 12  # HMAC-SHA1-96
_ESP_KEY = b"mcoaviz-esp-null"  # fixed key: the ICV is real HMAC-SHA1-96, deterministic

# Where each upper layer keeps its checksum.
CHECKSUM_OFFSET = {135: 4, 17: 6, 58: 2, 6: 16}


def _v6(address: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, address)


def ipv6_header(
    src: str,
    dst: str,
    next_header: int,
    payload_length: int,
    *,
    hop_limit: int = 64,
    traffic_class: int = 0,
    flow_label: int = 0,
) -> bytes:
    word = (6 << 28) | (traffic_class << 20) | (flow_label & 0xFFFFF)
    return struct.pack("!IHBB", word, payload_length, next_header, hop_limit) + _v6(src) + _v6(dst)


def routing_type2(next_header: int, home_address: str, *, segments_left: int = 1) -> bytes:
    """RFC 6275 §6.4.1: Hdr Ext Len 2, Routing Type 2, Segments Left 1, Reserved, HoA."""
    return struct.pack("!BBBBI", next_header, 2, 2, segments_left, 0) + _v6(home_address)


def destination_options_hao(next_header: int, home_address: str) -> bytes:
    """Destination Options header with the HAO (0xC9) at offset 6 (8n+6): PadN(2), HAO."""
    return bytes((next_header, 2, 1, 2, 0, 0, 0xC9, 16)) + _v6(home_address)


def esp_null(spi: int, sequence: int, next_header: int, payload: bytes) -> bytes:
    """ESP with NULL encryption (RFC 4303, RFC 2410): SPI, seq, payload, padding 1,2,3..,
    Pad Length, Next Header, 12-octet ICV (HMAC-SHA1-96 over SPI..Next Header)."""
    pad_len = -(len(payload) + 2) % 4
    body = (
        struct.pack("!II", spi, sequence)
        + payload
        + bytes(range(1, pad_len + 1))
        + bytes((pad_len, next_header))
    )
    icv = hmac.new(_ESP_KEY, body, hashlib.sha1).digest()[:ESP_ICV_LENGTH]
    return body + icv


def ipv6_packet(
    src: str,
    dst: str,
    next_header: int,
    upper: bytes,
    *,
    hao: str | None = None,
    rh2: str | None = None,
    esp: tuple[int, int] | None = None,
    hop_limit: int = 64,
    flow_label: int = 0,
    fill_checksum: bool = True,
    checksum: int | None = None,
) -> bytes:
    """A complete IPv6 packet.

    ``hao``: Home Address destination option (the pseudo-header source). ``rh2``: type 2
    routing header address (the pseudo-header destination). ``esp``: (SPI, sequence) to wrap
    the upper layer in ESP-NULL, transport mode. The upper layer's checksum is computed when
    its protocol has one (MH 135, UDP 17, ICMPv6 58, TCP 6); ``checksum`` forces a value.
    """
    offset = CHECKSUM_OFFSET.get(next_header)
    if offset is not None and fill_checksum and len(upper) >= offset + 2:
        pseudo = ipv6_pseudo_header(hao or src, rh2 or dst, len(upper), next_header)
        upper = patch_checksum(upper, offset, pseudo, zero_is_ffff=next_header == 17)
    if offset is not None and checksum is not None and len(upper) >= offset + 2:
        upper = upper[:offset] + struct.pack("!H", checksum) + upper[offset + 2 :]
    payload, proto = upper, next_header
    if esp is not None:
        payload, proto = esp_null(esp[0], esp[1], proto, payload), 50
    if hao is not None:
        payload, proto = destination_options_hao(proto, hao) + payload, 60
    if rh2 is not None:
        payload, proto = routing_type2(proto, rh2) + payload, 43
    return ipv6_header(src, dst, proto, len(payload), hop_limit=hop_limit, flow_label=flow_label) + payload


def ipv4_packet(
    src: str,
    dst: str,
    protocol: int,
    payload: bytes,
    *,
    ttl: int = 64,
    identification: int = 0,
    dont_fragment: bool = True,
) -> bytes:
    """IPv4 header (20 octets, no options) with a correct header checksum, then the payload."""
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        identification & 0xFFFF,
        0x4000 if dont_fragment else 0,
        ttl,
        protocol,
        0,
        socket.inet_pton(socket.AF_INET, src),
        socket.inet_pton(socket.AF_INET, dst),
    )
    header = header[:10] + struct.pack("!H", inet_checksum(header)) + header[12:]
    return header + payload


def udp_datagram(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """UDP header + payload with the checksum over the IPv4 or IPv6 pseudo-header."""
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if ":" in src:
        pseudo = ipv6_pseudo_header(src, dst, len(datagram), 17)
    else:
        pseudo = ipv4_pseudo_header(src, dst, len(datagram), 17)
    return patch_checksum(datagram, 6, pseudo, zero_is_ffff=True)


def ip6ip6(outer_src: str, outer_dst: str, inner: bytes, *, hop_limit: int = 64) -> bytes:
    """IPv6-in-IPv6 (RFC 2473): the bidirectional tunnel between the HA and a CoA."""
    return ipv6_header(outer_src, outer_dst, 41, len(inner), hop_limit=hop_limit) + inner


def ip6ip4(outer_src: str, outer_dst: str, inner: bytes, *, ttl: int = 64) -> bytes:
    """IPv6-in-IPv4 (protocol 41)."""
    return ipv4_packet(outer_src, outer_dst, 41, inner, ttl=ttl)


def dsmip_udp(
    outer_src: str, outer_dst: str, sport: int, dport: int, inner: bytes, *, ttl: int = 64
) -> bytes:
    """RFC 5555 §4.1 UDP encapsulation: IPv4 | UDP (4191) | complete inner IP packet."""
    datagram = udp_datagram(outer_src, outer_dst, sport, dport, inner)
    return ipv4_packet(outer_src, outer_dst, 17, datagram, ttl=ttl)


def ethernet(dst_mac: bytes, src_mac: bytes, ethertype: int, payload: bytes) -> bytes:
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload


def ethernet_for(dst_mac: bytes, src_mac: bytes, packet: bytes) -> bytes:
    """Ethernet frame with the EtherType taken from the IP version nibble."""
    return ethernet(dst_mac, src_mac, ETH_IPV6 if packet[0] >> 4 == 6 else ETH_IPV4, packet)


def mac(text: str) -> bytes:
    """'02:00:00:00:00:01' -> 6 octets."""
    return bytes(int(part, 16) for part in text.split(":"))
