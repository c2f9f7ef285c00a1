"""ICMPv6 Neighbor Discovery, HAAD and MPS/MPA from hand-built bytes (RFC 4861 §4, RFC 6275 §6.5-6.8)."""

from __future__ import annotations

import struct

from dissector.decode import decode_frame
from dissector.encode import (
    ethernet_for,
    ipv6_packet,
    mobile_prefix_advertisement,
    mobile_prefix_solicitation,
)
from dissector.records import Icmp6Message, Packet
from tests.dissector.handbuilt import HA, MN_HOA, a6, ethernet, frame, ipv6

MAC = bytes.fromhex("020000000001")
ICMP_AT = 14 + 40


def icmp(kind: int, body: bytes, code: int = 0) -> Packet:
    message = struct.pack("!BBH", kind, code, 0) + body
    return decode_frame(frame(ethernet(ipv6("fe80::1", "ff02::1", 58, message))))


def slla(mac: bytes = MAC) -> bytes:
    return b"\x01\x01" + mac


def prefix_info(prefix: str, length: int) -> bytes:
    return struct.pack("!BBBBIII", 3, 4, length, 0xC0, 86400, 14400, 0) + a6(prefix)


def test_neighbor_solicitation() -> None:
    packet = icmp(135, bytes(4) + a6(MN_HOA) + slla())
    assert packet.icmp6 == Icmp6Message(135, 0, MN_HOA, (), MAC)
    assert packet.path.protocol == 58


def test_neighbor_advertisement_flags_and_target_lla() -> None:
    packet = icmp(136, b"\xa0\0\0\0" + a6(MN_HOA) + b"\x02\x01" + MAC)  # R and O
    assert packet.icmp6 == Icmp6Message(136, 0, MN_HOA, ("R", "O"), None, MAC)


def test_router_solicitation() -> None:
    assert icmp(133, bytes(4) + slla()).icmp6 == Icmp6Message(133, 0, source_lla=MAC)


def test_router_advertisement_home_agent_flag_and_prefixes() -> None:
    body = struct.pack("!BBHII", 64, 0x20, 1800, 0, 0) + slla() + prefix_info("2001:db8:1::", 64)
    packet = icmp(134, body)
    assert packet.icmp6 == Icmp6Message(134, 0, None, ("H",), MAC, None, ("2001:db8:1::/64",))


def test_haad_request_and_reply() -> None:
    assert icmp(144, struct.pack("!HH", 7, 0)).icmp6 == Icmp6Message(144, 0, identifier=7)
    reply = icmp(145, struct.pack("!HH", 7, 0) + a6(HA) + a6("2001:db8:1::2"))
    assert reply.icmp6 == Icmp6Message(145, 0, addresses=(HA, "2001:db8:1::2"), identifier=7)


def test_mobile_prefix_solicitation_and_advertisement() -> None:
    assert icmp(146, struct.pack("!HH", 9, 0)).icmp6 == Icmp6Message(146, 0, identifier=9)
    mpa = icmp(147, struct.pack("!HBB", 9, 0x80, 0) + prefix_info("2001:db8:1::", 64))
    assert mpa.icmp6 == Icmp6Message(147, 0, None, ("M",), prefixes=("2001:db8:1::/64",), identifier=9)
    assert icmp(146, b"").icmp6 == Icmp6Message(146, 0)  # too short for an identifier: none, no raise


def test_nd_option_with_zero_length_is_a_problem() -> None:
    packet = icmp(135, bytes(4) + a6(MN_HOA) + b"\x01\x00" + bytes(6))
    assert packet.icmp6 is not None and packet.icmp6.target == MN_HOA
    assert [(p.layer, p.offset) for p in packet.problems] == [("icmpv6", ICMP_AT + 24)]


def test_truncated_ns_keeps_type() -> None:
    packet = icmp(135, bytes(4) + a6(MN_HOA)[:6])
    assert packet.icmp6 == Icmp6Message(135, 0)
    assert [(p.layer, p.offset) for p in packet.problems] == [("icmpv6", ICMP_AT + 8)]


def test_encoded_mobile_prefix_messages_under_esp_null_decode() -> None:
    # what the simulator sends: MPS with the Home Address option, MPA with a type 2 routing
    # header, both ESP-NULL transport mode (RFC 6275 §11.4.2, §10.6.2)
    mac = b"\x02\x00\x00\x00\x00\x01"
    mps = ipv6_packet("2001:db8:a2::100", "2001:db8:1::1", 58, mobile_prefix_solicitation(0x1234),
                      hao="2001:db8:1::100", esp=(0x1001, 1))
    mpa = ipv6_packet("2001:db8:1::1", "2001:db8:a2::100", 58,
                      mobile_prefix_advertisement(0x1234, [("2001:db8:1::", 64)]), rh2="2001:db8:1::100",
                      esp=(0x2001, 1))
    sol = decode_frame(frame(ethernet_for(mac, mac, mps)))
    adv = decode_frame(frame(ethernet_for(mac, mac, mpa)))
    assert sol.esp is not None and sol.esp.null_decoded
    assert sol.icmp6 == Icmp6Message(146, 0, identifier=0x1234)
    assert sol.path.home_address_option == "2001:db8:1::100"
    assert adv.icmp6 == Icmp6Message(147, 0, prefixes=("2001:db8:1::/64",), identifier=0x1234)
    assert adv.path.routing_type2 == "2001:db8:1::100"
