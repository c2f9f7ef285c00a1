"""MCOA13x: first registrations the capture shows (issue 11, point 4).

The engine decides whether a Length-4 BID option for a BID the capture never saw refreshes a
binding older than the capture or is a first registration (``BindingStarted.first_registration``
names the evidence, ``mcoaviz/engine/preparation.py``); the rule only reports the latter.
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.engine import events as ev


def first_registration_without_coa(ctx: HistoryContext) -> list[Hit]:
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
    hits: list[Hit] = []
    if not any(s.first_registration for s in ctx.of(ev.BindingStarted)):
        return hits
    processed: ev.BindingUpdateProcessed | None = None
    for e in ctx.in_order(ev.BindingUpdateProcessed, ev.BindingStarted):
        if isinstance(e, ev.BindingUpdateProcessed):
            processed = e
        elif isinstance(e, ev.BindingStarted) and e.first_registration and processed is not None:
            hits.append(Hit(f"BID {e.key.bid} is registered for the first time at {e.key.node} without its "
                            f"care-of address (Length 4); the capture shows it prepared: "
                            f"{e.first_registration}. The node accepted it with CoA {e.coa} "
                            "(the BU's source).",
                            processed.bu_frame, processed.bu_time, e.key.hoa, e.key.bid, Dialect.RFC5648))
    return hits
