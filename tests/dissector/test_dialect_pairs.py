"""PairDialects (I-1): which pair a message belongs to, decisions from a pair's own evidence, and
the fallback order for a pair without any."""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.decode import decode_frame
from dissector.dialect_pairs import PairDialects
from dissector.encode import (
    binding_ack,
    binding_identifier,
    binding_update,
    ethernet_for,
    ipv6_packet,
    mac,
    mobility_header,
)
from dissector.records import (
    BindingRefreshRequest,
    CareOfTest,
    CareOfTestInit,
    Frame,
    LinkLayerAddress,
    Packet,
)

HA, CN = "2001:db8:a::1", "2001:db8:c::1"
HOA, COA = "2001:db8:a::100", "2001:db8:1::100"
M1, M2 = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")
RFC, DRAFT = Dialect.RFC5648, Dialect.DRAFT05


def packet(data: bytes, number: int = 1) -> Packet:
    return decode_frame(Frame(number, 1000.0 + number, 0, 1, data, len(data)))


def bu(bids: list, src: str = COA, dst: str = HA, hoa: str = HOA, lifetime: int = 60) -> Packet:
    mh = mobility_header(binding_update(1, lifetime, "A", "H"), bids)
    return packet(ethernet_for(M2, M1, ipv6_packet(src, dst, 135, mh, hao=hoa)))


def ba(bids: list, dst: str = COA, hoa: str = HOA) -> Packet:
    return packet(ethernet_for(M1, M2, ipv6_packet(HA, dst, 135, mobility_header(binding_ack(0, 1, 60), bids),
                                                   rh2=hoa)))


def plain(body: object, src: str, dst: str, bids: list = (), rh2: str | None = None) -> Packet:  # type: ignore[assignment]
    return packet(ethernet_for(M1, M2, ipv6_packet(src, dst, 135, mobility_header(body, bids), rh2=rh2)))


def test_each_message_type_finds_its_mobile_node_and_peer() -> None:
    pairs = PairDialects(35)
    assert pairs.observe(bu([binding_identifier(1, COA)])) == (HOA, HA)
    assert pairs.observe(ba([binding_identifier(1)])) == (HOA, HA)
    assert pairs.observe(plain(BindingRefreshRequest(), HA, COA, rh2=HOA)) == (HOA, HA)
    # CoTI / CoT carry no home address: the care-of address the BU registered leads to it
    assert pairs.observe(plain(CareOfTestInit(b"c" * 8), COA, CN)) == (HOA, CN)
    assert pairs.observe(plain(CareOfTest(1, b"c" * 8, b"k" * 8), CN, COA)) == (HOA, CN)
    assert pairs.observe(plain(CareOfTestInit(b"c" * 8), "2001:db8:9::9", CN)) == ("2001:db8:9::9", CN)
    data = packet(ethernet_for(M1, M2, ipv6_packet(CN, HOA, 59, b"")))
    assert pairs.observe(data) is None


def test_a_pair_is_decided_by_its_own_decisive_evidence_and_keeps_it() -> None:
    pairs = PairDialects(35)
    pairs.observe(bu([binding_identifier(1, COA, dialect=DRAFT)]))  # C with a CoA: draft
    assert pairs.dialect_of((HOA, HA)) is DRAFT
    pairs.observe(bu([binding_identifier(2, COA)]))  # RFC evidence later changes nothing
    assert pairs.dialect_of((HOA, HA)) is DRAFT
    assert pairs.rows()[0]["basis"] == "own evidence" and pairs.rows()[0]["messages"] == 2


def test_fallback_order() -> None:
    pairs = PairDialects(35)
    silent = plain(CareOfTestInit(b"c" * 8), COA, CN, [binding_identifier(1)])
    assert pairs.observe(silent) == (COA, CN)  # no BU told which home address COA serves
    # nothing anywhere: RFC 5648 assumed
    assert pairs.fall_back((COA, CN)) is RFC
    assert pairs.pairs[(COA, CN)].reason == "no decisive evidence; RFC 5648 assumed"

    pairs = PairDialects(35)
    pairs.observe(bu([binding_identifier(1, COA, dialect=DRAFT)], hoa="2001:db8:a::200",
                     src="2001:db8:2::200"))  # another node: draft, decisively
    pairs.observe(bu([binding_identifier(1, dialect=DRAFT, extra_flags=0x80)], lifetime=0))  # weak draft
    pairs.observe(silent)
    assert pairs.fall_back((HOA, CN)) is DRAFT
    assert pairs.pairs[(HOA, CN)].basis == "capture-wide fallback"
    assert pairs.fall_back((HOA, HA)) is DRAFT

    pairs = PairDialects(35)
    pairs.observe(bu([binding_identifier(1, COA)]))  # this node, with its HA: RFC
    pairs.observe(bu([binding_identifier(1, "2001:db8:2::200", dialect=DRAFT)], hoa="2001:db8:a::200",
                     src="2001:db8:2::200"))  # another node: draft; the capture decided RFC first
    pairs.observe(plain(CareOfTestInit(b"c" * 8), "2001:db8:2::200", CN, [binding_identifier(1)]))
    assert pairs.capture_dialect is RFC
    assert pairs.fall_back(("2001:db8:a::200", CN)) is DRAFT  # its node's other pair, not the capture
    assert pairs.pairs[("2001:db8:a::200", CN)].basis == "same mobile node"


def test_own_weak_evidence_before_the_capture_weak_evidence() -> None:
    pairs = PairDialects(35)
    # this pair: weak draft evidence only (0x80 on a de-registration); another pair: two weak RFC
    # observations (MH-LLA beside a BID), so the capture's weak evidence leans RFC
    pairs.observe(bu([binding_identifier(1, extra_flags=0x80)], lifetime=0))
    lla = LinkLayerAddress(0, 2, b"\x02\x00\x00\x00\x00\x09")
    for _ in range(2):
        pairs.observe(bu([binding_identifier(1), lla], hoa="2001:db8:a::200", src="2001:db8:2::200"))
    assert pairs.dialect_of((HOA, HA)) is None and pairs.capture.final()[0] is RFC
    assert pairs.fall_back((HOA, HA)) is DRAFT
    assert pairs.pairs[(HOA, HA)].basis == "own weak evidence"


def test_forced_dialect_decides_every_pair_at_once() -> None:
    pairs = PairDialects(35, forced=DRAFT)
    pair = pairs.observe(bu([binding_identifier(1, COA)]))
    assert pairs.dialect_of(pair) is DRAFT and pairs.rows()[0]["reason"] == "set by --dialect"


def test_every_care_of_address_of_a_bu_leads_to_its_home_address() -> None:
    """The source, each Alternate CoA option and each BID CoA of a BU map to its HoA (the HoA
    itself and BIDs without a CoA do not); the addresses are read once per options tuple, and a
    stale entry under a tuple's id (another tuple) is not used."""
    import dataclasses

    from dissector import dialect_pairs
    from dissector.records import AlternateCoA

    other, third = "2001:db8:2::100", "2001:db8:3::100"
    first = bu([binding_identifier(1, COA), binding_identifier(2, other), binding_identifier(3),
                binding_identifier(4, HOA)])
    m = first.mobility
    assert m is not None
    options = (AlternateCoA(m.offset, third), *m.options)
    with_alternate = dataclasses.replace(first, mobility=dataclasses.replace(m, options=options))
    pairs = PairDialects(35)
    pairs.observe(with_alternate)
    assert pairs.home_of == {COA: HOA, other: HOA, third: HOA}
    assert dialect_pairs._COAS[id(options)][1] == (third, COA, other, HOA)
    without = tuple(o for o in options if not isinstance(o, AlternateCoA))
    moved = dataclasses.replace(with_alternate, mobility=dataclasses.replace(m, options=without))
    dialect_pairs._COAS[id(without)] = dialect_pairs._COAS[id(options)]  # a stale entry under its id
    fresh = PairDialects(35)
    fresh.observe(moved)
    assert fresh.home_of == {COA: HOA, other: HOA}  # its own options, not the stale entry's
    assert pairs.pair_of(plain(CareOfTestInit(b"c" * 8), third, CN)) == (HOA, CN)


def test_home_of_keeps_one_interned_copy_of_each_address_and_follows_a_coa_to_a_new_home() -> None:
    import sys
    pairs = PairDialects(bid_type=35)
    first, second = bu([binding_identifier(1, coa=COA)]), bu([binding_identifier(1, coa=COA)])
    pairs.observe(first)
    pairs.observe(second)
    ((coa, hoa),) = pairs.home_of.items()
    # each decoded packet has its own address strings; the map holds the interned ones
    assert first.path.src is not second.path.src and (coa, hoa) == (COA, HOA)
    assert coa is sys.intern(COA) and hoa is sys.intern(HOA)
    other_home = "2001:db8:b::100"
    pairs.observe(bu([binding_identifier(1, coa=COA)], hoa=other_home))
    assert pairs.home_of == {COA: other_home} and pairs.home_of[COA] is sys.intern(other_home)
