"""Registration latencies and data gaps (mcoaviz.timings), and their place in the export.

Expected values come from elsewhere than the code under test: BU/BA pairs from the decoded
messages table (same HoA and sequence number, first sightings), binding changes and first data
from the simulator's truth files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.export import write_csv_folder, write_json
from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.timings import GAP_COLUMNS, LATENCY_COLUMNS, _DataTimes, gaps, latencies, timing_tables
from tests.conftest import SAMPLES
from tests.engine.samples import load_truth
from tests.report.captures import rewrite


def _first_sightings(messages: list[dict[str, Any]], kind: str) -> dict[tuple[str, int], dict[str, Any]]:
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for m in sorted(messages, key=lambda m: m["frame"]):
        if m["type"] == kind:
            out.setdefault((m["hoa"], m["seq"]), m)
    return out


def test_latency_is_ba_time_minus_bu_time_for_every_bid() -> None:
    analysis = analyse(SAMPLES / "figure8-rfc5648.pcapng", AnalysisOptions(run_checker=False))
    bus, bas = _first_sightings(analysis.messages, "BU"), _first_sightings(analysis.messages, "BA")
    rows = latencies(analysis.events)
    expected = sorted((bu["frame"], b["bid"]) for key, bu in bus.items() if key in bas for b in bu["bids"])
    assert sorted((r["bu_frame"], r["bid"]) for r in rows) == expected
    for row in rows:
        bu, ba = bus[(row["hoa"], row["seq"])], bas[(row["hoa"], row["seq"])]
        assert row["ba_frame"] == ba["frame"]
        assert row["latency"] == pytest.approx(ba["time"] - bu["time"], abs=1e-9)
        assert row["coa"] == next(b["coa"] for b in bu["bids"] if b["bid"] == row["bid"])
        assert (row["outcome"], row["status"], row["accepted"], row["attempts"]) == ("answered", 0, True, 1)


def test_a_lost_ba_makes_the_next_answer_a_second_attempt(tmp_path: Path) -> None:
    """lost-ba without the BA for sequence 525 (BID 2): the MN's retransmission (a new sequence
    number) is answered; the row counts two attempts and the time since the first BU."""
    sample = analyse(SAMPLES / "lost-ba-rfc5648.pcapng", AnalysisOptions(run_checker=False))
    dropped = {m["frame"] for m in sample.messages if m["type"] == "BA" and m["seq"] == 525}
    assert dropped
    path = rewrite("lost-ba-rfc5648.pcapng", tmp_path / "lost.pcapng", keep=lambda f: f.number not in dropped)
    analysis = analyse(path, AnalysisOptions(run_checker=False))
    bus, bas = _first_sightings(analysis.messages, "BU"), _first_sightings(analysis.messages, "BA")
    rows = [r for r in latencies(analysis.events) if r["bid"] == 2]
    lost = next(r for r in rows if r["seq"] == 525)
    assert (lost["latency"], lost["ba_frame"], lost["outcome"]) == (None, None, "superseded")
    retry = next(r for r in rows if r["bu_time"] > lost["bu_time"])
    assert retry["attempts"] == 2 and retry["outcome"] == "answered"
    first_bu = bus[(lost["hoa"], 525)]
    ba = bas[(retry["hoa"], retry["seq"])]
    assert retry["since_first_attempt"] == pytest.approx(ba["time"] - first_bu["time"], abs=1e-6)
    assert retry["latency"] == pytest.approx(ba["time"] - bus[(retry["hoa"], retry["seq"])]["time"], abs=1e-6)


def test_handover_gaps_follow_the_truth() -> None:
    """Every CoA change of the handover storm is one gap row (old -> new CoA); the silence after
    it ends at the first packet on the new CoA (the truth's traffic rows)."""
    capture = SAMPLES / "handover-storm-rfc5648.pcapng"
    truth = load_truth(capture)
    analysis = analyse(capture, AnalysisOptions(run_checker=False))
    rows = [g for g in gaps(analysis.bindings, analysis.traffic, analysis.traffic_bins)
            if g["change"] == "replaced"]
    lane = sorted((b for b in truth["bindings"] if b["bid"] == 2 and b["role"] == "home-agent"),
                  key=lambda b: b["start"])
    expected = [(old["coa"], new["coa"]) for old, new in zip(lane, lane[1:], strict=False)
                if old["end_reason"] == "replaced"]
    assert [(g["old_coa"], g["new_coa"]) for g in rows] == expected
    assert len(expected) >= 10
    for g in rows:
        start = next(b["start"] for b in lane if b["coa"] == g["new_coa"])
        assert g["time"] == pytest.approx(start, abs=1e-3)
        first = min(t["first"] for t in truth["traffic"] if t["coa"] == g["new_coa"] and t["first"] >= start
                    and t["node"] == g["node"])
        assert g["precision"] == 0.0
        assert g["silent_after"] == pytest.approx(first - start, abs=1e-3)
        last = max(t["last"] for t in truth["traffic"] if t["coa"] == g["old_coa"] and t["last"] <= start
                   and t["node"] == g["node"])
        assert g["silent_before"] == pytest.approx(start - last, abs=1e-3)


def test_data_times_fall_back_to_seconds_when_the_rows_do_not_decide() -> None:
    key = ("ha", "hoa", "coa")
    traffic = [{"node": "ha", "hoa": "hoa", "coa": "coa", "packets": 5, "first": 10.25, "last": 30.5}]
    bins = [{"node": "ha", "hoa": "hoa", "coa": "coa", "packets": 1, "second": s} for s in (10, 20, 30)]
    times = _DataTimes(traffic, bins)
    assert times.first_after(key, 5.0) == (10.25, 0.0)  # the row's first packet is the answer
    assert times.first_after(key, 15.0) == (20.0, 1.0)  # somewhere in second 20
    assert times.first_after(key, 31.0) == (None, 0.0)
    assert times.last_before(key, 40.0) == (30.5, 0.0)
    assert times.last_before(key, 25.0) == (21.0, 1.0)  # before the end of second 20
    assert times.last_before(key, 10.0) == (None, 0.0)


def test_an_expired_binding_is_a_change_without_successor() -> None:
    capture = SAMPLES / "refresh-expiry-rfc5648.pcapng"
    truth = load_truth(capture)
    analysis = analyse(capture, AnalysisOptions(run_checker=False))
    expired = [b for b in truth["bindings"] if b["end_reason"] == "expired"]
    rows = [g for g in timing_tables(analysis)["gaps"] if g["change"] == "expired"]
    assert [(g["node"], g["bid"], g["old_coa"], g["new_coa"]) for g in rows] == \
        [(b["node"], b["bid"], b["coa"], None) for b in expired]
    for g, b in zip(rows, expired, strict=True):
        assert g["time"] == pytest.approx(b["end"], abs=1e-3)
        assert g["old_last_data"] is not None and g["old_last_data"] <= g["time"]


def test_export_json_and_csv_carry_the_documented_tables(tmp_path: Path) -> None:
    analysis = analyse(SAMPLES / "handover-storm-rfc5648.pcapng", AnalysisOptions(run_checker=False))
    out = io.StringIO()
    write_json(analysis, out)
    data = json.loads(out.getvalue())
    for table in ("capture", "messages", "bindings", "bul", "traffic", "traffic_bins", "findings"):
        assert table in data  # the earlier keys stay
    assert len(data["latencies"]) == 14 and tuple(data["latencies"][0]) == LATENCY_COLUMNS
    assert tuple(data["gaps"][0]) == GAP_COLUMNS
    written = {p.name for p in write_csv_folder(analysis, tmp_path / "csv")}
    assert {"latencies.csv", "gaps.csv"} <= written
    header = (tmp_path / "csv" / "gaps.csv").read_text().splitlines()[0]
    assert header == ",".join(GAP_COLUMNS)


def test_a_restricted_export_keeps_the_latencies_of_its_messages(tmp_path: Path) -> None:
    from mcoaviz.cli import main

    capture = str(SAMPLES / "figure8-rfc5648.pcapng")
    whole, cut = tmp_path / "whole.json", tmp_path / "cut.json"
    assert main(["export", capture, "-o", str(whole)]) == 0
    assert main(["export", capture, "-o", str(cut), "--node", "2001:db8:c0::10"]) == 0
    everything = json.loads(whole.read_text())["latencies"]
    restricted = json.loads(cut.read_text())
    frames = {m["frame"] for m in restricted["messages"]}
    assert [r for r in everything if r["bu_frame"] in frames] == restricted["latencies"]
    assert {r["peer"] for r in restricted["latencies"]} == {"2001:db8:c0::10"}
    assert len(restricted["latencies"]) == 3 < len(everything)


@pytest.mark.parametrize("name", ["figure8-rfc5648.pcapng", "handover-storm-rfc5648.pcapng",
                                  "bid-conflict-draft05.pcapng", "brr-rfc5648.pcapng"])
def test_latency_json_is_the_json_of_each_latency_row(name: str) -> None:
    from mcoaviz.export import row_encoder
    from mcoaviz.timings import iter_latency_json

    analysis = analyse(SAMPLES / name, AnalysisOptions(run_checker=False))
    rows = latencies(analysis.events)
    assert rows
    expected = [json.dumps(row) for row in rows]
    assert list(iter_latency_json(analysis.events, row_encoder())) == expected
    some = {rows[0]["bu_frame"]}  # a restricted analysis keeps the latencies of its BUs only
    assert list(iter_latency_json(analysis.events, json.JSONEncoder().encode, some)) == [
        json.dumps(row) for row in rows if row["bu_frame"] in some]


def test_latency_json_writes_odd_values_as_json_does(monkeypatch: pytest.MonkeyPatch) -> None:
    import mcoaviz.timings as timings

    plain = ("h", "p", "home-agent", 1, "c", 7, 60, 10, 1.5, 11, 1.75, 0.25, 0, True, "answered", 1, 0.25)
    unanswered = ("h", "p", None, None, None, 8, None, 12, 2.0, None, None, None, None, None, "timeout", 2,
                  None)
    odd = [
        ("h\u00e9", 'q"p', "role\\", 2, None, 9, 60, 13, 3.0, 14, 3.5, 0.5, 200, False, "answered", 1, 0.5),
        ("h", "p", None, True, "c", 7, 60, 10, 1.5, 11, 1.75, 0.25, 0, True, "answered", 1, 0.25),  # bool BID
        ("h", "p", None, 1, "c", 7, 60, 10, float("inf"), 11, float("nan"), 0.25, 0, None, "x", 1, None),
        ("h", "p", None, 1, "c", 7.0, 60, 10, 5, 11, 6, 1, 0, True, "answered", 1, 1),  # other number types
        ("h", ("not", "a str"), None, 1, "c", 7, 60, 10, 1.5, 11, 1.75, 0.25, 0, True, "answered", 1, 0.25),
    ]
    values = [plain, unanswered, *odd]
    monkeypatch.setattr(timings, "_latency_values", lambda events, folded=None: iter(values))
    encode = json.JSONEncoder().encode
    expected = [json.dumps(dict(zip(LATENCY_COLUMNS, v, strict=True))) for v in values]
    assert list(timings.iter_latency_json([], encode)) == expected
    assert [json.dumps(r) for r in timings.iter_latencies([])] == expected
