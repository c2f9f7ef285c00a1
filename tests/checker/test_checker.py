"""The Checker's contract: severities per dialect, selection, de-duplication, order, export shape."""

from __future__ import annotations

from mcoaviz.checker import BY_CODE, RULES, Checker, CheckerConfig
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.runner import complete, finalise
from tests.checker.builders import COA1, COA2, DRAFT, RFC, ba, bid, bu, check, dbid, number


def test_bid_zero_is_an_error_in_draft05_and_a_warning_in_rfc5648() -> None:
    draft = [f for f in check(bu(1, dbid(0, COA1, "C")), dialect=DRAFT) if f.rule == "MCOA101"]
    rfc = [f for f in check(bu(1, bid(0, COA1)), dialect=RFC) if f.rule == "MCOA101"]
    assert [f.severity for f in draft] == ["error"]
    assert [f.severity for f in rfc] == ["warning"]
    assert draft[0].section == "§2, §5.1" and rfc[0].rfc_section == "§4.3, §5.1"


def test_draft_only_rule_is_silent_on_rfc_options() -> None:
    # Length 20 without 0x80 is normal in RFC 5648 (no C flag there)
    assert not [f for f in check(bu(1, bid(1, COA1))) if f.rule == "MCOA104"]


def test_rfc_only_rule_reports_the_rfc_section() -> None:
    found = [f for f in check(bu(1, bid(1, COA2, flags=0x80), src="2001:db8:a::100")) if f.rule == "MCOA407"]
    assert [(f.section, f.severity) for f in found] == [("§5.6.3", "error")]


def test_select_runs_only_matching_prefixes() -> None:
    packets = (bu(1, bid(0, COA1), bid(1, COA1)), ba(1))
    only_1 = check(*packets, config=CheckerConfig(select=("MCOA1",)))
    assert only_1 and all(f.rule.startswith("MCOA1") for f in only_1)
    assert {f.rule for f in check(*packets, config=CheckerConfig(select=("MCOA301",)))} == {"MCOA301"}


def test_findings_are_sorted_by_frame_and_deduplicated() -> None:
    rule = BY_CODE["MCOA101"]
    late = complete(rule, Hit("b", 9, 9.0, bid=0), CheckerConfig())
    early = complete(rule, Hit("a", 2, 2.0, bid=0), CheckerConfig())
    again = complete(rule, Hit("a again", 2, 2.0, bid=0), CheckerConfig())
    assert late and early and again
    assert [f.message for f in finalise([late, early, again])] == ["a", "b"]


def test_to_dict_has_the_export_keys() -> None:
    found = check(bu(1, bid(0, COA1)))
    row = next(f for f in found if f.rule == "MCOA101").to_dict()
    for key in ("rule", "section", "severity", "frame", "message", "rfc_section", "time", "hoa", "bid"):
        assert key in row
    assert row["frame"] == 1 and row["bid"] == 0 and row["hoa"] == "2001:db8:a::100"


def test_checker_without_engine_uses_observed_events() -> None:
    checker = Checker()
    (packet,) = number([bu(1, bid(0, COA1))])
    checker.observe(packet, [])
    assert [f.rule for f in checker.finish()] == ["MCOA101"]


def test_registry_lines_are_complete() -> None:
    for rule in RULES:
        assert rule.code.startswith("MCOA") and len(rule.code) in (7, 8)  # MCOA10xx: IKEv2
        assert rule.severity in ("error", "warning", "info")
        assert rule.doc.startswith("What:") and "Why:" in rule.doc and "Example:" in rule.doc, rule.code
        assert rule.summary and rule.name[0].isupper()


def test_a_message_seen_at_two_capture_points_is_reported_once() -> None:
    import dataclasses

    first = bu(1, bid(1, COA1), bid(1, COA2), at=1000.0)
    again = dataclasses.replace(bu(1, bid(1, COA1), bid(1, COA2), at=1000.01), interface=1)
    assert [f.frame for f in check(first, again) if f.rule == "MCOA111"] == [1]


def test_history_rules_work_when_the_engine_keeps_no_events() -> None:
    from mcoaviz.engine.engine import BindingEngine, EngineConfig

    engine = BindingEngine(EngineConfig(keep_events=False))
    checker = Checker()
    for packet in number([bu(1, bid(1, COA1)), ba(1)]):  # BA without the BID: MCOA301
        checker.observe(packet, engine.feed(packet))
    checker.observe_traffic([], engine.finish(1010.0))
    assert engine.events == []
    assert [(f.frame, f.rule) for f in checker.finish(engine) if f.rule == "MCOA301"] == [(2, "MCOA301")]


def test_forget_before_drops_the_history_and_findings_before_the_cut() -> None:
    from mcoaviz.pipeline import Pipeline
    from mcoaviz.sources import open_capture
    from tests.conftest import SAMPLES

    pipeline = Pipeline()
    with open_capture(SAMPLES / "violations-rfc5648.pcapng") as source:
        pipeline.feed_records(source.records())
    pipeline.finish()
    checker = pipeline.checker
    assert checker is not None
    whole = checker.finish(None)
    events = list(checker._events)
    cut = 1_700_000_010.0
    assert len(whole) == 14 and sum(f.time is not None and f.time < cut for f in whole) == 5
    checker.forget_before(cut)
    # events go in processing order: the leading run older than the cut is dropped
    dropped = next(i for i, e in enumerate(events) if e.time >= cut)  # type: ignore[attr-defined]
    assert dropped > 0 and checker._events == events[dropped:]
    assert min(p.time for p in checker._signalling.values()) >= cut
    assert all(f.time is not None and f.time >= cut for f in checker._findings)
    after = checker.finish(None)
    assert after and all(f.time is not None and f.time >= cut for f in after)
    # the rules only see the window: a packet rule's finding after the cut is still there
    assert ("MCOA901", 229) in {(f.rule, f.frame) for f in after}


def test_at_one_frame_errors_come_before_warnings_and_infos() -> None:
    # runner: "sort by frame, then severity" (most severe first), then rule code
    config = CheckerConfig()
    info = complete(BY_CODE["MCOA603"], Hit("info", 3, 3.0), config)  # registry: info
    warning = complete(BY_CODE["MCOA902"], Hit("warning", 3, 3.0), config)  # registry: warning
    error = complete(BY_CODE["MCOA904"], Hit("error", 3, 3.0), config)  # registry: error
    earlier = complete(BY_CODE["MCOA902"], Hit("earlier", 2, 2.0), config)
    assert info and warning and error and earlier
    ordered = [f.message for f in finalise([info, warning, error, earlier])]
    assert ordered == ["earlier", "error", "warning", "info"]


def test_kept_signalling_packets_share_equal_addressing_and_options() -> None:
    """The history rules' copy of each message is equal to it; a node's refreshes keep one
    addressing and one options tuple (the BID options) between them, not one per message."""
    from mcoaviz.engine.engine import BindingEngine

    first, again, other = number((bu(1, bid(1, COA1), bid(2, COA2)), bu(2, bid(1, COA1), bid(2, COA2)),
                                  bu(3, bid(1, COA2), src=COA2)))
    engine, checker = BindingEngine(), Checker()
    for p in (first, again, other):
        checker.observe(p, engine.feed(p))
    kept = checker._signalling
    assert [kept[p.frame] for p in (first, again, other)] == [first, again, other]
    assert kept[again.frame].path is kept[first.frame].path
    assert kept[again.frame].mobility.options is kept[first.frame].mobility.options  # type: ignore[union-attr]
    assert kept[again.frame].mobility.bids == again.mobility.bids  # type: ignore[union-attr]
    assert kept[other.frame].path is not kept[first.frame].path
    assert kept[other.frame].mobility.options[0] is not kept[first.frame].mobility.options[0]  # type: ignore[union-attr]
    assert kept[other.frame].mobility.body is other.mobility.body  # type: ignore[union-attr]
    # two BAs with the same seq, status and lifetime (different nodes) share their fixed part
    one, two = number((ba(7, bid(1)), ba(7, bid(1), dst=COA2, hoa="2001:db8:a::200")))
    for p in (one, two):
        checker.observe(p, engine.feed(p))
    assert kept[two.frame] == two and kept[two.frame].mobility.body is kept[one.frame].mobility.body  # type: ignore[union-attr]


def test_sharing_starts_over_past_its_bound(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import mcoaviz.checker as checker_module
    from mcoaviz.engine.engine import BindingEngine

    monkeypatch.setattr(checker_module, "SHARED_LIMIT", 3)
    packets = number(tuple(bu(seq, bid(1, COA1)) for seq in range(1, 6)))
    engine, checker = BindingEngine(), Checker()
    for p in packets:
        checker.observe(p, engine.feed(p))
        assert len(checker._shared) <= 3 + 3  # the bound, then one packet's parts (path, option, tuple, body)
    assert [checker._signalling[p.frame] for p in packets] == list(packets)
