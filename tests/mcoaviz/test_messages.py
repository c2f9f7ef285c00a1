"""message_row: the --json / export `messages` record, from hand-built packets."""

from __future__ import annotations

import json
import struct

import pytest

from dissector.codepoints import Dialect
from dissector.decode import DEFAULT, DecodeOptions, decode_frame
from dissector.records import Packet
from mcoaviz.messages import home_address, message_row
from tests.dissector.handbuilt import (
    HA,
    MN_COA,
    MN_HOA,
    a4,
    a6,
    ba_body,
    bid,
    bu_body,
    dest_opts_hao,
    ethernet,
    frame,
    ipv4,
    ipv6,
    mh,
    padn,
    routing_type2,
    udp,
)

CONTRACT_KEYS = {
    "frame", "time", "interface", "src", "dst", "outer_src", "outer_dst", "hoa", "type", "mh_type", "seq",
    "lifetime", "status", "flags", "bids", "options", "checksum_ok", "malformed", "problems",
}


def bulk_bu(options: DecodeOptions = DEFAULT) -> Packet:
    body = (bu_body(12, 0xD040, 150) + padn(6) + bid(1, coa=a6(MN_COA)) + padn(2)
            + bid(2, flags=0x80, coa=a6(MN_HOA)))
    data = ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + mh(5, body, src=MN_HOA, dst=HA))
    return decode_frame(frame(ethernet(data), number=5), options)


def test_bu_row() -> None:
    row = message_row(bulk_bu())
    assert CONTRACT_KEYS <= set(row)
    assert (row["frame"], row["time"], row["interface"]) == (5, 1005.0, 0)
    assert (row["src"], row["dst"], row["hoa"], row["outer_src"]) == (MN_COA, HA, MN_HOA, None)
    assert (row["type"], row["mh_type"], row["seq"], row["lifetime"]) == ("BU", 5, 12, 600)
    assert row["flags"] == ["A", "H", "K", "O"] and row["status"] is None
    assert [(b["bid"], b["status"], b["coa"], b["flags"]) for b in row["bids"]] == [
        (1, 0, MN_COA, []), (2, 0, MN_HOA, ["H"])]
    assert [o["name"] for o in row["options"]] == ["PadN", "Binding Identifier", "PadN", "Binding Identifier"]
    assert row["options"][1] == {"type": 35, "name": "Binding Identifier", "offset": 18, "length": 20,
                                 "bid": 1, "status": 0, "flags_byte": 0, "coa": MN_COA, "dialect": "rfc5648"}
    assert row["checksum_ok"] is True and row["malformed"] is False and row["problems"] == []
    json.dumps(row)  # plain JSON types only


def test_draft05_bid_flag_letters() -> None:
    row = message_row(bulk_bu(DecodeOptions(dialect=Dialect.DRAFT05)))
    assert [b["flags"] for b in row["bids"]] == [[], ["C"]]
    assert row["flags"] == ["A", "H", "K"]  # 0x0040 is a reserved bit in the draft


def test_ba_row_with_type2_routing_header_and_status_names() -> None:
    body = ba_body(4, 0x80, 12, 150) + padn(4) + bid(1, status=167) + padn(2)
    data = ipv6(HA, MN_COA, 43, routing_type2(135, MN_HOA) + mh(6, body, src=HA, dst=MN_HOA))
    row = message_row(decode_frame(frame(ethernet(data))))
    assert (row["type"], row["status"], row["hoa"]) == ("BA", 4, MN_HOA)
    assert row["status_name"] == "MCOA NOTCOMPLETE"
    assert row["bids"][0]["status_name"] == "MCOA UNKNOWN COA" and row["flags"] == ["K"]


def test_be_hoa_comes_from_the_message() -> None:
    data = ipv6(HA, MN_COA, 135, mh(7, bytes([1, 0]) + a6(MN_HOA), src=HA, dst=MN_COA))
    row = message_row(decode_frame(frame(ethernet(data))))
    assert (row["type"], row["status"], row["hoa"]) == ("BE", 1, MN_HOA)
    assert row["status_name"] == "Unknown binding for Home Address destination option"


def test_dsmipv6_row_has_inner_and_outer_addresses() -> None:
    body = bu_body(1, 0x8000, 10) + padn(6) + bid(1, coa=a4("198.51.100.9")) + padn(4)
    inner = ipv6(MN_HOA, HA, 135, mh(5, body, src=MN_HOA, dst=HA))
    data = ethernet(ipv4("198.51.100.9", "203.0.113.1", 17, udp(4191, 4191, inner)), 0x0800)
    row = message_row(decode_frame(frame(data)))
    assert (row["src"], row["outer_src"], row["outer_dst"], row["tunnel"]) == (
        MN_HOA, "198.51.100.9", "203.0.113.1", "udp")
    assert row["hoa"] == MN_HOA and row["bids"][0]["coa"] == "198.51.100.9"


def test_malformed_row_lists_problems() -> None:
    data = ipv6(MN_HOA, HA, 135, mh(5, bu_body(1, 0x8000, 10) + padn(4), src=MN_HOA, dst=HA, header_len=0))
    row = message_row(decode_frame(frame(ethernet(data))))
    assert row["malformed"] is True
    errors = [p for p in row["problems"] if p["severity"] == "error"]
    assert [(p["layer"], p["offset"]) for p in errors] == [("mobility", 55)]


def test_home_address_of_non_mh_messages() -> None:
    packet = decode_frame(frame(ethernet(ipv6(MN_HOA, HA, 59, b""))))
    assert home_address(packet) is None
    with pytest.raises(ValueError):
        message_row(packet)


def test_unknown_option_row_is_hex() -> None:
    data = ipv6(MN_HOA, HA, 135, mh(5, bu_body(1, 0x8000, 10) + struct.pack("!BB2s", 200, 2, b"\xab\xcd"),
                                    src=MN_HOA, dst=HA))
    row = message_row(decode_frame(frame(ethernet(data))))
    assert row["options"] == [{"type": 200, "name": "Unknown option 200", "offset": 12, "data": "abcd"}]
