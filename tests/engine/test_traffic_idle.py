"""A whole-file run's traffic table moves keys idle for ``IDLE_SECONDS`` out of memory
(``TrafficTable.sweep``: totals to a run of key records, bins to a chunk, both in the caller's
scratch files) and brings a key that comes back into memory as a new cell; every table it gives
is what the table that kept every key in memory gives, in the same order."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import IO, Any

import pytest

from mcoaviz.engine import traffic
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.scratch import SpoolError
from mcoaviz.engine.traffic import KEY_FIELDS, TrafficTable
from mcoaviz.export import row_encoder, write_json
from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.rowspool import RowSpool
from tests.conftest import SAMPLES
from tests.engine.test_traffic_columns import KEYS, _reference

A, B = KEYS[0], KEYS[5]


def _row(table: TrafficTable, key: Any, t: float, packets: int = 1, nbytes: int = 100) -> None:
    table.add(key, packets, nbytes, t, t + 0.5, int(t))


def _scratch() -> traffic.ScratchFile:
    return RowSpool().scratch_file


def test_an_idle_key_leaves_memory_and_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(traffic, "IDLE_SECONDS", 100)
    table = TrafficTable(spill=_scratch())
    _row(table, A, 1000.0, 3, 300)
    _row(table, A, 1010.0, 2, 200)
    _row(table, B, 1010.0)
    assert table.sweep(1050.0) == 0  # nothing idle for 100 s yet
    _row(table, B, 1120.0)
    assert table.sweep(1111.0) == 0  # looked at 1050: the next look is SWEEP_SECONDS later
    assert table.sweep(1115.0) == 1  # A's last packet ended at 1010.5
    assert A not in table.totals and A not in table.series and B in table.totals
    assert table.evicted == 1 and table._keys is not None and table._keys.keys == 1
    assert table.key_count == 2
    _row(table, A, 1200.0, 4, 400)  # A again: a new cell in memory
    assert table.totals[A][:2] == [4, 400]
    rows = {tuple(row[f] for f in KEY_FIELDS): row for row in table.iter_rows()}
    assert len(rows) == 2 and table.key_count == 2
    row_a = rows[A]
    assert (row_a["packets"], row_a["bytes"], row_a["first"], row_a["last"]) == (9, 900, 1000.0, 1200.5)
    assert table.bins[A] == {1000: [3, 300], 1010: [2, 200], 1200: [4, 400]}
    assert table.data_spans()[(A[1], A[2], A[3])] == [(1000.0, 1200.5)]
    assert list(table.busy_seconds()[(A[1], A[2], A[3])]) == [1000, 1010, 1200]


def test_a_moved_cell_is_emptied() -> None:
    """What tells a holder of the cell (``feed_traffic``'s targets) that it must look again."""
    table = TrafficTable(spill=_scratch())
    cell = table.cell(A, 1000)
    table.add_to(cell, 1, 10, 1000.0, 1000.0, 1000)
    assert table.sweep(1000.0 + traffic.IDLE_SECONDS + 1) == 1
    assert cell[0] == [] and len(cell[1]) == 0
    assert table.cell(A, 2000) is not cell


def test_a_table_without_scratch_files_keeps_every_key() -> None:
    table = TrafficTable()
    _row(table, A, 1000.0)
    assert table.sweep(1e9) == 0 and A in table.totals and table._keys is None


def _random_rows(seed: int) -> list[tuple[Any, float, int, int]]:
    """Keys that go quiet for a while and come back, some rows late; 6 000 s (width 4)."""
    rng = random.Random(seed)
    quiet = {key: rng.randrange(0, 6000) for key in KEYS}
    rows = []
    for n in range(8000):
        t = 1000 + n * 0.75 - (rng.random() * 20 if rng.random() < 0.1 else 0)
        key = rng.choice(KEYS)
        if quiet[key] <= t - 1000 < quiet[key] + 900:  # this key is quiet for 900 s
            continue
        rows.append((key, t, rng.randrange(1, 20), rng.randrange(60, 90_000)))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_idle_keys_on_file_give_the_same_tables_in_the_same_order(monkeypatch: pytest.MonkeyPatch,
                                                                  seed: int) -> None:
    monkeypatch.setattr(traffic, "IDLE_SECONDS", 60)
    monkeypatch.setattr(traffic, "SWEEP_SECONDS", 16)
    monkeypatch.setattr(traffic, "SPILL_BINS", 256)  # bins spilled by count too
    rows = _random_rows(seed)
    plain, swept = TrafficTable(), TrafficTable(spill=_scratch())
    for key, t, packets, nbytes in rows:
        for table in (plain, swept):
            table.add(key, packets, nbytes, t, t + 0.01, int(t))
        swept.sweep(t)
    assert swept.evicted > 3 * len(KEYS) and swept._keys is not None and len(swept._keys.runs) > 10
    assert len(swept.totals) < len(KEYS)  # some are on file at the end
    assert swept.width == plain.width == 4
    # totals: one row per key in (interface, node, hoa, coa, bid (None first), direction, via)
    # order, summed from the rows here (not from either table)
    sums: dict[Any, list[Any]] = {}
    for key, t, packets, nbytes in rows:
        have = sums.setdefault(key, [0, 0, t, t + 0.01])
        have[0] += packets
        have[1] += nbytes
        have[2] = min(have[2], t)
        have[3] = max(have[3], t + 0.01)
    expected = [dict(zip(KEY_FIELDS, key, strict=True)) | dict(zip(("packets", "bytes", "first", "last"),
                                                                    sums[key], strict=True))
                for key in sorted(sums, key=lambda k: (*k[:4], -1 if k[4] is None else k[4], *k[5:]))]
    assert list(swept.iter_rows()) == expected == plain.rows()
    assert swept.key_count == len(expected)
    assert list(swept.iter_bin_rows()) == _reference([(k, int(t), p, b) for k, t, p, b in rows], 4)
    assert swept.bin_count == plain.bin_count
    encode = row_encoder()
    assert list(swept.iter_json(encode)) == list(plain.iter_json(encode))
    assert list(swept.iter_bin_json(encode)) == list(plain.iter_bin_json(encode))
    assert swept.busy_seconds() == plain.busy_seconds()
    assert swept.data_spans().keys() == plain.data_spans().keys()
    spans = plain.data_spans()
    assert all(sorted(have) == sorted(spans[path]) for path, have in swept.data_spans().items())
    assert list(swept.iter_rows()) == expected  # read back twice: nothing consumed


class _Full(io.BytesIO):
    def write(self, data: Any) -> int:
        raise OSError(28, "No space left on device")


def test_a_key_file_that_cannot_be_written_is_a_clear_spool_error() -> None:
    files: list[IO[bytes]] = [io.BytesIO(), _Full()]  # the bins' file, then the keys' file
    table = TrafficTable(spill=lambda: files.pop(0))
    _row(table, A, 1000.0)
    message = (r"^cannot keep idle traffic keys in a temporary file \(No space left on device\); "
               r"set TMPDIR to a directory with room$")
    with pytest.raises(SpoolError, match=message):
        table.sweep(1000.0 + traffic.IDLE_SECONDS + 1)


def test_the_export_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from mcoaviz.cli import main

    monkeypatch.setattr(traffic, "IDLE_SECONDS", 2)
    monkeypatch.setattr(traffic, "SWEEP_SECONDS", 1)
    made: list[int] = []

    def scratch(self: RowSpool) -> IO[bytes]:
        made.append(1)
        return io.BytesIO() if len(made) == 1 else _Full()

    monkeypatch.setattr(RowSpool, "scratch_file", scratch)
    assert main(["export", str(SAMPLES / "handover-storm-rfc5648.pcapng"), "-q", "-o",
                 str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcoaviz export: cannot keep idle traffic keys in a temporary file")
    assert "No space left on device" in err and "TMPDIR" in err and "Traceback" not in err


def _export(capture: Path) -> str:
    out = io.StringIO()
    write_json(analyse(capture, AnalysisOptions(stream=True, history="read")), out)
    return out.getvalue()


def test_every_sample_exports_the_same_with_keys_idle_after_two_seconds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    samples = sorted(SAMPLES.glob("*.pcap*"))
    before = {capture.name: _export(capture) for capture in samples}
    monkeypatch.setattr(traffic, "IDLE_SECONDS", 2)
    monkeypatch.setattr(traffic, "SWEEP_SECONDS", 1)
    moved: list[int] = []
    real = TrafficTable.sweep

    def counted(self: TrafficTable, now: float) -> int:
        moved.append(real(self, now))
        return moved[-1]

    monkeypatch.setattr(TrafficTable, "sweep", counted)
    for capture in samples:
        assert _export(capture) == before[capture.name], capture.name
    assert sum(moved) > 300


def test_feed_traffic_counts_a_flow_whose_key_left_memory_into_its_key_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The target holding the moved key's cell looks its key up again (else its rows would go
    into the emptied cell, or be lost)."""
    from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, count

    monkeypatch.setattr(traffic, "IDLE_SECONDS", 10)
    monkeypatch.setattr(traffic, "SWEEP_SECONDS", 5)

    def to_mn(first: float, coa: str) -> Any:
        return count(first, via="tunnel", packets=1, nbytes=100, src=CN, dst=HOA, outer_src=HA, outer_dst=coa)

    def fed(spool: bool) -> BindingEngine:
        engine = BindingEngine(spool=RowSpool() if spool else None)
        engine.feed(bu(0.0, seq=1, lifetime=1000, bids=(bid(1, COA1), bid(2, COA2))))
        engine.feed(ba(0.1, seq=1, lifetime=1000, bids=(bid(1), bid(2))))
        engine.feed_traffic([to_mn(1.0, COA1), to_mn(1.5, COA2)])
        engine.feed_traffic([to_mn(float(t), COA2) for t in range(2, 40)])  # COA1 idle from 1.0 on
        located = [*engine._flows.values(), *engine._flows_older.values()]
        held.append(({target.coa for target in engine._targets.values()}, {target.coa for target in located}))
        engine.feed_traffic([to_mn(41.0, COA1), to_mn(42.0, COA1)])  # the idle flow again
        engine.finish(50.0)
        return engine

    held: list[tuple[set[str], set[str]]] = []
    plain, swept = fed(False), fed(True)
    # without / with the sweep: COA1's located flow and target went with its key
    assert held == [({COA1, COA2}, {COA1, COA2}), ({COA2}, {COA2})]
    assert swept.traffic_table.evicted == 1
    assert swept.traffic() == plain.traffic()
    to_coa1 = [row for row in swept.traffic() if row["coa"] == COA1]
    assert [(row["packets"], row["first"], row["bid"]) for row in to_coa1] == [(3, 1.0, 1)]
    assert swept.traffic_table.bins == plain.traffic_table.bins


def test_located_flows_unused_for_two_rotations_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    """``feed_traffic``'s located flows follow the flows seen recently (``FLOW_ROTATE_SECONDS``);
    a forgotten flow seen again is located again and counted into its key as before."""
    from mcoaviz.engine import engine as engine_module
    from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, count

    def to_mn(first: float, coa: str) -> Any:
        return count(first, via="tunnel", packets=1, nbytes=100, src=CN, dst=HOA, outer_src=HA, outer_dst=coa)

    def fed(rotate: float) -> tuple[BindingEngine, list[tuple[set[str], set[str]]]]:
        monkeypatch.setattr(engine_module, "FLOW_ROTATE_SECONDS", rotate)
        engine = BindingEngine()
        engine.feed(bu(0.0, seq=1, lifetime=1000, bids=(bid(1, COA1), bid(2, COA2))))
        engine.feed(ba(0.1, seq=1, lifetime=1000, bids=(bid(1), bid(2))))
        held = []
        engine.feed_traffic([to_mn(1.0, COA1), to_mn(1.5, COA2)])
        for t in range(10, 200, 10):  # COA2 only, one batch every 10 s
            engine.feed_traffic([to_mn(float(t), COA2)])
            held.append(({target.coa for target in engine._flows.values()},
                         {target.coa for target in engine._flows_older.values()}))
        engine.feed_traffic([to_mn(201.0, COA1)])  # the forgotten flow again
        engine.finish(250.0)
        return engine, held

    kept, _ = fed(float("inf"))
    rotated, held = fed(64.0)
    # rotated after the first batch (1.5 s): at 10 s COA2's flow came back, COA1's waits
    assert held[0] == ({COA2}, {COA1})
    assert held[5] == ({COA2}, {COA1})  # 60 s: no rotation yet (the next at 65.5 s)
    assert held[6] == (set(), {COA2})  # 70 s: rotated again, COA1's flow gone
    assert held[-1] == ({COA2}, set())
    assert rotated.traffic() == kept.traffic()
    to_coa1 = [row for row in rotated.traffic() if row["coa"] == COA1]
    assert [(row["packets"], row["first"], row["last"]) for row in to_coa1] == [(2, 1.0, 201.0)]


def test_the_exported_views_count_a_key_that_came_back_once(monkeypatch: pytest.MonkeyPatch) -> None:
    capture = SAMPLES / "data-after-signalling-violations-rfc5648.pcapng"
    before = analyse(capture, AnalysisOptions(stream=True, history="read"))
    monkeypatch.setattr(traffic, "IDLE_SECONDS", 2)
    monkeypatch.setattr(traffic, "SWEEP_SECONDS", 1)
    after = analyse(capture, AnalysisOptions(stream=True, history="read"))
    table = after.traffic.source  # type: ignore[attr-defined]
    assert isinstance(table, TrafficTable) and table._keys is not None
    assert table.evicted > table.key_count - len(table.totals)  # some keys moved more than once
    assert len(after.traffic) == len(list(after.traffic)) == len(before.traffic) == table.key_count
    assert list(after.traffic) == list(before.traffic)
    assert len(after.traffic_bins) == len(before.traffic_bins)
