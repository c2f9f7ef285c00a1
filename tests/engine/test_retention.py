"""EngineConfig.retain: a live engine keeps a window of history; what ages out is counted exactly
and the binding state it reconstructs is unchanged."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mcoaviz.engine.engine import EngineConfig
from mcoaviz.pipeline import AnalysisOptions, Pipeline
from mcoaviz.sources import open_capture
from tests.conftest import SAMPLES

STORM = SAMPLES / "handover-storm-rfc5648.pcapng"  # 52 messages over 31.7 s, 14 binding rows


def fed(path: Path, retain: float | None) -> Pipeline:
    pipeline = Pipeline(AnalysisOptions(engine=EngineConfig(retain=retain)))
    with open_capture(path) as source:
        pipeline.feed_records(source.records())
    pipeline.flush()
    return pipeline


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.pcapng")), ids=lambda p: p.stem)
def test_a_short_window_leaves_the_open_bindings_as_they_are(path: Path) -> None:
    whole, windowed = fed(path, None), fed(path, 2.0)
    assert [r.to_dict() for r in windowed.engine.bindings() if r.end is None] == \
        [r.to_dict() for r in whole.engine.bindings() if r.end is None]
    assert windowed.engine.message_total == len(whole.engine.messages())


def test_aged_out_messages_events_and_rows_are_counted_exactly() -> None:
    whole, windowed = fed(STORM, None), fed(STORM, 8.0)
    engine = windowed.engine
    cut = engine.aged_before
    assert cut is not None and whole.first_time is not None and cut > whole.first_time + 10
    messages = whole.engine.messages()
    older = [m for m in messages if m["time"] < cut]
    assert len(messages) == 52
    assert 0 < len(older) < 52
    assert engine.messages_aged == engine.aged["messages"] == len(older)
    assert engine.aged_types == dict(Counter(m["type"] for m in older))
    assert engine.messages_after(0) == messages[len(older):]  # the retained ones
    pinned = engine.messages()[:-(len(messages) - len(older))]  # aged BUs / BAs still held
    assert pinned and all(m in older and m["type"] in ("BU", "BA") for m in pinned)
    assert engine.messages_after(50) == messages[50:]
    events = whole.engine.events
    assert engine.events == events[engine.aged["events"]:]
    assert all(e.time < cut for e in events[:engine.aged["events"]])
    rows = whole.engine.bindings()
    ended = [r for r in rows if r.end is not None and r.end < cut]
    assert len(rows) == 14 and ended
    assert engine.aged["bindings"] == len(ended)
    assert [r.to_dict() for r in engine.bindings()] == [r.to_dict() for r in rows if r not in ended]


def test_offline_analysis_keeps_everything() -> None:
    engine = fed(STORM, None).engine
    assert engine.aged_before is None
    assert engine.messages_aged == 0 and set(engine.aged.values()) == {0}
    assert len(engine.messages()) == 52
