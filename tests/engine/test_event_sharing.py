"""Kept events share equal field values (``BindingEngine._share``): same values, fewer objects."""

from __future__ import annotations

import pytest

import mcoaviz.engine.engine as engine_module
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from tests.engine.helpers import COA1, COA2, ba, bid, bu, run


def refreshes(n: int) -> list:  # type: ignore[type-arg]
    packets = []
    for seq in range(1, n + 1):
        packets += [bu(10.0 * seq, seq=seq, bids=(bid(1, COA1), bid(2, COA2))),
                    ba(10.0 * seq + 0.1, seq=seq, bids=(bid(1), bid(2)))]
    return packets


def test_refreshes_share_keys_explanations_and_addresses() -> None:
    e = run(*refreshes(4))
    refreshed = [x for x in e.events if isinstance(x, ev.BindingRefreshed) and x.key.bid == 1]
    assert len(refreshed) == 3
    assert len({id(x.key) for x in refreshed}) == 1
    assert len({id(x.why) for x in refreshed}) == 1 and refreshed[0].why
    seen = [x for x in e.events if isinstance(x, ev.MessageSeen) and x.kind == "BU"]
    assert len({id(x.hoa) for x in seen}) == 1 and len({id(x.bids) for x in seen}) == 1
    # the key of a BindingRefreshed is the BindingStarted's own object
    started = next(x for x in e.events if isinstance(x, ev.BindingStarted) and x.key.bid == 1)
    assert refreshed[0].key is started.key


def test_sharing_changes_no_value_and_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    packets = refreshes(5)
    monkeypatch.setattr(engine_module, "SHARED_LIMIT", 1 << 30)
    unbounded = run(*packets, end=100.0).events
    monkeypatch.setattr(engine_module, "SHARED_LIMIT", 4)
    engine = BindingEngine()
    for p in packets:
        engine.feed(p)
        assert len(engine._shared) <= 4 + 16  # one event's fields at most past the bound
    engine.finish(100.0)
    assert engine.events == unbounded
    assert [type(x) for x in engine.events] == [type(x) for x in unbounded]


def test_values_of_other_types_are_not_merged() -> None:
    """1 and True, or a str-valued enum and its text, are equal but never one object."""
    e = BindingEngine()
    first = ev.UnmatchedBA(1.0, 1, None, 1)  # type: ignore[arg-type]
    other = ev.BulEntryChanged(2.0, 2, None, "sent", None, None, 1, True)  # type: ignore[arg-type]
    e._keep([first, other])
    assert other.status is True and first.status == 1
