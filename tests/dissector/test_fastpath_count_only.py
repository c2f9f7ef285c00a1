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


@pytest.mark.parametrize("pure", [True, False])
@pytest.mark.parametrize("seed", [3, 11])
def test_count_only_flush_is_the_same_with_and_without_the_accelerator(
        seed: int, pure: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """``_forget`` (Python) is the reference of ``_fastscan.forget``: the same spans per flush,
    the same entries zeroed, the same uncacheable seconds swept."""
    import dissector.fastpath as fastpath

    if not pure and fastpath._fastscan is None:
        pytest.skip("dissector._fastscan is not built")
    monkeypatch.setenv(fastpath.PURE_PYTHON_VARIABLE, "1" if pure else "0")
    rows_path, count_path = FastPath(DecodeOptions()), FastPath(DecodeOptions())
    count_path.count_only = True
    records = records_of(seed)
    expected = []
    for _ in rows_path.filter(records):
        rows = rows_path.flush()
        expected.append((min(r.first for r in rows), max(r.last for r in rows)) if rows else None)
    spans = []
    uncacheable = 0
    for _ in count_path.filter(records):
        uncacheable += len(count_path._other)
        count_path.flush()
        spans.append(count_path.span)
        assert not count_path._dirty and not count_path._done
        assert not count_path._other  # zeroed by the flush, dropped whole: no sweep by second
    assert uncacheable > 0  # the capture has uncacheable data counted between flushes
    assert spans == expected  # ... and the spans are still those of the rows
    for flows in count_path._flows.values():  # every learnt flow waits at zero for its next packet
        assert all(entry[0] == entry[1] == 0 and entry[6] == -1 for entry in flows.values())


def test_forget_takes_the_least_first_and_greatest_last_in_any_order() -> None:
    """Out-of-order captures: the span is min/max over every count, not the first and last one;
    of equal times the first is kept (as ``min``/``max`` do)."""
    import dissector.fastpath as fastpath

    if fastpath._fastscan is None:
        pytest.skip("dissector._fastscan is not built")
    canonical = ("plain", None, b"\0" * 32, None, None)
    done = [(2, 100, 5.5, 5.75, canonical, 0, 5), (1, 60, 9.0, 9.0, canonical, 0, 9)]
    entries = [[3, 180, 7.25, 7.5, canonical, 0, 7], [1, 60, 1.0, 12.0, canonical, 1, 4]]
    dirty = list(entries)
    assert fastpath._fastscan.forget(done, dirty) == (1.0, 12.0, 9)
    assert done == [] and dirty == []
    assert entries == [[0, 0, 7.25, 7.5, canonical, 0, -1], [0, 0, 1.0, 12.0, canonical, 1, -1]]
    assert fastpath._fastscan.forget([], []) is None
    one, one_float = 1, 1.0  # equal values of two types: the first seen is the answer, like min()
    found = fastpath._fastscan.forget([(1, 1, one, one_float, canonical, 0, 3)],
                                      [[1, 1, one_float, one, canonical, 0, 3]])
    assert found is not None and type(found[0]) is int and type(found[1]) is float
    with pytest.raises(TypeError):
        fastpath._fastscan.forget([(1, 2)], [])
