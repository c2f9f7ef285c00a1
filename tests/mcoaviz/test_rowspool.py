"""RowSpool: dict rows kept as JSON lines on disk read back as the same rows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcoaviz import rowspool
from mcoaviz.rowspool import RowSpool, RowView


def _rows(n: int) -> list[dict[str, Any]]:
    return [{"frame": i, "time": 1700000000.0 + i / 3, "hoa": f"2001:db8::{i:x}", "bids": [{"bid": i % 3}],
             "ok": i % 2 == 0, "none": None, "text": "caf\u00e9 \"q\""} for i in range(n)]


def test_rows_come_back_equal_in_order_and_by_index() -> None:
    rows = _rows(500)
    spool = RowSpool()
    for row in rows:
        spool.append(row)
    assert len(spool) == 500
    assert list(spool) == rows
    assert spool[0] == rows[0] and spool[499] == rows[499] and spool[-1] == rows[-1]
    assert spool[10:13] == rows[10:13]
    assert spool[::-100] == rows[::-100]
    with pytest.raises(IndexError):
        spool[500]
    assert spool == rows and spool != rows[:-1]


def test_lines_are_the_json_text_of_each_row() -> None:
    rows = _rows(20)
    spool = RowSpool()
    for row in rows:
        spool.append(row)
    # json.dumps with its defaults is the export's row encoding (ASCII, ", " and ": ")
    assert list(spool.lines()) == [json.dumps(row) for row in rows]


def test_a_tuple_comes_back_as_a_list_with_the_same_text() -> None:
    spool = RowSpool()
    spool.append({"flags": ("H", "A"), "pair": [1, (2, 3)]})
    assert spool[0] == {"flags": ["H", "A"], "pair": [1, [2, 3]]}
    assert next(spool.lines()) == json.dumps({"flags": ["H", "A"], "pair": [1, [2, 3]]})


def test_rows_larger_than_a_read_block_and_nested_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rowspool, "BLOCK", 64)  # every few rows cross a block boundary
    rows = _rows(50) + [{"big": "x" * 300}] + _rows(5)
    spool = RowSpool()
    for row in rows:
        spool.append(row)
    pairs = [(a["frame"], b.get("frame")) for a in spool if "frame" in a for b in spool[:2]]
    assert len(pairs) == 55 * 2
    assert list(spool) == rows


def test_rows_appended_after_a_pass_are_read_in_the_next_one() -> None:
    spool = RowSpool()
    spool.append({"a": 1})
    assert list(spool) == [{"a": 1}]
    spool.append({"a": 2})
    assert list(spool) == [{"a": 1}, {"a": 2}] and spool[1] == {"a": 2}


def test_memory_held_is_an_offset_per_row_not_the_rows() -> None:
    import tracemalloc

    row = _rows(1)[0] | {"options": [{"type": 1, "name": "PadN", "data": "00" * 40}] * 3}
    tracemalloc.start()
    try:
        spool = RowSpool()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10_000):
            spool.append(row)
        spool._write_pending()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(spool) == 10_000 and spool[9_999] == json.loads(json.dumps(row))
    # an offset per 32 rows (with every line written): under a byte a row, where an offset
    # per row would be 8 and the rows as dicts ~1.5 KB each
    assert held < 10_000


def test_an_offset_is_kept_only_every_stride_rows() -> None:
    spool = RowSpool()
    for row in _rows(100):
        spool.append(row)
    assert RowSpool.STRIDE == 32 and list(spool._starts) == [
        sum(len(json.dumps(r)) + 1 for r in _rows(100)[:k]) for k in (0, 32, 64, 96)]


def test_random_access_across_block_boundaries_with_appends_between_reads() -> None:
    # reads in any order (a bounded cache of split blocks) and appends to the last block (its
    # split copy must not be served stale) give the rows themselves
    import random
    rng = random.Random(8)
    rows = _rows(700)
    spool = RowSpool()
    for n, row in enumerate(rows, start=1):
        spool.append(row)
        if n % 7 == 0:
            for i in [n - 1, n - 2, 0, rng.randrange(n)]:
                assert spool[i] == rows[i]
    edges = [k * RowSpool.STRIDE + d for k in range(1, 700 // RowSpool.STRIDE + 1) for d in (-1, 0)]
    order = edges + [rng.randrange(700) for _ in range(2000)]
    rng.shuffle(order)
    assert [spool[i] for i in order] == [rows[i] for i in order]
    assert spool[-1] == rows[-1] and spool[::31] == rows[::31]
    assert len(spool._blocks) <= RowSpool.CACHED


def test_lines_in_chunks_of_whole_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RowSpool, "STRIDE", 3)
    for size in (1, 200, 1 << 20):  # smaller than a block, a few blocks, everything
        monkeypatch.setattr(rowspool, "BLOCK", size)
        for n in (0, 1, 2, 3, 4, 10):
            spool = RowSpool()
            for row in _rows(n):
                spool.append(row)
            assert list(spool.lines()) == [json.dumps(r) for r in _rows(n)]
            assert [spool[i] for i in reversed(range(n))] == _rows(n)[::-1]


def test_a_row_view_makes_its_rows_on_each_pass() -> None:
    made = []

    def make() -> Any:
        made.append(1)
        return ({"n": i} for i in range(5))

    view = RowView(make, 5)
    assert len(view) == 5 and not made  # nothing is made until read
    assert list(view) == [{"n": i} for i in range(5)]
    assert view[-1] == {"n": 4} and view[1:3] == [{"n": 1}, {"n": 2}]
    assert view == [{"n": i} for i in range(5)] and view != [{"n": 0}]
    with pytest.raises(IndexError):
        view[5]
    assert len(made) >= 3


def test_a_streamed_analysis_to_dict_is_plain_lists() -> None:
    from mcoaviz.pipeline import AnalysisOptions, analyse
    from tests.conftest import SAMPLES

    streamed = analyse(SAMPLES / "figure8-rfc5648.pcapng", AnalysisOptions(stream=True)).to_dict()
    memory = analyse(SAMPLES / "figure8-rfc5648.pcapng", AnalysisOptions()).to_dict()
    assert all(isinstance(streamed[name], list) for name in memory if name != "capture")
    assert json.dumps(streamed) == json.dumps(memory)


def test_a_row_view_counts_its_rows_only_when_asked_and_once() -> None:
    counted = []

    def count() -> int:
        counted.append(1)
        return 3

    view = RowView(lambda: ({"n": i} for i in range(3)), count)
    rows = [row for row in view]  # (``list(view)`` would ask the length first, as a hint)
    assert rows == [{"n": 0}, {"n": 1}, {"n": 2}] and not counted  # a pass needs no count
    assert len(view) == 3 and len(view) == 3 and counted == [1]
    assert view[-1] == {"n": 2}
