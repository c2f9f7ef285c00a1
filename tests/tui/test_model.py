"""The TUI's view model on sample captures, checked against their truth files."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcoaviz.pipeline import analyse
from mcoaviz.tui import model
from mcoaviz.tui.model import ViewData
from tests.conftest import SAMPLES

HOA = "2001:db8:1::100"
HA = "2001:db8:1::1"


def view_of(name: str) -> tuple[ViewData, dict[str, Any]]:
    a = analyse(SAMPLES / f"{name}.pcapng")
    truth = json.loads((SAMPLES / f"{name}.truth.json").read_text())
    return model.view_of_analysis(a), truth


def truth_at(truth: dict[str, Any], t: float, hoa: str) -> set[tuple[str, int | None, str]]:
    return {(b["node"], b["bid"], b["coa"]) for b in truth["bindings"]
            if b["hoa"] == hoa and b["start"] <= t and (b["end"] is None or t < b["end"])}


@pytest.mark.parametrize("name", ["handover-storm-rfc5648", "refresh-expiry-draft05",
                                  "deregistration-rfc5648", "figure8-rfc5648"])
def test_binding_table_at_every_event_equals_truth(name: str) -> None:
    data, truth = view_of(name)
    times = data.event_times()
    assert len(times) > 5
    for t in times:
        shown = {(b.node, b.bid, b.coa) for b in model.bindings_for(data, HOA, t)}
        assert shown == truth_at(truth, t, HOA), f"at +{t - data.first_time:.3f}"


def test_lifetime_remaining_counts_down_from_the_granted_lifetime() -> None:
    data, truth = view_of("refresh-expiry-rfc5648")
    expiring = next(b for b in truth["bindings"] if b["end_reason"] == "expired")
    t = expiring["end"] - 10.0
    line = next(b for b in model.bindings_for(data, HOA, t) if b.bid == expiring["bid"])
    assert line.remaining == pytest.approx(10.0, abs=0.01)
    later = next(b for b in model.bindings_for(data, HOA, t + 4) if b.bid == expiring["bid"])
    assert later.remaining == pytest.approx(6.0, abs=0.01)
    assert line.state == "active"
    assert line.status.lower().startswith("binding update accepted")
    assert line.last_ba is not None and line.last_bu is not None and line.last_ba[0] > line.last_bu[0]


def test_traffic_counts_grow_with_the_cursor_and_match_the_truth_at_the_end() -> None:
    data, truth = view_of("figure8-rfc5648")
    end = data.last_time
    assert end is not None
    line = next(b for b in model.bindings_for(data, HOA, end) if b.node == HA and b.bid == 1)
    expected = [r for r in truth["traffic"] if r["node"] == HA and r["coa"] == line.coa
                and r["direction"] == "to-mn"]
    assert line.to_mn[0] == max(r["packets"] for r in expected)
    early = next(b for b in model.bindings_for(data, HOA, data.event_times()[10]) if b.bid == 1
                 and b.node == HA)
    assert early.to_mn[0] < line.to_mn[0]


def test_tree_lists_home_agent_correspondent_and_mobile_node_with_counts() -> None:
    data, _ = view_of("figure8-rfc5648")
    entries = model.tree_at(data, data.last_time or 0.0)
    groups = [(e.group, e.node, e.hoa, e.bindings) for e in entries]
    assert ("Home agents", HA, HOA, 3) in groups
    assert ("Correspondents", "2001:db8:c0::10", HOA, 3) in groups
    mn = next(e for e in entries if e.group == "Mobile nodes")
    assert (mn.hoa, mn.bindings) == (HOA, 6)
    assert mn.messages == sum(1 for m in data.messages if m["hoa"] == HOA)
    before = model.tree_at(data, data.first_time or 0.0)
    assert all(e.bindings == 0 for e in before)


def test_filter_by_coa_bid_type_and_rule() -> None:
    data, _ = view_of("handover-storm-rfc5648")
    end = data.last_time or 0.0
    assert model.tree_at(data, end, "2001:db8:b2::") != []
    assert model.tree_at(data, end, "2001:db8:ff::") == []
    lines = model.bindings_for(data, HOA, end, "a1::")
    assert [line.coa for line in lines] == ["2001:db8:a1::100"]
    assert {m["type"] for m in model.messages_until(data, end, "ba")} == {"BA"}
    violations, _ = view_of("violations-rfc5648")
    rule = violations.findings[0]["rule"]
    assert {f["rule"] for f in model.findings_until(violations, violations.last_time or 0.0, rule)} == {rule}


def test_step_time_moves_from_event_to_event() -> None:
    data, _ = view_of("deregistration-rfc5648")
    times = data.event_times()
    assert model.step_time(data, times[0], 1) == times[1]
    assert model.step_time(data, times[1], -1) == times[0]
    assert model.step_time(data, times[-1], 1) == times[-1]
    assert model.step_time(data, (times[2] + times[3]) / 2, -1) == times[2]


def test_sparkline_shows_packets_per_second_ending_at_the_cursor() -> None:
    index = model.TrafficIndex([
        {"node": "n", "hoa": "h", "coa": "c", "direction": "to-mn", "interface": 0, "second": 100,
         "packets": 8, "bytes": 800},
        {"node": "n", "hoa": "h", "coa": "c", "direction": "to-mn", "interface": 1, "second": 100,
         "packets": 8, "bytes": 800},  # the same packets at a second capture point
        {"node": "n", "hoa": "h", "coa": "c", "direction": "from-mn", "interface": 0, "second": 102,
         "packets": 4, "bytes": 400},
    ])
    assert index.sparkline("n", "h", "c", 102.5, width=4) == " █ ▄"
    assert index.totals("n", "h", "c", "to-mn", 101.0) == (8, 800)
    assert index.totals("n", "h", "c", "to-mn", 99.9) == (0, 0)
    assert index.sparkline("n", "h", "other", 102.5, width=3) == "   "


def test_hexdump_shows_offsets_hex_and_printable_ascii() -> None:
    lines = model.hexdump(b"AB\x00\x1b[31m" + bytes(range(0x41, 0x51)), width=8)
    assert lines[0] == "0000  41 42 00 1b 5b 33 31 6d  AB..[31m"
    assert lines[1].startswith("0008  41 42 43")
    assert len(lines) == 3


def test_a_binding_whose_lifetime_ran_out_without_packets_shows_expired() -> None:
    data, truth = view_of("figure8-rfc5648")
    line = next(b for b in model.bindings_for(data, HOA, data.last_time or 0.0) if b.node == HA)
    assert line.state == "active" and line.remaining is not None and line.remaining > 0
    later = (data.last_time or 0.0) + line.remaining + 1  # live: time passes, no packet arrives
    stale = next(b for b in model.bindings_for(data, HOA, later) if b.node == HA and b.bid == line.bid)
    assert (stale.state, stale.remaining) == ("expired", 0.0)
