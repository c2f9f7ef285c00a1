"""Evidence that the capture shows a registration being *prepared* (issue 11, point 4).

An RFC 5648 BID option of Length 4 carries no care-of address; RFC §5.1 lets a mobile node omit
it only when it re-registers a BID. So a Length-4 option for a BID the capture never saw is
normally read as the refresh of a binding older than the capture (``pre_existing``). That
reading is wrong when the capture shows the registration being prepared; then the BU is a first
registration without the CoA the RFC requires (the checker reports it), the binding starts when
the node accepts it and its CoA is the BU's source (I-6). The evidence, in the order it is tried
(docs/engine.md, "First registrations"):

1. a care-of test for that BID or that CoA with that peer (CoTI/CoT) shortly before the BU;
2. a home test of that HoA with that peer (HoTI/HoT) shortly before the BU;
3. an earlier accepted BU of the same HoA to the same peer that left the node's binding set
   known (a regular BU, an O-flag BU or a full de-registration) and did not list the BID:
   after it the node can hold that BID only if the capture shows it registered.

"Shortly" is MAX_TOKEN_LIFETIME (6275 §12, 210 s): return-routability tokens older than that
cannot authorise the BU, so an older test prepared something else.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKEN_LIFETIME = 210.0  # MAX_TOKEN_LIFETIME, 6275 §12
TESTS_KEPT = 100_000  # tests remembered (a memory bound on captures full of RR traffic)


@dataclass(frozen=True, slots=True)
class Sighting:
    time: float
    frame: int
    kind: str  # "CoTI" | "CoT" | "HoTI" | "HoT" | "BU"


class Preparation:
    """Remembers the latest return-routability tests and the BUs that reset a binding set."""

    def __init__(self) -> None:
        self._care_of: dict[tuple[str, str], Sighting] = {}  # (peer, CoA) -> latest CoTI/CoT
        self._care_of_bid: dict[tuple[str, int], Sighting] = {}  # (peer, BID) -> latest with that BID
        self._home: dict[tuple[str, str], Sighting] = {}  # (peer, HoA) -> latest HoTI/HoT
        # (node, HoA) -> the BU that last set the whole binding set, and the BIDs it listed
        self._complete: dict[tuple[str, str], tuple[Sighting, frozenset[int]]] = {}

    def care_of_test(self, kind: str, time: float, frame: int, peer: str, coa: str,
                     bids: tuple[int, ...]) -> None:
        if len(self._care_of) >= TESTS_KEPT:
            self._care_of.clear()
            self._care_of_bid.clear()
        seen = Sighting(time, frame, kind)
        self._care_of[(peer, coa)] = seen
        for bid in bids:
            self._care_of_bid[(peer, bid)] = seen

    def home_test(self, kind: str, time: float, frame: int, peer: str, hoa: str) -> None:
        if len(self._home) >= TESTS_KEPT:
            self._home.clear()
        self._home[(peer, hoa)] = Sighting(time, frame, kind)

    def set_complete(self, node: str, hoa: str, time: float, frame: int, bids: tuple[int, ...]) -> None:
        """An accepted BU after which the node holds exactly ``bids`` for the HoA (none: regular
        BU or full de-registration)."""
        self._complete[(node, hoa)] = (Sighting(time, frame, "BU"), frozenset(bids))

    def evidence(self, *, node: str, hoa: str, bid: int, coa: str, bu_time: float) -> str:
        """Why this Length-4 registration is a first one ("" when the capture does not show it)."""
        recent = [s for s in (self._care_of_bid.get((node, bid)), self._care_of.get((node, coa)))
                  if s is not None and 0 <= bu_time - s.time <= TOKEN_LIFETIME]
        if recent:
            s = max(recent, key=lambda s: s.time)
            what = f"BID {bid}" if s is self._care_of_bid.get((node, bid)) else f"care-of address {coa}"
            return f"{s.kind} for {what} at frame {s.frame}, {bu_time - s.time:.3f} s before the BU"
        home = self._home.get((node, hoa))
        if home is not None and 0 <= bu_time - home.time <= TOKEN_LIFETIME:
            return f"{home.kind} of {hoa} at frame {home.frame}, {bu_time - home.time:.3f} s before the BU"
        complete = self._complete.get((node, hoa))
        if complete is not None and complete[0].time <= bu_time and bid not in complete[1]:
            listed = ", ".join(str(b) for b in sorted(complete[1])) or "none"
            return (f"the BU at frame {complete[0].frame} set every binding of {hoa} at {node} "
                    f"(BIDs listed: {listed}) and BID {bid} was not registered since")
        return ""
