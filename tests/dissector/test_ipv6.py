"""The IP walk: extension headers, HAO, type 2 RH, fragments, AH, ESP(-NULL), tunnels, DSMIPv6 UDP."""

from __future__ import annotations

import struct

from dissector.decode import DecodeOptions, decode_frame
from dissector.records import BindingUpdate, EspInfo, Packet
from tests.dissector.handbuilt import (
    HA,
    MN_COA,
    MN_HOA,
    bu_body,
    dest_opts_hao,
    esp_null,
    ethernet,
    ext,
    frame,
    ipv4,
    ipv6,
    mh,
    padn,
    routing_type2,
    udp,
)

IP_AT = 14
V4_COA, V4_HA = "198.51.100.9", "203.0.113.1"


def bu(src: str = MN_HOA, dst: str = HA, seq: int = 7) -> bytes:
    return mh(5, bu_body(seq, 0xC000, 50) + padn(4), src=src, dst=dst)


def decode(data: bytes, **kw: object) -> Packet:
    return decode_frame(frame(data), DecodeOptions(**kw))  # type: ignore[arg-type]


def assert_bu(packet: Packet, seq: int = 7) -> None:
    assert packet.mobility is not None and isinstance(packet.mobility.body, BindingUpdate)
    assert packet.mobility.body.seq == seq and packet.mobility.checksum_ok is True


def test_hop_by_hop_then_mh() -> None:
    packet = decode(ethernet(ipv6(MN_HOA, HA, 0, ext(135, b"\x01\x04\0\0\0\0") + bu())))
    assert_bu(packet)
    assert packet.problems == () and packet.path.protocol == 135


def test_hao_in_destination_options() -> None:
    packet = decode(ethernet(ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + bu())))
    assert_bu(packet)
    assert (packet.path.src, packet.path.home_address_option) == (MN_COA, MN_HOA)


def test_misaligned_hao_is_a_warning_but_read() -> None:
    from tests.dissector.handbuilt import a6

    opts = ext(135, b"\xc9\x10" + a6(MN_HOA) + b"\x01\x02\0\0")  # HAO at offset 2, not 8n+6
    packet = decode(ethernet(ipv6(MN_COA, HA, 60, opts + bu())))
    assert packet.path.home_address_option == MN_HOA
    found = [(p.layer, p.offset, p.severity) for p in packet.problems]
    assert found == [("dest-options", IP_AT + 42, "warning")]


def test_bad_hao_length_is_an_error() -> None:
    opts = ext(135, b"\xc9\x04\0\0\0\0")
    packet = decode(ethernet(ipv6(MN_COA, HA, 60, opts + bu(src=MN_COA))))
    assert packet.path.home_address_option is None
    assert [(p.layer, p.offset) for p in packet.problems] == [("dest-options", IP_AT + 42)]
    assert_bu(packet)


def test_type2_routing_header() -> None:
    ba = mh(6, bytes([0, 0]) + struct.pack("!HH", 7, 50) + padn(4), src=HA, dst=MN_HOA)
    packet = decode(ethernet(ipv6(HA, MN_COA, 43, routing_type2(135, MN_HOA) + ba)))
    assert packet.path.routing_type2 == MN_HOA and packet.mobility is not None
    assert packet.mobility.checksum_ok is True and packet.problems == ()


def test_type2_routing_header_with_wrong_segments_left() -> None:
    ba = mh(6, bytes([0, 0]) + struct.pack("!HH", 7, 50) + padn(4), src=HA, dst=MN_HOA)
    packet = decode(ethernet(ipv6(HA, MN_COA, 43, routing_type2(135, MN_HOA, segments_left=0) + ba)))
    assert [(p.layer, p.offset, p.severity) for p in packet.problems] == [("routing", IP_AT + 43, "error")]
    assert packet.path.routing_type2 == MN_HOA


def test_first_fragment_decodes_what_is_there() -> None:
    body = bu()
    frag = bytes([135, 0]) + struct.pack("!HI", 0x0001, 99)  # offset 0, M=1
    packet = decode(ethernet(ipv6(MN_HOA, HA, 44, frag + body[:12])))
    assert packet.fragment and packet.mobility is not None
    assert isinstance(packet.mobility.body, BindingUpdate) and packet.mobility.checksum_ok is None


def test_non_first_fragment_is_reported_unreassembled() -> None:
    frag = bytes([135, 0]) + struct.pack("!HI", (16 << 3), 99)
    packet = decode(ethernet(ipv6(MN_HOA, HA, 44, frag + bytes(8))))
    assert packet.fragment and packet.mobility is None
    assert [(p.layer, p.offset, p.severity) for p in packet.problems] == [("fragment", IP_AT + 42, "warning")]


def test_atomic_fragment_is_a_whole_packet() -> None:
    frag = bytes([135, 0]) + struct.pack("!HI", 0, 99)
    packet = decode(ethernet(ipv6(MN_HOA, HA, 44, frag + bu())))
    assert not packet.fragment
    assert_bu(packet)


def test_ah_is_skipped() -> None:
    ah = bytes([135, 4]) + b"\0\0" + struct.pack("!II", 0x100, 1) + bytes(12)  # (4+2)*4 = 24 bytes
    packet = decode(ethernet(ipv6(MN_HOA, HA, 51, ah + bu())))
    assert_bu(packet)


def test_opaque_esp() -> None:
    packet = decode(ethernet(ipv6(MN_HOA, HA, 50, struct.pack("!II", 0x1234, 9) + bytes(range(40)))))
    assert packet.esp == EspInfo(0x1234, 9, False) and packet.mobility is None and packet.problems == ()


def test_esp_null_transport_mode_mh_is_decoded() -> None:
    for icv in (12, 16, 0):
        packet = decode(ethernet(ipv6(MN_HOA, HA, 50, esp_null(0x200, 3, bu(), 135, icv=icv))))
        assert packet.esp == EspInfo(0x200, 3, True)
        assert_bu(packet)


def test_ip6ip6_tunnel_inner_addresses_win() -> None:
    inner = ipv6(MN_HOA, "2001:db8:2::2", 59, b"")
    packet = decode(ethernet(ipv6(HA, MN_COA, 41, inner)))
    path = packet.path
    assert (path.src, path.dst, path.outer_src, path.outer_dst, path.tunnel) == (
        MN_HOA, "2001:db8:2::2", HA, MN_COA, "ip6ip6")
    assert path.protocol == 59


def test_mh_inside_ip6ip6() -> None:
    packet = decode(ethernet(ipv6(MN_COA, HA, 41, ipv6(MN_HOA, HA, 135, bu()))))
    assert_bu(packet)
    assert packet.path.tunnel == "ip6ip6" and packet.path.outer_src == MN_COA


def test_ip4ip6_tunnel() -> None:
    packet = decode(ethernet(ipv6(HA, MN_COA, 4, ipv4("192.0.2.7", "192.0.2.99", 17, udp(1, 2, b"x")))))
    assert (packet.path.src, packet.path.tunnel, packet.path.outer_dst) == ("192.0.2.7", "ip4ip6", MN_COA)


def test_ip6ip4_tunnel_to_mh() -> None:
    packet = decode(ethernet(ipv4(V4_COA, V4_HA, 41, ipv6(MN_HOA, HA, 135, bu())), 0x0800))
    assert_bu(packet)
    assert (packet.path.outer_src, packet.path.tunnel) == (V4_COA, "ip6ip4")


def test_dsmipv6_udp_ipv6_inside() -> None:
    packet = decode(ethernet(ipv4(V4_COA, V4_HA, 17, udp(4191, 4191, ipv6(MN_HOA, HA, 135, bu()))), 0x0800))
    assert_bu(packet)
    path = packet.path
    assert (path.src, path.outer_src, path.tunnel, path.udp_sport, path.udp_dport) == (
        MN_HOA, V4_COA, "udp", 4191, 4191)


def test_dsmipv6_udp_esp_null_inside() -> None:
    inner = ipv6(MN_HOA, HA, 50, esp_null(7, 1, bu(), 135))
    packet = decode(ethernet(ipv4(V4_COA, V4_HA, 17, udp(50000, 4191, inner)), 0x0800))
    assert_bu(packet)
    assert packet.esp == EspInfo(7, 1, True)


def test_dsmipv6_udp_esp_directly_after_udp_tunnel_mode() -> None:
    payload = esp_null(8, 2, ipv6(MN_HOA, HA, 135, bu()), 41)
    packet = decode(ethernet(ipv4(V4_COA, V4_HA, 17, udp(4191, 4191, payload)), 0x0800))
    assert_bu(packet)
    assert packet.path.tunnel == "udp" and packet.path.src == MN_HOA and packet.esp == EspInfo(8, 2, True)


def test_udp_port_is_configurable() -> None:
    data = ethernet(ipv4(V4_COA, V4_HA, 17, udp(5000, 5000, ipv6(MN_HOA, HA, 135, bu()))), 0x0800)
    assert decode(data).mobility is None
    assert_bu(decode(data, udp_ports=frozenset({5000})))


def test_payload_length_past_the_data_is_an_error_at_the_length_field() -> None:
    data = ethernet(ipv6(MN_HOA, HA, 135, bu(), payload_len=100))
    packet = decode(data)
    assert ("ipv6", IP_AT + 4) in [(p.layer, p.offset) for p in packet.problems]


def test_truncated_ipv6_header_keeps_link_layer() -> None:
    packet = decode(ethernet(ipv6(MN_HOA, HA, 135, bu()))[: IP_AT + 20])
    assert packet.path.mac_src == bytes.fromhex("020000000001") and packet.path.src is None
    assert [(p.layer, p.offset) for p in packet.problems] == [("ipv6", IP_AT + 8)]


def test_wrong_ip_version() -> None:
    data = bytearray(ethernet(ipv6(MN_HOA, HA, 135, bu())))
    data[IP_AT] = 0x50
    packet = decode(bytes(data))
    assert [(p.layer, p.offset) for p in packet.problems] == [("ipv6", IP_AT)]
