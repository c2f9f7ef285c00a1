"""Builders against hand-computed bytes, RFC alignment rules, and independent parsers (dpkt)."""

from __future__ import annotations

import socket
import struct

import dpkt

from dissector.codepoints import Dialect
from dissector.encode import (
    binding_ack,
    binding_identifier,
    binding_update,
    dsmip_udp,
    esp_null,
    inet_checksum,
    ipv6_packet,
    ipv6_pseudo_header,
    layout_options,
    mobility_header,
    neighbor_advertisement,
)
from dissector.records import AlternateCoA, BindingAuthData, MobileNetworkPrefix, NATDetection

HOA, COA, HA = "2001:db8:1::100", "2001:db8:a::5", "2001:db8:1::1"


def test_bid_with_coa_is_placed_at_8n_plus_2_after_the_bu_fixed_part() -> None:
    mh = mobility_header(binding_update(7, 400, "A", "H"), [binding_identifier(1, COA)])
    # 6-octet header + Seq/Flags/Lifetime = 12; PadN(4) brings the BID to 18 = 8*2+2.
    assert mh[12:18] == bytes.fromhex("010400000000")
    assert mh[18:24] == bytes.fromhex("231400010000")
    assert mh[24:40] == socket.inet_pton(socket.AF_INET6, COA)
    assert len(mh) == 40 and mh[1] == 4  # Header Len = 40/8 - 1
    assert mh[8:12] == bytes.fromhex("c0000064")  # A|H, lifetime 400 s = 100 units


def test_bid_without_coa_needs_only_2n_and_message_is_padded_to_8() -> None:
    mh = mobility_header(binding_ack(0, 7, 400), [binding_identifier(3, status=4)])
    assert mh[12:18] == bytes.fromhex("230400030400")
    assert mh[18:24] == bytes.fromhex("010400000000")  # PadN to 24
    assert mh[1] == 2


def test_draft05_flags_byte_c_o_h_d() -> None:
    v6 = binding_identifier(1, COA, overwrite=True, dialect=Dialect.DRAFT05)
    v4 = binding_identifier(2, "192.0.2.1", home=True, dialect=Dialect.DRAFT05)
    bare = binding_identifier(3, home=True, dialect=Dialect.RFC5648)
    assert (v6.flags_byte, v6.length) == (0xC0, 20)
    assert (v4.flags_byte, v4.length) == (0xB0, 8)
    assert (bare.flags_byte, bare.length) == (0x80, 4)


def test_alignment_of_altcoa_mnp_bad_and_ipv4_options() -> None:
    opts = [
        NATDetection(0, True, 110),
        AlternateCoA(0, COA),
        MobileNetworkPrefix(0, 48, "2001:db8:77::"),
        BindingAuthData(0, b"\xaa" * 12),
    ]
    body = layout_options(opts, 12)
    offsets, i = {}, 0
    while i < len(body):
        kind = body[i]
        if kind == 0:
            i += 1
            continue
        offsets.setdefault(kind, 12 + i)
        i += 2 + body[i + 1]
    assert offsets[31] % 4 == 0
    assert offsets[3] % 8 == 6
    assert offsets[6] % 8 == 4
    assert offsets[5] % 8 == 2
    assert (12 + len(body)) % 8 == 0
    assert body.endswith(b"\xaa" * 12)  # BAD last, no trailing padding needed


def test_mh_checksum_uses_hao_as_source_and_rh2_as_destination() -> None:
    mh = mobility_header(binding_update(1, 40, "A", "H"), [binding_identifier(1, COA)])
    bu = ipv6_packet(COA, HA, 135, mh, hao=HOA)
    ip = dpkt.ip6.IP6(bu)
    assert ip.nxt == 60
    raw_mh = bu[40 + 24 :]
    assert inet_checksum(ipv6_pseudo_header(HOA, HA, len(raw_mh), 135) + raw_mh) == 0
    ba = ipv6_packet(HA, COA, 135, mobility_header(binding_ack(0, 1, 40)), rh2=HOA)
    raw = ba[40 + 24 :]
    assert ba[40:44] == bytes((135, 2, 2, 1))  # RH2: NH=MH, Hdr Ext Len 2, type 2, Segments Left 1
    assert inet_checksum(ipv6_pseudo_header(HA, HOA, len(raw), 135) + raw) == 0


def test_esp_null_trailer_padding_and_icv() -> None:
    payload = b"\x3b\x01\x05\x00\x00\x00" + b"\0" * 10  # 16 octets: needs 2 octets of padding
    esp = esp_null(0x1234, 9, 135, payload)
    assert esp[:8] == struct.pack("!II", 0x1234, 9)
    trailer = esp[8 + 16 : -12]
    assert trailer == bytes((1, 2, 2, 135))
    assert len(esp) == 8 + 16 + 4 + 12


def test_dsmipv6_udp_and_ipv4_checksums_verify_with_dpkt() -> None:
    inner = ipv6_packet(HOA, HA, 59, b"")
    outer = dsmip_udp("192.0.2.5", "198.51.100.1", 4191, 4191, inner)
    ip = dpkt.ip.IP(outer)
    assert inet_checksum(outer[:20]) == 0
    udp = ip.data
    assert (udp.sport, udp.dport, bytes(udp.data)) == (4191, 4191, inner)
    addresses = socket.inet_aton("192.0.2.5") + socket.inet_aton("198.51.100.1")
    pseudo = addresses + struct.pack("!xBH", 17, len(udp))
    assert inet_checksum(pseudo + outer[20:]) == 0


def test_neighbor_advertisement_checksum() -> None:
    na = ipv6_packet(
        "fe80::1", "ff02::1", 58, neighbor_advertisement(HOA, b"\x02" * 6, solicited=False), hop_limit=255
    )
    body = na[40:]
    assert body[0] == 136 and body[4] == 0x20
    assert inet_checksum(ipv6_pseudo_header("fe80::1", "ff02::1", len(body), 58) + body) == 0
