"""The ``why`` of binding events: the rule and the I-n the engine applied (issue 11.5), written
by hand from draft-05 §6.3 / RFC 5648 §6.2 and draft05-vs-rfc5648.md §5."""

from __future__ import annotations

from mcoaviz.engine import events as ev
from tests.engine.helpers import COA1, COA2, ba, bid, bu, run


def _whys(engine: object, kind: type) -> list[str]:
    return [e.why for e in engine.events if isinstance(e, kind)]  # type: ignore[attr-defined]


def test_a_regular_bu_overwrites_with_its_rule() -> None:
    engine = run(bu(1.0, seq=1, bids=(bid(1, COA1),)), ba(1.1, seq=1, bids=(bid(1),)),
                 bu(2.0, seq=2), ba(2.1, seq=2))
    assert _whys(engine, ev.BindingOverwritten) == [
        "draft-05 §6.3 / RFC 5648 §6.2: a BU without BID option replaces every binding by one regular "
        "binding (Q66-Q68)"]


def test_an_overwrite_flag_names_i26_and_a_refresh_says_so() -> None:
    engine = run(bu(1.0, seq=1, bids=(bid(1, COA1), bid(2, COA2))), ba(1.1, seq=1, bids=(bid(1), bid(2))),
                 bu(2.0, seq=2, bids=(bid(1, COA1),), o_header=True), ba(2.1, seq=2, bids=(bid(1),)))
    overwritten = _whys(engine, ev.BindingOverwritten)
    assert len(overwritten) == 2 and all("O flag" in w and "(I-26)" in w for w in overwritten)
    started = _whys(engine, ev.BindingStarted)
    assert started[0] == ("RFC 5648 §6.2: BID 1 accepted (effective status 0, I-9); CoA = the option's CoA "
                          "field (Length 20)")


def test_a_rejection_names_where_its_status_came_from() -> None:
    engine = run(bu(1.0, seq=1, bids=(bid(1, COA1),)), ba(1.1, seq=1, status=0, bids=(bid(1, status=130),)))
    assert _whys(engine, ev.BindingRejected) == [
        "RFC 5648 §6.2: effective status 130 (>= 128, from the BID option Status: I-9) refuses BID 1"]


def test_a_bu_without_the_a_flag_takes_effect_when_sent() -> None:
    engine = run(bu(1.0, seq=1, flags="H", bids=(bid(1, COA1),)))
    assert _whys(engine, ev.BindingStarted)[0].endswith("(no BA); CoA = the option's CoA field (Length 20); "
                                                        "BU without the A flag: it takes effect when sent")
