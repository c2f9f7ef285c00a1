"""FastPath.count_only (``mcoaviz decode``): counting without rows, the same clock."""

from __future__ import annotations

import pytest

from dissector.decode import DecodeOptions
from dissector.fastpath import FastPath
from mcoaviz.pipeline import AnalysisOptions, Pipeline, run_pipeline
from mcoaviz.sources import open_capture
from tests.conftest import SAMPLES
from tests.dissector.test_fastpath import mixed_capture


def records_of(seed: int) -> list[tuple]:
    return [(f.number, f.time, f.interface, f.linktype, f.data, 0, len(f.data), f.wire_length)
            for f in mixed_capture(seed)]


@pytest.mark.parametrize("seed", [3, 11])
def test_count_only_flush_gives_no_rows_but_the_span_of_what_rows_would_cover(seed: int) -> None:
    rows_path, count_path = FastPath(DecodeOptions()), FastPath(DecodeOptions())
    count_path.count_only = True
    records = records_of(seed)
    rows_slow = []
    spans = []
    for record in rows_path.filter(records):
        rows = rows_path.flush()
        span = (min(r.first for r in rows), max(r.last for r in rows)) if rows else None
        rows_slow.append((record[0], span))
    for record in count_path.filter(records):
        assert count_path.flush() == []
        spans.append((record[0], count_path.span))
    rows = rows_path.flush()
    assert count_path.flush() == []
    assert spans == rows_slow  # the same slow records, each after the same span of counted data
    assert count_path.span == ((min(r.first for r in rows), max(r.last for r in rows)) if rows else None)
    assert count_path.accepted == rows_path.accepted > 0
    assert not count_path._dirty and not count_path._done  # nothing piles up between flushes


@pytest.mark.parametrize("name", ["handover-storm-rfc5648", "two-dialects-one-ha-mixed", "figure8-draft05"])
def test_decode_mode_pipeline_counts_without_rows_and_keeps_the_capture_clock(name: str) -> None:
    path = SAMPLES / f"{name}.pcapng"
    full = Pipeline(AnalysisOptions(run_checker=False), name=str(path))
    decode = Pipeline(AnalysisOptions(run_checker=False, run_engine=False), name=str(path))
    assert decode._fast is not None and decode._fast.count_only
    seen: list[int] = []
    decode.listener = lambda packet: seen.append(packet.frame) if packet.mobility else None
    with open_capture(path) as source:
        analysis = run_pipeline(full, source)
    with open_capture(path) as source:
        run_pipeline(decode, source)
    clock = (full.first_time, full.last_time, full.frames)
    assert (decode.first_time, decode.last_time, decode.frames) == clock
    assert seen == [m["frame"] for m in analysis.messages]
    assert analysis.traffic  # the full pipeline did build rows from the same counts


def test_count_only_keeps_no_counts_per_entry_or_second_and_sweeps_nothing() -> None:
    """What `decode` needs of bulk data is the packet count and the time span: learnt flows wait at
    zero counts, uncacheable data makes no per-second entry, and no idle sweep runs (the caches are
    bounded by their limits) -- while the same records are declined and the same spans flushed as
    rows would cover (this capture's stamps are in order)."""
    rows_path, count_path = FastPath(DecodeOptions()), FastPath(DecodeOptions())
    count_path.count_only = True
    once = records_of(11)
    later = [(n + len(once), time + 40, *rest) for n, time, *rest in once]  # after 40 s of silence
    records = once + later
    uncacheable = 0
    expected = []
    for record in rows_path.filter(records):
        uncacheable += len(rows_path._other)
        rows = rows_path.flush()
        span = (min(r.first for r in rows), max(r.last for r in rows)) if rows else None
        expected.append((record[0], span))
    spans = [(record[0], count_path.span) for record in count_path.filter(records) if not count_path.flush()]
    assert uncacheable > 0  # the rows path counted uncacheable data per second ...
    assert not count_path._other  # ... which count_only did not
    assert spans == expected
    assert count_path.accepted == rows_path.accepted
    assert count_path._flows and all(entry[0] == entry[1] == 0 and entry[6] == -1
                                     for flows in count_path._flows.values() for entry in flows.values())
    assert count_path.evicted == 0 and rows_path.evicted > 0  # the silence made every flow idle
