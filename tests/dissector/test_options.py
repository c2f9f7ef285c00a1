"""Mobility option TLV walk and typed options, from hand-built bytes (RFC 6275 §6.2, RFC 5648 §4.3,
RFC 3963 §4.3, RFC 5555 §3, RFC 5568 §6.4.4)."""

from __future__ import annotations

import pytest

from dissector.codepoints import Dialect
from dissector.decode import DEFAULT, DecodeOptions, decode_frame
from dissector.records import (
    AlternateCoA,
    BindingAuthData,
    BindingIdentifier,
    BindingRefreshAdvice,
    IPv4AddressAck,
    IPv4CareOfAddress,
    IPv4HomeAddress,
    LinkLayerAddress,
    MobileNetworkPrefix,
    NATDetection,
    NonceIndices,
    Packet,
    Pad1,
    PadN,
    UnknownOption,
)
from tests.dissector.handbuilt import (
    HA,
    MN_COA,
    MN_HOA,
    a4,
    a6,
    bid,
    bu_body,
    ethernet,
    frame,
    ipv6,
    mh,
    padn,
)

OPTS_AT = 14 + 40 + 12  # frame offset of the first option after a BU fixed part


def bu_with(options: bytes, opts: DecodeOptions = DEFAULT) -> Packet:
    body = bu_body(3, 0x8000, 10) + options
    body += padn((-(6 + len(body))) % 8) if (6 + len(body)) % 8 else b""
    return decode_frame(frame(ethernet(ipv6(MN_COA, HA, 135, mh(5, body, src=MN_COA, dst=HA)))), opts)


def options_of(packet: Packet) -> tuple[object, ...]:
    assert packet.mobility is not None
    return tuple(o for o in packet.mobility.options if not isinstance(o, (Pad1, PadN)))


def test_pad1_and_padn() -> None:
    packet = bu_with(b"\x00\x01\x02\x00\x00")
    assert packet.mobility is not None
    assert packet.mobility.options[:2] == (Pad1(12), PadN(13, 2))
    assert packet.problems == ()


def test_padn_with_nonzero_padding_is_marked() -> None:
    packet = bu_with(b"\x01\x02\x00\x07")
    assert packet.mobility is not None and packet.mobility.options[0] == PadN(12, 2, nonzero_padding=True)


def test_binding_refresh_advice_interval_in_seconds() -> None:
    assert options_of(bu_with(b"\x02\x02\x00\x96")) == (BindingRefreshAdvice(12, 600),)


def test_alternate_coa_aligned_8n6() -> None:
    packet = bu_with(padn(2) + b"\x03\x10" + a6(MN_COA))
    assert options_of(packet) == (AlternateCoA(14, MN_COA),)
    assert packet.problems == ()


def test_misaligned_alternate_coa_is_a_warning_at_its_offset() -> None:
    packet = bu_with(b"\x03\x10" + a6(MN_COA))
    assert options_of(packet) == (AlternateCoA(12, MN_COA),)
    assert [(p.layer, p.offset, p.severity) for p in packet.problems] == [("option:3", OPTS_AT, "warning")]
    assert not packet.malformed


def test_nonce_indices() -> None:
    assert options_of(bu_with(b"\x04\x04\x04\xd2\x16\x2e")) == (NonceIndices(12, 1234, 5678),)


def test_binding_authorization_data_last_and_aligned() -> None:
    auth = bytes(range(12))
    packet = bu_with(padn(6) + b"\x05\x0c" + auth)  # at MH offset 18 = 8n+2, and it ends the MH
    assert options_of(packet) == (BindingAuthData(18, auth),)
    assert packet.problems == ()


def test_binding_authorization_data_not_last_is_a_warning() -> None:
    packet = bu_with(padn(6) + b"\x05\x0c" + bytes(12) + padn(4))
    assert [(p.layer, p.severity) for p in packet.problems] == [("option:5", "warning")]


def test_mobile_network_prefix() -> None:
    packet = bu_with(b"\x06\x12\x00\x40" + a6("2001:db8:aaaa::"))  # MH offset 12 = 8n+4
    assert options_of(packet) == (MobileNetworkPrefix(12, 64, "2001:db8:aaaa::"),)
    assert packet.problems == ()


def test_mh_link_layer_address() -> None:
    packet = bu_with(b"\x07\x07\x02" + bytes.fromhex("020000000001"))
    assert options_of(packet) == (LinkLayerAddress(12, 2, bytes.fromhex("020000000001")),)


def test_dsmipv6_options() -> None:
    data = (b"\x1d\x06\x82\x00" + a4("192.0.2.7")  # IPv4 HoA: prefix 32, P set
            + b"\x1e\x06\x80\x60" + a4("192.0.2.7")  # IPv4 Address Ack: status 128, prefix 24
            + b"\x1f\x06\x80\x00\x00\x00\x00\x6e"  # NAT Detection: F, 110 s
            + b"\x20\x06\x00\x00" + a4("198.51.100.9"))  # IPv4 CoA
    packet = bu_with(data)
    assert options_of(packet) == (
        IPv4HomeAddress(12, 32, True, "192.0.2.7"),
        IPv4AddressAck(20, 128, 24, "192.0.2.7"),
        NATDetection(28, True, 110),
        IPv4CareOfAddress(36, "198.51.100.9"),
    )
    assert packet.problems == ()


def test_bid_without_coa() -> None:
    packet = bu_with(bid(7, status=0, flags=0x80))
    (option,) = options_of(packet)
    assert option == BindingIdentifier(12, 4, 7, 0, 0x80, None, Dialect.RFC5648)
    assert isinstance(option, BindingIdentifier) and option.flags == ("H",) and option.home_flag


def test_bid_with_ipv6_coa_at_8n2() -> None:
    packet = bu_with(padn(6) + bid(1, coa=a6(MN_COA)))
    (option,) = options_of(packet)
    assert option == BindingIdentifier(18, 20, 1, 0, 0, MN_COA, Dialect.RFC5648)
    assert packet.problems == ()


def test_bid_with_ipv4_coa() -> None:
    (option,) = options_of(bu_with(padn(6) + bid(2, coa=a4("198.51.100.9"))))
    assert isinstance(option, BindingIdentifier) and option.coa == "198.51.100.9" and option.ipv4_flag


def test_bid_with_coa_misaligned_is_a_warning() -> None:
    packet = bu_with(bid(1, coa=a6(MN_COA)))
    assert [(p.layer, p.offset, p.severity) for p in packet.problems] == [("option:35", OPTS_AT, "warning")]


def test_bid_draft05_flags_read_from_the_same_byte() -> None:
    draft = DecodeOptions(dialect=Dialect.DRAFT05)
    packet = bu_with(padn(6) + bid(3, flags=0xD0, coa=a4("198.51.100.9")), draft)
    (option,) = options_of(packet)
    assert isinstance(option, BindingIdentifier) and option.dialect is Dialect.DRAFT05
    assert option.flags == ("C", "O", "D") and option.coa_flag and option.overwrite_flag and option.ipv4_flag
    assert not option.home_flag


def test_bid_bad_length_is_a_problem_and_keeps_the_fixed_fields() -> None:
    packet = bu_with(b"\x23\x06\x00\x05\x00\x00\xaa\xbb")
    (option,) = options_of(packet)
    assert isinstance(option, BindingIdentifier) and option.bid == 5 and option.coa is None
    assert [(p.layer, p.offset, p.severity) for p in packet.problems] == [("option:35", OPTS_AT, "error")]


def test_bid_too_short_is_unknown() -> None:
    packet = bu_with(b"\x23\x02\x00\x05")
    assert options_of(packet) == (UnknownOption(12, 35, b"\x00\x05"),)
    assert packet.malformed


def test_configured_pre_standard_bid_type() -> None:
    packet = bu_with(bid(9, kind=7), DecodeOptions(bid_type=7))
    (option,) = options_of(packet)
    assert isinstance(option, BindingIdentifier) and option.type == 7 and option.bid == 9
    # and type 35 then is just an unknown option
    plain = bu_with(bid(9), DecodeOptions(bid_type=7))
    assert options_of(plain) == (UnknownOption(12, 35, b"\x00\x09\x00\x00"),)


def test_unknown_option_kept_raw() -> None:
    assert options_of(bu_with(b"\xc8\x02\xab\xcd")) == (UnknownOption(12, 200, b"\xab\xcd"),)


@pytest.mark.parametrize(("raw", "kind"), [(b"\x02\x03\x00\x00\x00", 2), (b"\x06\x04\x00\x40\x00\x00", 6),
                                           (b"\x20\x04\x00\x00\x00\x00", 32)])
def test_wrong_fixed_length_is_an_error_and_raw(raw: bytes, kind: int) -> None:
    packet = bu_with(raw)
    assert options_of(packet) == (UnknownOption(12, kind, raw[2:]),)
    assert [(p.layer, p.offset) for p in packet.problems] == [(f"option:{kind}", OPTS_AT)]


def test_option_running_past_the_end_names_its_offset_and_keeps_earlier_options() -> None:
    body = bu_body(3, 0x8000, 10) + b"\x02\x02\x00\x01" + b"\x03\x10" + bytes(14)  # Alt-CoA cut short
    packet = decode_frame(frame(ethernet(ipv6(MN_COA, HA, 135, mh(5, body, src=MN_COA, dst=HA)))))
    assert packet.mobility is not None
    assert packet.mobility.options == (BindingRefreshAdvice(12, 4),)
    assert [(p.layer, p.offset, p.severity) for p in packet.problems] == [("option:3", OPTS_AT + 4, "error")]
    assert packet.mobility.checksum_ok is True


def test_length_byte_past_the_end() -> None:
    body = bu_body(3, 0x8000, 10) + bytes(11) + b"\x05"  # Pad1s, a lone type byte
    packet = decode_frame(frame(ethernet(ipv6(MN_COA, HA, 135, mh(5, body, src=MN_COA, dst=HA)))))
    assert [(p.layer, p.offset) for p in packet.problems] == [("option:5", OPTS_AT + 11)]


def test_bulk_registration_keeps_option_order() -> None:
    data = padn(6) + bid(1, coa=a6(MN_COA)) + padn(2) + bid(2, coa=a6(MN_HOA), flags=0x80)
    packet = bu_with(data)
    assert packet.mobility is not None
    assert [(b.bid, b.coa, b.flags) for b in packet.mobility.bids] == [(1, MN_COA, ()), (2, MN_HOA, ("H",))]
    assert packet.problems == ()
