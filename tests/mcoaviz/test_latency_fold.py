"""``LatencyFold`` (a whole-file run's latencies table, folded as the engine's events arrive)
gives the rows and the text ``iter_latencies`` / ``iter_latency_json`` give over every event, and
writes each BU's rows as soon as they are decided instead of keeping the BUs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.export import row_encoder, write_json
from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.timings import LatencyFold, iter_latencies, iter_latency_json, latency_rows
from tests.conftest import SAMPLES
from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, data

CAPTURES = sorted(SAMPLES.glob("*.pcap*"))


def _folded(*packets: Any, end: float) -> tuple[LatencyFold, BindingEngine, list[int]]:
    """Feed the engine packet by packet, the fold each batch (as the pipeline does); the
    fold's queue length after each packet."""
    engine, fold, queued = BindingEngine(), LatencyFold(), []
    for packet in packets:
        fold.observe(engine.feed(packet))
        queued.append(len(fold._queue))
    fold.observe(engine.finish(end))
    fold.close()
    return fold, engine, queued


def test_a_late_lifetime_from_data_reaches_the_held_row_in_its_place() -> None:
    # BU 1 (BID 1 -> COA1) loses its BA: timeout at 32 s; BU 2 (BID 2 -> COA2) is answered and
    # written; data then shows the node on COA1: BU 1 is applied late and its row gets a lifetime
    fold, engine, _ = _folded(
        bu(0.0, seq=1, lifetime=90, bids=(bid(1, COA1),), frame=1),
        bu(40.0, seq=2, bids=(bid(2, COA2),), frame=2), ba(40.1, seq=2, bids=(bid(2),), frame=3),
        data(50.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA1), end=60.0)
    late = [x for x in engine.events if isinstance(x, ev.BindingUpdateProcessed) and x.bu_frame == 1]
    assert late and late[0].ba_frame is None  # the scenario: BU 1 applied by the data, unconfirmed
    expected = list(iter_latencies(engine.events))
    rows = list(iter_latencies([], fold))
    assert rows == expected
    assert [(r["bu_frame"], r["lifetime"], r["outcome"]) for r in rows] == [
        (1, 90, "timeout"), (2, 60, "answered")]
    assert list(iter_latency_json([], row_encoder(), folded=fold)) == \
        list(iter_latency_json(engine.events, row_encoder()))


def test_answered_bus_are_written_at_once_and_forgotten() -> None:
    packets = []
    for n in range(1, 40):
        packets += [bu(n * 10.0, seq=n, bids=(bid(1, COA1),)), ba(n * 10.0 + 0.1, seq=n, bids=(bid(1),))]
    packets.insert(20, bu(100.05, seq=10, bids=(bid(1, COA1),)))  # a retransmission: decided at once
    fold, engine, queued = _folded(*packets, end=400.0)
    assert max(queued) == 1  # a BU waits for its BA, no longer
    assert not fold._queue and not fold._by_frame and not fold._unanswered
    assert list(iter_latencies([], fold)) == list(iter_latencies(engine.events))
    assert len(fold) == 40


def test_every_sample_gets_the_latencies_of_every_event() -> None:
    rows = 0
    for capture in CAPTURES:
        folded = analyse(capture, AnalysisOptions(stream=True, history="read"))
        whole = analyse(capture, AnalysisOptions())  # every event kept, the table made from them
        fold = folded.latency_fold
        assert isinstance(fold, LatencyFold)
        expected = list(iter_latencies(whole.events))
        assert list(latency_rows(folded)) == expected, capture.name
        encode = row_encoder()
        assert list(iter_latency_json([], encode, folded=fold)) == \
            list(iter_latency_json(whole.events, encode))
        some = {row["bu_frame"] for row in expected[::3]}  # a restricted export's BUs
        assert list(iter_latency_json([], encode, some, fold)) == \
            list(iter_latency_json(whole.events, encode, some))
        rows += len(expected)
    assert rows > 50


@pytest.mark.parametrize("name", ["figure8-rfc5648.pcapng", "handover-storm-rfc5648.pcapng"])
def test_the_engine_keeps_no_event_for_the_table(name: str) -> None:
    """Without the checker, a whole-file run keeps no event at all and exports the same table."""
    capture = SAMPLES / name
    folded = analyse(capture, AnalysisOptions(stream=True, history="read", run_checker=False))
    assert list(folded.events) == []
    out = io.StringIO()
    write_json(folded, out)
    whole = analyse(Path(capture), AnalysisOptions(run_checker=False))
    assert json.loads(out.getvalue())["latencies"] == list(iter_latencies(whole.events))


def test_the_value_spool_gives_its_rows_back_in_order_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of ``BLOCK`` rows on disk (each after its length), the tail in memory; rows
    appended while it is read come once written out, and every value type comes back exactly."""
    from mcoaviz import timings

    monkeypatch.setattr(timings._ValueSpool, "BLOCK", 3)
    spool = timings._ValueSpool()
    rows = [("2001:db8::1", i, i * 0.1, i % 2 == 0, None) for i in range(8)]
    for row in rows:
        spool.append(row)
    assert len(spool) == 8
    assert list(spool) == rows
    seen = []
    for row in spool:  # the reader moves back to its place after a write at the end
        seen.append(row)
        if row[1] == 0:
            for extra in range(8, 12):
                spool.append(("x", extra, 0.5, True, None))
    # 8-10 made a block on disk while it was read; 11 waits in memory for the next read
    assert [r[1] for r in seen] == list(range(11))
    assert [r[1] for r in spool] == list(range(12))


class _Rows:
    """A stand-in for a closed ``LatencyFold``: the rows' values as given."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def values(self) -> Any:
        return iter(self.rows)


def test_latency_text_with_repeated_and_signed_zero_floats_is_the_encoders() -> None:
    """The float texts kept between rows: a BU's rows repeat its times, and 0.0 / -0.0 (equal
    keys, two texts) each keep their own text, in either order."""
    from mcoaviz.timings import LATENCY_COLUMNS

    def row(bid: int, bu_time: float, ba_time: float | None, latency: float | None) -> tuple[Any, ...]:
        answered = ba_time is not None
        return (HOA, HA, "home-agent", bid, COA1, 7, 600, 10, bu_time, 12 if answered else None, ba_time,
                latency, 0 if answered else None, True if answered else None,
                "answered" if answered else "unanswered", 1, latency)

    t = 1700000000.123456
    rows = [row(1, t, t + 0.25, 0.25), row(2, t, t + 0.25, 0.25), row(3, t, t + 0.25, 0.25),
            row(1, 5.0, 5.0, 0.0), row(2, -0.0, 5.0, -0.0), row(3, 0.0, 0.0, 0.0),
            row(1, t, None, None), row(2, 1e-300, 1e-300, 2.5e-7)]
    encode = row_encoder()
    got = list(iter_latency_json([], encode, folded=_Rows(rows)))  # type: ignore[arg-type]
    assert got == [encode(dict(zip(LATENCY_COLUMNS, r, strict=True))) for r in rows]
    assert '"latency": -0.0' in got[4] and '"latency": 0.0' in got[5]
    assert '"bu_time": 1700000000.123456' in got[2]
