"""Events other rules read: BRR with BIDs, care-of tests with/without BID, history per key."""

from __future__ import annotations

from dissector.records import CareOfTest, CareOfTestInit, MobilityMessage, Packet, PacketPath
from mcoaviz.engine import BindingKey, PeerKey
from mcoaviz.engine import events as ev
from tests.engine.helpers import CN, COA1, HA, HOA, ba, bid, brr, bu, run


def _test_message(kind: type, time: float, src: str, dst: str, bids: tuple = ()) -> Packet:
    body = kind(cookie=b"12345678") if kind is CareOfTestInit else kind(1, b"12345678", b"k" * 8)
    name, mh = ("CoTI", 2) if kind is CareOfTestInit else ("CoT", 4)
    message = MobilityMessage(offset=54, mh_type=mh, type_name=name, payload_proto=59, header_len=16,
                              checksum=mh, checksum_ok=True, body=body, options=bids)
    return Packet(frame=int(time * 10), time=time, interface=0, wire_length=90,
                  path=PacketPath(src=src, dst=dst, protocol=135), mobility=message)


def test_brr_with_bids_is_reported_for_the_mn_and_peer() -> None:
    e = run(bu(0.0, seq=1, bids=(bid(1, COA1),)), ba(0.1, seq=1, bids=(bid(1),)),
            brr(5.0, bids=(bid(1),)), end=6)
    [seen] = [x for x in e.events if isinstance(x, ev.BrrSeen)]
    assert (seen.key, seen.bids) == (PeerKey(HOA, HA), (1,))


def test_care_of_test_with_and_without_bid() -> None:
    e = run(_test_message(CareOfTestInit, 1.0, COA1, CN, (bid(1),)),
            _test_message(CareOfTest, 1.1, CN, COA1), end=2)
    tests = [x for x in e.events if isinstance(x, ev.CareOfTestSeen)]
    assert [(x.kind, x.key.coa, x.key.peer, x.has_bid) for x in tests] == [
        ("CoTI", COA1, CN, True), ("CoT", COA1, CN, False)]
    assert tests[1].answers == tests[0].frame


def test_history_lists_one_bindings_events_in_order() -> None:
    e = run(bu(0.0, seq=1, lifetime=20, bids=(bid(1, COA1),)), ba(0.1, seq=1, lifetime=20, bids=(bid(1),)),
            bu(10.0, seq=2, lifetime=20, bids=(bid(1, COA1),)), ba(10.1, seq=2, lifetime=20, bids=(bid(1),)),
            end=100)
    kinds = [type(x).__name__ for x in e.history(BindingKey(HA, HOA, 1))]
    assert kinds == ["BindingStarted", "BindingRefreshed", "BindingExpired"]
    [expired] = [x for x in e.history(BindingKey(HA, HOA, 1)) if isinstance(x, ev.BindingExpired)]
    assert expired.time == 30.1 and expired.reason == "expired"
