"""--at / --between against the simulator's truth: the state at an instant is exactly the truth
intervals that contain it, for every sample capture, also under filters."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.pipeline import Analysis, AnalysisOptions, analyse
from mcoaviz.query import Query, RowFilter, overlaps, restrict
from tests.engine.samples import load_truth, sample_files

SAMPLES = sample_files()
INSTANTS = 8  # per capture, spread over its boundaries
MARGIN = 2e-3  # engine and truth agree within 1 ms; stay clear of boundaries


@cache
def _analysis(path: Path) -> Analysis:
    return analyse(path, AnalysisOptions(run_checker=False))


def instants(truth: dict[str, Any]) -> list[float]:
    """Midpoints between consecutive start/end times (gaps wider than 2 * MARGIN), spread out,
    plus one after the last change."""
    bounds = sorted({r[k] for table in ("bindings", "bul") for r in truth[table] for k in ("start", "end")
                     if r[k] is not None})
    mids = [(a + b) / 2 for a, b in zip(bounds, bounds[1:], strict=False) if b - a > 2 * MARGIN]
    step = max(1, len(mids) // INSTANTS)
    return mids[::step][:INSTANTS] + [bounds[-1] + 0.5]


def binding_ids(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(r["node"], r["role"], r["hoa"], r["bid"], r["coa"]) for r in rows}


def bul_ids(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(r["hoa"], r["peer"], r["bid"], r["coa"]) for r in rows}


def truth_at(rows: list[dict[str, Any]], t: float) -> list[dict[str, Any]]:
    return [r for r in rows if r["start"] <= t and (r["end"] is None or t < r["end"])]


@pytest.mark.skipif(not SAMPLES, reason="no sample captures committed")
@pytest.mark.parametrize("capture", SAMPLES, ids=lambda p: p.name)
def test_state_at_equals_the_truth_intervals_containing_it(capture: Path) -> None:
    truth = load_truth(capture)
    analysis = _analysis(capture)
    for t in instants(truth):
        state = restrict(analysis, Query.at(t))
        assert binding_ids(state.bindings) == binding_ids(truth_at(truth["bindings"], t)), t
        want_bul = bul_ids(truth_at(truth["bul"], t))
        if truth.get("violations"):  # hand-made messages add engine BUL rows the truth does not model
            assert want_bul <= bul_ids(state.bul), t
        else:
            assert bul_ids(state.bul) == want_bul, t
        assert all(r["remaining"] is None or r["remaining"] >= 0 for r in state.bindings + state.bul)


@pytest.mark.parametrize("name", ["figure8-rfc5648", "handover-storm-draft05", "return-routability-rfc5648"])
def test_state_at_under_filters(name: str) -> None:
    capture = next((p for p in SAMPLES if p.name == f"{name}.pcapng"), None)
    if capture is None:
        pytest.skip(f"{name} not committed")
    truth = load_truth(capture)
    analysis = _analysis(capture)
    rows = truth["bindings"]
    coas = sorted({r["coa"] for r in rows})
    nodes = sorted({r["node"] for r in rows})
    for t in instants(truth):
        for f, keep in ((RowFilter.parse(bids=["2"]), lambda r: r["bid"] == 2),
                        (RowFilter.parse(coas=[coas[-1]]), lambda r, c=coas[-1]: r["coa"] == c),
                        (RowFilter.parse(nodes=[nodes[-1]]), lambda r, n=nodes[-1]: r["node"] == n),
                        (RowFilter.parse(hoas=["2001:db8:1::/64"], bids=["1", "3"]),
                         lambda r: r["bid"] in (1, 3))):
            state = restrict(analysis, Query.at(t, f))
            want = [r for r in truth_at(rows, t) if keep(r)]
            assert binding_ids(state.bindings) == binding_ids(want), (t, f)


@pytest.mark.parametrize("name", ["handover-storm-rfc5648", "refresh-expiry-draft05"])
def test_between_keeps_the_truth_intervals_overlapping_the_window(name: str) -> None:
    capture = next((p for p in SAMPLES if p.name == f"{name}.pcapng"), None)
    if capture is None:
        pytest.skip(f"{name} not committed")
    truth = load_truth(capture)
    analysis = _analysis(capture)
    points = instants(truth)
    for t1, t2 in zip(points, points[2:], strict=False):
        shown = restrict(analysis, Query(RowFilter(), t1, t2))
        want = [r for r in truth["bindings"] if overlaps(r, t1, t2)]
        assert binding_ids(shown.bindings) == binding_ids(want)
        assert shown.messages and all(t1 <= m["time"] <= t2 for m in shown.messages)
        assert {m["frame"] for m in shown.messages} == {m["frame"] for m in analysis.messages
                                                        if t1 <= m["time"] <= t2}


def test_remaining_lifetime_counts_down_to_the_truth_expiry() -> None:
    """refresh-expiry: BID 3 is left to expire; in its last lifetime the time left at t is its
    truth end - t; the refreshed BIDs always have between 0 and their 40 s lifetime left."""
    capture = next((p for p in SAMPLES if p.name == "refresh-expiry-rfc5648.pcapng"), None)
    if capture is None:
        pytest.skip("refresh-expiry-rfc5648 not committed")
    truth = load_truth(capture)
    analysis = _analysis(capture)
    expiring = next(r for r in truth["bindings"] if r["end_reason"] == "expired")
    for before in (30.0, 5.0, 0.25):
        t = expiring["end"] - before
        state = restrict(analysis, Query.at(t))
        row = next(r for r in state.bindings if r["bid"] == expiring["bid"])
        assert row["remaining"] == pytest.approx(before, abs=1e-3)
        others = [r["remaining"] for r in state.bindings if r["bid"] != expiring["bid"]]
        assert others and all(0 < x <= 40 for x in others)
    bul_expired = [r for r in truth["bul"] if r["end_reason"] == "expired"]
    assert len(bul_expired) == 1
    for want in bul_expired:
        state = restrict(analysis, Query.at(want["end"] - 7.5))
        row = next(r for r in state.bul if (r["peer"], r["bid"], r["coa"]) == (want["peer"], want["bid"],
                                                                                want["coa"]))
        assert row["remaining"] == pytest.approx(7.5, abs=1e-3)
