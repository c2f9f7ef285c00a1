"""MCOA13x: first registrations the capture shows (issue 11, point 4).

The engine decides whether a Length-4 BID option for a BID the capture never saw refreshes a
binding older than the capture or is a first registration (``BindingStarted.first_registration``
names the evidence, ``mcoaviz/engine/preparation.py``); the rule only reports the latter.
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import EventReader, PerKey
from mcoaviz.engine import events as ev


class FirstRegistrationWithoutCoa:
    """What: (RFC 5648) a BU registers a BID for the first time with a BID option of Length 4
    (no care-of address), and the node accepted it. "First" is what the capture shows: a
    return-routability exchange for that BID, CoA or home address shortly before (210 s), or an
    earlier accepted BU (O flag, regular, full de-registration) that set the node's whole
    binding set without that BID. Without such evidence the engine reads the BU as the refresh
    of a binding older than the capture and nothing is reported.
    Why: RFC §5.1 "the mobile node MUST include the care-of address in the Binding Identifier
    mobility option" unless it re-registers the same BID; the node should have answered MCOA
    UNKNOWN COA (167, §6.2; that case is MCOA115). The engine takes the BU's source as the CoA
    (I-6).
    Example: CoTI/CoT from CoA b with the CN, then BU to the CN with BID 2 Length 4, BA 0 ->
    error at the BU.
    """

    def __init__(self) -> None:
        self.processed: tuple[int, float] | None = None  # the latest outcome's BU (frame, time)
        self.found: list[Hit] = []

    def observe(self, e: ev.BindingUpdateProcessed | ev.BindingStarted, reader: EventReader) -> None:
        if isinstance(e, ev.BindingUpdateProcessed):
            self.processed = (e.bu_frame, e.bu_time)
        elif e.first_registration and self.processed is not None:
            frame, time = self.processed
            self.found.append(Hit(f"BID {e.key.bid} is registered for the first time at {e.key.node} without "
                                  f"its care-of address (Length 4); the capture shows it prepared: "
                                  f"{e.first_registration}. The node accepted it with CoA {e.coa} "
                                  "(the BU's source).", frame, time, e.key.hoa, e.key.bid, Dialect.RFC5648))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return list(self.found)


first_registration_without_coa = PerKey(FirstRegistrationWithoutCoa, ev.BindingUpdateProcessed,
                                         ev.BindingStarted, name="first_registration_without_coa")
