"""Dialect detection: one test per evidence row of draft05-vs-rfc5648.md §1.8, plus with_dialect."""

from __future__ import annotations

import struct

from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.dialect import DialectDetector, with_dialect
from dissector.records import BindingUpdate, Packet
from tests.dissector.handbuilt import (
    HA,
    MN_COA,
    MN_HOA,
    a4,
    a6,
    ba_body,
    bid,
    bu_body,
    dest_opts_hao,
    ethernet,
    frame,
    ipv6,
    mh,
    padn,
)

COA2 = "2001:db8:ee::20"


def pad_to_8(body: bytes) -> bytes:
    rest = (-(6 + len(body))) % 8
    return body + (padn(rest) if rest else b"")


def bu(options: bytes, flags: int = 0x8000, lifetime: int = 100, number: int = 1,
       bid_type: int = 35) -> Packet:
    body = pad_to_8(bu_body(1, flags, lifetime) + options)
    data = ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + mh(5, body, src=MN_HOA, dst=HA))
    return decode_frame(frame(ethernet(data), number=number), DecodeOptions(bid_type=bid_type))


def ba(status: int, options: bytes = b"", number: int = 2) -> Packet:
    body = pad_to_8(ba_body(status, 0, 1, 100) + options)
    data = ethernet(ipv6(HA, MN_HOA, 135, mh(6, body, src=HA, dst=MN_HOA)))
    return decode_frame(frame(data, number=number))


def decide(*packets: Packet, bid_type: int = 35) -> tuple[Dialect | None, str]:
    detector = DialectDetector(bid_type)
    for packet in packets:
        detector.observe(packet)
    return detector.decision()


def with_coa(bid_value: int, coa: str, flags: int = 0) -> bytes:
    return padn(6) + bid(bid_value, flags=flags, coa=a6(coa))  # BU fixed part ends at 12 -> BID at 18


def test_no_bid_no_evidence() -> None:
    detector = DialectDetector()
    detector.observe(bu(b""))
    assert detector.decision()[0] is None
    assert detector.final() == (Dialect.RFC5648, "no decisive evidence; RFC 5648 assumed")


def test_configured_pre_standard_type_means_draft() -> None:
    dialect, reason = decide(bu(bid(1, kind=7), bid_type=7), bid_type=7)
    assert dialect is Dialect.DRAFT05 and "type 7" in reason


def test_bu_flag_0x0040_with_bid_and_p_clear_means_rfc() -> None:
    dialect, reason = decide(bu(bid(1), flags=0x8040, number=12))
    assert dialect is Dialect.RFC5648
    assert reason == "BU frame 12 has BU flag 0x0040 with a BID option (RFC 5648 O flag)"


def test_bu_flag_0x0040_with_p_set_is_not_evidence() -> None:
    assert decide(bu(bid(1), flags=0x8240))[0] is None


def test_coa_without_0x80_means_rfc() -> None:
    dialect, reason = decide(bu(with_coa(1, COA2)))
    assert dialect is Dialect.RFC5648 and "0x80 clear" in reason


def test_bulk_mixing_coa_and_no_coa_means_rfc() -> None:
    options = padn(6) + bid(1, flags=0x80, coa=a6(MN_HOA)) + bid(2, flags=0x80)
    detector = DialectDetector()
    detector.observe(bu(options))
    reasons = [e.reason for e in detector.evidence if e.decisive]
    assert any("mixes BID options" in r for r in reasons)
    assert detector.decision()[0] is Dialect.RFC5648


def test_rfc_only_statuses_mean_rfc_but_165_does_not() -> None:
    assert decide(ba(167, bid(1)))[0] is Dialect.RFC5648
    assert decide(ba(4, bid(1, status=169)))[0] is Dialect.RFC5648
    assert decide(ba(165, bid(1)))[0] is None  # draft BID CONFLICT is mapped to 165 too (I-2)


def test_mh_lla_beside_bid_is_weak_rfc_evidence() -> None:
    detector = DialectDetector()
    detector.observe(bu(bid(1, flags=0x80) + b"\x07\x07\x02" + bytes(6)))
    assert detector.decision()[0] is None
    assert detector.final()[0] is Dialect.RFC5648
    assert detector.final()[1].startswith("weak evidence only: BU frame 1 carries an MH-LLA")


def test_length_8_with_c_and_d_means_draft() -> None:
    options = padn(6) + bid(1, flags=0x90, coa=a4("198.51.100.9"))
    dialect, reason = decide(bu(options))
    assert dialect is Dialect.DRAFT05 and "C+D" in reason


def test_length_20_with_0x80_and_coa_not_hoa_means_draft() -> None:
    dialect, reason = decide(bu(with_coa(1, COA2, flags=0x80)))
    assert dialect is Dialect.DRAFT05 and "other than the home address" in reason


def test_rfc_home_binding_coa_equal_hoa_is_not_draft_evidence() -> None:
    assert decide(bu(with_coa(1, MN_HOA, flags=0x80)))[0] is None


def test_high_bits_with_low_nibble_zero_is_ambiguous_under_type_35() -> None:
    detector = DialectDetector()
    detector.observe(bu(bid(1, flags=0x40)))
    assert [e.reason for e in detector.evidence] == [
        "BU frame 1 BID 1 flags 0x40 (draft O/H/D, or an RFC 6089 BID-PRI)"]
    # I-27: under type 35 these bits are BID-PRI unless configured as draft, so RFC stays the default
    assert detector.decision()[0] is None
    assert detector.final() == (Dialect.RFC5648, "no decisive evidence; RFC 5648 assumed")


def test_low_nibble_with_type_35_means_rfc_6089() -> None:
    dialect, reason = decide(bu(bid(1, flags=0x03)))
    assert dialect is Dialect.RFC5648 and "BID-PRI" in reason


def test_0x80_on_deregistration_is_weak_draft() -> None:
    detector = DialectDetector()
    detector.observe(bu(bid(1, flags=0x80), lifetime=0))
    assert detector.decision()[0] is None and detector.final()[0] is Dialect.DRAFT05


def test_cot_with_bid_status_is_weak_draft() -> None:
    body = pad_to_8(struct.pack("!H", 1) + bytes(16) + padn(2) + bid(1, status=164))
    packet = decode_frame(frame(ethernet(ipv6(HA, MN_COA, 135, mh(4, body, src=HA, dst=MN_COA)))))
    detector = DialectDetector()
    detector.observe(packet)
    assert detector.decision()[0] is None and detector.final()[0] is Dialect.DRAFT05


def test_majority_wins_and_reason_mentions_the_other_side() -> None:
    dialect, reason = decide(bu(bid(1), flags=0x8040, number=1), bu(bid(1), flags=0x8040, number=2),
                             bu(with_coa(1, COA2, flags=0x80), number=3))
    assert dialect is Dialect.RFC5648 and "1 observation point the other way" in reason


def test_with_dialect_rereads_bid_flags_and_bu_o() -> None:
    packet = bu(padn(6) + bid(3, flags=0xD0, coa=a4("198.51.100.9")), flags=0x8040)
    assert packet.mobility is not None and packet.mobility.bids[0].flags == ("H",)
    draft = with_dialect(packet, Dialect.DRAFT05)
    assert draft.mobility is not None
    assert draft.mobility.bids[0].flags == ("C", "O", "D")
    assert isinstance(draft.mobility.body, BindingUpdate) and draft.mobility.body.flags == ("A",)
    back = with_dialect(draft, Dialect.RFC5648)
    assert back == packet


def test_with_dialect_leaves_non_mh_packets_alone() -> None:
    packet = decode_frame(frame(ethernet(ipv6(MN_COA, HA, 59, b""))))
    assert with_dialect(packet, Dialect.DRAFT05) is packet


def test_detector_agrees_with_every_sample_capture_truth_file() -> None:
    import json

    from mcoaviz.sources import read_frames
    from tests.conftest import SAMPLES

    checked = 0
    for path in sorted(SAMPLES.glob("*.pcapng")):
        truth = path.with_name(path.name.removesuffix(".pcapng") + ".truth.json")
        data = json.loads(truth.read_text()) if truth.is_file() else {}
        expected = data.get("dialect")
        if expected == "mixed":  # mobile nodes of both dialects: decided per (MN, peer) pair (I-1)
            from dissector.dialect_pairs import PairDialects

            pairs = PairDialects(35)
            for captured in read_frames(path)[0]:
                pairs.observe(decode_frame(captured))
            nodes = {row["hoa"]: Dialect(row["dialect"]) for row in data["dialects"]}
            decided = {pair: state.dialect for pair, state in pairs.pairs.items() if state.dialect}
            assert {hoa for hoa, _ in decided} == set(nodes), path.name
            assert all(d is nodes[hoa] for (hoa, _), d in decided.items()), path.name
            checked += 1
            continue
        if expected not in ("rfc5648", "draft05"):
            continue
        detector = DialectDetector()
        for captured in read_frames(path)[0]:
            detector.observe(decode_frame(captured))
        assert detector.decision()[0] is Dialect(expected), path.name
        checked += 1
    from mcoaviz.simulate.samples import sample_files

    assert checked == len(sample_files())  # every committed sample names its dialect


def test_a_tie_goes_to_the_first_observation_and_the_note_counts_the_other_side() -> None:
    from dissector.dialect import Evidence, _weigh

    draft_first = [Evidence(3, Dialect.DRAFT05, True, "draft at 3"),
                   Evidence(4, Dialect.RFC5648, True, "rfc at 4")]
    assert _weigh(draft_first) == (Dialect.DRAFT05, "draft at 3 (1 observation point the other way)")
    assert _weigh(draft_first[::-1]) == (Dialect.RFC5648, "rfc at 4 (1 observation point the other way)")
    more = [*draft_first, Evidence(5, Dialect.RFC5648, True, "rfc at 5")]
    assert _weigh(more) == (Dialect.RFC5648, "rfc at 4 (1 observation point the other way)")
    assert _weigh(more[1:]) == (Dialect.RFC5648, "rfc at 4")
