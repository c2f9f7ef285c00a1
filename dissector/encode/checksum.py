"""Checksums for the builders: the shared Internet checksum and pseudo-headers
(``dissector.checksum``), and writing a computed checksum into a header."""

from __future__ import annotations

import struct

from dissector.checksum import inet_checksum, ipv4_pseudo_header, ipv6_pseudo_header

__all__ = ["inet_checksum", "ipv4_pseudo_header", "ipv6_pseudo_header", "patch_checksum"]


def patch_checksum(data: bytes, offset: int, pseudo: bytes, *, zero_is_ffff: bool = False) -> bytes:
    """Compute the checksum of ``pseudo + data`` (field at ``offset`` taken as 0) and write it in."""
    blank = data[:offset] + b"\0\0" + data[offset + 2 :]
    value = inet_checksum(pseudo + blank)
    if zero_is_ffff and value == 0:
        value = 0xFFFF  # UDP: 0 means "no checksum" (RFC 768)
    return blank[:offset] + struct.pack("!H", value) + blank[offset + 2 :]
