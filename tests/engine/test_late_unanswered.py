"""A BU whose BA was never captured, applied late "at its own time" (I-29, docs/engine.md).

Regression for issue 16: the property test of tests/engine/test_robustness.py found that such a
BU, applied when data later showed the node used its CoA, ended a binding that later signalling
had opened (end 0.0 before start 1.0). The node processed that later signalling after the BU, so
its outcome stands and the late BU must not rewrite it. Expectations below follow the draft's
processing order (§6.3: each BU is processed in turn), not the engine's code.
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from mcoaviz.engine import events as ev
from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, data, run


def tunnelled_to(coa: str, time: float) -> object:
    return data(time, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=coa)


def test_issue16_case_late_regular_bu_leaves_the_later_home_binding_alone() -> None:
    # frame 7: regular BU with A, never answered; frame 8: draft-05 home BU (no A) for BID 1;
    # frame 9: a de-registration with A, unanswered; then the HA tunnels to frame 7's CoA.
    e = run(bu(0.0, seq=1, flags="AH", frame=7),
            bu(1.0, seq=2, flags="H", lifetime=0, frame=8,
               bids=(bid(1, None, flags=0x20, dialect=Dialect.DRAFT05),)),
            bu(1.0, seq=3, flags="AH", lifetime=0, frame=9),
            tunnelled_to(COA1, 1.0), end=10.0)
    rows = [(r.bid, r.coa, r.start, r.start_frame, r.end, r.end_frame, r.end_reason, r.home)
            for r in e.bindings()]
    # the draft home binding of frame 8 has no expiry and nothing captured ends it
    assert rows == [(1, HOA, 1.0, 8, None, None, None, True)]
    # frame 7 is reported unanswered (superseded by frame 8) and never applied
    assert [(x.frame, x.reason) for x in e.events if isinstance(x, ev.UnansweredBU)] == [
        (7, "superseded"), (9, "capture-end")]
    assert [x.bu_frame for x in e.events if isinstance(x, ev.BindingUpdateProcessed)] == [8]
    # the data is counted, unbound: the cache the capture shows holds no binding to COA1
    assert [(t["coa"], t["bid"], t["packets"]) for t in e.traffic()] == [(COA1, None, 1)]


def test_late_bu_does_not_revive_a_binding_deregistered_after_it() -> None:
    # BID 1 to COA1 accepted; a BU moving BID 1 to COA2 is lost; BID 1 is then de-registered.
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(5.0, seq=2, bids=(bid(1, COA2),)),
            bu(40.0, seq=3, lifetime=0, bids=(bid(1),)), ba(40.1, seq=3, lifetime=0, bids=(bid(1),)),
            tunnelled_to(COA2, 41.0), end=50.0)
    rows = [(r.coa, r.start, r.end, r.end_reason) for r in e.bindings()]
    assert rows == [(COA1, 0.1, 40.1, "deregistered")]


def test_late_bu_does_not_undo_a_later_refresh() -> None:
    # the lost BU (frame 5.0, BID 1 -> COA2) is followed by an acknowledged refresh of COA1 at 10.0:
    # the node processed that refresh last, so BID 1 is at COA1.
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            bu(5.0, seq=2, bids=(bid(1, COA2),)),
            bu(40.0, seq=3, bids=(bid(1, COA1),)), ba(40.1, seq=3, bids=(bid(1),)),
            tunnelled_to(COA2, 41.0), end=50.0)
    rows = [(r.coa, r.start, r.end, r.end_reason, r.confirmed) for r in e.bindings()]
    assert rows == [(COA1, 0.1, None, None, True)]


def test_late_bu_still_applies_when_only_other_bids_changed_after_it() -> None:
    # BID 1 -> COA1 lost BA; BID 2 -> COA2 registered afterwards; data to COA1 shows BID 1 was
    # accepted. BID 2's row is not one the lost BU touches (no O flag), so BID 1 starts at 0.0.
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)),
            bu(35.0, seq=2, bids=(bid(2, COA2),)), ba(35.1, seq=2, bids=(bid(2),)),
            tunnelled_to(COA1, 36.0), end=50.0)
    rows = [(r.bid, r.coa, r.start, r.start_frame is not None, r.end, r.confirmed) for r in e.bindings()]
    assert rows == [(1, COA1, 0.0, True, None, False), (2, COA2, 35.1, True, None, True)]
