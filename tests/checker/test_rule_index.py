"""The packet-rule index (``Rule.messages``, ``runner.PacketRuleIndex``): a message meets only the
rules for its type, which must be every rule that could report on it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dissector.codepoints import Dialect
from dissector.records import MobilityMessage, Packet
from mcoaviz.checker import Checker, CheckerConfig
from mcoaviz.checker.context import PacketContext
from mcoaviz.checker.registry import PACKET, RULES
from mcoaviz.checker.runner import PacketRuleIndex, run_packet_rules, selected_rules
from mcoaviz.pipeline import analyse
from tests.conftest import SAMPLES

PACKET_RULES = tuple(r for r in RULES if r.kind == PACKET)


@pytest.fixture(scope="module")
def sample_packets() -> list[tuple[Packet, Dialect | None]]:
    """Every signalling packet of every sample capture, with its pair's dialect."""
    seen: list[tuple[Packet, Dialect | None]] = []
    observe = Checker.observe

    def keep(self: Checker, packet: Packet, events: object = (), dialect: Dialect | None = None) -> None:
        if packet.mobility is not None or packet.icmp6 is not None:
            seen.append((packet, dialect))
        observe(self, packet, events, dialect)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Checker, "observe", keep)
        for capture in sorted(Path(SAMPLES).glob("*.pcapng")):
            analyse(capture)
    return seen


def test_index_keeps_catalogue_order_and_selection() -> None:
    index = PacketRuleIndex(PACKET_RULES)
    ba = [r.code for r in index.for_message("BA")]
    assert ba == ["MCOA102", "MCOA108", "MCOA109", "MCOA110", "MCOA703", "MCOA901", "MCOA906"]
    assert "MCOA101" in [r.code for r in index.for_message("BU")]
    assert "MCOA703" not in [r.code for r in index.for_message("BU")]
    assert [r.code for r in index.for_message(None)] == ["MCOA102", "MCOA108", "MCOA110", "MCOA901",
                                                         "MCOA906"]
    assert [r.code for r in index.for_message("CoTI")] == ["MCOA101", "MCOA102", "MCOA106", "MCOA108",
                                                           "MCOA110", "MCOA119", "MCOA502", "MCOA901",
                                                           "MCOA906"]
    only = PacketRuleIndex(selected_rules(CheckerConfig(select=("MCOA7",)), PACKET))
    assert [r.code for r in only.for_message("BA")] == ["MCOA703"]
    assert [r.code for r in only.for_message("BU")] == ["MCOA706"]
    assert not PacketRuleIndex(())


def test_samples_have_the_message_types_the_next_test_needs(
        sample_packets: list[tuple[Packet, Dialect | None]]) -> None:
    types = {p.mobility.type_name for p, _ in sample_packets if p.mobility is not None}
    assert {"BU", "BA", "BRR", "CoTI", "CoT", "HoTI", "HoT", "BE"} <= types


def test_a_rule_reports_nothing_on_a_type_outside_its_messages(
        sample_packets: list[tuple[Packet, Dialect | None]]) -> None:
    """Every sample message type, dressed with every option list any sample message carried
    (BID options of both dialects, with and without CoA, every flag seen), with its own body
    and with none: a rule skipped for that type finds nothing on it."""
    messages: dict[str, tuple[Packet, Dialect | None]] = {}
    option_lists: dict[str, tuple[object, ...]] = {}
    for packet, dialect in sample_packets:
        if packet.mobility is not None:
            messages.setdefault(packet.mobility.type_name, (packet, dialect))
            option_lists.setdefault(repr(packet.mobility.options), packet.mobility.options)
    assert len(option_lists) > 50
    checked = 0
    for type_name, (packet, dialect) in messages.items():
        skipped = [r for r in PACKET_RULES if r.messages is not None and type_name not in r.messages]
        mh = packet.mobility
        assert isinstance(mh, MobilityMessage)
        for options in option_lists.values():
            for body in (mh.body, None):
                dressed = dataclasses.replace(packet, mobility=dataclasses.replace(
                    mh, options=options, body=body))  # type: ignore[arg-type]
                for config in (CheckerConfig(), CheckerConfig(dialect=Dialect.DRAFT05)):
                    ctx = PacketContext(dressed, config, dialect)
                    for rule in skipped:
                        assert rule.check(ctx) == [], (rule.code, type_name, options)
                        checked += 1
    assert checked > 10_000


def test_non_mobility_packets_meet_only_the_rules_for_any_packet(
        sample_packets: list[tuple[Packet, Dialect | None]]) -> None:
    icmp = [(p, d) for p, d in sample_packets if p.mobility is None]
    assert icmp
    for packet, dialect in icmp:
        ctx = PacketContext(packet, CheckerConfig(), dialect)
        for rule in PACKET_RULES:
            if rule.messages is not None:
                assert rule.check(ctx) == [], rule.code


def test_a_message_whose_hits_have_one_dialect_skips_the_other_dialects_rules() -> None:
    index = PacketRuleIndex(PACKET_RULES)
    rfc = [r.code for r in index.for_message("BU", "rfc5648")]
    draft = [r.code for r in index.for_message("BU", "draft05")]
    both = [r.code for r in index.for_message("BU")]
    assert "MCOA103" in draft and "MCOA103" not in rfc and "MCOA116" in rfc and "MCOA116" not in draft
    assert set(rfc) | set(draft) == set(both) and len(rfc) < len(both) and len(draft) < len(both)


def test_the_index_finds_what_every_rule_finds_on_every_sample_message(
        sample_packets: list[tuple[Packet, Dialect | None]]) -> None:
    """Run on each sample message (and on it read in the other dialect, pair and BID options
    disagreeing): the indexed rules give exactly the findings all 33 give."""
    index = PacketRuleIndex(PACKET_RULES)
    found = 0
    for packet, dialect in sample_packets:
        for config in (CheckerConfig(), CheckerConfig(dialect=Dialect.DRAFT05)):
            for pair in (dialect, Dialect.RFC5648, Dialect.DRAFT05, None):
                ctx = PacketContext(packet, config, pair)
                every = list(run_packet_rules(PACKET_RULES, ctx))
                assert list(run_packet_rules(index.for_packet(ctx), ctx)) == every
                found += len(every)
    assert found > 100
