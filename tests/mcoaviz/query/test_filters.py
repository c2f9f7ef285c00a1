"""RowFilter: which rows of each table an output filter keeps."""

from __future__ import annotations

import pytest

from mcoaviz.query import QueryError, RowFilter

HA, CN = "2001:db8:1::1", "2001:db8:c0::10"
HOA1, HOA2 = "2001:db8:1::100", "2001:db8:2::100"
COA1, COA2 = "2001:db8:a1::100", "2001:db8:a2::100"


def binding(hoa: str = HOA1, coa: str = COA1, bid: int | None = 1, node: str = HA) -> dict:
    return {"node": node, "role": "home-agent", "hoa": hoa, "bid": bid, "coa": coa, "start": 0.0, "end": None}


def message(frame: int, hoa: str | None = HOA1, src: str = COA1, dst: str = HA,
            bids: tuple[tuple[int, str | None], ...] = ((1, COA1),)) -> dict:
    return {"frame": frame, "time": float(frame), "hoa": hoa, "src": src, "dst": dst, "outer_src": None,
            "outer_dst": None, "bids": [{"bid": b, "coa": c} for b, c in bids]}


def test_hoa_prefix_and_repetition_are_alternatives() -> None:
    rows = [binding(HOA1), binding(HOA2), binding("2001:db8:3::100")]
    by_prefix = RowFilter.parse(hoas=["2001:db8::/46"])
    assert [r["hoa"] for r in rows if by_prefix.binding(r)] == [HOA1, HOA2, "2001:db8:3::100"]
    exact = RowFilter.parse(hoas=[HOA1, "2001:db8:3::/48"])
    assert [r["hoa"] for r in rows if exact.binding(r)] == [HOA1, "2001:db8:3::100"]


def test_different_criteria_must_all_hold() -> None:
    rows = [binding(HOA1, COA1, 1), binding(HOA1, COA2, 2), binding(HOA2, COA2, 2)]
    f = RowFilter.parse(hoas=[HOA1], bids=["2"])
    assert [(r["hoa"], r["bid"]) for r in rows if f.binding(r)] == [(HOA1, 2)]
    f = RowFilter.parse(coas=[COA2], nodes=[HA])
    assert [(r["hoa"], r["coa"]) for r in rows if f.binding(r)] == [(HOA1, COA2), (HOA2, COA2)]


def test_bid_none_selects_regular_bindings() -> None:
    rows = [binding(bid=None), binding(bid=1)]
    assert [r["bid"] for r in rows if RowFilter.parse(bids=["none"]).binding(r)] == [None]


def test_claimed_coa_matches_a_coa_filter() -> None:
    row = dict(binding(coa="203.0.113.7"), claimed_coa="10.0.0.23")
    assert RowFilter.parse(coas=["10.0.0.0/8"]).binding(row) is True
    assert RowFilter.parse(coas=["198.51.100.0/24"]).binding(row) is False


def test_ipv4_network_never_matches_ipv6_rows() -> None:
    assert RowFilter.parse(coas=["0.0.0.0/0"]).binding(binding()) is False


def test_bul_node_is_the_peer() -> None:
    row = {"hoa": HOA1, "peer": CN, "peer_role": "correspondent", "bid": 2, "coa": COA2}
    assert RowFilter.parse(nodes=[CN]).bul(row) is True
    assert RowFilter.parse(nodes=[HA]).bul(row) is False


def test_message_matches_addresses_and_bid_options() -> None:
    ba = message(5, src=HA, dst=COA2, bids=((1, None), (2, None)))
    assert RowFilter.parse(coas=[COA2]).message(ba) is True  # its destination
    bu = message(4, bids=((1, COA1), (2, COA2)))
    assert RowFilter.parse(coas=[COA2]).message(bu) is True  # a BID option's CoA
    assert RowFilter.parse(bids=["3"]).message(bu) is False
    assert RowFilter.parse(bids=["none"]).message(message(6, bids=())) is True
    assert RowFilter.parse(nodes=[CN]).message(bu) is False


def test_findings_use_their_own_fields_then_the_message_at_their_frame() -> None:
    messages = [message(4, hoa=HOA1, src=COA2, bids=((2, COA2),)), message(9, hoa=HOA2, src=COA1)]
    findings = [
        {"rule": "A", "frame": 4, "hoa": None, "bid": None},  # from the message: HOA1, BID 2
        {"rule": "B", "frame": 9, "hoa": HOA2, "bid": 7},
        {"rule": "C", "frame": 30, "hoa": None, "bid": None},  # data frame: no message
        {"rule": "D", "frame": None, "hoa": HOA1, "bid": 2},
    ]

    def rules(f: RowFilter) -> list[str]:
        return [x["rule"] for x in f.findings(findings, messages)]

    assert rules(RowFilter.parse(hoas=[HOA1])) == ["A", "D"]
    assert rules(RowFilter.parse(bids=["2"])) == ["A", "D"]
    assert rules(RowFilter.parse(bids=["7"])) == ["B"]
    assert rules(RowFilter.parse(coas=[COA2])) == ["A"]
    assert rules(RowFilter.parse(coas=[COA1])) == ["B"]  # frame 9 came from COA1
    assert rules(RowFilter()) == ["A", "B", "C", "D"]


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"hoas": ["2001:db8::zz"]}, "home address '2001:db8::zz' is not an IP address or prefix"),
    ({"coas": ["ha"]}, "care-of address 'ha'"),
    ({"bids": ["two"]}, "BID 'two' is not a number"),
    ({"bids": ["70000"]}, "BID 70000 is out of range"),
])
def test_bad_values_give_one_line_reasons(kwargs: dict, needle: str) -> None:
    with pytest.raises(QueryError) as info:
        RowFilter.parse(**kwargs)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_describe_lists_the_criteria() -> None:
    f = RowFilter.parse(hoas=[HOA1], bids=["2", "none"])
    assert f.describe() == {"hoa": [f"{HOA1}/128"], "bid": [2, None]}
    assert RowFilter().active is False and f.active is True
