"""A whole-file run's traffic table writes its older bins to a file (``TrafficTable(spill=...)``:
the caller's scratch files) and gives back exactly what the table held in memory gives: the
rows, their count, the JSON text, the busy seconds, through late rows and widenings; and the
export of every sample is the same."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.engine import traffic
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.traffic import TrafficTable
from mcoaviz.export import row_encoder, write_json
from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.rowspool import RowSpool
from tests.conftest import SAMPLES
from tests.engine.test_traffic_columns import KEYS, _feed, _reference, _rows


def _small_spills(monkeypatch: pytest.MonkeyPatch, bins: int = 64, lag: int = 5) -> list[int]:
    """Spill every ``bins`` bins; returns a list that counts the spills."""
    monkeypatch.setattr(traffic, "SPILL_BINS", bins)
    monkeypatch.setattr(traffic, "SPILL_LAG", lag)
    spills: list[int] = []
    real = TrafficTable._spill

    def counted(self: TrafficTable) -> None:
        spills.append(len(self._chunks))
        real(self)

    monkeypatch.setattr(TrafficTable, "_spill", counted)
    return spills


def _tables(rows: list[tuple[Any, int, int, int]]) -> tuple[TrafficTable, TrafficTable]:
    plain, spilled = TrafficTable(), TrafficTable(spill=RowSpool().scratch_file)
    _feed(plain, rows)
    _feed(spilled, rows)
    return plain, spilled


@pytest.mark.parametrize(("seed", "span"), [(1, 900), (2, 5000), (3, 9000)])  # widths 1, 4, 8
def test_spilled_bins_read_back_as_the_table_in_memory(monkeypatch: pytest.MonkeyPatch, seed: int,
                                                       span: int) -> None:
    spills = _small_spills(monkeypatch)
    rows = _rows(seed=seed, span=span, count=6000)  # mostly in order, 10 % up to 30 s late
    plain, spilled = _tables(rows)
    assert len(spills) > 5 and spilled._chunks  # it did spill, several times
    assert spilled.width == plain.width and plain.width > 1 if span > 2048 else plain.width == 1
    assert spilled.bin_count == plain.bin_count  # nothing lost and no bin counted twice
    held = sum(map(len, spilled.series.values())) // 3
    assert held < plain.bin_count // 3  # most bins are on file, not in memory
    expected = _reference(rows, plain.width)
    assert list(spilled.iter_bin_rows()) == expected == list(plain.iter_bin_rows())
    assert spilled.bins == plain.bins
    assert spilled.busy_seconds() == plain.busy_seconds()
    encode = row_encoder()
    assert list(spilled.iter_bin_json(encode)) == list(plain.iter_bin_json(encode))
    assert list(spilled.iter_json(encode)) == list(plain.iter_json(encode))  # totals untouched
    assert list(spilled.iter_bin_rows()) == expected  # read back twice: the file is not consumed
    # the bins' text gathers the busy seconds on the way (``gaps`` asks next: one pass for both)
    assert spilled._busy is not None and spilled.busy_seconds() == plain.busy_seconds()
    list(spilled.iter_bin_json(encode))
    late = (KEYS[5], 1000 + span + 7, 1, 10)  # a new bin after the pass: the gathered ones are stale
    _feed(spilled, [late])
    _feed(plain, [late])
    assert spilled.busy_seconds() == plain.busy_seconds()


def test_a_late_row_for_a_spilled_bin_and_a_widening_are_summed(monkeypatch: pytest.MonkeyPatch) -> None:
    _small_spills(monkeypatch, bins=4, lag=1)
    key, other = KEYS[0], KEYS[1]
    rows = [(key, 1000 + s, 1, 100) for s in range(0, 20, 2)] + [(other, 1010, 1, 7)]
    rows += [(key, 1000, 5, 500)]  # late: its bin went to the file long ago
    rows += [(key, 1000 + 3000, 1, 1)]  # a span past MAX_BIN_POINTS: the width doubles
    plain, spilled = _tables(rows)
    assert spilled._chunks and spilled.width == plain.width == 2
    assert spilled.bins == plain.bins
    assert spilled.bins[key][1000] == [6, 600]  # 1000 (twice) and 1001 (nothing) in one wider bin
    assert list(spilled.iter_bin_rows()) == _reference(rows, 2)


def test_only_a_whole_file_engine_spills() -> None:
    assert BindingEngine(spool=RowSpool()).traffic_table._spill_at > 0
    assert BindingEngine().traffic_table._spill_at == 0  # views that keep the rows as dicts
    table = TrafficTable()
    _feed(table, _rows(seed=4, span=9000, count=3000))
    assert not table._chunks and table._file is None


def _export(capture: Path) -> str:
    out = io.StringIO()
    write_json(analyse(capture, AnalysisOptions(stream=True, history="read")), out)
    return out.getvalue()


def test_every_sample_exports_the_same_with_tiny_spills(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = sorted(SAMPLES.glob("*.pcap*"))
    before = {capture.name: _export(capture) for capture in samples}
    spills = _small_spills(monkeypatch, bins=8, lag=2)
    for capture in samples:
        assert _export(capture) == before[capture.name], capture.name
    assert len(spills) > 20


def test_a_spill_forgets_the_targets_of_keys_without_recent_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """``feed_traffic``'s targets of keys idle since the spill's horizon go; a later row of such a
    flow still lands in its key (a new target), as without the spill."""
    from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, count

    def to_mn(first: float, coa: str) -> Any:
        return count(first, via="tunnel", packets=1, nbytes=100, src=CN, dst=HOA, outer_src=HA, outer_dst=coa)

    def fed(spill: bool) -> BindingEngine:
        engine = BindingEngine(spool=RowSpool() if spill else None)
        engine.feed(bu(0.0, seq=1, bids=(bid(1, COA1), bid(2, COA2))))
        engine.feed(ba(0.1, seq=1, bids=(bid(1), bid(2))))
        engine.feed_traffic([to_mn(1.0, COA1), to_mn(1.5, COA2)])
        engine.feed_traffic([to_mn(float(t), COA2) for t in range(2, 40)])  # COA1 idle from 1.0 on
        targets.append({shared[3] for shared in engine._targets})
        engine.feed_traffic([to_mn(41.0, COA1)])  # the idle flow again
        engine.finish(50.0)
        return engine

    targets: list[set[str]] = []
    plain = fed(spill=False)
    _small_spills(monkeypatch, bins=8, lag=2)
    spilled = fed(spill=True)
    assert targets == [{COA1, COA2}, {COA2}]  # without / with spills: COA1's target went
    assert spilled.traffic_table._chunks
    assert spilled.traffic() == plain.traffic() and spilled.traffic_table.bins == plain.traffic_table.bins
