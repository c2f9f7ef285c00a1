"""The report's model against the simulator's truth: every binding interval of a sample capture
is exactly one bar, on the lane of its node and BID, with the truth's start, end and CoA."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.report.data import INDEX_COLUMNS, prepare
from mcoaviz.report.overview import MAX_POINTS, live_bindings
from tests.engine.samples import load_truth, sample_files

TOLERANCE = 1.5e-3  # the model keeps milliseconds; the truth has the capture's microseconds
SAMPLES = sample_files()


def _bars(model: dict, hoa: str) -> list[tuple]:
    """(node, bid, role, start, end, coa, state) per bar, addresses resolved."""
    d = model["hoas"][hoa]
    a = d["a"]
    out = []
    for lane, start, end, coa, state, *_ in d["bars"]:
        node, bid, role = d["lanes"][lane]
        out.append((a[node], bid, role, start, end, a[coa], state))
    return out


@pytest.mark.parametrize("capture", SAMPLES, ids=lambda p: p.name)
def test_every_truth_binding_is_one_bar(capture: Path) -> None:
    truth = load_truth(capture)
    model = prepare(analyse(capture, AnalysisOptions(run_checker=False)))
    t0 = model["t0"]
    by_hoa: dict[str, list[dict]] = {}
    for row in truth["bindings"]:
        by_hoa.setdefault(row["hoa"], []).append(row)
    for hoa, rows in by_hoa.items():
        bars = _bars(model, hoa)
        assert len(bars) == len(rows), hoa
        unmatched = list(bars)
        for row in rows:
            role = "HA" if row["role"] == "home-agent" else "CN"
            end = None if row["end"] is None else row["end"] - t0
            match = [b for b in unmatched if b[:3] == (row["node"], row["bid"], role) and b[5] == row["coa"]
                     and abs(b[3] - (row["start"] - t0)) <= TOLERANCE
                     and (b[4] is None if end is None else b[4] is not None and abs(b[4] - end) <= TOLERANCE)]
            assert len(match) == 1, f"no bar for {row}"
            unmatched.remove(match[0])
            if row["home"]:
                assert match[0][6] == "home"
            elif not row["confirmed"]:
                assert match[0][6] == "unconfirmed"


def test_index_counts_match_the_truth() -> None:
    capture = next(p for p in SAMPLES if p.name == "handover-storm-rfc5648.pcapng")
    truth = load_truth(capture)
    model = prepare(analyse(capture, AnalysisOptions(run_checker=False)))
    row = dict(zip(INDEX_COLUMNS, model["index"]["rows"][0], strict=True))
    at_ha = [b for b in truth["bindings"] if b["role"] == "home-agent"]
    assert row["HoA"] == "2001:db8:1::100"
    assert row["handovers"] == sum(1 for b in at_ha if b["end_reason"] == "replaced")
    assert row["BIDs"] == len({b["bid"] for b in at_ha})
    # traffic: the capture interface that saw most of each CoA's packets, summed per direction
    per_interface: Counter = Counter()
    for t in truth["traffic"]:
        per_interface[(t["coa"], t["direction"], t["interface"])] += t["packets"]
    best: dict = {}
    for (coa, direction, _), packets in per_interface.items():
        best[(coa, direction)] = max(best.get((coa, direction), 0), packets)
    assert row["packets to MN"] == sum(p for (_, d), p in best.items() if d == "to-mn")
    assert row["packets from MN"] == sum(p for (_, d), p in best.items() if d == "from-mn")


def test_traffic_series_add_up_to_the_counted_packets() -> None:
    capture = next(p for p in SAMPLES if p.name == "figure8-rfc5648.pcapng")
    analysis = analyse(capture, AnalysisOptions(run_checker=False))
    model = prepare(analysis)
    d = model["hoas"]["2001:db8:1::100"]
    index = dict(zip(INDEX_COLUMNS, model["index"]["rows"][0], strict=True))
    to_mn = sum(sum(packets) for _, direction, _, packets, _ in d["traffic"] if direction == "to-mn")
    from_mn = sum(sum(packets) for _, direction, _, packets, _ in d["traffic"] if direction == "from-mn")
    assert (to_mn, from_mn) == (index["packets to MN"], index["packets from MN"])
    assert to_mn > 0 and from_mn > 0


def test_live_bindings_stay_bounded_and_end_at_the_final_count() -> None:
    hours = 10 * 3600.0
    rows = [{"node": "ha", "start": i * 1.0, "end": None if i % 2 else i + 0.5} for i in range(int(hours))]
    series = live_bindings(rows, 0.0, hours)
    xs, ys = series["ha"]
    assert len(xs) <= MAX_POINTS + 3
    assert ys[-1] == int(hours) // 2  # the odd-numbered bindings never end


def test_a_flood_of_findings_is_capped_per_home_address() -> None:
    from mcoaviz.pipeline import Analysis
    from mcoaviz.report.data import MAX_FINDINGS_PER_HOA

    findings = [{"rule": "MCOA999", "section": "5.1", "severity": "warning", "frame": i, "time": 100.0 + i,
                 "message": "again", "hoa": "2001:db8::1", "bid": None}
                for i in range(3 * MAX_FINDINGS_PER_HOA)]
    bul = [{"hoa": "2001:db8::1", "peer": "2001:db8::ff", "peer_role": "home-agent", "bid": None,
            "coa": "2001:db8:a::1"}]
    analysis = Analysis(capture={"first_time": 100.0, "last_time": 4000.0}, messages=[], bindings=[],
                        bul=bul, traffic=[], traffic_bins=[], findings=findings, problems=[])
    model = prepare(analysis)
    detail = model["hoas"]["2001:db8::1"]
    assert len(detail["findings"]) == MAX_FINDINGS_PER_HOA and detail["findings_total"] == len(findings)
    assert model["findings"]["groups"][0]["count"] == len(findings)
    assert model["findings"]["groups"][0]["frames"] == list(range(20))


def test_a_truncated_capture_is_named_in_the_summary(tmp_path: Path) -> None:
    whole = next(p for p in SAMPLES if p.name == "figure8-rfc5648.pcapng").read_bytes()
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(whole[:150_000])
    capture = prepare(analyse(cut, AnalysisOptions(run_checker=False)))["capture"]
    assert capture["problem_count"] == 1
    assert capture["problems"][0].startswith("capture truncated at byte ")


def test_each_home_address_carries_how_its_bindings_were_read() -> None:
    # frames read with tshark: BU to the CN at 85, its BA at 87, the bulk BU to the HA at 1, BA at 6
    from tests.conftest import SAMPLES as FOLDER

    model = prepare(analyse(FOLDER / "first-registration-without-coa-rfc5648.pcapng", AnalysisOptions()))
    lines = model["hoas"]["2001:db8:1::100"]["explain"]
    titles = [line for line in lines if line and not line.startswith(" ")]
    assert titles == ["2001:db8:1::100 BID 1 at 2001:db8:1::1 (home-agent)",
                      "2001:db8:1::100 BID 2 at 2001:db8:1::1 (home-agent)",
                      "2001:db8:1::100 BID 2 at 2001:db8:c0::10 (correspondent)"]
    text = " ".join(" ".join(lines).split())
    assert "(BU frame 1, BA frame 6)" in text and "(BU frame 85, BA frame 87)" in text
