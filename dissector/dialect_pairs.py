"""The dialect per (mobile node, peer) pair, interpretation I-1 of draft05-vs-rfc5648.md.

Interop events and migrations put a draft-05 node and an RFC 5648 node on one link, so one
decision per capture can be wrong for half of it. ``PairDialects`` keeps a ``DialectDetector``
per pair (the MN's home address and the node it talks to) plus one for the whole capture:

* a pair is decided by its own decisive evidence, once, and keeps that decision;
* a pair with none is decided only when the caller says it cannot wait any longer
  (``fall_back``: hold limits reached, or end of input). Then, in this order: the same mobile
  node's other pairs when their own evidence agrees (one MN implements one text; e.g. its
  correspondent nodes, whose messages rarely tell), the capture-wide decisive evidence, the
  pair's own weak evidence, the capture's weak evidence, RFC 5648.

The pair of a message: MN -> peer for BU, HoTI, CoTI (MN = Home Address option, else source);
peer -> MN for BA, BRR, HoT, CoT, BE (MN = type 2 routing header, else destination). A CoTI
leaves from the care-of address and a CoT returns to it, so care-of addresses learnt from BUs
(source, Alternate CoA, BID CoAs) are mapped to their home address first. Pure, no I/O.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from dissector.codepoints import Dialect
from dissector.dialect import DialectDetector
from dissector.records import AlternateCoA, BindingIdentifier, BindingUpdate, MobilityOption, Packet

TOWARDS_MN = frozenset({"BA", "BRR", "HoT", "CoT", "BE"})
FROM_MN = frozenset({"BU", "HoTI", "CoTI"})

Pair = tuple[str, str]  # (MN home address, peer address)


@dataclass(slots=True)
class PairState:
    detector: DialectDetector
    first_frame: int
    messages: int = 0
    dialect: Dialect | None = None
    reason: str = ""
    basis: str = ""  # "own evidence" | "capture-wide fallback" | "own weak evidence" | "--dialect"


@dataclass
class PairDialects:
    """Per-pair dialect decisions, with the capture-wide detector as their fallback."""

    bid_type: int
    forced: Dialect | None = None  # --dialect: every pair, no evidence needed
    capture: DialectDetector = field(init=False)
    capture_dialect: Dialect | None = None  # capture-wide decisive decision, kept once made
    capture_reason: str = ""
    pairs: dict[Pair, PairState] = field(default_factory=dict)
    home_of: dict[str, str] = field(default_factory=dict)  # care-of address -> home address
    by_node: dict[str, set[Dialect]] = field(default_factory=dict)  # HoA -> own-evidence decisions

    def __post_init__(self) -> None:
        self.capture = DialectDetector(self.bid_type)

    # ------------------------------------------------------------------ input
    def pair_of(self, packet: Packet) -> Pair | None:
        """The (MN home address, peer) a Mobility Header message belongs to, or None."""
        m = packet.mobility
        if m is None:
            return None
        path = packet.path
        if m.type_name in FROM_MN:
            mn, peer = path.home_address_option or path.src, path.dst
        elif m.type_name in TOWARDS_MN:
            mn, peer = path.routing_type2 or path.dst, path.src
        else:
            return None
        if mn is None or peer is None:
            return None
        return self.home_of.get(mn, mn), peer

    def observe(self, packet: Packet) -> Pair | None:
        """Learn from one decoded packet; its pair (None when it belongs to none)."""
        m = packet.mobility
        if m is None:
            return None
        self._learn_addresses(packet)
        pair = self.pair_of(packet)
        if self.forced is None and self.capture_dialect is None:
            decided, reason = _decisive(self.capture, packet)
            if decided is not None:
                self.capture_dialect, self.capture_reason = decided, reason
        if pair is None:
            return None
        state = self.pairs.get(pair)
        if state is None:
            state = self.pairs[pair] = PairState(DialectDetector(self.bid_type), packet.frame)
            if self.forced is not None:
                state.dialect, state.reason, state.basis = self.forced, "set by --dialect", "--dialect"
        state.messages += 1
        if state.dialect is None:
            decided, reason = _decisive(state.detector, packet)
            if decided is not None:
                state.dialect, state.reason, state.basis = decided, reason, "own evidence"
                self.by_node.setdefault(pair[0], set()).add(decided)
                state.detector.evidence.clear()  # decided for good: only the reason is kept
        return pair

    def _learn_addresses(self, packet: Packet) -> None:
        """A BU with a Home Address option maps its care-of addresses (source, Alternate CoA,
        BID CoAs) to the home address. Every BU comes here: the options' addresses are read once
        per options tuple (``_care_of_addresses``). The map keeps every CoA ever named (a late
        CoTI / CoT may come from any): its addresses interned, one copy shared with the other
        long-lived tables instead of each packet's own."""
        m = packet.mobility
        path = packet.path
        hoa = path.home_address_option
        if m is None or hoa is None or not isinstance(m.body, BindingUpdate):
            return
        home_of = self.home_of
        coa = path.src
        if coa is not None and coa != hoa and home_of.get(coa) != hoa:
            home_of[sys.intern(coa)] = sys.intern(hoa)
        for coa in _care_of_addresses(m.options):
            if coa != hoa and home_of.get(coa) != hoa:
                home_of[sys.intern(coa)] = sys.intern(hoa)

    # ------------------------------------------------------------------ answers
    def dialect_of(self, pair: Pair | None) -> Dialect | None:
        """The pair's decision so far (None: undecided, or no pair)."""
        state = self.pairs.get(pair) if pair is not None else None
        return None if state is None else state.dialect

    def fall_back(self, pair: Pair) -> Dialect:
        """Decide ``pair`` now, without evidence of its own (I-1 order, see the module text)."""
        state = self.pairs[pair]
        if state.dialect is not None:
            return state.dialect
        dialect, reason = self.capture_dialect, self.capture_reason
        basis = "capture-wide fallback"
        node = self.by_node.get(pair[0], set())
        if len(node) == 1:
            dialect = next(iter(node))
            reason, basis = f"no decisive evidence of its own; mobile node {pair[0]}'s other pairs " \
                f"are {dialect.value}", "same mobile node"
        elif dialect is not None:
            reason = f"no decisive evidence of its own; capture-wide: {reason}"
        if dialect is None:
            weak = [e for e in state.detector.evidence if e.counts]
            if weak:
                dialect, reason = state.detector.final()
                basis = "own weak evidence"
            else:
                dialect, reason = self.capture.final()
        state.dialect, state.reason, state.basis = dialect, reason, basis
        state.detector.evidence.clear()
        return dialect

    def rows(self) -> list[dict[str, Any]]:
        """The export's ``dialects`` table: one row per pair, in order of first appearance."""
        return [{"hoa": hoa, "peer": peer, "dialect": s.dialect.value if s.dialect else None,
                 "basis": s.basis, "reason": s.reason, "first_frame": s.first_frame,
                 "messages": s.messages}
                for (hoa, peer), s in sorted(self.pairs.items(), key=lambda kv: kv[1].first_frame)]


def _decisive(detector: DialectDetector, packet: Packet) -> tuple[Dialect | None, str]:
    """Feed ``packet``; the decision if it brought the first decisive evidence (the detector is
    fed only while undecided, so only the new observations need a look: no rescan per message)."""
    before = len(detector.evidence)
    detector.observe(packet)
    if any(e.decisive for e in detector.evidence[before:]):
        return detector.decision()
    return None, ""


# options tuple's id -> (the tuple, the care-of addresses it names: Alternate CoA options, then
# the BIDs' CoAs). A node's refresh BUs share one options tuple (dissector.options.walk_options),
# so each is read once. The tuple is kept with them: its id cannot be reused while the entry lives.
_COAS: dict[int, tuple[tuple[MobilityOption, ...], tuple[str, ...]]] = {}
COAS_CACHE_LIMIT = 1 << 13  # as dissector.decode.REPEAT_CACHE_LIMIT


def _care_of_addresses(options: tuple[MobilityOption, ...]) -> tuple[str, ...]:
    known = _COAS.get(id(options))
    if known is not None and known[0] is options:
        return known[1]
    coas = tuple(o.address for o in options if isinstance(o, AlternateCoA)) + tuple(
        o.coa for o in options if isinstance(o, BindingIdentifier) and o.coa is not None)
    if len(_COAS) >= COAS_CACHE_LIMIT:
        _COAS.clear()
    _COAS[id(options)] = (options, coas)
    return coas
