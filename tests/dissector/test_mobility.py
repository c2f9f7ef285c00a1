"""Mobility Header decoding from hand-built bytes (RFC 6275 §6.1 figures, RFC 5648 §4.2)."""

from __future__ import annotations

import struct

import pytest

from dissector.codepoints import Dialect
from dissector.decode import DEFAULT, DecodeOptions, decode_frame
from dissector.records import (
    BindingAck,
    BindingError,
    BindingRefreshRequest,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
    Packet,
    PadN,
    RawMessage,
)
from tests.dissector.handbuilt import (
    CN,
    HA,
    MN_COA,
    MN_HOA,
    ba_body,
    bu_body,
    dest_opts_hao,
    ethernet,
    frame,
    ipv6,
    mh,
    padn,
    routing_type2,
)

MH_AT = 14 + 40  # Ethernet + IPv6: frame offset of a Mobility Header without extension headers


def decode_mh(mh_type: int, body: bytes, options: DecodeOptions = DEFAULT, **kw: object) -> Packet:
    data = mh(mh_type, body, src=MN_COA, dst=HA, **kw)  # type: ignore[arg-type]
    return decode_frame(frame(ethernet(ipv6(MN_COA, HA, 135, data))), options)


def test_binding_refresh_request() -> None:
    packet = decode_mh(0, b"\0\0")
    m = packet.mobility
    assert m is not None and m.type_name == "BRR" and m.mh_type == 0
    assert m.body == BindingRefreshRequest() and m.header_len == 8 and m.checksum_ok is True
    assert m.payload_proto == 59 and m.offset == MH_AT and packet.problems == ()


@pytest.mark.parametrize(("mh_type", "cls", "name"), [(1, HomeTestInit, "HoTI"), (2, CareOfTestInit, "CoTI")])
def test_test_init(mh_type: int, cls: type, name: str) -> None:
    m = decode_mh(mh_type, b"\0\0" + bytes.fromhex("0102030405060708")).mobility
    assert m is not None and m.type_name == name
    assert m.body == cls(bytes.fromhex("0102030405060708"))


@pytest.mark.parametrize(("mh_type", "cls", "name"), [(3, HomeTest, "HoT"), (4, CareOfTest, "CoT")])
def test_test_messages(mh_type: int, cls: type, name: str) -> None:
    body = bytes.fromhex("090a") + bytes(range(1, 9)) + bytes(range(0x11, 0x19))
    m = decode_mh(mh_type, body).mobility
    assert m is not None and m.type_name == name and m.header_len == 24
    assert m.body == cls(0x090A, bytes(range(1, 9)), bytes(range(0x11, 0x19)))
    assert m.options == ()


def test_binding_update_fields_and_lifetime_in_seconds() -> None:
    # A H K set, seq 1000, lifetime 100 units = 400 s; PadN(4) fills the MH to 16 bytes
    m = decode_mh(5, bu_body(1000, 0xD000, 100) + padn(4)).mobility
    assert m is not None and m.type_name == "BU"
    assert m.body == BindingUpdate(1000, 0xD000, 400, ("A", "H", "K"))
    assert m.options == (PadN(12, 2),)


def test_bu_flag_0x0040_is_o_without_p_b_with_p_and_reserved_in_draft05() -> None:
    body = bu_body(1, 0x8040, 1) + padn(4)
    rfc = decode_mh(5, body).mobility
    assert rfc is not None and isinstance(rfc.body, BindingUpdate) and rfc.body.flags == ("A", "O")
    pmip = decode_mh(5, bu_body(1, 0x8240, 1) + padn(4)).mobility
    assert pmip is not None and isinstance(pmip.body, BindingUpdate) and pmip.body.flags == ("A", "P", "B")
    draft = decode_mh(5, body, DecodeOptions(dialect=Dialect.DRAFT05)).mobility
    assert draft is not None and isinstance(draft.body, BindingUpdate) and draft.body.flags == ("A",)
    assert draft.body.flags_word == 0x8040  # the raw word keeps the bit


def test_all_bu_flag_letters_in_wire_order() -> None:
    m = decode_mh(5, bu_body(1, 0xFFE0, 1) + padn(4)).mobility
    assert m is not None and isinstance(m.body, BindingUpdate)
    assert m.body.flags == ("A", "H", "L", "K", "M", "R", "P", "F", "T", "B", "S")


def test_binding_ack() -> None:
    m = decode_mh(6, ba_body(4, 0xC0, 77, 0xFFFF) + padn(4)).mobility
    assert m is not None and m.type_name == "BA"
    assert m.body == BindingAck(4, 0xC0, 77, 0xFFFF * 4, ("K", "R"))


def test_binding_error() -> None:
    from tests.dissector.handbuilt import a6

    m = decode_mh(7, bytes([2, 0]) + a6(MN_HOA)).mobility
    assert m is not None and m.body == BindingError(2, MN_HOA)


def test_types_8_to_23_are_named_and_kept_raw() -> None:
    m = decode_mh(16, bytes(range(10))).mobility
    assert m is not None and m.type_name == "Binding Revocation Message"
    assert m.body == RawMessage(bytes(range(10))) and m.options == ()
    unknown = decode_mh(200, b"\0\0").mobility
    assert unknown is not None and unknown.type_name == "Unknown MH type 200"


def test_header_len_shorter_than_fixed_part_is_a_problem_at_the_header_len_byte() -> None:
    # a BU whose Header Len says 8 bytes: the fixed part (12) is still read from the packet
    packet = decode_mh(5, bu_body(5, 0x8000, 3) + padn(4), header_len=0)
    m = packet.mobility
    assert m is not None and isinstance(m.body, BindingUpdate) and m.body.seq == 5
    errors = [p for p in packet.problems if p.severity == "error"]
    assert [(p.layer, p.offset) for p in errors] == [("mobility", MH_AT + 1)]
    assert "shorter than the 12-byte fixed part" in errors[0].reason
    assert packet.malformed


def test_header_len_past_the_packet_is_malformed_and_unverified() -> None:
    packet = decode_mh(5, bu_body(5, 0x8000, 3) + padn(4), header_len=3)
    assert packet.mobility is not None and packet.mobility.checksum_ok is None
    assert packet.mobility.header_len == 32
    assert ("mobility", MH_AT + 1) in [(p.layer, p.offset) for p in packet.problems]
    assert packet.malformed


def test_header_len_past_a_snapped_capture_is_only_a_warning() -> None:
    data = ethernet(ipv6(MN_COA, HA, 135, mh(5, bu_body(5, 0x8000, 3) + padn(4), src=MN_COA, dst=HA)))
    packet = decode_frame(frame(data[:-2], wire_length=len(data)))
    assert packet.mobility is not None and packet.mobility.checksum_ok is None
    found = [(p.layer, p.severity) for p in packet.problems]
    assert found == [("mobility", "warning"), ("option:1", "warning")]
    assert not packet.malformed
    assert isinstance(packet.mobility.body, BindingUpdate)


def test_truncated_fixed_part_keeps_the_header_and_names_the_offset() -> None:
    data = ethernet(ipv6(MN_COA, HA, 135, mh(5, bu_body(5, 0x8000, 3) + padn(4), src=MN_COA, dst=HA)))
    packet = decode_frame(frame(data[: MH_AT + 9]))  # cut inside the Flags field
    m = packet.mobility
    assert m is not None and m.mh_type == 5 and m.body is None
    last = packet.problems[-1]
    assert (last.layer, last.offset, last.severity) == ("mobility", MH_AT + 8, "error")


def test_wrong_checksum_is_flagged() -> None:
    assert decode_mh(0, b"\0\0", checksum=0x1234).mobility.checksum_ok is False  # type: ignore[union-attr]


def test_checksum_uses_home_address_option_as_source() -> None:
    body = mh(5, bu_body(9, 0xC000, 10) + padn(4), src=MN_HOA, dst=HA)  # pseudo-header source = HoA
    packet = decode_frame(frame(ethernet(ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + body))))
    assert packet.path.home_address_option == MN_HOA and packet.path.src == MN_COA
    assert packet.mobility is not None and packet.mobility.checksum_ok is True
    wrong = mh(5, bu_body(9, 0xC000, 10) + padn(4), src=MN_COA, dst=HA)  # scapy's bug: CoA as source
    packet = decode_frame(frame(ethernet(ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + wrong))))
    assert packet.mobility is not None and packet.mobility.checksum_ok is False


def test_checksum_uses_type2_routing_header_address_as_destination() -> None:
    body = mh(6, ba_body(0, 0, 9, 10) + padn(4), src=HA, dst=MN_HOA)
    packet = decode_frame(frame(ethernet(ipv6(HA, MN_COA, 43, routing_type2(135, MN_HOA) + body))))
    assert packet.path.routing_type2 == MN_HOA
    assert packet.mobility is not None and packet.mobility.checksum_ok is True


def test_pre_rfc_next_header_62() -> None:
    body = mh(5, bu_body(1, 0x8000, 1) + padn(4), src=CN, dst=HA)
    packet = decode_frame(frame(ethernet(ipv6(CN, HA, 62, body))))
    assert packet.mobility is not None and packet.mobility.type_name == "BU"
    assert packet.mobility.checksum_ok is True and packet.path.protocol == 62


def test_extra_bytes_after_the_mh_are_a_warning() -> None:
    body = mh(0, b"\0\0", src=MN_COA, dst=HA) + b"junk"
    packet = decode_frame(frame(ethernet(ipv6(MN_COA, HA, 135, body))))
    assert packet.mobility is not None and packet.mobility.checksum_ok is True
    assert [(p.offset, p.severity) for p in packet.problems] == [(MH_AT + 8, "warning")]


def test_checksum_field_position() -> None:
    data = mh(0, b"\0\0", src=MN_COA, dst=HA)
    packet = decode_mh(0, b"\0\0")
    assert packet.mobility is not None
    assert packet.mobility.checksum == struct.unpack("!H", data[4:6])[0]
