"""The answered-exchange index (``AnsweredIndex``) answers as the dict it replaced: on random
operations, at its packing limits, and on every question the engine asks on every sample."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.engine import engine as engine_module
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import ExchangeKey
from mcoaviz.engine.pairing import AnsweredIndex, Pairing
from mcoaviz.pipeline import AnalysisOptions, analyse
from tests.conftest import SAMPLES
from tests.engine.helpers import COA1, ba, bid, bu, run

HA = "2001:db8::1"


def test_random_operations_answer_as_a_dict() -> None:
    rng = random.Random(8)
    index, plain = AnsweredIndex(), {}
    hoas = [f"2001:db8:1::{i}" for i in range(20)]
    for step in range(20_000):
        key = ExchangeKey(rng.choice([HA, "2001:db8::2"]), rng.choice(hoas),
                          rng.choice([rng.randrange(65536), step % 65536, 65535, 0]))
        if rng.random() < 0.5:
            frame = rng.randrange(1, 1 << 30)
            index[key] = frame
            plain[key] = frame
        assert index.get(key) == plain.get(key)
        assert (key in index) == (key in plain)
    assert len(index) == len(plain)
    assert sorted(index, key=repr) == sorted(plain, key=repr)
    assert all(index.get(key) == frame for key, frame in plain.items())


def test_wrapping_numbers_and_rewrites_keep_each_answer() -> None:
    index = AnsweredIndex()
    for seq, frame in [(65534, 10), (65535, 11), (0, 12), (1, 13), (65535, 20)]:
        index[ExchangeKey(HA, "h", seq)] = frame
    assert [index.get(ExchangeKey(HA, "h", seq)) for seq in (65534, 65535, 0, 1, 2)] == [10, 20, 12, 13, None]
    assert len(index) == 4
    assert index.get(ExchangeKey(HA, "other", 0)) is None
    assert index.get(ExchangeKey("other", "h", 0), -1) == -1


def test_keys_past_the_packing_limits_go_to_the_plain_dict() -> None:
    index = AnsweredIndex()
    big_frame, odd_seq = ExchangeKey(HA, "h", 7), ExchangeKey(HA, "h", 70_000)
    index[big_frame] = 1 << 41  # a frame past 2**40
    index[odd_seq] = 5  # not a 16-bit number (never from the wire; kept exact all the same)
    index[ExchangeKey(HA, "h", 8)] = 9
    assert index.get(big_frame) == 1 << 41 and index.get(odd_seq) == 5
    assert index.get(ExchangeKey(HA, "h", 8)) == 9 and len(index) == 3
    index[big_frame] = 3  # now it fits: the key is rewritten where it is
    assert index.get(big_frame) == 3 and len(index) == 3
    index[ExchangeKey(HA, "h", 8)] = 1 << 42  # a packed key that no longer fits moves over
    assert index.get(ExchangeKey(HA, "h", 8)) == 1 << 42 and len(index) == 3
    assert sorted(key.seq for key in index) == [7, 8, 70_000]


class _Checked:
    """Both stores side by side: every question the engine asks is answered by each, compared."""

    asked = 0
    found = 0

    def __init__(self) -> None:
        self.index, self.plain = AnsweredIndex(), dict[ExchangeKey, int]()

    def get(self, key: ExchangeKey, default: Any = None) -> Any:
        _Checked.asked += 1
        answer = self.index.get(key, default)
        assert answer == self.plain.get(key, default), key
        _Checked.found += answer is not None
        return answer

    def __setitem__(self, key: ExchangeKey, frame: int) -> None:
        self.index[key] = frame
        self.plain[key] = frame

    def __len__(self) -> int:
        assert len(self.index) == len(self.plain)
        return len(self.plain)


def _checked_pairing(compact: bool = False) -> Pairing:
    pairing = Pairing()
    pairing.answered = _Checked()  # type: ignore[assignment]
    return pairing


def test_the_engine_gets_the_same_answers_on_every_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = sorted(SAMPLES.glob("*.pcap*"))
    assert len(samples) > 20
    monkeypatch.setattr(engine_module, "Pairing", _checked_pairing)
    _Checked.asked = _Checked.found = 0
    for capture in samples:
        analyse(Path(capture), AnalysisOptions(stream=True, history="read"))
    assert _Checked.asked > 200  # the comparison ran on real questions


def test_a_late_retransmission_and_a_duplicate_ba_find_the_answered_exchange() -> None:
    """Asked long after (and across a sequence-number wrap): nothing answered is forgotten."""
    e = run(bu(0.0, seq=65535, bids=(bid(1, COA1),), frame=1), ba(0.1, seq=65535, bids=(bid(1),), frame=2),
            bu(10.0, seq=0, bids=(bid(1, COA1),), frame=3), ba(10.1, seq=0, bids=(bid(1),), frame=4),
            bu(500.0, seq=65535, bids=(bid(1, COA1),), frame=5), ba(600.0, seq=0, bids=(bid(1),), frame=6),
            end=700)
    assert isinstance(e._pairing.answered, AnsweredIndex) and len(e._pairing.answered) == 2
    [again] = [x for x in e.events if isinstance(x, ev.RetransmissionSeen)]
    assert (again.frame, again.first_frame) == (5, 1)
    late = [x for x in e.events if isinstance(x, ev.MessageSeen) and x.kind == "BA" and x.frame == 6]
    assert [x.answers for x in late] == [3]
    assert not [x for x in e.events if isinstance(x, ev.UnmatchedBA)]


def test_a_whole_file_engine_keeps_the_compact_index_and_a_live_one_a_dict() -> None:
    assert isinstance(engine_module.BindingEngine()._pairing.answered, AnsweredIndex)
    live = engine_module.BindingEngine(engine_module.EngineConfig(retain=60.0))
    assert isinstance(live._pairing.answered, dict)
