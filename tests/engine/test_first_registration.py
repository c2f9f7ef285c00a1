"""Issue 11.4: a Length-4 BID option for a BID the capture never saw is a refresh of a binding
older than the capture (``pre_existing``) unless the capture shows the registration being
prepared; then it is a first registration: the binding starts at the BA, CoA = the BU's source.
Expected values worked out by hand from RFC 5648 §5.1 and I-6."""

from __future__ import annotations

from dissector.records import CareOfTest, CareOfTestInit, MobilityMessage, Packet, PacketPath, RawMessage
from mcoaviz.engine import events as ev
from tests.engine.helpers import CN, COA1, COA2, HA, HOA, ba, bid, bu, run


def _mh(time: float, kind: str, mh_type: int, body: object, *, src: str, dst: str, hao: str | None = None,
        rh2: str | None = None, options: tuple[object, ...] = ()) -> Packet:
    message = MobilityMessage(offset=54, mh_type=mh_type, type_name=kind, payload_proto=59, header_len=2,
                              checksum=mh_type, checksum_ok=True, body=body,  # type: ignore[arg-type]
                              options=options)  # type: ignore[arg-type]
    path = PacketPath(src=src, dst=dst, home_address_option=hao, routing_type2=rh2, protocol=135)
    return Packet(frame=int(time * 10), time=time, interface=0, wire_length=80, path=path, mobility=message)


def coti(time: float, *, src: str = COA2, options: tuple[object, ...] = ()) -> Packet:
    return _mh(time, "CoTI", 2, CareOfTestInit(b"c" * 8), src=src, dst=CN, options=options)


def cot(time: float, *, dst: str = COA2) -> Packet:
    return _mh(time, "CoT", 4, CareOfTest(1, b"c" * 8, b"k" * 8), src=CN, dst=dst)


def hoti(time: float) -> Packet:
    return _mh(time, "HoTI", 1, RawMessage(b""), src=HOA, dst=CN)


def cn_bu(time: float, seq: int) -> list[Packet]:
    """BU to the CN from COA2 with BID 2 and no CoA (Length 4), and the CN's accepting BA."""
    return [bu(time, seq=seq, flags="A", src=COA2, dst=CN, bids=(bid(2),)),
            ba(time + 0.1, seq=seq, src=CN, dst=COA2, bids=(bid(2),))]


def started(engine: object) -> list[ev.BindingStarted]:
    return [e for e in engine.events if isinstance(e, ev.BindingStarted)]  # type: ignore[attr-defined]


def test_without_preparation_a_length4_bid_is_older_than_the_capture() -> None:
    engine = run(bu(10.0, seq=1, flags="AH", src=COA1, bids=(bid(1, COA1),)),
                 ba(10.1, seq=1, bids=(bid(1),)), *cn_bu(20.0, 7))
    row = next(r for r in engine.bindings() if r.node == CN)
    assert (row.coa, row.start, row.pre_existing) == (COA2, 10.0, True)
    assert started(engine)[-1].first_registration == ""


def test_a_care_of_test_shortly_before_makes_it_a_first_registration() -> None:
    engine = run(bu(10.0, seq=1, src=COA1, bids=(bid(1, COA1),)), ba(10.1, seq=1, bids=(bid(1),)),
                 coti(15.0), cot(15.2), *cn_bu(20.0, 7))
    row = next(r for r in engine.bindings() if r.node == CN)
    assert (row.coa, row.start, row.pre_existing) == (COA2, 20.1, False)
    first = started(engine)[-1]
    assert first.first_registration.startswith("CoT for care-of address 2001:db8:2::100 at frame 152")
    assert "I-6" in first.why and "RFC §5.1" in first.why


def test_a_care_of_test_with_the_bid_counts_even_from_another_address() -> None:
    engine = run(coti(15.0, src=COA1, options=(bid(2),)), *cn_bu(20.0, 7))
    assert started(engine)[-1].first_registration.startswith("CoTI for BID 2 at frame 150")
    assert next(r for r in engine.bindings() if r.node == CN).start == 20.1


def test_a_home_test_counts_but_not_one_older_than_the_token_lifetime() -> None:
    assert started(run(hoti(15.0), *cn_bu(20.0, 7)))[-1].first_registration.startswith("HoTI of")
    stale = run(hoti(15.0), *cn_bu(15.0 + 211, 7))
    assert (started(stale)[-1].first_registration, started(stale)[-1].pre_existing) == ("", True)


def test_after_an_overwrite_the_node_holds_only_what_was_listed() -> None:
    # O-flag BU with BID 1 accepted: afterwards BID 2 can only exist if registered in the capture
    engine = run(bu(10.0, seq=1, src=COA1, bids=(bid(1, COA1),), o_header=True),
                 ba(10.1, seq=1, bids=(bid(1),)),
                 bu(20.0, seq=2, src=COA2, bids=(bid(2),)), ba(20.1, seq=2, dst=COA2, bids=(bid(2),)))
    row = next(r for r in engine.bindings() if r.bid == 2)
    assert (row.node, row.coa, row.start, row.pre_existing) == (HA, COA2, 20.1, False)
    assert "set every binding" in started(engine)[-1].first_registration


def test_a_known_bid_keeps_its_coa_whatever_the_preparation() -> None:
    engine = run(bu(10.0, seq=1, flags="A", src=COA2, dst=CN, bids=(bid(2, COA2),)),
                 ba(10.1, seq=1, src=CN, dst=COA2, bids=(bid(2),)), coti(15.0, src=COA1), *cn_bu(20.0, 2))
    assert [(r.coa, r.start) for r in engine.bindings() if r.node == CN] == [(COA2, 10.1)]
