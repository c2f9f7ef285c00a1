"""analyse prints a summary instead of tables that would not fit on a screen (more than 200
rows), says how to see the rest, and fits a 3 000-node capture in 60 lines."""

from __future__ import annotations

import io
import ipaddress
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.cli import main
from mcoaviz.cli.analyse_view import ReportOptions, report
from mcoaviz.cli.terminal import Writer
from mcoaviz.pipeline import Analysis
from mcoaviz.query import TimeFormat

HA = "2001:db8:0:1::1"
CNS = [f"2001:db8:c0::{i:x}" for i in range(1, 17)]
RULES = ["MCOA314", "MCOA302", "MCOA201", "MCOA506", "MCOA101", "MCOA303", "MCOA901"]


def hoa(i: int) -> str:
    return str(ipaddress.IPv6Address("2001:db8:0:1::1000") + i)


def coa(i: int, k: int) -> str:
    return f"2001:db8:{0x1000 + k:x}:{i:x}::2"


def big_analysis(nodes: int = 3000) -> Analysis:
    """``nodes`` mobile nodes with two CoAs at one HA and a CN each (16 CNs); node i hands BID 1
    over i % 7 times; node i sends (i % 100) packets; finding counts vary with i."""
    bindings: list[dict[str, Any]] = []
    bul: list[dict[str, Any]] = []
    traffic: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for i in range(nodes):
        for node, role in ((HA, "home-agent"), (CNS[i % 16], "correspondent")):
            changes = i % 7
            for n in range(changes + 1):
                end = None if n == changes else float(n + 1)
                bindings.append({"node": node, "role": role, "hoa": hoa(i), "bid": 1, "coa": coa(i, n),
                                 "start": float(n), "end": end, "end_reason": "replaced" if end else None})
            bindings.append({"node": node, "role": role, "hoa": hoa(i), "bid": 2, "coa": coa(i, 99),
                             "start": 0.0, "end": None, "end_reason": None})
            bul.append({"hoa": hoa(i), "peer": node, "peer_role": role, "bid": 2, "coa": coa(i, 99),
                        "start": 0.0, "end": None, "end_reason": None, "acknowledged": True, "status": 0,
                        "last_seq": 1, "lifetime": 40})
        traffic.append({"interface": 0, "node": HA, "hoa": hoa(i), "coa": coa(i, 99), "bid": 2,
                        "direction": "to-mn", "via": "tunnel", "packets": i % 100,
                        "bytes": (i % 100) * 1000 + i, "first": 0.0, "last": 9.0})
        for r in range(i % 3):
            findings.append({"rule": RULES[(i + r) % len(RULES)], "severity": ("warning", "error")[r % 2],
                             "section": "5.1", "frame": None, "message": "m", "hoa": hoa(i), "bid": None})
    return Analysis(capture={"file": "big.pcapng", "format": "pcapng", "frames": 10, "interfaces": [],
                             "dialect": "rfc5648", "dialect_reason": "test", "first_time": 0.0,
                             "last_time": 9.0},
                    messages=[], bindings=bindings, bul=bul, traffic=traffic, traffic_bins=[],
                    findings=findings, problems=[], checker_available=True)


def render(analysis: Analysis, **options: Any) -> list[str]:
    out = io.StringIO()
    report(analysis, Writer(out, colour=False), TimeFormat("relative", 0.0), ReportOptions(**options))
    return out.getvalue().splitlines()


def test_3000_nodes_fit_in_60_lines_with_the_rankings() -> None:
    lines = render(big_analysis())
    assert len(lines) <= 60, "\n".join(lines)
    text = "\n".join(lines)
    assert "Summary: " in text and "--all lists them all" in text
    assert " 1 home agent(s), 16 correspondent node(s), 3000 mobile node(s) (home addresses)" in lines
    ha_row = next(line.split() for line in lines if line.startswith("  home-agent"))
    assert ha_row[1:] == [HA, "3000", str(sum(i % 7 + 2 for i in range(3000))), "6000"]
    assert "  ... 12 more node(s) (--node to see one)" in lines
    handovers = lines[lines.index(" Top home addresses by handovers (CoA changes under a BID)") + 3:][:5]
    assert [row.split()[1] for row in handovers] == ["6"] * 5  # i % 7 == 6: six CoA changes
    assert handovers[0].split()[0] == hoa(6)
    busiest = lines[lines.index(" Busiest care-of addresses") + 3:][:5]
    top_i = max(range(3000), key=lambda i: (i % 100) * 1000 + i)
    assert busiest[0].split() == [coa(top_i, 99), hoa(top_i), "99", str(99 * 1000 + top_i)]


def test_summary_from_201_rows_and_all_forces_the_tables() -> None:
    from dataclasses import replace

    whole = big_analysis()
    for rows, summary in ((200, False), (201, True)):
        cut = replace(whole, bindings=whole.bindings[:rows], bul=[], traffic=[], findings=[])
        lines = render(cut)
        assert ("Summary: 201 table rows are too many to list" in lines) is summary
        assert ("Binding caches (intervals)" in lines) is not summary
    full = render(big_analysis(), show_all=True)
    assert len(full) > 20_000 and not any(line.startswith("Summary") for line in full)


@pytest.fixture(scope="module")
def scale_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "s300.pcapng"
    assert main(["simulate", "scale", "--mobile-nodes", "300", "--coas", "2", "--duration", "4",
                 "--rate", "1500", "-o", str(path)]) == 0
    return path


def test_scale_capture_summary_then_a_filter_shows_one_node(
    scale_capture: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["analyse", str(scale_capture)]) == 0
    out = capsys.readouterr().out
    assert "Summary: " in out and "Binding caches (intervals)" not in out
    assert "300 mobile node(s)" in out
    busiest = out.split(" Busiest care-of addresses\n")[1].splitlines()[2]
    coa, node_hoa = busiest.split()[:2]
    assert main(["analyse", str(scale_capture), "--hoa", node_hoa]) == 0
    one = capsys.readouterr().out
    assert "Summary" not in one
    cache = one.split("Binding caches (intervals)")[1].split("Binding update lists")[0]
    rows = [line.split() for line in cache.splitlines() if line.startswith("  2001:")]
    assert [r[0] for r in rows] == [node_hoa, node_hoa] and coa in {r[2] for r in rows}
    assert main(["analyse", str(scale_capture), "--all"]) == 0
    assert len(capsys.readouterr().out.splitlines()) > 1500


def test_summary_on_request_ranks_the_handover_storm(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tests.conftest import SAMPLES

    capture = SAMPLES / "handover-storm-rfc5648.pcapng"
    if not capture.exists():
        pytest.skip("sample captures not committed")
    truth = json.loads(capture.with_name("handover-storm-rfc5648.truth.json").read_text())
    replaced = sum(1 for r in truth["bindings"] if r["end_reason"] == "replaced")
    assert main(["analyse", str(capture), "--summary"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "Binding caches (intervals)" not in lines
    top = lines[lines.index(" Top home addresses by handovers (CoA changes under a BID)") + 3].split()
    assert top[:2] == ["2001:db8:1::100", str(replaced)] and replaced == 12
    assert top[3] == str(len({r["coa"] for r in truth["bindings"]}))
