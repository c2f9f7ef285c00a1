"""The dialect per (mobile node, peer) pair (I-1) through the pipeline, on hand-built captures:
an RFC 5648 node and a draft-05 node behind one home agent, holding until a pair's own
evidence, the fallbacks, and what the export's ``dialects`` table says."""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.encode import (
    binding_ack,
    binding_identifier,
    binding_update,
    ethernet_for,
    ipv6_packet,
    mac,
    mobility_header,
)
from dissector.records import CareOfTestInit, Frame, Packet
from mcoaviz.pipeline import AnalysisOptions, Pipeline

HA, CN = "2001:db8:a::1", "2001:db8:c::1"
HOA1, HOA2 = "2001:db8:a::100", "2001:db8:a::200"
RFC_COA, DRAFT_COA = "2001:db8:1::100", "2001:db8:2::200"
MN_MAC, GW_MAC = mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")
RFC, DRAFT = Dialect.RFC5648, Dialect.DRAFT05


def bu(seq: int, coa: str, hoa: str, bids: list, lifetime: int = 60, flags: tuple[str, ...] = ("A", "H"),
       peer: str = HA) -> bytes:
    mh = mobility_header(binding_update(seq, lifetime, *flags), bids)
    return ethernet_for(GW_MAC, MN_MAC, ipv6_packet(coa, peer, 135, mh, hao=hoa))


def ba(seq: int, coa: str, hoa: str, bids: list, lifetime: int = 60) -> bytes:
    mh = mobility_header(binding_ack(0, seq, lifetime), bids)
    return ethernet_for(MN_MAC, GW_MAC, ipv6_packet(HA, coa, 135, mh, rh2=hoa))


def coti(coa: str, bids: list) -> bytes:
    mh = mobility_header(CareOfTestInit(b"\x01" * 8), bids)
    return ethernet_for(GW_MAC, MN_MAC, ipv6_packet(coa, CN, 135, mh))


def run(datas: list[bytes], **options: object) -> tuple[Pipeline, list[Packet], dict]:
    """Feed the frames (one second apart); (pipeline, packets as released, final analysis)."""
    pipeline = Pipeline(AnalysisOptions(**options))  # type: ignore[arg-type]
    released: list[Packet] = []
    pipeline.listener = released.append
    for number, data in enumerate(datas, start=1):
        pipeline.feed_frame(Frame(number, 1000.0 + number, 0, 1, data, len(data)))
    analysis = pipeline.finish()
    return pipeline, released, {(r["hoa"], r["peer"]): r for r in analysis.dialects} | {
        "bindings": analysis.bindings}


def rfc_registration() -> list[bytes]:
    """RFC node: bulk-free BU with a CoA and 0x80 clear (decisive RFC), and its BA."""
    return [bu(10, RFC_COA, HOA1, [binding_identifier(1, RFC_COA)]),
            ba(10, RFC_COA, HOA1, [binding_identifier(1)])]


def draft_registration(seq: int = 20) -> list[bytes]:
    """Draft node: BU with C (0x80) and a CoA other than the HoA (decisive draft), and its BA."""
    return [bu(seq, DRAFT_COA, HOA2, [binding_identifier(1, DRAFT_COA, dialect=DRAFT)]),
            ba(seq, DRAFT_COA, HOA2, [binding_identifier(1, dialect=DRAFT)])]


def test_each_node_is_read_in_its_own_dialect() -> None:
    pipeline, _, out = run(rfc_registration() + draft_registration())
    assert out[(HOA1, HA)]["dialect"] == "rfc5648" and out[(HOA1, HA)]["basis"] == "own evidence"
    assert out[(HOA2, HA)]["dialect"] == "draft05" and out[(HOA2, HA)]["basis"] == "own evidence"
    assert "0x80 with an IPv6 CoA other than the home address" in out[(HOA2, HA)]["reason"]
    # the capture-wide decision (first decisive evidence) would have read the draft C as RFC H
    assert pipeline.dialect is RFC
    rows = {(b["hoa"], b["coa"], b["home"]) for b in out["bindings"]}
    assert rows == {(HOA1, RFC_COA, False), (HOA2, DRAFT_COA, False)}


def findings(datas: list[bytes], dialect: str) -> set[tuple[str, str | None]]:
    pipeline = Pipeline(AnalysisOptions(dialect=dialect))
    for number, data in enumerate(datas, start=1):
        pipeline.feed_frame(Frame(number, 1000.0 + number, 0, 1, data, len(data)))
    return {(f["rule"], f["hoa"]) for f in pipeline.finish().findings}


def test_forcing_one_dialect_misreads_the_other_node() -> None:
    datas = rfc_registration() + draft_registration()
    _, _, out = run(datas, dialect="rfc5648")
    assert {r["basis"] for k, r in out.items() if k != "bindings"} == {"--dialect"}
    # draft C (0x80) read as RFC H: "H with a CoA other than the HoA" (MCOA407) against the draft node
    assert ("MCOA407", HOA2) in findings(datas, "rfc5648")
    assert not {f for f in findings(datas, "auto") if f[0] == "MCOA407"}


def test_mixed_sample_reads_clean_only_per_pair() -> None:
    from mcoaviz.pipeline import analyse
    from tests.conftest import SAMPLES

    sample = SAMPLES / "two-dialects-one-ha-mixed.pcapng"
    auto = analyse(sample)
    assert auto.findings == []
    assert {(r["hoa"], r["dialect"]) for r in auto.dialects} == {
        ("2001:db8:1::100", "rfc5648"), ("2001:db8:1::200", "draft05")}
    forced = analyse(sample, AnalysisOptions(dialect="rfc5648"))
    assert {f["rule"] for f in forced.findings} >= {"MCOA407", "MCOA401"}


def test_a_pair_waits_for_its_own_evidence() -> None:
    # the draft node's first BU carries no evidence (Length 4, no flags); its second one decides
    first = bu(19, DRAFT_COA, HOA2, [binding_identifier(1, dialect=DRAFT, overwrite=True)])
    _, released, out = run(rfc_registration() + [first] + draft_registration())
    order = [p.frame for p in released]
    assert order == [1, 2, 3, 4, 5]  # capture order kept
    held = released[2].mobility
    assert held is not None and held.bids[0].dialect is DRAFT and held.bids[0].flags == ("O",)
    assert out[(HOA2, HA)]["first_frame"] == 3 and out[(HOA2, HA)]["messages"] == 3


def test_release_happens_when_the_evidence_arrives() -> None:
    pipeline = Pipeline(AnalysisOptions())
    released: list[int] = []
    pipeline.listener = lambda p: released.append(p.frame)
    datas = [bu(19, DRAFT_COA, HOA2, [binding_identifier(1, dialect=DRAFT)])] + draft_registration()
    for number, data in enumerate(datas, start=1):
        pipeline.feed_frame(Frame(number, 1000.0 + number, 0, 1, data, len(data)))
        if number == 1:
            assert released == []  # undecided pair: held
    assert released == [1, 2, 3]


def test_a_pair_without_evidence_takes_its_nodes_dialect() -> None:
    # the draft node's CoTI (from its CoA, BID flags 0) tells nothing; its HA pair is draft
    _, released, out = run(rfc_registration() + draft_registration()
                           + [coti(DRAFT_COA, [binding_identifier(1, dialect=DRAFT)])])
    row = out[(HOA2, CN)]  # the CoTI's care-of address is mapped to the home address
    assert row["dialect"] == "draft05" and row["basis"] == "same mobile node"
    assert released[-1].mobility is not None and released[-1].mobility.bids[0].dialect is DRAFT


def test_a_pair_without_evidence_falls_back_to_the_capture() -> None:
    # a node seen only through a CoTI: no evidence of its own, none from its other pairs
    _, _, out = run(draft_registration() + [coti("2001:db8:9::9", [binding_identifier(3)])])
    row = out[("2001:db8:9::9", CN)]
    assert row["dialect"] == "draft05" and row["basis"] == "capture-wide fallback"
    assert row["reason"].startswith("no decisive evidence of its own; capture-wide: BU frame 1")


def test_the_hold_limit_decides_the_pair_at_the_front() -> None:
    silent = [coti("2001:db8:9::9", [binding_identifier(3)]) for _ in range(3)]
    pipeline, released, out = run(silent + draft_registration(), hold_limit=2)
    row = out[("2001:db8:9::9", CN)]
    assert row["basis"] == "own weak evidence" or row["basis"] == "capture-wide fallback"
    assert "decided after holding 2 messages" in row["reason"]
    assert [p.frame for p in released] == [1, 2, 3, 4, 5]


def test_the_hold_time_decides_a_pair_that_stays_silent() -> None:
    pipeline = Pipeline(AnalysisOptions(hold_seconds=5.0))
    released: list[int] = []
    pipeline.listener = lambda p: released.append(p.frame)
    quiet = coti("2001:db8:9::9", [binding_identifier(3)])
    for number, when in ((1, 0.0), (2, 4.0), (3, 5.5)):
        pipeline.feed_frame(Frame(number, 1000.0 + when, 0, 1, quiet, len(quiet)))
        assert released == ([] if number < 3 else [1, 2, 3])


def test_forced_dialect_holds_nothing() -> None:
    pipeline = Pipeline(AnalysisOptions(dialect="draft05"))
    released: list[int] = []
    pipeline.listener = lambda p: released.append(p.frame)
    data = bu(1, RFC_COA, HOA1, [binding_identifier(1)])
    pipeline.feed_frame(Frame(1, 1000.0, 0, 1, data, len(data)))
    assert released == [1]
    assert pipeline.finish().dialects[0]["reason"] == "set by --dialect"


def test_rules_about_messages_without_bid_follow_the_pair() -> None:
    # BU header bit 0x0040 without a BID option: RFC O without BID (MCOA117, RFC only) from the
    # RFC node; the same bits from the draft node are a draft reserved bit, not MCOA117
    o_without_bid = [bu(11, RFC_COA, HOA1, [], flags=("A", "H", "O")),
                     bu(21, DRAFT_COA, HOA2, [], flags=("A", "H", "O"))]
    got = findings(rfc_registration() + draft_registration() + o_without_bid, "auto")
    assert ("MCOA117", HOA1) in got and ("MCOA117", HOA2) not in got
    # read with one dialect for the whole capture, the draft node gets the RFC finding too
    assert ("MCOA117", HOA2) in findings(rfc_registration() + draft_registration() + o_without_bid, "rfc5648")
