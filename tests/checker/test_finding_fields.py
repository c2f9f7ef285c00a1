"""Every rule's finding on its own fixture points at the right place: the time of its frame, an
address naming the mobile node, and one of the frame's BIDs (issue 16: mutants that dropped a
finding's time, HoA or BID survived, because the rule tests compared frames only)."""

from __future__ import annotations

import pytest

from mcoaviz.checker import RULES
from tests.checker.builders import number
from tests.checker.test_rules import CASES, _run

# Findings about a whole message or exchange rather than one of its BIDs
WHOLE_MESSAGE = {
    "MCOA208": "a CN accepted a bulk registration: the BA as a whole",
    "MCOA209": "the BA's status refuses the whole bulk registration",
    "MCOA303": "NOTCOMPLETE with no per-BID error: no BID is at fault",
    "MCOA306": "the accepting BA as a whole",
    "MCOA315": "the node's missing 165: the BA as a whole",
    "MCOA704": "an IPv4 Address Acknowledgement option, not a BID",
    "MCOA705": "an IPv4 Address Acknowledgement option, not a BID",
    "MCOA709": "the IPv4 Home Address option the BU lacks, not a BID",
    "MCOA901": "the Mobility Header checksum",
    "MCOA902": "a BA without BU",
    "MCOA904": "the BA's Lifetime",
    "MCOA906": "an undecodable message",
    "MCOA511": "the CN's 135 to the BU as a whole",
    "MCOA713": "a missing IPv4 Address Acknowledgement option, not a BID",
    "MCOA714": "an IPv4 Address Acknowledgement option, not a BID",
}
# Findings that name the BID the frame lacks (it is in the message answered)
MISSING_BID = {"MCOA302", "MCOA503", "MCOA506"}
# A CoT carries no home address (6275 §6.1.6) and goes to the CoA: the finding names none
NO_HOME_ADDRESS = {"MCOA503", "MCOA504", "MCOA510"}
# IKE carries no home address; the fixture's SA moves between CoAs no binding ties to one
NO_HOME_ADDRESS |= {"MCOA1001"}


@pytest.mark.parametrize("code", sorted(r.code for r in RULES))
def test_finding_points_at_its_frame_home_address_and_bid(code: str) -> None:
    case = CASES[code]
    packets = case.violating()
    by_frame = {p.frame: p for p in number(packets)}
    findings = [f for f in _run(case, packets) if f.rule == code]
    assert [f.frame for f in findings] == case.frames  # test_rules.py checks this too
    for f in findings:
        assert f.message.endswith(".") and (f.message[0].isupper() or f.message[0].isdigit()), f.message
        packet = by_frame.get(f.frame)
        if packet is None:
            continue
        assert f.time == packet.time
        assert (f.hoa is None) == (code in NO_HOME_ADDRESS)
        bids = [b.bid for b in packet.mobility.bids] if packet.mobility is not None else []
        if not bids or code in WHOLE_MESSAGE:
            continue
        if code in MISSING_BID:
            assert f.bid is not None and f.bid not in bids
        else:
            assert f.bid in bids
