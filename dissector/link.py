"""Link layers: where the network header starts, which IP version it is, MACs and VLAN ids.

Pure functions over the frame bytes; problems are reported in the result, never raised.
Supported: Ethernet II / 802.3 SNAP with 802.1Q, 802.1ad (QinQ) and older 0x9100-style VLAN
stacks of any depth; Linux cooked v1 (113) and v2 (276); raw IP (101, and the OpenBSD/other
DLT values 12 and 14; 228 IPv4; 229 IPv6); BSD loopback (0, host byte order of the capturing
machine, and 108, network order -- both byte orders are accepted for either).
"""

from __future__ import annotations

from dataclasses import dataclass

from dissector.codepoints import LinkType
from dissector.records import Problem

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
VLAN_TPIDS = frozenset({0x8100, 0x88A8, 0x9100, 0x9200, 0x9300})
_IP_BY_ETHERTYPE = {ETHERTYPE_IPV4: 4, ETHERTYPE_IPV6: 6}

AF_INET = 2
AF_INET6_VALUES = frozenset({24, 28, 30})  # NetBSD/OpenBSD, FreeBSD, Darwin
RAW_LINKTYPES = {int(LinkType.RAW): 0, 12: 0, 14: 0, int(LinkType.IPV4): 4, int(LinkType.IPV6): 6}


@dataclass(frozen=True, slots=True)
class LinkLayer:
    """The link layer of one frame.

    ``network`` is 4 or 6 for IPv4/IPv6, 0 for "IP, read the version nibble" (raw link
    types 101/12/14), None when the payload is not IP (or the header could not be read).
    """

    offset: int  # where the network-layer payload starts in the frame
    network: int | None
    ethertype: int | None = None  # final ethertype after VLAN tags (or the AF word for loopback)
    mac_src: bytes | None = None
    mac_dst: bytes | None = None
    vlans: tuple[int, ...] = ()  # VLAN ids, outermost first
    problems: tuple[Problem, ...] = ()


def parse_link(linktype: int, data: bytes | bytearray | memoryview) -> LinkLayer:
    """Parse the link header of ``data`` captured with ``linktype``. Never raises."""
    if linktype == LinkType.ETHERNET:
        return parse_ethernet(data)
    network = RAW_LINKTYPES.get(linktype, -1)
    if network >= 0:
        return LinkLayer(0, network)
    if linktype == LinkType.LINUX_SLL:
        return parse_sll(data)
    if linktype == LinkType.LINUX_SLL2:
        return parse_sll2(data)
    if linktype in (LinkType.NULL, LinkType.LOOP):
        return parse_loopback(data)
    return LinkLayer(
        0, None, problems=(Problem("link", 0, f"link type {linktype} is not supported", "warning"),)
    )


def parse_ethernet(data: bytes | bytearray | memoryview) -> LinkLayer:
    if len(data) < 14:
        return LinkLayer(0, None, problems=(_short("ethernet", 0, 14, len(data)),))
    mac_dst, mac_src = bytes(data[0:6]), bytes(data[6:12])
    ethertype, offset, vlans, problem = _ethertype_after_tags(data, 12)
    if problem is None and ethertype <= 1500:  # 802.3 length: only LLC/SNAP can carry IP
        ethertype, offset, problem = _llc_snap(data, offset)
    return _result(offset, ethertype, mac_src, mac_dst, vlans, problem)


def parse_sll(data: bytes | bytearray | memoryview) -> LinkLayer:
    """Linux cooked capture v1: type(2) hatype(2) addr len(2) addr(8) protocol(2)."""
    if len(data) < 16:
        return LinkLayer(0, None, problems=(_short("sll", 0, 16, len(data)),))
    addr_len = int.from_bytes(data[4:6], "big")
    mac_src = bytes(data[6 : 6 + min(addr_len, 8)]) or None
    ethertype, offset, vlans, problem = _ethertype_after_tags(data, 14)
    return _result(offset, ethertype, mac_src, None, vlans, problem)


def parse_sll2(data: bytes | bytearray | memoryview) -> LinkLayer:
    """Linux cooked capture v2: protocol(2) reserved(2) ifindex(4) hatype(2) type(1) len(1) addr(8)."""
    if len(data) < 20:
        return LinkLayer(0, None, problems=(_short("sll2", 0, 20, len(data)),))
    addr_len = data[11]
    mac_src = bytes(data[12 : 12 + min(addr_len, 8)]) or None
    # the protocol field comes first in v2; VLAN tags, if kept, follow the 20-byte header
    ethertype, offset, vlans, problem = _walk_tags(data, int.from_bytes(data[0:2], "big"), 20)
    return _result(offset, ethertype, mac_src, None, vlans, problem)


def parse_loopback(data: bytes | bytearray | memoryview) -> LinkLayer:
    """BSD loopback: a 4-byte address family in either byte order, then the IP packet."""
    if len(data) < 4:
        return LinkLayer(0, None, problems=(_short("loopback", 0, 4, len(data)),))
    for order in ("little", "big"):
        family = int.from_bytes(data[0:4], order)
        if family == AF_INET:
            return LinkLayer(4, 4, family)
        if family in AF_INET6_VALUES:
            return LinkLayer(4, 6, family)
    family = int.from_bytes(data[0:4], "little")
    if family > 0xFFFF:
        family = int.from_bytes(data[0:4], "big")
    return LinkLayer(
        4, None, family, problems=(Problem("loopback", 0, f"address family {family} is not IP", "warning"),)
    )


# --------------------------------------------------------------------------- helpers


def _ethertype_after_tags(
    data: bytes | bytearray | memoryview, at: int
) -> tuple[int, int, tuple[int, ...], Problem | None]:
    """Read the ethertype at ``at`` and walk any VLAN tags: (ethertype, payload offset, vlans, problem)."""
    return _walk_tags(data, int.from_bytes(data[at : at + 2], "big"), at + 2)


def _walk_tags(
    data: bytes | bytearray | memoryview, ethertype: int, offset: int
) -> tuple[int, int, tuple[int, ...], Problem | None]:
    vlans: list[int] = []
    while ethertype in VLAN_TPIDS:
        if len(data) < offset + 4:
            return ethertype, offset, tuple(vlans), _short("vlan", offset, offset + 4, len(data))
        vlans.append(int.from_bytes(data[offset : offset + 2], "big") & 0x0FFF)
        ethertype = int.from_bytes(data[offset + 2 : offset + 4], "big")
        offset += 4
    return ethertype, offset, tuple(vlans), None


def _llc_snap(data: bytes | bytearray | memoryview, at: int) -> tuple[int, int, Problem | None]:
    """802.3 frames: IP only behind LLC AA-AA-03 with a zero OUI (RFC 1042)."""
    if bytes(data[at : at + 6]) == b"\xaa\xaa\x03\x00\x00\x00" and len(data) >= at + 8:
        return int.from_bytes(data[at + 6 : at + 8], "big"), at + 8, None
    return 0, at, None  # other LLC payloads are simply not IP


def _result(
    offset: int,
    ethertype: int,
    mac_src: bytes | None,
    mac_dst: bytes | None,
    vlans: tuple[int, ...],
    problem: Problem | None,
) -> LinkLayer:
    if problem is not None:
        return LinkLayer(offset, None, None, mac_src, mac_dst, vlans, (problem,))
    return LinkLayer(offset, _IP_BY_ETHERTYPE.get(ethertype), ethertype, mac_src, mac_dst, vlans)


def _short(layer: str, offset: int, need: int, have: int) -> Problem:
    return Problem(layer, offset, f"{layer} header truncated: needs {need} bytes, frame has {have}")
