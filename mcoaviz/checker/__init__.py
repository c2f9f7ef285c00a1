"""Conformance checker: turns the draft's MUST/SHOULD sentences into findings on a capture.

The pipeline drives it::

    checker = Checker(CheckerConfig(select=("MCOA1",)))
    checker.observe(packet, events)          # every slow-path Packet, with the engine's events
    checker.observe_traffic(rows, events)    # fast-path TrafficCount rows
    findings = checker.finish(engine)        # sorted by frame, de-duplicated

Stateless rules run on each packet as it arrives; stateful rules run once in ``finish`` on the
engine's complete event list (``engine.events``), never on a state machine of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dissector.codepoints import Dialect
from dissector.records import Packet, TrafficCount
from mcoaviz.checker.context import CheckerConfig, HistoryContext, PacketContext
from mcoaviz.checker.finding import ERROR, INFO, SEVERITIES, WARNING, Finding, Hit
from mcoaviz.checker.registry import BY_CODE, RULES, Rule
from mcoaviz.checker.runner import (
    HISTORY,
    PACKET,
    finalise,
    run_history_rules,
    run_packet_rules,
    selected_rules,
)
from mcoaviz.engine.events import DuplicateSighting


class Checker:
    """Collects findings while a capture is analysed. Not thread-safe; one per analysis."""

    def __init__(self, config: CheckerConfig | None = None) -> None:
        self.config = config or CheckerConfig()
        self._packet_rules = selected_rules(self.config, PACKET)
        self._history_rules = selected_rules(self.config, HISTORY)
        self._findings: list[Finding] = []
        self._events: list[object] = []
        self._signalling: dict[int, Packet] = {}  # MH / ICMPv6 packets by frame, for history rules
        self._hao_data: list[tuple[int | None, float, str, str]] = []
        self._start: float | None = None  # the first record's time (packet or traffic row)
        self._dialects: dict[int, Dialect] = {}  # signalling frame -> its pair's dialect

    def observe(self, packet: Packet, events: Sequence[object] = (), dialect: Dialect | None = None) -> None:
        """One decoded packet and the events the engine produced for it; ``dialect``: its
        (MN, peer) pair's (I-1), for rules about messages without BID options."""
        self._events.extend(events)
        if self._start is None or packet.time < self._start:
            self._start = packet.time
        # the same message seen again at another capture point is one message (engine contract)
        repeated = any(isinstance(e, DuplicateSighting) and e.frame == packet.frame for e in events)
        if packet.mobility is not None or packet.icmp6 is not None:
            self._signalling[packet.frame] = packet
            if dialect is not None:
                self._dialects[packet.frame] = dialect
            if self._packet_rules and not repeated:
                ctx = PacketContext(packet, self.config, dialect)
                self._findings.extend(run_packet_rules(self._packet_rules, ctx))
        elif packet.path.home_address_option and packet.path.dst:
            self._hao_data.append((packet.frame, packet.time, packet.path.home_address_option,
                                   packet.path.dst))

    def observe_traffic(self, rows: Iterable[TrafficCount], events: Sequence[object] = ()) -> None:
        """Fast-path data rows and the events the engine produced for them."""
        self._events.extend(events)
        for row in rows:
            if self._start is None or row.first < self._start:
                self._start = row.first
            if row.home_address_option and row.dst:
                self._hao_data.append((None, row.first, row.home_address_option, row.dst))

    def finish(self, engine: object | None = None) -> list[Finding]:
        """Run the stateful rules on the engine's events; all findings, sorted and de-duplicated.

        Uses ``engine.events`` (the complete history, expiries decided at the end included) when
        it holds at least as much as the events passed to ``observe`` (it is empty when the
        engine runs with ``keep_events=False``); otherwise the observed events. May be called
        again later: it re-runs the stateful rules on the history so far.
        """
        engine_events = getattr(engine, "events", None)
        events = engine_events if engine_events is not None and len(engine_events) >= len(self._events) \
            else self._events
        ctx = HistoryContext(list(events), dict(self._signalling), self.config,
                             hao_data=tuple(self._hao_data), capture_start=self._start,
                             frame_dialects=dict(self._dialects))
        findings = list(self._findings)
        findings.extend(run_history_rules(self._history_rules, ctx))
        return finalise(findings)


__all__ = [
    "BY_CODE", "ERROR", "INFO", "RULES", "SEVERITIES", "WARNING", "Checker", "CheckerConfig",
    "Finding", "Hit", "Rule",
]
