"""summarise: counts per node and role, top home addresses, busiest CoAs, findings by rule."""

from __future__ import annotations

from typing import Any

from mcoaviz.pipeline import Analysis
from mcoaviz.query import summarise

HA, CN = "2001:db8:1::1", "2001:db8:c0::10"


def row(node: str, hoa: str, bid: int, coa: str, end_reason: str | None, role: str = "home-agent") -> dict:
    return {"node": node, "role": role, "hoa": hoa, "bid": bid, "coa": coa, "start": 0.0,
            "end": None if end_reason is None else 1.0, "end_reason": end_reason}


def traffic(hoa: str, coa: str, packets: int, nbytes: int, interface: int = 0) -> dict:
    return {"interface": interface, "node": HA, "hoa": hoa, "coa": coa, "bid": 1, "direction": "to-mn",
            "via": "tunnel", "packets": packets, "bytes": nbytes, "first": 0.0, "last": 1.0}


def make(**tables: list[dict[str, Any]]) -> Analysis:
    empty: dict[str, list[dict[str, Any]]] = {name: [] for name in Analysis.TABLES}
    empty.update(tables)
    return Analysis(capture={}, checker_available=True, **empty)


def test_handovers_count_once_when_both_ha_and_cn_saw_them() -> None:
    bindings = [
        # MN A: two CoA changes under BID 1, seen at the HA and the CN
        row(HA, "A", 1, "c1", "replaced"), row(HA, "A", 1, "c2", "replaced"), row(HA, "A", 1, "c3", None),
        row(CN, "A", 1, "c1", "replaced", "correspondent"),
        row(CN, "A", 1, "c2", "replaced", "correspondent"),
        row(CN, "A", 1, "c3", None, "correspondent"),
        # MN B: one change, then de-registered (not a handover)
        row(HA, "B", 1, "d1", "replaced"), row(HA, "B", 1, "d2", "deregistered"),
        row(HA, "C", 1, "e1", None),
    ]
    summary = summarise(make(bindings=bindings))
    assert [(s.hoa, s.handovers) for s in summary.top("handovers")] == [("A", 2), ("B", 1)]
    assert [(n.role, n.node, n.hoas, n.bindings, n.open_at_end) for n in summary.nodes] == [
        ("home-agent", HA, 3, 6, 2), ("correspondent", CN, 1, 3, 1)]
    assert summary.mobile_nodes == 3
    assert summary.hoas["A"].coas == {"c1", "c2", "c3"}


def test_traffic_and_busiest_coas() -> None:
    rows = [traffic("A", "c1", 10, 1000), traffic("A", "c1", 10, 1000, interface=1),
            traffic("A", "c2", 1, 50), traffic("B", "d1", 40, 1500)]
    summary = summarise(make(traffic=rows))
    assert [(s.hoa, s.packets, s.bytes) for s in summary.top("bytes")] == [("A", 21, 2050), ("B", 40, 1500)]
    assert [(s.hoa, s.packets) for s in summary.top("packets", 1)] == [("B", 40)]
    assert [(c.coa, c.hoa, c.packets, c.bytes) for c in summary.coas] == [
        ("c1", "A", 20, 2000), ("d1", "B", 40, 1500), ("c2", "A", 1, 50)]


def test_findings_by_hoa_and_by_rule() -> None:
    messages = [{"frame": 7, "hoa": "B"}]
    findings = [
        {"rule": "MCOA314", "severity": "warning", "frame": 3, "hoa": "A"},
        {"rule": "MCOA314", "severity": "warning", "frame": 4, "hoa": "A"},
        {"rule": "MCOA302", "severity": "error", "frame": 7, "hoa": None},  # HoA of frame 7's message
        {"rule": "MCOA901", "severity": "info", "frame": None, "hoa": None},  # nobody's
    ]
    summary = summarise(make(messages=messages, findings=findings))
    assert [(s.hoa, s.findings) for s in summary.top("findings")] == [("A", 2), ("B", 1)]
    assert summary.severities == {"error": 1, "warning": 2, "info": 1}
    assert summary.rules == [("MCOA314", "warning", 2), ("MCOA302", "error", 1), ("MCOA901", "info", 1)]
    assert summary.rows == {"bindings": 0, "bul": 0, "traffic": 0, "findings": 4}


def test_rankings_leave_out_zero_and_break_ties_by_address() -> None:
    rows = [traffic("B", "x", 1, 100), traffic("A", "y", 1, 100)]
    summary = summarise(make(traffic=rows, bul=[{"hoa": "Z", "peer": HA}]))
    assert [s.hoa for s in summary.top("bytes")] == ["A", "B"]
    assert summary.top("handovers") == []
    assert summary.mobile_nodes == 1  # Z: a BUL; A and B only appear in traffic
