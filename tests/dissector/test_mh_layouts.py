"""The dpkt layout classes against the RFC figures, the encoder and the decoder's truncation reports."""

from __future__ import annotations

import struct

import dpkt
import pytest

from dissector import mh_layouts as layouts
from dissector.codepoints import Dialect
from dissector.decode import decode_frame
from dissector.encode.mobility import binding_ack, binding_update, mobility_header
from dissector.encode.options import binding_identifier, encode_option
from dissector.records import BindingError, IPv4AddressAck, IPv4HomeAddress, NATDetection
from tests.dissector.handbuilt import HA, MN_COA, a4, a6, ethernet, frame, ipv6, mh

MH_AT = 14 + 40


def test_fixed_parts_have_the_lengths_of_the_rfc_6275_figures() -> None:
    # RFC 6275 §6.1.2-§6.1.9: BRR 8, HoTI/CoTI 16, HoT/CoT 24, BU 12, BA 12, BE 24 octets.
    assert layouts.FIXED_LENGTH == {0: 8, 1: 16, 2: 16, 3: 24, 4: 24, 5: 12, 6: 12, 7: 24}
    assert len(layouts.MobilityHeader()) == 6


@pytest.mark.parametrize(("kind", "length"), [(2, 2), (3, 16), (4, 4), (6, 18), (29, 6), (30, 6), (31, 6),
                                              (32, 6)])
def test_fixed_option_lengths_are_the_rfc_length_fields(kind: int, length: int) -> None:
    assert layouts.OPTION_VALUES[kind].size == length
    assert bytes(layouts.OPTION_CLASSES[kind]())[:2] == bytes((kind, length))  # the defaults too


def test_dpkt_reads_what_the_encoder_wrote() -> None:
    bu = mobility_header(binding_update(0x1234, 400, "A", "H", "O"), [binding_identifier(7, MN_COA)])
    header = layouts.MobilityHeader(bu)
    assert (header.payload_proto, header.mh_type, header.header_len) == (59, 5, len(bu) // 8 - 1)
    body = layouts.BindingUpdate(header.data)
    assert (body.sequence, body.lifetime, body.flags) == (0x1234, 100, 0xC040)
    assert (body.a, body.h, body.l, body.k, body.o) == (1, 1, 0, 0, 1)
    option_at = bu.index(bytes((35, 20)))
    option = layouts.BindingIdentifier(bu[option_at:])
    assert (option.binding_id, option.status, option.h) == (7, 0, 0)
    assert option.data[:16] == a6(MN_COA)


def test_ba_flag_bits_are_the_iana_positions() -> None:
    ba = layouts.BindingAck(mobility_header(binding_ack(0, 9, 40, "K", "R"), [])[6:])
    assert (ba.k, ba.r, ba.p, ba.t, ba.b, ba.sequence, ba.lifetime) == (1, 1, 0, 0, 0, 9, 10)


def test_bid_flag_bits_in_both_dialects_come_from_one_byte() -> None:
    record = binding_identifier(3, "192.0.2.1", home=True, overwrite=True, dialect=Dialect.DRAFT05)
    draft = encode_option(record)
    option = layouts.BindingIdentifierDraft05(draft)
    assert (option.c, option.o, option.h, option.d, option.length) == (1, 1, 1, 1, 8)
    assert option.data == a4("192.0.2.1")
    rfc = layouts.BindingIdentifier(encode_option(binding_identifier(3, home=True)))
    assert (rfc.h, rfc.flags, rfc.length, rfc.data) == (1, 0x80, 4, b"")


def test_dsmipv6_option_bit_fields() -> None:
    hoa = layouts.IPv4HomeAddress(encode_option(IPv4HomeAddress(0, 24, True, "192.0.2.9")))
    assert (hoa.prefix_length, hoa.p, hoa.prefix_flags) == (24, 1, 0x6200)
    assert hoa.ipv4_home_address == a4("192.0.2.9")
    ack = layouts.IPv4AddressAck(encode_option(IPv4AddressAck(0, 129, 16, "192.0.2.9")))
    assert (ack.status, ack.prefix_length, ack.prefix_reserved) == (129, 16, 0x40)
    nat = layouts.NATDetection(encode_option(NATDetection(0, True, 110)))
    assert (nat.f, nat.refresh_time) == (1, 110)


def test_binding_error_home_address_field() -> None:
    raw = mobility_header(BindingError(2, MN_COA))
    assert layouts.BindingError(raw[6:]).home_address == a6(MN_COA)


def test_dpkt_itself_refuses_a_short_buffer() -> None:
    with pytest.raises(dpkt.NeedData):
        layouts.BindingUpdate(b"\0\0\0")


@pytest.mark.parametrize(("layout", "start", "end", "offset", "reason"), [
    # Reader words a skipped Reserved field and a pulled field differently; the layouts say the same.
    (layouts.MESSAGE_LAYOUTS[7], 10, 11, 11, "cannot move to offset 12: data ends at 11"),
    (layouts.MESSAGE_LAYOUTS[7], 10, 20, 12, "need 16 bytes at offset 12, only 8 left"),
    (layouts.MESSAGE_LAYOUTS[5], 10, 13, 12, "need 2 bytes at offset 12, only 1 left"),
    (layouts.COMMON_HEADER, 0, 3, 3, "cannot move to offset 4: data ends at 3"),
])
def test_truncation_names_the_first_field_that_does_not_fit(layout: layouts.Layout, start: int, end: int,
                                                            offset: int, reason: str) -> None:
    error = layout.truncated(start, end)
    assert (error.offset, error.reason) == (offset, reason)


def test_a_layout_that_fits_is_not_truncated() -> None:
    with pytest.raises(ValueError, match="fits"):
        layouts.MESSAGE_LAYOUTS[5].truncated(0, 6)


def test_binding_error_cut_inside_reserved_is_reported_at_the_reserved_octet() -> None:
    data = ethernet(ipv6(MN_COA, HA, 135, mh(7, bytes(18), src=MN_COA, dst=HA)))
    packet = decode_frame(frame(data[: MH_AT + 7]))
    assert packet.mobility is not None and packet.mobility.body is None
    last = packet.problems[-1]
    assert (last.layer, last.offset, last.severity) == ("mobility", MH_AT + 7, "error")
    assert last.reason == f"cannot move to offset {MH_AT + 8}: data ends at {MH_AT + 7}"


def test_mobility_header_cut_in_the_common_header() -> None:
    data = ethernet(ipv6(MN_COA, HA, 135, mh(0, b"\0\0", src=MN_COA, dst=HA)))
    packet = decode_frame(frame(data[: MH_AT + 3]))
    assert packet.mobility is None
    last = packet.problems[-1]
    assert (last.layer, last.offset) == ("mobility", MH_AT + 3)
    assert last.reason == f"cannot move to offset {MH_AT + 4}: data ends at {MH_AT + 3}"


def test_header_struct_is_big_endian_without_padding() -> None:
    assert layouts.COMMON_HEADER.struct.format == ">BBBBH"
    assert struct.calcsize(layouts.MESSAGE_LAYOUTS[3].struct.format) == 18


def test_option_alignments_are_the_rfc_requirements() -> None:
    # RFC 6275 §6.2.4-§6.2.7, RFC 3963 §4.3, RFC 5555 §3.1-§3.2, RFC 5648 §4.3 (2n; 8n+2 with a CoA).
    assert layouts.OPTION_ALIGNMENT == {2: (2, 0), 3: (8, 6), 4: (2, 0), 5: (8, 2), 6: (8, 4), 7: None,
                                        29: (4, 0), 30: (4, 0), 31: (4, 0), 32: (4, 0), 35: (2, 0)}
    assert layouts.BindingIdentifier.alignment_with_coa == (8, 2)
