"""One fixture per branch of a rule, both sides of each condition (issue 16: surviving mutants).

Expectations are the frames the texts quoted in each rule's docstring point at, written by hand:
the n-th packet given to ``check`` is frame n at time 1000 + n unless it sets ``at=``.
"""

from __future__ import annotations

from tests.checker.builders import CN, COA1, COA2, DRAFT, HA, HOA, V4COA, ba, bid, bu, check, data, dbid, hits


def to_mn(coa: str, at: float) -> object:
    return data(src=CN, dst=HOA, outer_src=HA, outer_dst=coa, tunnel="ip6ip6", at=at)


# ---------------------------------------------------------------- MCOA607 (draft §6.3)
def test_mcoa607_leaves_traffic_after_an_expiry_to_mcoa905() -> None:
    # BID 1 granted 8 s at t=1002 expires at 1010; the HA tunnels to that CoA at 1020: no
    # de-registration or overwrite removed it, so it is MCOA905's case (6275 §11.7.1), not 607's
    found = check(bu(1, bid(1, COA1), lifetime=8), ba(1, bid(1), lifetime=8), to_mn(COA1, at=1020.0))
    assert (hits(found, "MCOA607"), hits(found, "MCOA905")) == ([], [3])


def test_mcoa607_flags_traffic_after_a_deregistration() -> None:
    found = check(bu(1, bid(1, COA1)), ba(1, bid(1)), bu(2, bid(1), lifetime=0), ba(2, bid(1), lifetime=0),
                  to_mn(COA1, at=1020.0))
    assert hits(found, "MCOA607") == [5]


def test_mcoa607_flags_traffic_to_another_coa_than_the_bound_one() -> None:
    found = check(bu(1, bid(1, COA1)), ba(1, bid(1)), to_mn(COA2, at=1010.0))
    assert hits(found, "MCOA607") == [3]


# ---------------------------------------------------------------- MCOA304 (draft §6.3, home agent)
def test_mcoa304_is_about_home_agents_only() -> None:
    # a CN's non-zero BID status is MCOA305's violation ("MUST be always stored in the Status
    # field of the Binding Acknowledgement" towards a CN), not a missing NOTCOMPLETE
    found = check(bu(1, bid(1, COA1), bid(2, COA2), dst=CN, flags="A"),
                  ba(1, bid(1), bid(2, status=164), src=CN))
    assert (hits(found, "MCOA304"), hits(found, "MCOA305")) == ([], [2])


def test_mcoa304_flags_a_home_agent_bulk_ba_without_notcomplete() -> None:
    found = check(bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2, status=164)))
    assert hits(found, "MCOA304") == [2]


def test_mcoa304_accepts_notcomplete() -> None:
    found = check(bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2, status=164), status=4))
    assert hits(found, "MCOA304") == []


# ---------------------------------------------------------------- MCOA904 (6275 §9.5.1)
def test_mcoa904_flags_an_accepting_ba_granting_more_than_requested() -> None:
    found = check(bu(1, bid(1, COA1), lifetime=400), ba(1, bid(1), lifetime=800))
    assert hits(found, "MCOA904") == [2]


def test_mcoa904_ignores_the_lifetime_of_a_rejecting_ba() -> None:
    # §9.5.1 limits "the lifetime for the Binding Cache entry": a rejection creates none
    found = check(bu(1, bid(1, COA1), lifetime=400), ba(1, bid(1), status=129, lifetime=800))
    assert hits(found, "MCOA904") == []


def test_mcoa904_accepts_the_requested_lifetime_exactly() -> None:
    found = check(bu(1, bid(1, COA1), lifetime=400), ba(1, bid(1), lifetime=400))
    assert hits(found, "MCOA904") == []


# ---------------------------------------------------------------- MCOA105 (draft §4.2.1)
def test_mcoa105_flags_d_with_an_ipv6_length() -> None:
    found = check(bu(1, dbid(1, COA1, "CD")), dialect=DRAFT)
    assert hits(found, "MCOA105") == [1]


def test_mcoa105_flags_c_with_an_ipv4_length_but_no_d() -> None:
    # "Length MUST be 8 or 20 depending on the 'D' (DSMIPv6) flag": Length 8 needs D
    found = check(bu(1, dbid(1, V4COA, "C")), dialect=DRAFT)
    assert hits(found, "MCOA105") == [1]


def test_mcoa105_accepts_c_and_d_with_an_ipv4_length_and_c_with_an_ipv6_one() -> None:
    found = check(bu(1, dbid(1, V4COA, "CD"), dbid(2, COA2, "C")), dialect=DRAFT)
    assert hits(found, "MCOA105") == []
