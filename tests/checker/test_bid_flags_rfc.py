"""MCOA119 / MCOA120 beyond the CASES fixtures: the draft-05 dialect is untouched (its bits mean
other things), the messages name the bits, and a BA option for a BID the BU did not carry."""

from __future__ import annotations

from tests.checker.builders import COA1, COA2, DRAFT, ba, bid, brr, bu, check, cot, coti, dbid, hits

HOME = 0x80


def test_draft_flags_outside_a_bu_are_not_rfc_findings() -> None:
    # draft CoTI with H is MCOA502's; a draft CoT/BRR/BA copying C/O/H is not RFC 5648's business
    found = check(coti(dbid(1, None, "H")), cot(dbid(1, None, "O")), brr(dbid(2, None, "H")),
                  bu(1, dbid(1, COA1, "CO")), ba(1, dbid(1, None, "OH")), dialect=DRAFT)
    assert hits(found, "MCOA119") == [] and hits(found, "MCOA120") == []
    assert hits(found, "MCOA502") == [1]


def test_the_message_names_the_bits() -> None:
    found = [f for f in check(cot(bid(4, flags=HOME | 0x03))) if f.rule == "MCOA119"]
    assert [(f.frame, f.bid) for f in found] == [(1, 4)]
    assert "flags 0x83 (H, reserved 0x03)" in found[0].message


def test_reserved_bits_of_a_coti_stay_mcoa106() -> None:
    found = check(coti(bid(1, flags=0x05)))
    assert hits(found, "MCOA119") == [] and hits(found, "MCOA106") == [1]


def test_ba_option_for_a_bid_the_bu_did_not_carry() -> None:
    found = [f for f in check(bu(1, bid(1, COA1)), ba(1, bid(1), bid(2, flags=0x10))) if f.rule == "MCOA120"]
    assert [(f.frame, f.bid) for f in found] == [(2, 2)]
    assert "bits 0x10 not copied" in found[0].message


def test_ba_copying_the_bu_bits_is_clean() -> None:
    packets = [bu(1, bid(1, COA1, flags=0x02), bid(2, COA2)), ba(1, bid(1, flags=0x02), bid(2))]
    assert hits(check(*packets), "MCOA120") == []
