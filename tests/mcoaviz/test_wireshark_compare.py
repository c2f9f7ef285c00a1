"""Field comparison with Wireshark's mip6 fields, from hand-written field values (no tshark needed)."""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.encode import (
    binding_identifier,
    binding_update,
    ethernet_for,
    ipv6_packet,
    mac,
    mobility_header,
)
from dissector.records import CareOfTestInit, Frame, MessageBody, MobilityMessage, MobilityOption
from mcoaviz.wireshark_compare import (
    KNOWN_BID_DRAFT,
    KNOWN_CHECKSUM,
    KNOWN_O_FLAG,
    Difference,
    compare_message,
)

HOA, HA, COA = "2001:db8:1::100", "2001:db8:1::1", "2001:db8:a1::100"


def message(body: MessageBody, options: list[MobilityOption], dialect: Dialect = Dialect.RFC5648,
            checksum: int | None = None) -> MobilityMessage:
    packet = ipv6_packet(COA, HA, 135, mobility_header(body, options), hao=HOA, checksum=checksum)
    data = ethernet_for(mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02"), packet)
    decoded = decode_frame(Frame(1, 0.0, 0, 1, data, len(data)), DecodeOptions(dialect=dialect))
    assert decoded.mobility is not None
    return decoded.mobility


def bu_fields(m: MobilityMessage, **changes: list[str]) -> dict[str, list[str]]:
    """What tshark 4.0 prints for a BU seq 7, lifetime 400 s, flags A+H, one BID 1 with an IPv6 CoA."""
    fields = {"mip6.mhtype": ["5"], "mip6.proto": ["59"], "mip6.hlen": [str(m.header_len // 8 - 1)],
              "mip6.csum": [f"0x{m.checksum:04x}"], "mip6.bu.seqnr": ["7"], "mip6.bu.lifetime": ["100"],
              "mip6.bu.a_flag": ["1"], "mip6.bu.h_flag": ["1"], "mip6.bu.l_flag": ["0"],
              "mip6.bu.k_flag": ["0"],
              "mip6.bu.m_flag": ["0"], "mip6.nemo.bu.r_flag": ["0"], "mip6.bu.p_flag": ["0"],
              "mip6.bu.f_flag": ["0"], "mip6.bu.t_flag": ["0"], "mip6.bu.b_flag": ["0"],
              "mip6.bi.bid": ["1"], "mip6.bi.status": ["0"], "mip6.bi.h_flag": ["0"],
              "mip6.bi.coa_ipv6": ["2001:db8:a1::100"]}
    fields.update(changes)
    return fields


def test_an_agreeing_binding_update_has_no_difference() -> None:
    m = message(binding_update(7, 400, "A", "H"), [binding_identifier(1, COA)])
    assert compare_message(m, bu_fields(m), Dialect.RFC5648) == []


def test_a_different_value_names_both_sides() -> None:
    m = message(binding_update(7, 400, "A", "H"), [binding_identifier(1, COA)])
    found = compare_message(m, bu_fields(m, **{"mip6.bu.seqnr": ["8"]}), Dialect.RFC5648)
    assert found == [Difference("mip6.bu.seqnr", "7", "8")]
    assert found[0].describe() == "mip6.bu.seqnr: mcoaviz 7, Wireshark 8"


def test_the_o_flag_is_a_known_difference() -> None:
    m = message(binding_update(7, 400, "A", "H", "O"), [binding_identifier(1, COA)])
    found = compare_message(m, bu_fields(m, **{"mip6.bu.b_flag": ["1"]}), Dialect.RFC5648)
    assert [(d.field, d.known) for d in found] == [("BU flag 0x0040", KNOWN_O_FLAG)]
    assert found[0].ours.startswith("O ") and found[0].theirs.startswith("B ")


def test_draft05_bid_flags_read_as_rfc_by_wireshark_are_a_known_difference() -> None:
    option = binding_identifier(1, COA, dialect=Dialect.DRAFT05)  # C=1 (0x80), H=0
    m = message(binding_update(7, 400, "A", "H"), [option], Dialect.DRAFT05)
    found = compare_message(m, bu_fields(m, **{"mip6.bi.h_flag": ["1"]}), Dialect.DRAFT05)
    assert [(d.field, d.ours, d.theirs, d.known) for d in found] == [
        ("BID 1 H flag", "H=0 (0x20), C=1 (0x80)", "H=1 (0x80)", KNOWN_BID_DRAFT)]


def test_a_bad_checksum_is_a_known_difference() -> None:
    m = message(binding_update(7, 400, "A", "H"), [binding_identifier(1, COA)], checksum=0x0BAD)
    found = compare_message(m, bu_fields(m), Dialect.RFC5648)
    assert [(d.field, d.ours, d.theirs, d.known) for d in found] == [
        ("checksum status", "incorrect", "not verified", KNOWN_CHECKSUM)]


def test_fields_missing_after_a_wireshark_exception_are_not_differences() -> None:
    m = message(binding_update(7, 400, "A", "H"), [binding_identifier(1, COA), binding_identifier(2, COA)])
    theirs = bu_fields(m, **{"mip6.bi.bid": ["1"], "mip6.bi.status": ["0"], "mip6.bi.h_flag": ["0"]})
    theirs["mip6.bi.coa_ipv6"] = [COA]
    assert compare_message(m, theirs, Dialect.RFC5648, cut_short=True) == []
    missing = compare_message(m, theirs, Dialect.RFC5648)
    assert Difference("mip6.bi.bid", "1, 2", "1") in missing


def test_no_mobility_header_on_wireshark_side() -> None:
    m = message(binding_update(7, 400, "A"), [])
    expected = [Difference("mip6.mhtype", "5", "no Mobility Header decoded")]
    assert compare_message(m, {}, Dialect.RFC5648) == expected


def test_cookies_compare_as_bytes_whatever_the_notation() -> None:
    m = message(CareOfTestInit(bytes.fromhex("346df30e7bde5d91")), [])
    theirs = {"mip6.mhtype": ["2"], "mip6.proto": ["59"], "mip6.hlen": ["1"],
              "mip6.csum": [f"0x{m.checksum:04x}"], "mip6.coti.cookie": ["0x346df30e7bde5d91"]}
    assert compare_message(m, theirs, Dialect.RFC5648) == []
    theirs["mip6.coti.cookie"] = ["0x346df30e7bde5d92"]
    assert [d.field for d in compare_message(m, theirs, Dialect.RFC5648)] == ["mip6.coti.cookie"]
