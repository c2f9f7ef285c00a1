"""Ended binding / BUL rows of a whole-file run leave memory (``engine/retired.py``) and come
back in the export in the order the in-memory tables have.

``RETIRE_EVERY`` is set to 0 here so that rows are retired at every record (the samples are
shorter than the default 64 s step); the reference is the in-memory (non-streaming) analysis."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

import mcoaviz.engine.engine as engine_module
from mcoaviz.engine.cache import BindingRow
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.retired import RetiredRows
from mcoaviz.engine.states import BindingState
from mcoaviz.export import write_json
from mcoaviz.pipeline import AnalysisOptions, Pipeline, analyse, run_pipeline
from mcoaviz.rowspool import RowSpool
from mcoaviz.sources import open_capture
from tests.conftest import SAMPLES

CAPTURES = ("handover-storm-draft05.pcapng", "figure8-rfc5648.pcapng", "dsmipv6-nat-rfc5648.pcapng",
            "deregistration-rfc5648.pcapng", "bulk-bootstrap-rfc5648.pcapng")


@pytest.fixture
def retire_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "RETIRE_EVERY", 0.0)


def _streamed(name: str) -> tuple[Pipeline, Any]:
    pipeline = Pipeline(AnalysisOptions(stream=True), name=str(SAMPLES / name))
    with open_capture(SAMPLES / name) as capture:
        return pipeline, run_pipeline(pipeline, capture)


@pytest.mark.parametrize("name", CAPTURES)
def test_retired_rows_come_back_in_the_in_memory_order(name: str, retire_always: None) -> None:
    pipeline, streamed = _streamed(name)
    engine = pipeline.engine
    assert engine.cache.retired is not None and engine.bul_table.retired is not None
    memory = analyse(SAMPLES / name, AnalysisOptions())
    assert list(streamed.bindings) == memory.bindings
    assert list(streamed.bul) == memory.bul
    assert len(streamed.bindings) == len(memory.bindings)
    # the ended rows really left memory: only open ones (and recent ends) stay as objects
    ended = [row for row in memory.bindings if row["end"] is not None]
    if ended:
        assert len(engine.cache.retired) > 0
        assert len(engine.cache.rows) < len(memory.bindings)
    assert len(engine.bul_table.retired) == 0 or len(engine.bul_table.rows) < len(memory.bul)


def test_storm_retires_most_rows_and_exports_the_same_bytes(retire_always: None) -> None:
    name = "handover-storm-draft05.pcapng"
    pipeline, streamed = _streamed(name)
    engine = pipeline.engine
    assert engine.cache.retired is not None and engine.bul_table.retired is not None
    assert len(engine.cache.retired) > len(engine.cache.rows)
    assert len(engine.bul_table.retired) > len(engine.bul_table.rows)
    out = io.StringIO()
    write_json(streamed, out)
    memory = io.StringIO()
    write_json(analyse(SAMPLES / name, AnalysisOptions()), memory)
    assert out.getvalue() == memory.getvalue()


def test_state_at_reads_retired_rows(retire_always: None) -> None:
    name = "handover-storm-draft05.pcapng"
    pipeline, _streamed_analysis = _streamed(name)
    memory = Pipeline(AnalysisOptions(), name=name)
    with open_capture(SAMPLES / name) as capture:
        run_pipeline(memory, capture)
    ends = sorted({r.end for r in memory.engine.cache.rows if r.end is not None})
    assert ends
    for t in (ends[0] - 0.001, ends[len(ends) // 2] - 0.001, ends[-1]):
        got, want = pipeline.engine.state_at(t), memory.engine.state_at(t)
        assert sorted(json.dumps(r) for r in got.bindings) == sorted(json.dumps(r) for r in want.bindings)
        assert sorted(json.dumps(r) for r in got.bul) == sorted(json.dumps(r) for r in want.bul)


def _row(node: str, start: float, order: int, end: float | None = 9.0) -> BindingRow:
    return BindingRow(node=node, role="home-agent", hoa="2001:db8::1", bid=1, coa="2001:db8:1::1",
                      start=start, start_frame=1, lifetime=60, expires=None, home=False, confirmed=True,
                      pre_existing=False, state=BindingState.ABSENT, end=end, order=order)


def test_ordered_breaks_start_ties_by_the_key_then_creation_order() -> None:
    """Rows retired in any order; equal starts sort by node (the tie key), then creation."""
    rows = [_row("b", 1.0, 0), _row("a", 1.0, 1), _row("a", 0.5, 2), _row("b", 1.0, 3), _row("a", 1.0, 4)]
    retired = RetiredRows(RowSpool(), lambda d: (d["node"],))
    for i in (3, 0, 2):
        retired.add(rows[i])
    live = [rows[1], rows[4]]
    got = [(r["node"], r["start"]) for r in retired.ordered(live)]
    want = [(r.node, r.start) for r in sorted(rows, key=lambda r: (r.start, r.node))]
    assert got == want == [("a", 0.5), ("a", 1.0), ("a", 1.0), ("b", 1.0), ("b", 1.0)]
    # creation order among equal keys: rows[1] before rows[4], rows[0] before rows[3]
    assert [r["start_frame"] for r in retired.ordered(live)] == [1] * 5
    assert len(retired) == 3 and retired._orders.typecode == "I"  # 4 bytes a creation number


def test_ordered_across_spool_blocks_and_creation_numbers_past_2_32() -> None:
    # 300 rows (ten 32-row blocks of the spool) retired in a shuffled order, many sharing a start;
    # creation numbers from just below to past 2**32: the same order as sorting the rows
    import dataclasses
    import random
    rng = random.Random(13)
    base = (1 << 32) - 150
    rows = [dataclasses.replace(_row(rng.choice("abc"), float(rng.randrange(40)), base + i), start_frame=i)
            for i in range(300)]
    retired = RetiredRows(RowSpool(), lambda d: (d["node"],))
    gone = list(range(0, 300, 2)) + list(range(1, 300, 4))
    rng.shuffle(gone)
    for i in gone:
        retired.add(rows[i])
    assert retired._orders.typecode == "q"  # widened when the first past 2**32 came
    live = [rows[i] for i in range(300) if i not in set(gone)]
    got = [r["start_frame"] for r in retired.ordered(live)]
    want = [r.start_frame for r in sorted(rows, key=lambda r: (r.start, r.node))]
    assert got == want and sorted(got) == list(range(300))


def test_live_and_history_runs_keep_their_rows() -> None:
    assert BindingEngine().cache.retired is None
    assert BindingEngine(spool=None).bul_table.retired is None


def test_expiry_heaps_drop_stale_entries_and_still_expire_on_time() -> None:
    """Refreshes far more frequent than the lifetime leave one stale heap entry each; the heap
    is rebuilt past 2 x held + STALE_SLACK, and the last refresh's expiry still ends the row."""
    from mcoaviz.engine.bul import BulTable
    from mcoaviz.engine.cache import STALE_SLACK, BindingCache
    from mcoaviz.engine.events import BindingExpired
    from mcoaviz.engine.keys import BindingKey, BulKey

    cache, key = BindingCache(), BindingKey("ha", "hoa", 1)
    cache.start(key, role="home-agent", coa="coa", time=0.0, frame=1, lifetime=100_000, expires=100_000.0,
                home=False, confirmed=True)
    bul, bkey = BulTable(), BulKey("hoa", "ha", 1)
    bul.sent(bkey, "coa", peer_role="home-agent", time=0.0, frame=1, seq=1, lifetime=100_000, home=False)
    refreshes = 3 * STALE_SLACK
    for i in range(1, refreshes + 1):
        cache.refresh(key, time=float(i), frame=i + 1, lifetime=100_000, expires=100_000.0 + i,
                      confirmed=True)
        bul.accept(bkey, "coa", time=float(i), frame=i + 1, status=0, lifetime=100_000, seq=i + 1)
        assert len(cache._expiry) <= 2 + STALE_SLACK and len(bul._expiry) <= 2 + STALE_SLACK
    assert cache.expire_until(100_000.0 + refreshes) == []  # not before the last expiry
    [ended] = cache.expire_until(100_000.0 + refreshes + 1)
    assert isinstance(ended, BindingExpired) and ended.time == 100_000.0 + refreshes
    assert bul.expire_until(100_000.0 + refreshes) == []
    assert [e.time for e in bul.expire_until(100_000.0 + refreshes + 1)] == [100_000.0 + refreshes]


class _RegularBU:
    """What ``_changed_since`` reads of a pending regular BU (no BID: every key counts)."""

    def __init__(self, time: float) -> None:
        self.key = type("K", (), {"node": "ha", "hoa": "hoa"})()
        self.time, self.frame, self.bids, self.bid_values = time, 1, (), ()


@pytest.mark.parametrize(("bu_time", "changed"), [(15.0, True), (25.0, False)])
def test_a_bu_older_than_the_retirement_cut_still_sees_retired_rows(bu_time: float, changed: bool) -> None:
    """Times out of order: a BU older than the cut is checked against the retired rows too,
    with the answer an engine that keeps every row gives."""
    from mcoaviz.engine.events import BindingDeregistered
    from mcoaviz.engine.keys import BindingKey

    answers = []
    for spool in (RowSpool(), None):
        engine = BindingEngine(spool=spool)
        key = BindingKey("ha", "hoa", 1)
        engine.cache.start(key, role="home-agent", coa="coa", time=10.0, frame=2, lifetime=60,
                           expires=70.0, home=False, confirmed=True)
        engine.cache.end(key, time=20.0, frame=3, kind=BindingDeregistered)
        engine._retire(30.0)
        if spool is not None:
            assert engine.cache.rows == [] and engine.cache.rows_of("ha", "hoa") == []
            assert engine.cache.retired is not None and len(engine.cache.retired) == 1
        answers.append(engine._changed_since(_RegularBU(bu_time)))  # type: ignore[arg-type]
    assert answers == [changed, changed]


def test_an_unanswered_bu_past_its_lifetime_does_not_hold_rows_back() -> None:
    """A BU whose BA was lost stays unanswered; once its lifetime has passed, data can no
    longer apply it, so it no longer keeps ended rows in memory; one within its lifetime does."""
    from mcoaviz.engine.events import BindingDeregistered
    from mcoaviz.engine.keys import BindingKey

    def retired_after(lifetime: int) -> int:
        engine = BindingEngine(spool=RowSpool())
        stale = type("BU", (), {"time": 5.0, "bu": type("B", (), {"lifetime": lifetime})()})()
        engine._unanswered_by_coa[("ha", "hoa", "coa")] = stale  # type: ignore[assignment]
        key = BindingKey("ha", "hoa", 1)
        engine.cache.start(key, role="home-agent", coa="coa", time=10.0, frame=2, lifetime=60,
                           expires=70.0, home=False, confirmed=True)
        engine.cache.end(key, time=20.0, frame=3, kind=BindingDeregistered)
        engine._retire(100.0)
        assert engine.cache.retired is not None
        return len(engine.cache.retired)

    assert retired_after(lifetime=10) == 1  # 5 + 10 < 100: it cannot be applied any more
    assert retired_after(lifetime=1000) == 0  # it may still be applied at 5: the row stays
