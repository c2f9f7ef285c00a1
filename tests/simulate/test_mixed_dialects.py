"""Mobile nodes with a dialect of their own (I-1): the home agent answers each in its dialect,
and the truth records which node followed which text."""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.records import BindingAck, BindingUpdate, Frame
from mcoaviz.simulate.model import EPOCH_NS
from mcoaviz.simulate.scenarios import run

RFC_HOA, DRAFT_HOA = "2001:db8:1::100", "2001:db8:1::200"


def messages():  # noqa: ANN201 - (type, HoA, BID flag bytes, CoA present) per first sighting
    result = run("two-dialects-one-ha")
    out = []
    seen = set()
    for s in result.sim.ordered_sightings():
        frame = Frame(s.number, (EPOCH_NS + s.time_ns) / 1e9, s.interface, 1, s.data, len(s.data))
        packet = decode_frame(frame, DecodeOptions(dialect=Dialect.RFC5648))
        m = packet.mobility
        if m is None or not isinstance(m.body, BindingUpdate | BindingAck) or s.data in seen:
            continue
        seen.add(s.data)
        hoa = packet.path.home_address_option or packet.path.routing_type2
        out.append((m.type_name, hoa, [b.flags_byte for b in m.bids], [b.coa is not None for b in m.bids]))
    return result, out


def test_each_node_speaks_its_own_text_and_the_ha_answers_in_it() -> None:
    result, found = messages()
    bus = {hoa: (flags, coas) for kind, hoa, flags, coas in found if kind == "BU" and any(coas)}
    # RFC node: a CoA with 0x80 clear; draft node: C (0x80) with every CoA
    assert all(f & 0x80 == 0 for f in bus[RFC_HOA][0])
    assert all(f & 0x80 for f in bus[DRAFT_HOA][0])
    # no BA copy carries 0x80: the draft copy drops C (§6.3, no CoA), the RFC node never set H
    bas = [(hoa, flags) for kind, hoa, flags, _ in found if kind == "BA"]
    assert {hoa for hoa, _ in bas} == {RFC_HOA, DRAFT_HOA}
    assert all(f & 0x80 == 0 for hoa, flags in bas for f in flags)
    assert result.truth["dialect"] == "mixed"
    assert result.truth["dialects"] == [
        {"node": "mn", "hoa": RFC_HOA, "dialect": "rfc5648"},
        {"node": "mn2", "hoa": DRAFT_HOA, "dialect": "draft05"}]


def test_dialect_of_an_address() -> None:
    result = run("two-dialects-one-ha")
    sim = result.sim
    assert sim.dialect_of(DRAFT_HOA) is Dialect.DRAFT05
    assert sim.dialect_of("2001:db8:b1::200") is Dialect.DRAFT05  # a care-of address of the draft node
    assert sim.dialect_of(RFC_HOA) is Dialect.RFC5648
    assert sim.dialect_of(None) is Dialect.RFC5648


def test_single_dialect_truth_has_no_node_list() -> None:
    truth = run("figure8", dialect=Dialect.DRAFT05).truth
    assert truth["dialect"] == "draft05" and "dialects" not in truth
