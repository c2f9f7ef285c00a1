"""The IKE header (RFC 7296 §3.1) on UDP 500 and 4500, as a dpkt layout; no payload, no decryption.

Draft-05 / RFC 5648 §9.1 tie IKEv2 to one care-of address per home address; the checker needs
only which IKE SA (the SPI pair) a message belongs to, who sent it (I flag) and the exchange type
(a new IKE_SA_INIT). On port 4500 an IKE message follows the four-zero-byte non-ESP marker
(RFC 3948 §2.2); anything else there is ESP in UDP and is left to the IP walk.
"""

from __future__ import annotations

import dpkt

from dissector.mh_layouts import compile_layout
from dissector.reader import Reader
from dissector.records import IkeHeader
from dissector.walkstate import WalkState

IKE_PORT, NAT_T_PORT = 500, 4500
IKE_PORTS = frozenset({IKE_PORT, NAT_T_PORT})
NON_ESP_MARKER = b"\0\0\0\0"
IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL = 34, 35, 36, 37
EXCHANGE_NAMES = {IKE_SA_INIT: "IKE_SA_INIT", IKE_AUTH: "IKE_AUTH", CREATE_CHILD_SA: "CREATE_CHILD_SA",
                  INFORMATIONAL: "INFORMATIONAL"}


class IkeHeaderLayout(dpkt.Packet):
    """RFC 7296 §3.1 (Figure 4): the 28-octet IKE header."""

    __hdr__ = (
        ("initiator_spi", "Q", 0),
        ("responder_spi", "Q", 0),
        ("next_payload", "B", 0),
        ("version", "B", 0x20),  # MjVer (high nibble), MnVer (low nibble)
        ("exchange_type", "B", IKE_SA_INIT),
        ("flags", "B", 0x08),  # R 0x20, V 0x10, I 0x08
        ("message_id", "I", 0),
        ("length", "I", 28),
    )


IKE_HEADER = compile_layout(IkeHeaderLayout)


def is_ike(sport: int, dport: int, r: Reader) -> bool:
    """UDP ports say IKE and, on 4500, the payload starts with the non-ESP marker."""
    if IKE_PORT in (sport, dport):
        return True
    if NAT_T_PORT in (sport, dport) and r.remaining() >= 4 + IKE_HEADER.size:
        return bytes(r.buf[r.pos:r.pos + 4]) == NON_ESP_MARKER
    return False


def decode_ike(r: Reader, state: WalkState, port_4500: bool) -> None:
    """Read the IKE header at ``r`` into ``state.ike``; a short header is a problem, never raised."""
    state.layer = "ike"
    if port_4500:
        r.skip(4)
    start = r.tell()
    if r.remaining() < IKE_HEADER.size:
        state.problem(start, f"IKE header needs {IKE_HEADER.size} bytes, {r.remaining()} left")
        return
    ispi, rspi, next_payload, version, exchange, flags, message_id, length = IKE_HEADER.struct.unpack_from(
        r.buf, start)
    state.ike = IkeHeader(ispi, rspi, next_payload, version >> 4, version & 0x0F, exchange, flags,
                          message_id, length)
    if length < IKE_HEADER.size or length > r.end - start:
        state.problem(start + 24, f"IKE Length {length} does not fit the {r.end - start}-byte datagram",
                      "warning")
