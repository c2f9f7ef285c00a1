"""MCOA509-511: return-routability tokens per care-of address and how a correspondent node answers
the tests (draft §3, §5.2, §5.3, §5.10; RFC §5.2; RFC 6275 §5.2.5-§5.2.7).

History rules replaying the engine's ``MessageSeen`` events once, in capture order, with small
per-key maps (nonce indices per correspondent node and address).
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.records import BindingUpdate, CareOfTest, CareOfTestInit, HomeTest, NonceIndices, Packet
from mcoaviz.checker.context import HistoryContext
from mcoaviz.checker.finding import Hit
from mcoaviz.engine import events as ev

MAX_NONCE_LIFETIME = 240.0  # s, RFC 6275 §5.2.7 / §12: a CN accepts a nonce this long after first use
OUT_OF_WINDOW = 135


def _capture_start(ctx: HistoryContext) -> float:
    return ctx.signalling_start


def _nonces(packet: Packet | None) -> NonceIndices | None:
    mh = packet.mobility if packet is not None else None
    return next((o for o in mh.options if isinstance(o, NonceIndices)), None) if mh is not None else None


def nonce_index_without_test(ctx: HistoryContext) -> list[Hit]:
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
    start = _capture_start(ctx)
    seen = ctx.of(ev.MessageSeen)
    cn_sends = {(m.src, m.kind) for m in seen if m.kind in ("HoT", "CoT")}
    if not cn_sends:  # no test from any CN is visible: nothing to judge the indices against
        return []
    home: dict[tuple[str, str], dict[int, float]] = {}  # (CN, HoA) -> nonce index -> last sent
    careof: dict[tuple[str, str], dict[int, float]] = {}  # (CN, CoA) -> nonce index -> last sent
    hits = []
    for m in seen:
        if m.kind not in ("HoT", "CoT", "BU"):
            continue  # only tests from CNs and BUs are judged (their packets are all it reads)
        packet = ctx.packet(m.frame)
        mh = packet.mobility if packet is not None else None
        if mh is None or m.src is None or m.dst is None:
            continue
        body = mh.body
        if isinstance(body, HomeTest):
            home.setdefault((m.src, m.dst), {})[body.nonce_index] = m.time
        elif isinstance(body, CareOfTest):
            careof.setdefault((m.src, m.dst), {})[body.nonce_index] = m.time
        elif isinstance(body, BindingUpdate) and m.role == "correspondent" and m.hoa and m.peer:
            nonces = _nonces(packet)
            if nonces is None or m.time - start < MAX_NONCE_LIFETIME:
                continue
            missing = []
            if (m.peer, "HoT") in cn_sends and not _fresh(home.get((m.peer, m.hoa)), nonces.home_nonce_index,
                                                          m.time):
                missing.append(f"home nonce index {nonces.home_nonce_index} (no HoT to {m.hoa})")
            needs_careof = body.lifetime != 0 and m.src != m.hoa
            coas = {m.src} | {b.coa for b in mh.bids if b.coa}
            if needs_careof and (m.peer, "CoT") in cn_sends and not any(
                    _fresh(careof.get((m.peer, c)), nonces.careof_nonce_index, m.time) for c in coas):
                missing.append(f"care-of nonce index {nonces.careof_nonce_index} (no CoT to {m.src})")
            if missing:
                hits.append(Hit(f"BU to correspondent node {m.peer} uses {' and '.join(missing)} within the "
                                f"last {MAX_NONCE_LIFETIME:.0f} s.", m.frame, m.time, m.hoa,
                                m.bids[0] if m.bids else None, ctx.dialect_of(m.frame)))
    return hits


def _fresh(sent: dict[int, float] | None, index: int, now: float) -> bool:
    return sent is not None and index in sent and now - sent[index] <= MAX_NONCE_LIFETIME


def cot_to_bid_coa(ctx: HistoryContext) -> list[Hit]:
    """What: the correspondent node sends the CoT to the care-of address written in the CoTI's
    BID option instead of to the CoTI's source address.
    Why: draft §4.2.1 the Care-of Address field "MUST NOT be used" outside a BU and the receiver
    "SHOULD ignore" it (Q08); RFC 6275 §9.4.4: the CoT goes to the CoTI's source (the care-of
    address being tested). A warning (SHOULD).
    Example: CoTI from CoA a with BID 1 CoA b -> CoT (same cookie) to b -> warning at the CoT.
    """
    claimed: dict[tuple[str, bytes], tuple[str, str]] = {}  # (CN, cookie) -> (CoTI source, BID CoA)
    hits = []
    for m in ctx.of(ev.MessageSeen):
        if m.kind not in ("CoTI", "CoT") or m.src is None or m.dst is None:
            continue
        packet = ctx.packet(m.frame)
        mh = packet.mobility if packet is not None else None
        if mh is None:
            continue
        if isinstance(mh.body, CareOfTestInit):
            coa = next((b.coa for b in mh.bids if b.coa and b.coa != m.src), None)
            if coa is not None:
                claimed[(m.dst, mh.body.cookie)] = (m.src, coa)
        elif isinstance(mh.body, CareOfTest):
            found = claimed.get((m.src, mh.body.cookie))
            if found is not None and m.dst == found[1] != found[0]:
                hits.append(Hit(f"CoT went to {m.dst}, the care-of address in the CoTI's BID option, not to "
                                f"the CoTI's source {found[0]}.", m.frame, m.time, None,
                                mh.bids[0].bid if mh.bids else None, ctx.dialect_of(m.frame)))
    return hits


def first_bid_bu_out_of_window(ctx: HistoryContext) -> list[Hit]:
    """What: (draft-05) the MN's first BU to a correspondent node in the capture carries BID
    options (no regular BU first), and the CN shows it still holds older state: it answers that
    BU 135 (sequence number out of window), or it sends route-optimised traffic for the home
    address to a care-of address never registered with it in the capture.
    Why: draft §5.10 "the mobile node MUST send a regular Binding Update to the correspondent
    node to clear the old bindings if necessary" before its first MCoA registration (Q57).
    Whether clearing was necessary shows only in the CN's behaviour, hence info.
    Example: draft BU BID 1 to a CN (first BU) -> BA 135 -> info at the BA.
    """
    first_bid: dict[tuple[str, str], int] = {}  # (HoA, CN) -> frame of a first BU that had BIDs
    started: set[tuple[str, str]] = set()  # (HoA, CN): a first BU was seen
    bound: set[tuple[str, str, str]] = set()  # (CN, HoA, CoA) ever bound at the CN
    if not any(m.role == "correspondent" and m.bids for m in ctx.bu_seen):
        return []
    hits = []
    for e in ctx.in_order(ev.MessageSeen, ev.BindingStarted, ev.BindingUpdateProcessed,
                          ev.DataWithoutBinding):
        if isinstance(e, ev.MessageSeen) and e.kind == "BU" and e.role == "correspondent" \
                and e.hoa and e.peer:
            pair = (e.hoa, e.peer)
            if pair not in started:
                started.add(pair)
                if e.bids and ctx.dialect_of(e.frame) is Dialect.DRAFT05:
                    first_bid[pair] = e.frame
            elif not e.bids:
                first_bid.pop(pair, None)  # a regular BU cleared the CN after all
        elif isinstance(e, ev.BindingStarted):
            bound.add((e.key.node, e.key.hoa, e.coa))
        elif isinstance(e, ev.BindingUpdateProcessed) and e.ba_status == OUT_OF_WINDOW \
                and e.ba_frame is not None and e.bu_frame == first_bid.get((e.key.hoa, e.key.node)):
            hits.append(Hit("First BU to this correspondent node carries BID option(s) without a regular BU "
                            "first, and the node answered 135: it still held older bindings.", e.ba_frame,
                            e.time, e.key.hoa, None, Dialect.DRAFT05))
        elif isinstance(e, ev.DataWithoutBinding) and e.direction == "to-mn" and e.via == "route-optimised" \
                and (e.key.hoa, e.key.peer) in first_bid and (e.key.peer, e.key.hoa, e.coa) not in bound:
            hits.append(Hit(f"Correspondent node sends traffic for {e.key.hoa} to {e.coa}, never registered "
                            "in the capture: the MN's first BU carried BIDs without a regular BU to clear "
                            "older bindings.", e.frame, e.time, e.key.hoa, None, Dialect.DRAFT05,
                            key=f"{e.coa}:{e.time}", episode=f"{e.key.peer}|{e.key.hoa}|{e.coa}"))
    return hits
