"""History rules that judge one answered Binding Update at a time.

Many history rules are a pure function of one (``BindingUpdateProcessed``, BU packet, BA packet)
triple, or of one ``BindingUpdateProcessed`` alone, plus the configuration and the frames'
dialects. Such a rule is written once, as that function (its *judge*), and wrapped here:

* ``PerAnswer(judge)``: ``judge(outcome, bu, ba, reader)`` for every answered BU
  (``HistoryContext.answered``);
* ``PerOutcome(judge)``: ``judge(outcome, reader)`` for every ``BindingUpdateProcessed`` with a
  BA (``ba_frame`` set), whether or not the packets are at hand (``reader.packet`` may be None).

Called with a ``HistoryContext`` the wrapper is the rule's batch form (the judge mapped over the
whole history: what tests and ``history="all"`` run). The streaming checker
(``Checker(streaming=True)``) calls the judge itself when the engine emits the outcome, so it
need not keep the BU and BA packets until the end (issue 8: memory that does not grow with the
signalling). One implementation of each rule either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from dissector.codepoints import Dialect
from dissector.records import Packet
from mcoaviz.checker.context import CheckerConfig, HistoryContext, dialect_of
from mcoaviz.checker.finding import Hit
from mcoaviz.engine.events import BindingUpdateProcessed

ANSWER = "answer"
OUTCOME = "outcome"


class AnswerReader(Protocol):
    """What a judge may read beside its outcome and packets: the configuration and the dialect of
    a frame, and the outcome's own BU and BA packets (``HistoryContext`` is one; the streaming
    checker passes a ``OneAnswer``)."""

    @property
    def config(self) -> CheckerConfig: ...

    def dialect_of(self, frame: int | None) -> Dialect: ...

    def packet(self, frame: int | None) -> Packet | None: ...


AnswerJudge = Callable[[BindingUpdateProcessed, Packet, Packet, AnswerReader], list[Hit]]
OutcomeJudge = Callable[[BindingUpdateProcessed, AnswerReader], list[Hit]]


class PerAnswer:
    """A history rule that judges each answered BU on its own (see the module docstring)."""

    unit = ANSWER

    def __init__(self, judge: AnswerJudge) -> None:
        self.judge = judge
        self.__doc__ = judge.__doc__
        self.__name__ = judge.__name__

    def __call__(self, ctx: HistoryContext) -> list[Hit]:
        judge = self.judge
        return [hit for p, bu, ba in ctx.answered for hit in judge(p, bu, ba, ctx)]


class PerOutcome:
    """A history rule that judges each ``BindingUpdateProcessed`` with a BA on its own."""

    unit = OUTCOME

    def __init__(self, judge: OutcomeJudge) -> None:
        self.judge = judge
        self.__doc__ = judge.__doc__
        self.__name__ = judge.__name__

    def __call__(self, ctx: HistoryContext) -> list[Hit]:
        judge = self.judge
        return [hit for p in ctx.of(BindingUpdateProcessed) if p.ba_frame is not None
                for hit in judge(p, ctx)]


class OneAnswer:
    """The reader the streaming checker hands a judge: the BU and BA packets of the outcome
    being judged (all a judge may ask ``dialect_of`` about), the frames' pair dialects and the
    configuration."""

    __slots__ = ("config", "frame_dialects", "packets")

    def __init__(self, config: CheckerConfig, frame_dialects: Mapping[int, Dialect]) -> None:
        self.config = config
        self.frame_dialects = frame_dialects
        self.packets: dict[int, Packet] = {}

    def packet(self, frame: int | None) -> Packet | None:
        return None if frame is None else self.packets.get(frame)

    def dialect_of(self, frame: int | None) -> Dialect:
        packet = None if frame is None else self.packets.get(frame)
        return dialect_of(packet.mobility if packet is not None else None, frame, self.frame_dialects,
                          self.config)


__all__ = ["ANSWER", "OUTCOME", "AnswerReader", "OneAnswer", "PerAnswer", "PerOutcome"]
