"""The Internet checksum (RFC 1071) and the pseudo-headers it covers: one implementation for the
decoder (verifying Mobility Header checksums) and the builders in ``dissector.encode``."""

from __future__ import annotations

import socket
import struct


def inet_checksum(data: bytes | memoryview) -> int:
    """One's complement of the one's complement sum of 16-bit words (odd tail padded with 0)."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv6_pseudo_header(src: str, dst: str, length: int, next_header: int) -> bytes:
    """RFC 8200 §8.1: source, final destination, upper-layer length (32 bits), 3 zeros, NH."""
    return (
        socket.inet_pton(socket.AF_INET6, src)
        + socket.inet_pton(socket.AF_INET6, dst)
        + struct.pack("!I3xB", length, next_header)
    )


def ipv4_pseudo_header(src: str, dst: str, length: int, protocol: int) -> bytes:
    return (
        socket.inet_pton(socket.AF_INET, src)
        + socket.inet_pton(socket.AF_INET, dst)
        + struct.pack("!xBH", protocol, length)
    )
