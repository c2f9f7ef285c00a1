"""I-7, I-13, I-22 and I-29 with expectations worked out by hand from the texts, not from the
engine or the simulator (issue 16: the truth files share the engine's reading).

Sources: draft-ietf-monami6-multiplecoa-05 §6.3 and §5.6.3, RFC 5648 §8.1, RFC 5555 §4.2,
RFC 6275 §9.5.2 / §10.3.1, and the interpretations table of draft05-vs-rfc5648.md §5. Times:
a BU at t, its BA at t + 0.1; a binding starts when the node accepted (BA time, or the BU time
without an A flag) and expires at that start + the granted lifetime.
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from mcoaviz.engine import events as ev
from mcoaviz.engine.engine import BindingEngine, EngineConfig
from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, data, run

DRAFT = Dialect.DRAFT05
DRAFT_H = 0x20  # draft §4.2.1 BID flags: C 0x80, O 0x40, H 0x20, D 0x10


def rows(engine: BindingEngine) -> list[tuple[object, ...]]:
    return [(r.bid, r.coa, r.start, r.start_frame, r.end, r.end_frame, r.end_reason, r.confirmed, r.lifetime)
            for r in engine.bindings()]


# ---------------------------------------------------------------- I-7
def draft_conflict(config: EngineConfig | None = None) -> BindingEngine:
    """HA holds a regular binding to COA1 (frames 1-2); the MN registers BID 1 at COA2 and the
    HA answers MCOA BID CONFLICT (frames 3-4, BU lifetime 40, BA lifetime 0)."""
    return run(bu(0.0, seq=1, lifetime=60, frame=1), ba(0.1, seq=1, lifetime=60, frame=2),
               bu(1.0, seq=2, lifetime=40, bids=(bid(1, COA2, dialect=DRAFT),), frame=3),
               ba(1.1, seq=2, status=165, lifetime=0, bids=(bid(1, dialect=DRAFT),), frame=4),
               end=100.0, engine=BindingEngine(config))


def test_i7_draft_bid_conflict_replaces_the_regular_binding_unconfirmed() -> None:
    # §6.3: the HA removes its regular binding and installs the BID binding; I-7: unconfirmed;
    # I-29: a rejecting BA grants nothing, so the BU's 40 s bound the binding (1.1 + 40)
    assert rows(draft_conflict()) == [
        (None, COA1, 0.1, 2, 1.1, 4, "overwritten", True, 60),
        (1, COA2, 1.1, 4, 41.1, None, "expired", False, 40),
    ]


def test_i7_the_mobile_node_believes_it_was_rejected() -> None:
    bul = [(r.bid, r.coa, r.end_reason, r.status) for r in draft_conflict().bul()]
    assert (1, COA2, "rejected", 165) in bul


def test_i7_switch_installs_nothing_and_removes_nothing() -> None:
    engine = draft_conflict(EngineConfig(bid_conflict_installs=False))
    assert rows(engine) == [(None, COA1, 0.1, 2, 60.1, None, "expired", True, 60)]


# ---------------------------------------------------------------- I-13
def draft_home(ba_status: int) -> BindingEngine:
    """BID 1 at COA1 (frames 1-2, 60 s); back home, a lifetime-0 BU from the HoA with H for
    BID 1 (frames 3-4)."""
    return run(bu(0.0, seq=1, lifetime=60, bids=(bid(1, COA1, dialect=DRAFT),), frame=1),
               ba(0.1, seq=1, lifetime=60, bids=(bid(1, dialect=DRAFT),), frame=2),
               bu(5.0, seq=2, lifetime=0, src=HOA, bids=(bid(1, None, flags=DRAFT_H, dialect=DRAFT),),
                  frame=3),
               ba(5.1, seq=2, status=ba_status, lifetime=0, bids=(bid(1, dialect=DRAFT),), frame=4),
               end=1000.0)


def test_i13_draft_h_makes_a_home_binding_without_expiry() -> None:
    engine = draft_home(0)
    # the COA1 binding gives way to CoA = HoA at the BA; no lifetime, so nothing ends it
    assert rows(engine) == [
        (1, COA1, 0.1, 2, 5.1, 4, "replaced", True, 60),
        (1, HOA, 5.1, 4, None, None, None, True, None),
    ]
    assert [r.home for r in engine.bindings()] == [False, True]


def test_i13_nd_owner_follows_the_status() -> None:
    # §5.6.3 / I-18: status 0 = the MN defends its HoA; RETURNHOME (5) = the HA keeps proxy ND
    owners = {status: [(o.owner, o.status) for o in draft_home(status).events
                       if isinstance(o, ev.HomeNdOwner)] for status in (0, 5)}
    assert owners == {0: [("mobile-node", 0)], 5: [("home-agent", 5)]}


# ---------------------------------------------------------------- I-22
V4_PRIVATE, V4_PUBLIC, HA4 = "192.168.1.10", "203.0.113.5", "198.51.100.1"


def dsmip(outer_src: str) -> BindingEngine:
    """A DSMIPv6 BU over UDP from ``outer_src`` with a BID carrying the MN's IPv4 address."""
    return run(bu(0.0, seq=1, lifetime=60, src=HOA, bids=(bid(1, V4_PRIVATE),), tunnel="udp",
                  outer_src=outer_src, outer_dst=HA4, frame=1),
               ba(0.1, seq=1, lifetime=60, bids=(bid(1),), frame=2), end=10.0)


def test_i22_behind_a_nat_the_outer_source_is_the_care_of_address() -> None:
    # RFC 5648 §8.1: if the BID's IPv4 address differs from the outer source, the outer is used
    [row] = dsmip(V4_PUBLIC).bindings()
    assert (row.coa, row.claimed_coa, row.start, row.end) == (V4_PUBLIC, V4_PRIVATE, 0.1, None)


def test_i22_without_a_nat_the_option_address_is_the_care_of_address() -> None:
    [row] = dsmip(V4_PRIVATE).bindings()
    assert (row.coa, row.claimed_coa) == (V4_PRIVATE, None)


# ---------------------------------------------------------------- I-29
def test_i29_accepting_ba_lifetime_is_the_grant() -> None:
    engine = run(bu(0.0, seq=1, lifetime=60, bids=(bid(1, COA1),), frame=1),
                 ba(0.1, seq=1, lifetime=40, bids=(bid(1),), frame=2), end=100.0)
    assert rows(engine) == [(1, COA1, 0.1, 2, 40.1, None, "expired", True, 40)]


def test_i29_without_a_flag_the_bu_lifetime_counts_from_the_bu() -> None:
    engine = run(bu(2.0, seq=1, lifetime=8, flags="H", bids=(bid(1, COA1),), frame=1), end=100.0)
    assert rows(engine) == [(1, COA1, 2.0, 1, 10.0, None, "expired", True, 8)]


def test_i29_lost_ba_applied_from_the_bu_with_its_lifetime_as_upper_bound() -> None:
    # no BA; 33 s later (past MAX_BINDACK_TIMEOUT, 32 s) the HA tunnels to COA1: it accepted
    engine = run(bu(0.0, seq=1, lifetime=60, bids=(bid(1, COA1),), frame=1),
                 data(33.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA1), end=100.0)
    assert rows(engine) == [(1, COA1, 0.0, 1, 60.0, None, "expired", False, 60)]


def test_i29_one_timer_per_bid() -> None:
    # bulk registration of BIDs 1 and 2 for 60 s; only BID 1 is refreshed (at 30, for 60 s)
    engine = run(bu(0.0, seq=1, lifetime=60, bids=(bid(1, COA1), bid(2, COA2)), frame=1),
                 ba(0.1, seq=1, lifetime=60, bids=(bid(1), bid(2)), frame=2),
                 bu(30.0, seq=2, lifetime=60, bids=(bid(1, COA1),), frame=3),
                 ba(30.1, seq=2, lifetime=60, bids=(bid(1),), frame=4), end=200.0)
    assert rows(engine) == [
        (1, COA1, 0.1, 2, 90.1, None, "expired", True, 60),
        (2, COA2, 0.1, 2, 60.1, None, "expired", True, 60),
    ]


# ---------------------------------------------------------------- capture starting mid-life
def test_bindings_older_than_the_capture_are_pre_existing_and_new_ones_are_not() -> None:
    # t=10: the capture's first record is HA -> COA1 tunnelled data (BID 1 predates the capture);
    # t=12: a Length-4 refresh of BID 2 (RFC §5.1: only a re-registration omits the CoA), sent
    # from COA2; t=14: refresh of BID 1 at COA1; t=16: a new BID 3 at another CoA.
    coa3 = "2001:db8:3::100"
    engine = run(data(10.0, via="tunnel", src=CN, dst=HOA, outer_src=HA, outer_dst=COA1),
                 bu(12.0, seq=20, lifetime=30, src=COA2, bids=(bid(2),), frame=2),
                 ba(12.1, seq=20, lifetime=30, bids=(bid(2),), frame=3),
                 bu(14.0, seq=21, lifetime=30, bids=(bid(1, COA1),), frame=4),
                 ba(14.1, seq=21, lifetime=30, bids=(bid(1),), frame=5),
                 bu(16.0, seq=22, lifetime=30, src=coa3, bids=(bid(3, coa3),), frame=6),
                 ba(16.1, seq=22, lifetime=30, bids=(bid(3),), frame=7), end=100.0)
    got = [(r.bid, r.coa, r.start, r.end, r.end_reason, r.pre_existing) for r in engine.bindings()]
    # pre-existing rows start at the capture's first record; every row expires 30 s after its BA
    assert sorted(got, key=lambda r: r[0]) == [
        (1, COA1, 10.0, 44.1, "expired", True),
        (2, COA2, 10.0, 42.1, "expired", True),
        (3, coa3, 16.1, 46.1, "expired", False),
    ]
