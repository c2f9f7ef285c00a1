"""History rules that keep their own small per-key state as the events arrive.

A history rule that reads the whole history at the end makes the engine keep every event of the
kinds it reads (``Rule.reads``) until then: memory that grows with the signalling (issue 8). A
rule written as a *state* instead keeps only what it still needs per key (a home address, a
(HoA, peer) pair, a binding) and is fed each event of its kinds in processing order:

* ``observe(event, reader)``: one engine event of the kinds the rule reads, in processing order.
  ``reader`` (an ``EventReader``) gives the configuration, the packet of a frame (the packet the
  event came with, a BU still waiting for its outcome, or a packet the checker keeps) and a
  frame's dialect. What a frame's dialect or the capture's is may still change until the end
  (the capture-wide fallback is decided last): keep frames, decide dialects in ``hits``.
* ``hits(ctx)``: the hits so far, with the end-of-capture ``HistoryContext`` (configuration,
  capture times, folds, frame dialects, kept packets). It reads no events from ``ctx`` (in the
  streaming checker it holds none of the rule's kinds) and must not change the state: a live
  view asks again.

``PerKey(State, *kinds, name=..., packets=..., seen=...)`` wraps the class as the rule's ``check``
(the kinds it is fed are part of the rule's ``reads``; ``packets``: the packet needs ``hits``
reads of the end context, kept for it; ``seen``: the message kinds of the sightings it is fed;
the docstring is the rule's).
Called with a ``HistoryContext`` it is the batch form: a fresh state fed ``ctx.in_order(*kinds)``,
then ``hits(ctx)`` (what tests and ``history="all"`` run). The streaming checker
(``Checker(streaming=True)``) makes one state per rule and feeds it as the engine emits events,
so none of those events is kept to the end.
One implementation of each rule either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from dissector.codepoints import Dialect
from dissector.records import Packet
from mcoaviz.checker.context import CheckerConfig, HistoryContext, dialect_of
from mcoaviz.checker.finding import Hit
from mcoaviz.engine.events import MessageSeen

STATE = "state"
BU_SIGHTINGS = frozenset({"BU"})  # ``seen=``: a rule that reads only the sightings of BUs


class EventReader(Protocol):
    """What ``observe`` may read beside the event: the configuration (its ``dialect`` is the
    capture's as known so far), a frame's packet and a frame's dialect (``HistoryContext`` is
    one; the streaming checker passes a ``StreamReader``)."""

    @property
    def config(self) -> CheckerConfig: ...

    def dialect_of(self, frame: int | None) -> Dialect: ...

    def packet(self, frame: int | None) -> Packet | None: ...


class RuleState(Protocol):
    def observe(self, event: Any, reader: EventReader) -> None: ...

    def hits(self, ctx: HistoryContext) -> list[Hit]: ...

    # optional: ``prune(horizon, reader)`` drops what can no longer change a finding, given
    # that no event still to come is older than ``horizon`` (capture time); the streaming
    # checker calls it now and then with a ``StreamReader``, the batch form never: the tests
    # compare both, so a prune that loses a finding shows


class PerKey:
    """A history rule written as a state fed event by event (see the module docstring)."""

    unit = STATE

    def __init__(self, state: Callable[[], RuleState], *kinds: type, name: str,
                 packets: frozenset[str] = frozenset(), seen: frozenset[str] | None = None) -> None:
        self.make = state
        self.kinds = kinds
        # the message kinds of the ``MessageSeen`` events it is fed (e.g. {"BU"}); None: all. The
        # others are not fed at all (a call per sighting per rule saved: half are BAs)
        self.seen = seen
        # the signalling packets ``hits`` reads of the end context (needs, checker/keep.py, e.g.
        # "ND" for the home-link rules): the streaming checker keeps those for it
        self.packets = packets
        self.__doc__ = state.__doc__
        self.__name__ = name

    def feeds(self, event: object) -> bool:
        """Whether the state is fed this event (one of its kinds; a sighting of its ``seen``)."""
        if not isinstance(event, self.kinds):
            return False
        return self.seen is None or event.__class__ is not MessageSeen \
            or event.kind in self.seen

    def __call__(self, ctx: HistoryContext) -> list[Hit]:
        state = self.make()
        observe, seen = state.observe, self.seen
        for event in ctx.in_order(*self.kinds):
            if seen is None or event.__class__ is not MessageSeen or event.kind in seen:
                observe(event, ctx)
        return state.hits(ctx)

class StreamReader:
    """The reader the streaming checker hands ``observe``: the packet the events came with
    (``current``), BU packets still waiting for their outcome, the packets the checker keeps,
    BUs given up on that the engine may still apply on evidence (``unanswered``), the frames'
    pair dialects, the configuration, and each HA's latest IKE message (``ike_last``)."""

    __slots__ = ("checker_packets", "config", "current", "frame_dialects", "ike_last", "pending",
                 "unanswered")

    def __init__(self, config: CheckerConfig, frame_dialects: Mapping[int, Dialect],
                 pending: Mapping[int, Packet], checker_packets: Mapping[int, Packet],
                 unanswered: Mapping[int, Packet] | None = None) -> None:
        self.config = config
        self.frame_dialects = frame_dialects
        self.pending = pending
        self.checker_packets = checker_packets
        self.unanswered: Mapping[int, Packet] = {} if unanswered is None else unanswered
        self.current: Packet | None = None
        # HA -> (MN address, time) of the latest IKE message between them so far, in frame
        # order (``prune`` of MCOA1002 reads it)
        self.ike_last: dict[str, tuple[str, float]] = {}

    def packet(self, frame: int | None) -> Packet | None:
        if frame is None:
            return None
        current = self.current
        if current is not None and current.frame == frame:
            return current
        found = self.pending.get(frame)
        if found is None:
            found = self.checker_packets.get(frame)
        return found if found is not None or not self.unanswered else self.unanswered.get(frame)

    def dialect_of(self, frame: int | None) -> Dialect:
        packet = self.packet(frame)
        return dialect_of(packet.mobility if packet is not None else None, frame, self.frame_dialects,
                          self.config)


__all__ = ["BU_SIGHTINGS", "STATE", "EventReader", "PerKey", "RuleState", "StreamReader"]
