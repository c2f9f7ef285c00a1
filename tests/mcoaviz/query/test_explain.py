"""mcoaviz.query.explain: which steps a story holds and what they say, on engine events made
from hand-built records (tests/engine/helpers.py); expected values written by hand."""

from __future__ import annotations

import ipaddress

from mcoaviz.query.explain import known_bindings, render, stories
from tests.engine.helpers import COA1, COA2, HA, ba, bid, bu, run

HOA_NET = (ipaddress.ip_network("2001:db8:a::/64"),)


def _engine() -> object:
    return run(bu(1.0, seq=1, bids=(bid(1, COA1), bid(2, COA2)), frame=1),
               ba(1.1, seq=1, bids=(bid(1), bid(2, status=129)), frame=2),
               bu(5.0, seq=2, src=COA2, bids=(bid(1, COA2),), frame=3),
               ba(5.1, seq=2, dst=COA2, bids=(bid(1),), frame=4), end=10.0)


def test_steps_of_each_binding_with_the_bu_behind_them() -> None:
    found = stories(_engine().events, HOA_NET)  # type: ignore[attr-defined]
    assert [(s.node, s.bid) for s in found] == [(HA, 1), (HA, 2)]
    one = [(x.action, x.frame, x.coa, x.bu_frame, x.ba_frame) for x in found[0].steps]
    assert one == [("started", 2, COA1, 1, 2), ("replaced", 4, COA1, 3, 4), ("started", 4, COA2, 3, 4)]
    two = found[1].steps
    assert [(x.action, x.detail, x.bu_frame) for x in two] == [("rejected", "status 129", 1)]


def test_bid_filter_and_other_home_addresses() -> None:
    events = _engine().events  # type: ignore[attr-defined]
    assert [s.bid for s in stories(events, HOA_NET, (2,))] == [2]
    assert stories(events, (ipaddress.ip_network("2001:db8:b::/64"),)) == []
    assert known_bindings(events) == {"2001:db8:a::100": {1, 2}}


def test_render_shows_frames_and_why() -> None:
    story = stories(_engine().events, HOA_NET, (1,))[0]  # type: ignore[attr-defined]
    lines = render(story, lambda t: f"{t:.1f}")
    assert lines[0] == "2001:db8:a::100 BID 1 at 2001:db8:a::1 (home-agent)"
    assert lines[1].split() == ["[2]", "1.1", "started", "CoA", COA1 + ",", "lifetime", "60", "s", "(BU",
                                "frame", "1,", "BA", "frame", "2)"]
    assert lines[2].strip().startswith("why: RFC 5648 §6.2: BID 1 accepted")
