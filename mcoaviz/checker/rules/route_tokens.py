"""MCOA509-511: return-routability tokens per care-of address and how a correspondent node answers
the tests (draft §3, §5.2, §5.3, §5.10; RFC §5.2; RFC 6275 §5.2.5-§5.2.7).

History rules replaying the engine's ``MessageSeen`` events once, in capture order, with small
per-key maps (nonce indices per correspondent node and address).
"""

from __future__ import annotations

from typing import Any

from dissector.codepoints import Dialect
from dissector.records import BindingUpdate, CareOfTest, CareOfTestInit, HomeTest, NonceIndices, Packet
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import BU_SIGHTINGS, EventReader, PerKey
from mcoaviz.engine import events as ev

MAX_NONCE_LIFETIME = 240.0  # s, RFC 6275 §5.2.7 / §12: a CN accepts a nonce this long after first use
OUT_OF_WINDOW = 135


def _capture_start(ctx: HistoryContext) -> float:
    return ctx.signalling_start


def _nonces(packet: Packet | None) -> NonceIndices | None:
    mh = packet.mobility if packet is not None else None
    return next((o for o in mh.options if isinstance(o, NonceIndices)), None) if mh is not None else None


class NonceIndexWithoutTest:
    """What: a BU to a correspondent node whose care-of nonce index came from no CoT the CN sent
    to that care-of address (or whose home nonce index came from no HoT to that home address)
    within the last MAX_NONCE_LIFETIME (240 s).
    Why: draft §5.2 / RFC §5.2 "the mobile node MUST have a valid care-of keygen token per
    care-of address" and "home and care-of keygen tokens" for the BU (draft §5.3, §3: "MUST
    maintain" a token per CoA); RFC 6275 §5.2.7: a CN "MUST NOT accept nonces beyond
    MAX_NONCE_LIFETIME seconds" after their first use. Only judged when the capture began at
    least 240 s before the BU and shows that CN's CoTs (HoTs, for the home index: at the CN they
    travel in the clear, elsewhere inside the HA's ESP tunnel). A de-registration, or a BU sent
    from the home address, needs only the home token (6275 §5.2.5).
    Example: capture from t=0; CoT to CoA a with index 3 at t=250; BU from a at t=300 with
    care-of index 7 -> finding at the BU.
    """

    def __init__(self) -> None:
        self.cn_sends: set[tuple[str, str]] = set()  # (CN, "HoT" | "CoT"): tests visible from it
        self.home: dict[tuple[str, str], dict[int, float]] = {}  # (CN, HoA) -> nonce index -> last sent
        self.careof: dict[tuple[str, str], dict[int, float]] = {}  # (CN, CoA) -> nonce index -> last sent
        # BUs to a CN with an index that no test so far made fresh: (BU sighting, home index if
        # stale, care-of index if needed and stale); whether that CN's tests are visible at all and
        # whether the capture began 240 s before are known at the end
        self.stale: list[tuple[ev.MessageSeen, int | None, int | None]] = []

    def observe(self, m: ev.MessageSeen, reader: EventReader) -> None:
        kind = m.kind
        if kind not in ("HoT", "CoT", "BU"):
            return  # only tests from CNs and BUs are judged (their packets are all it reads)
        if kind != "BU":
            if m.src is not None:
                self.cn_sends.add((m.src, kind))
        elif m.role != "correspondent" or not m.hoa or not m.peer:
            return  # a BU to a home agent (the usual case) carries no nonce indices to judge
        packet = reader.packet(m.frame)
        mh = packet.mobility if packet is not None else None
        if mh is None or m.src is None or m.dst is None:
            return
        body = mh.body
        if isinstance(body, HomeTest):
            self.home.setdefault((m.src, m.dst), {})[body.nonce_index] = m.time
        elif isinstance(body, CareOfTest):
            self.careof.setdefault((m.src, m.dst), {})[body.nonce_index] = m.time
        elif isinstance(body, BindingUpdate) and m.role == "correspondent" and m.hoa and m.peer:
            nonces = _nonces(packet)
            if nonces is None:
                return
            home = None if _fresh(self.home.get((m.peer, m.hoa)), nonces.home_nonce_index, m.time) \
                else nonces.home_nonce_index
            careof = None
            if body.lifetime != 0 and m.src != m.hoa:
                coas = {m.src} | {b.coa for b in mh.bids if b.coa}
                if not any(_fresh(self.careof.get((m.peer, c)), nonces.careof_nonce_index, m.time)
                           for c in coas):
                    careof = nonces.careof_nonce_index
            if home is not None or careof is not None:
                self.stale.append((m, home, careof))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        cn_sends = self.cn_sends
        if not cn_sends:  # no test from any CN is visible: nothing to judge the indices against
            return []
        start = _capture_start(ctx)
        hits = []
        for m, home, careof in self.stale:
            if m.time - start < MAX_NONCE_LIFETIME:
                continue
            missing = []
            if home is not None and (m.peer, "HoT") in cn_sends:
                missing.append(f"home nonce index {home} (no HoT to {m.hoa})")
            if careof is not None and (m.peer, "CoT") in cn_sends:
                missing.append(f"care-of nonce index {careof} (no CoT to {m.src})")
            if missing:
                hits.append(Hit(f"BU to correspondent node {m.peer} uses {' and '.join(missing)} within the "
                                f"last {MAX_NONCE_LIFETIME:.0f} s.", m.frame, m.time, m.hoa,
                                m.bids[0] if m.bids else None, ctx.dialect_of(m.frame)))
        return hits


nonce_index_without_test = PerKey(NonceIndexWithoutTest, ev.MessageSeen, name="nonce_index_without_test",
                                  seen=frozenset({"HoT", "CoT", "BU"}))


def _fresh(sent: dict[int, float] | None, index: int, now: float) -> bool:
    return sent is not None and index in sent and now - sent[index] <= MAX_NONCE_LIFETIME


class CotToBidCoa:
    """What: the correspondent node sends the CoT to the care-of address written in the CoTI's
    BID option instead of to the CoTI's source address.
    Why: draft §4.2.1 the Care-of Address field "MUST NOT be used" outside a BU and the receiver
    "SHOULD ignore" it (Q08); RFC 6275 §9.4.4: the CoT goes to the CoTI's source (the care-of
    address being tested). A warning (SHOULD).
    Example: CoTI from CoA a with BID 1 CoA b -> CoT (same cookie) to b -> warning at the CoT.
    """

    def __init__(self) -> None:
        self.claimed: dict[tuple[str, bytes], tuple[str, str]] = {}  # (CN, cookie) -> (CoTI source, BID CoA)
        self.found: list[tuple[ev.MessageSeen, str, int | None]] = []  # (CoT, CoTI source, its first BID)

    def observe(self, m: ev.MessageSeen, reader: EventReader) -> None:
        if m.kind not in ("CoTI", "CoT") or m.src is None or m.dst is None:
            return
        packet = reader.packet(m.frame)
        mh = packet.mobility if packet is not None else None
        if mh is None:
            return
        if isinstance(mh.body, CareOfTestInit):
            coa = next((b.coa for b in mh.bids if b.coa and b.coa != m.src), None)
            if coa is not None:
                self.claimed[(m.dst, mh.body.cookie)] = (m.src, coa)
        elif isinstance(mh.body, CareOfTest):
            found = self.claimed.get((m.src, mh.body.cookie))
            if found is not None and m.dst == found[1] != found[0]:
                self.found.append((m, found[0], mh.bids[0].bid if mh.bids else None))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [Hit(f"CoT went to {m.dst}, the care-of address in the CoTI's BID option, not to "
                    f"the CoTI's source {source}.", m.frame, m.time, None, bid, ctx.dialect_of(m.frame))
                for m, source, bid in self.found]


cot_to_bid_coa = PerKey(CotToBidCoa, ev.MessageSeen, name="cot_to_bid_coa", seen=frozenset({"CoTI", "CoT"}))


class FirstBidBuOutOfWindow:
    """What: (draft-05) the MN's first BU to a correspondent node in the capture carries BID
    options (no regular BU first), and the CN shows it still holds older state: it answers that
    BU 135 (sequence number out of window), or it sends route-optimised traffic for the home
    address to a care-of address never registered with it in the capture.
    Why: draft §5.10 "the mobile node MUST send a regular Binding Update to the correspondent
    node to clear the old bindings if necessary" before its first MCoA registration (Q57).
    Whether clearing was necessary shows only in the CN's behaviour, hence info.
    Example: draft BU BID 1 to a CN (first BU) -> BA 135 -> info at the BA.
    """

    def __init__(self) -> None:
        # (HoA, CN) -> frame of a first BU that had BIDs (its dialect is decided at the end)
        self.first_bid: dict[tuple[str, str], int] = {}
        self.started: set[tuple[str, str]] = set()  # (HoA, CN): a first BU was seen
        # (CN, HoA, CoA) ever bound at the CN, for the (HoA, CN) pairs whose first BU went by (a
        # binding comes from a BU, so none of another pair matters)
        self.bound: set[tuple[str, str, str]] = set()
        self.found: list[tuple[int, Hit]] = []  # (the first BU's frame, the hit)

    def observe(self, e: Any, reader: EventReader) -> None:
        cls = e.__class__
        if cls is not ev.MessageSeen and not self.started:
            return  # no BU to a correspondent node yet (a home agent's capture): nothing to follow
        if cls is ev.MessageSeen:
            if e.kind == "BU" and e.role == "correspondent" and e.hoa and e.peer:
                pair = (e.hoa, e.peer)
                if pair not in self.started:
                    self.started.add(pair)
                    if e.bids:
                        self.first_bid[pair] = e.frame
                elif not e.bids:
                    self.first_bid.pop(pair, None)  # a regular BU cleared the CN after all
        elif cls is ev.BindingStarted:
            if (e.key.hoa, e.key.node) in self.started:
                self.bound.add((e.key.node, e.key.hoa, e.coa))
        elif cls is ev.BindingUpdateProcessed:
            first = self.first_bid.get((e.key.hoa, e.key.node))
            if first is not None and e.ba_status == OUT_OF_WINDOW and e.ba_frame is not None \
                    and e.bu_frame == first:
                self.found.append((first, Hit(
                    "First BU to this correspondent node carries BID option(s) without a regular BU "
                    "first, and the node answered 135: it still held older bindings.", e.ba_frame,
                    e.time, e.key.hoa, None, Dialect.DRAFT05)))
        elif cls is ev.DataWithoutBinding:
            if e.direction != "to-mn" or e.via != "route-optimised":
                return
            first = self.first_bid.get((e.key.hoa, e.key.peer))
            if first is not None and (e.key.peer, e.key.hoa, e.coa) not in self.bound:
                self.found.append((first, Hit(
                    f"Correspondent node sends traffic for {e.key.hoa} to {e.coa}, never registered "
                    "in the capture: the MN's first BU carried BIDs without a regular BU to clear "
                    "older bindings.", e.frame, e.time, e.key.hoa, None, Dialect.DRAFT05,
                    key=f"{e.coa}:{e.time}", episode=f"{e.key.peer}|{e.key.hoa}|{e.coa}")))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return [hit for first, hit in self.found if ctx.dialect_of(first) is Dialect.DRAFT05]


first_bid_bu_out_of_window = PerKey(FirstBidBuOutOfWindow, ev.MessageSeen, ev.BindingStarted,
                                    ev.BindingUpdateProcessed, ev.DataWithoutBinding,
                                    name="first_bid_bu_out_of_window", seen=BU_SIGHTINGS)
