"""The streaming checker keeps only the signalling packets its remaining history rules declare
(``Rule.packets``, checker/keep.py) and folds what some rules read of every packet
(``context.Folds``); findings stay the same (``builders.check``, test_answers, test_rule_reads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dissector.codepoints import Dialect
from mcoaviz.checker import Checker
from mcoaviz.checker.context import CheckerConfig, Folds, FrameDialects, HistoryContext
from mcoaviz.checker.keep import Keeper, kept_frames, packet_kind
from mcoaviz.checker.registry import packets_read
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.events import MessageSeen
from tests.checker import builders as b

RFC, DRAFT = Dialect.RFC5648, Dialect.DRAFT05
SAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "sample-captures").glob("*.pcap*"))



@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_streaming_checker_keeps_what_the_declarations_keep_and_folds_the_rest(path: Path) -> None:
    full, streamed = b.analysed(path, "all").checker, b.analysed(path, "read").checker
    assert full is not None and streamed is not None and streamed._keeper is not None
    every = full._signalling  # the batch checker keeps every signalling packet
    ctx = full.history_context()
    needs = packets_read(streamed._history_rules)
    assert needs is not None
    # and what the per-key rules still read at the end (``PerKey.packets``, e.g. IKE)
    needs |= {n for r in streamed._state_rules for n in r.check.packets}  # type: ignore[attr-defined]
    assert set(streamed._signalling) == kept_frames(needs, every, ctx.answered)
    assert list(streamed.history_context().packets) == sorted(streamed._signalling)  # frame order
    # folded as the packets came = folded from all of them at the end
    folded, again = streamed._folds, Folds.of(every, full._dialects)
    for name in ("option_kinds", "ipv4_bid", "mn_macs", "macs_by_source", "bid_dialects", "visible",
                 "home_bu_interfaces"):
        assert getattr(folded, name) == getattr(again, name), name
    assert folded.bu_interfaces == full._folds.bu_interfaces
    unfolded = HistoryContext(ctx.events, every, ctx.config, frame_dialects=full._dialects)
    assert folded.bu_interfaces == unfolded._bu_interfaces


def test_refreshes_of_a_clean_registration_are_not_kept() -> None:
    exchanges = []
    for seq in range(1, 6):
        exchanges += [b.bu(seq, b.bid(1, b.COA1), b.bid(2, b.COA2), at=100.0 * seq),
                      b.ba(seq, b.bid(1), b.bid(2), at=100.0 * seq + 0.1)]
    packets = b.number(exchanges)
    engine, checker = BindingEngine(), Checker(streaming=True)
    for p in packets:
        checker.observe(p, engine.feed(p))
    # none: MCOA314 reads the home address's first BU as it comes (a per-key state)
    assert list(checker._signalling) == []
    assert checker._pending == {}
    assert checker.finish(engine) == b.check(*exchanges)  # and finds what the batch checker finds


def test_a_rejected_answer_keeps_both_packets_and_the_next_bus_of_the_home_address() -> None:
    packets = b.number([b.bu(1, b.bid(1, b.COA1)), b.ba(1, b.bid(1, status=165), status=4),
                        b.bu(2, b.bid(1, b.COA1)), b.ba(2, b.bid(1))])
    engine, checker = BindingEngine(), Checker(streaming=True)
    for p in packets:
        checker.observe(p, engine.feed(p))
    # the rejected exchange, the BU after it: what the declarations "answer-rejected" (MCOA115,
    # 316, 317) and "BU-after-rejected" (MCOA311, 317) keep; not the BA to that
    ctx = HistoryContext(engine.events, {p.frame: p for p in packets}, CheckerConfig())
    by_frame = {p.frame: p for p in packets}
    kept = kept_frames({"answer-rejected", "BU-after-rejected"}, by_frame, ctx.answered)
    assert sorted(kept) == [1, 2, 3]
    assert [packet_kind(by_frame[f]) for f in sorted(kept)] == ["BU", "BA", "BU"]
    # those rules are per-key states now (they read the packets as they come): none is kept
    assert checker._signalling == {}


def test_stateful_needs_follow_the_capture() -> None:
    keeper = Keeper({"after-IKE", "BU-first-of-hoa"})
    first, second = b.number([b.bu(1, b.bid(1, b.COA1)), b.bu(2, b.bid(1, b.COA1))])
    assert keeper.keeps(first) and not keeper.keeps(second)
    ike, later = b.number([b.ike(34), b.bu(3, b.bid(1, b.COA1))])
    assert not keeper.keeps(ike) and keeper.ike_seen
    assert keeper.keeps(later)


def test_frame_dialects_is_a_compact_dict() -> None:
    compact, plain = FrameDialects(), {}
    steps = [(5, RFC), (9, DRAFT), (7, RFC), (12, DRAFT), (1, DRAFT), (9, RFC)]  # late and repeated frames
    for frame, dialect in steps:
        compact[frame] = dialect
        plain[frame] = dialect
    assert dict(compact) == plain and list(compact) == [1, 5, 7, 9, 12]
    assert compact[9] is RFC and compact.get(8) is None and 8 not in compact and 12 in compact
    assert compact.pop(7, None) is RFC and compact.pop(7, None) is None
    del compact[1]
    with pytest.raises(KeyError):
        compact[1]
    assert len(compact) == 3 and dict(compact) == {5: RFC, 9: RFC, 12: DRAFT}


def test_the_pipeline_s_streaming_checker_reads_the_engine_s_events_not_a_copy() -> None:
    path = next(p for p in SAMPLES if "bulk" in p.name)
    streamed, full = b.analysed(path, "read"), b.analysed(path, "all")
    assert streamed.checker is not None and full.checker is not None
    assert streamed.checker.keep_events is False and streamed.checker._events == []
    assert full.checker.keep_events is True and full.checker._events
    config = streamed.engine.config
    assert config.keep_kinds is not None and config.keep_seen is not None
    assert config.keep_kinds >= streamed.checker.kept_kinds
    # the narrowed history is the full one without the kinds and sightings nothing reads
    assert streamed.engine.events == [
        e for e in full.engine.events if e.__class__ in config.keep_kinds
        and (not isinstance(e, MessageSeen) or e.kind in config.keep_seen)]
    assert any(isinstance(e, MessageSeen) and e.kind == "BA" for e in full.engine.events)
    assert not any(isinstance(e, MessageSeen) and e.kind == "BA" for e in streamed.engine.events)


def test_frame_dialects_runs_answer_as_a_dict_for_random_late_repeated_and_removed_frames() -> None:
    # the dialects are kept as runs over the stored frames: every frame (stored or not) must get
    # the dict's answer after any mix of appends, late inserts, overwrites and removals
    import random
    rng = random.Random(13)
    for _trial in range(200):
        compact, plain = FrameDialects(), {}
        for _step in range(rng.randrange(1, 60)):
            frame = rng.randrange(1, 80)
            if plain and rng.random() < 0.2:
                gone = min(plain) if rng.random() < 0.5 else rng.choice(list(plain))
                assert compact.pop(gone) is plain.pop(gone)
                continue
            dialect = RFC if rng.random() < 0.5 else DRAFT
            compact[frame] = dialect
            plain[frame] = dialect
        assert list(compact) == sorted(plain) and len(compact) == len(plain)
        for frame in range(0, 82):
            assert compact.get(frame) is plain.get(frame)


def test_frame_dialects_in_one_dialect_keep_one_run_and_frames_past_2_32_still_fit() -> None:
    compact = FrameDialects()
    for frame in range(1, 10_001, 3):
        compact[frame] = RFC
    assert len(compact._run_codes) == 1 and compact._frames.itemsize == 4
    compact[1 << 40] = DRAFT
    assert compact[1 << 40] is DRAFT and compact[10_000] is RFC and compact.get(9998) is None
    assert len(compact) == 3335 and list(compact)[-2:] == [10_000, 1 << 40]
