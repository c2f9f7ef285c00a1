"""Per-key states that drop what can no longer change a finding (``RuleState.prune``, called by
the streaming checker every PRUNE_EVERY capture seconds with a horizon EVIDENCE_MARGIN behind
the newest packet): their size follows the live keys, and the findings stay those of the batch
form (``builders.check`` runs both and compares)."""

from __future__ import annotations

import dataclasses
import sys

from dissector.records import Packet
from mcoaviz.checker import PRUNE_EVERY, Checker, CheckerConfig
from mcoaviz.checker.perkey import StreamReader
from mcoaviz.checker.registry import BY_CODE
from mcoaviz.checker.rules.data_plane import BU_ERROR_WAIT
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine
from mcoaviz.engine.events import EVIDENCE_MARGIN
from mcoaviz.engine.keys import BindingKey
from tests.checker import builders as b

LATER = EVIDENCE_MARGIN + 2 * PRUNE_EVERY + 10  # far enough for a prune to pass an event by


def at(packet: Packet, t: float) -> Packet:
    return dataclasses.replace(packet, time=t)


def streamed(packets: list[Packet], codes: tuple[str, ...]) -> tuple[Checker, BindingEngine]:
    engine, checker = BindingEngine(), Checker(CheckerConfig(select=codes), streaming=True)
    for p in packets:
        checker.observe(p, engine.feed(p))
    checker.observe_traffic([], engine.finish(max(p.time for p in packets) + 1))
    return checker, engine


def codes(found: list) -> list[tuple[str, int | None]]:  # type: ignore[type-arg]
    return [(f.rule, f.frame) for f in found]


# ------------------------------------------------------------------ MCOA1002

def _removal(*tail: Packet) -> list[Packet]:
    """IKE_SA_INIT from CoA 1 (t=1001), BIDs 1 and 2 registered, BID 1 (CoA 1) de-registered
    without K at t=1005 (BA frame 5), then ``tail``."""
    return b.number([at(b.ike(b.IKE_SA_INIT, rspi=0), 1001.0),
                     at(b.bu(1, b.bid(1, b.COA1), b.bid(2, b.COA2)), 1002.0),
                     at(b.ba(1, b.bid(1), b.bid(2)), 1003.0),
                     at(b.bu(2, b.bid(1), lifetime=0), 1004.0), at(b.ba(2, b.bid(1)), 1005.0), *tail])


def test_mcoa1002_keeps_a_removal_that_can_still_be_a_finding_past_the_horizon() -> None:
    # the HA's last IKE message is from the removed CoA and older than the removal: as long as
    # no later IKE message comes, the removal is a finding; ESP from CoA 2 long after
    packets = _removal(at(b.esp(src=b.COA2), 1005.0 + LATER))
    assert b.hits(b.check(*packets), "MCOA1002") == [5]
    checker, engine = streamed(packets, ("MCOA1002",))
    (state,) = checker._states
    assert not state.removed and [r[1] for r in state.candidates] == [5]  # type: ignore[attr-defined]
    assert codes(checker.finish(engine)) == [("MCOA1002", 5)]


def test_mcoa1002_drops_a_kept_candidate_once_a_later_ike_message_comes() -> None:
    # a new IKE message with the HA (an INFORMATIONAL from CoA 2, past the horizon) becomes the
    # HA's last one: the removal of CoA 1 can no longer be a finding, in either form
    packets = _removal(at(b.esp(src=b.COA2), 1005.0 + LATER),
                       at(b.ike(b.INFORMATIONAL, src=b.COA2), 1005.0 + 2 * LATER),
                       at(b.esp(src=b.COA2), 1005.0 + 3 * LATER))
    assert b.hits(b.check(*packets), "MCOA1002") == []
    checker, _engine = streamed(packets, ("MCOA1002",))
    (state,) = checker._states
    assert not state.removed and not state.candidates  # type: ignore[attr-defined]


def test_mcoa1002_drops_removals_without_ike_at_once_past_the_horizon() -> None:
    # no IKE message at all: nothing the removals could become; each goes once the horizon
    # passes it (kept until then: an IKE message may still come from before it)
    packets = b.number([at(b.bu(1, b.bid(1, b.COA1)), 1000.0), at(b.ba(1, b.bid(1)), 1000.5)]
                       + [at(p, 1001.0 + 10 * i + d) for i in range(1, 30)
                          for d, p in ((0.0, b.bu(i + 1, b.bid(1, (b.COA1, b.COA2)[i % 2]))),
                                       (0.5, b.ba(i + 1, b.bid(1))))])
    checker, engine = streamed(packets, ("MCOA1002",))
    (state,) = checker._states
    newest = packets[-1].time
    assert state.removed and not state.candidates  # type: ignore[attr-defined]
    assert all(r[0] >= newest - EVIDENCE_MARGIN - PRUNE_EVERY for r in state.removed)  # type: ignore[attr-defined]
    assert len(state.removed) < 28  # type: ignore[attr-defined]  # 28 replacements in all
    assert codes(checker.finish(engine)) == []


def test_mcoa1002_finds_a_coa_removed_again_after_its_first_removal_was_dropped() -> None:
    # CoA 1 removed at t=1005 with no IKE message from it: dropped at the next prune. Later the
    # MN runs IKE from CoA 1 again, re-registers it and removes it without K: that removal is
    # found, whatever became of the first
    later = 1005.0 + LATER
    packets = _removal(at(b.esp(src=b.COA2), later),  # a prune passes the first removal here
                       at(b.ike(b.IKE_AUTH, src=b.COA1), later + 1),
                       at(b.bu(3, b.bid(1, b.COA1)), later + 2), at(b.ba(3, b.bid(1)), later + 3),
                       at(b.bu(4, b.bid(1), lifetime=0), later + 4), at(b.ba(4, b.bid(1)), later + 5),
                       at(b.esp(src=b.COA2), later + 6))
    packets[0] = at(b.ike(b.IKE_SA_INIT, rspi=0, src=b.COA2), 1001.0)  # IKE first from CoA 2
    packets = b.number(packets)
    assert b.hits(b.check(*packets), "MCOA1002") == [11]
    checker, engine = streamed(packets, ("MCOA1002",))
    (state,) = checker._states
    assert [r[1] for r in (*state.candidates, *state.removed)] == [11]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ MCOA621

def _bu_be(t: float, *, gap: float) -> list[Packet]:
    return [at(b.bu(1, b.bid(1, b.COA2), src=b.COA2, flags="A", dst=b.CN), t), at(b.be(), t + gap)]


def test_mcoa621_forgets_old_bus_and_finds_a_key_that_comes_back() -> None:
    # a BU from CoA 2 to the CN, then long silence (the entry is pruned), then the same
    # (CN, CoA, HoA) sends a BU again and a Binding Error answers it: found (the key revived)
    first = _bu_be(1000.0, gap=BU_ERROR_WAIT + 1)  # too late: not a finding
    filler = [at(b.esp(src=b.COA1), 1000.0 + k * PRUNE_EVERY) for k in range(1, 6)]
    again = _bu_be(1000.0 + 6 * PRUNE_EVERY, gap=1.0)
    packets = b.number([*first, *filler, *again])
    assert b.hits(b.check(*packets), "MCOA621") == [len(packets)]
    checker, _engine = streamed(packets, ("MCOA621",))
    (state,) = checker._states
    assert list(state.last_bu.values()) == [(len(packets) - 1, again[0].time)]  # type: ignore[attr-defined]


def test_mcoa621_keeps_a_bu_at_the_horizons_edge() -> None:
    # the state alone: a BU exactly BU_ERROR_WAIT before the horizon stays (a Binding Error at
    # the horizon answers it), one a little older goes
    state = BY_CODE["MCOA621"].check.make()  # type: ignore[attr-defined]
    reader = StreamReader(CheckerConfig(), {}, {}, {})
    for frame, t, coa in ((1, 94.99, b.COA2), (2, 95.0, b.COA1)):
        state.observe(ev.MessageSeen(t, frame, None, "BU", 0, coa, b.CN, b.HOA, b.CN, 1, (1,)), reader)
    state.prune(95.0 + BU_ERROR_WAIT, reader)
    assert [key[1] for key in state.last_bu] == [b.COA1]


# ------------------------------------------------------------------ MCOA316

def test_mcoa316_keeps_no_start_times_of_keys_whose_starts_were_all_confirmed() -> None:
    # BID 1 moves between two CoAs 20 times (a start each, all confirmed by a BA): nothing kept
    packets = b.number([p for i in range(1, 21)
                        for p in (b.bu(i, b.bid(1, (b.COA1, b.COA2)[i % 2])), b.ba(i, b.bid(1)))])
    checker, _engine = streamed(packets, ("MCOA316",))
    (state,) = checker._states
    assert state.starts == {} and state.refused == []  # type: ignore[attr-defined]


# ------------------------------------------------------------------ one copy of each address

def test_a_moved_coa_is_one_string_shared_by_the_folds_and_the_states() -> None:
    # BID 1 moves from CoA 1 to CoA 2: the old CoA's text outlives its binding in MCOA324's
    # state and in the folds; each packet brought its own copy, the checker keeps one
    copies = ["".join(["2001:db8:c0a::", "1"]) for _ in range(3)]  # equal, three objects
    coa1 = copies[0]
    assert len(set(map(id, copies))) == 3
    packets = b.number([b.bu(1, b.bid(1, copies[0]), src=copies[1]), b.ba(1, b.bid(1), dst=copies[2]),
                        b.bu(2, b.bid(1, b.COA2), src=b.COA2), b.ba(2, b.bid(1), dst=b.COA2)])
    checker, _engine = streamed(packets, ("MCOA324", "MCOA604"))
    state = checker._states[0]
    ((_node, _hoa, moved),) = state.moved  # type: ignore[attr-defined]
    held = [a for pair in checker._folds.visible for a in pair if a == coa1]  # BU's source, BA's destination
    assert moved == coa1 and len(held) == 2 and len({id(moved), *map(id, held)}) == 1


def test_mcoa324_packs_each_move_exactly_and_forgets_a_coa_registered_again() -> None:
    from mcoaviz.checker.rules.bid_state import _pack_move, _unpack_move
    for bid, time in ((0, 0.0), (1, 1700000000.123456789), (0xFFFF, 1e9 + 4 / 3), (7, -2.5)):
        assert _unpack_move(_pack_move(bid, time)) == (bid, time)
    # BID 1 moves CoA1 -> CoA2 -> CoA1: CoA1 registered again leaves only CoA2 moved from
    packets = b.number([b.bu(1, b.bid(1, b.COA1)), b.ba(1, b.bid(1)), b.bu(2, b.bid(1, b.COA2)),
                        b.ba(2, b.bid(1)), b.bu(3, b.bid(1, b.COA1)), b.ba(3, b.bid(1))])
    checker, _engine = streamed(packets, ("MCOA324",))
    (state,) = checker._states
    assert list(state.moved) == [(b.HA, b.HOA, b.COA2)]  # type: ignore[attr-defined]
    # moved when the BA accepted BU 3
    assert _unpack_move(state.moved[(b.HA, b.HOA, b.COA2)]) == (1, packets[5].time)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ live-binding tables

def test_live_binding_tables_are_resized_to_the_bindings_held_at_each_prune() -> None:
    # 40 keys bound, then 3 000 moves among them: deletions and insertions leave the hash tables
    # larger than 40 entries need; the prune's copy has the same contents at the size they need
    states = {code: BY_CODE[code].check.make() for code in ("MCOA320", "MCOA604")}  # type: ignore[attr-defined]
    reader = StreamReader(CheckerConfig(), {}, {}, {})
    keys = [BindingKey(b.HA, f"2001:db8:5::{i}", 1) for i in range(40)]
    for n in range(3040):
        event = ev.BindingStarted(float(n), n + 1, keys[n % 40], "home-agent", f"2001:db8:c::{n}", 400,
                                  400.0 + n, False, True, False)
        for state in states.values():
            state.observe(event, reader)
    tables = (("MCOA320", "by_coa"), ("MCOA320", "coa_of"), ("MCOA604", "holders"))
    before = {t: dict(getattr(states[t[0]], t[1])) for t in tables}
    grown = {t: sys.getsizeof(getattr(states[t[0]], t[1])) for t in tables}
    for state in states.values():
        state.prune(0.0, reader)
    for t in tables:
        table = getattr(states[t[0]], t[1])
        assert table == before[t] and len(table) == 40, t
        assert sys.getsizeof(table) < grown[t], t
