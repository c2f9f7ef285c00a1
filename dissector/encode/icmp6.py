"""ICMPv6 Neighbor Discovery (RFC 4861): RS, RA, NS, NA with link-layer address options,
and Echo. Bodies have a zero checksum; ``ip.ipv6_packet(next_header=58)`` fills it."""

from __future__ import annotations

import socket
import struct

ICMPV6 = 58
ALL_NODES = "ff02::1"
ALL_ROUTERS = "ff02::2"


def _lla_option(kind: int, mac: bytes) -> bytes:
    """Source (1) / Target (2) Link-Layer Address option, Ethernet: Length 1 (8 octets)."""
    return bytes((kind, 1)) + mac


def prefix_information(
    prefix: str,
    length: int = 64,
    *,
    valid: int = 86400,
    preferred: int = 14400,
    on_link: bool = True,
    autonomous: bool = True,
    router_address: bool = False,
) -> bytes:
    flags = (0x80 if on_link else 0) | (0x40 if autonomous else 0) | (0x20 if router_address else 0)
    return struct.pack("!BBBBIII", 3, 4, length, flags, valid, preferred, 0) + socket.inet_pton(
        socket.AF_INET6, prefix
    )


def router_solicitation(source_mac: bytes | None = None) -> bytes:
    return struct.pack("!BBHI", 133, 0, 0, 0) + (_lla_option(1, source_mac) if source_mac else b"")


def router_advertisement(
    source_mac: bytes,
    prefixes: list[tuple[str, int]],
    *,
    home_agent: bool = False,
    router_lifetime: int = 1800,
    hop_limit: int = 64,
) -> bytes:
    """RA with the H (home agent) flag when ``home_agent``; SLLA and Prefix Information options."""
    flags = 0x20 if home_agent else 0
    body = struct.pack("!BBHBBHII", 134, 0, 0, hop_limit, flags, router_lifetime, 0, 0)
    body += _lla_option(1, source_mac)
    for prefix, length in prefixes:
        body += prefix_information(prefix, length, router_address=home_agent)
    return body


def neighbor_solicitation(target: str, source_mac: bytes | None = None) -> bytes:
    body = struct.pack("!BBHI", 135, 0, 0, 0) + socket.inet_pton(socket.AF_INET6, target)
    return body + (_lla_option(1, source_mac) if source_mac else b"")


def neighbor_advertisement(
    target: str,
    target_mac: bytes | None = None,
    *,
    router: bool = False,
    solicited: bool = True,
    override: bool = True,
) -> bytes:
    flags = (0x80 if router else 0) | (0x40 if solicited else 0) | (0x20 if override else 0)
    body = struct.pack("!BBHB3x", 136, 0, 0, flags) + socket.inet_pton(socket.AF_INET6, target)
    return body + (_lla_option(2, target_mac) if target_mac else b"")


def echo(request: bool, identifier: int, sequence: int, data: bytes = b"") -> bytes:
    return struct.pack("!BBHHH", 128 if request else 129, 0, 0, identifier, sequence) + data


def mobile_prefix_solicitation(identifier: int) -> bytes:
    """Mobile Prefix Solicitation (RFC 6275 §6.7): type 146, Identifier, Reserved."""
    return struct.pack("!BBHHH", 146, 0, 0, identifier, 0)


def mobile_prefix_advertisement(identifier: int, prefixes: list[tuple[str, int]], *, managed: bool = False,
                                other: bool = False) -> bytes:
    """Mobile Prefix Advertisement (RFC 6275 §6.8): type 147, Identifier, M/O, Prefix Information."""
    flags = (0x80 if managed else 0) | (0x40 if other else 0)
    return struct.pack("!BBHHBB", 147, 0, 0, identifier, flags, 0) + b"".join(
        prefix_information(p, n) for p, n in prefixes)


def solicited_node(address: str) -> str:
    """ff02::1:ffXX:XXXX for ``address`` (RFC 4291 §2.7.1)."""
    raw = socket.inet_pton(socket.AF_INET6, address)
    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff0200000000000000000001ff") + raw[13:])


def multicast_mac(address: str) -> bytes:
    """33:33 + the low 32 bits of an IPv6 multicast address (RFC 2464 §7)."""
    return b"\x33\x33" + socket.inet_pton(socket.AF_INET6, address)[12:]
