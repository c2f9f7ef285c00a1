"""MCOA9xx: base Mobile IPv6 problems (RFC 6275) that explain MCoA misbehaviour too."""

from __future__ import annotations

from dissector.codepoints import BAStatus
from mcoaviz.checker.answers import AnswerReader, PerOutcome
from mcoaviz.checker.context import HistoryContext, PacketContext
from mcoaviz.checker.finding import Hit
from mcoaviz.checker.perkey import EventReader, PerKey
from mcoaviz.checker.rules._common import packet_hit
from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey

OUT_OF_WINDOW = int(BAStatus.SEQUENCE_OUT_OF_WINDOW)
MAX_BINDACK_TIMEOUT = 32.0  # 6275 §13: a BA later than this is not coming


def bad_checksum(ctx: PacketContext) -> list[Hit]:
    """What: a Mobility Header whose checksum does not verify.
    Why: 6275 §6.1.1: the checksum covers the pseudo-header and the whole MH; a receiver MUST
    silently discard a message with a wrong one, so nothing after it can be trusted.
    Example: BU with checksum 0x0000 -> finding at the BU.
    """
    mh = ctx.message
    if mh is None or mh.checksum_ok is not False:
        return []
    return [packet_hit(ctx, f"{mh.type_name} has a bad Mobility Header checksum (0x{mh.checksum:04x}).")]


def malformed_mobility(ctx: PacketContext) -> list[Hit]:
    """What: a Mobility Header or mobility option the dissector could not decode cleanly.
    Why: 6275 §6.1/§6.2 (message and option formats); the receiver would drop it. A warning:
    a short snapshot length produces the same picture.
    Example: BU whose option area overruns the Header Len -> warning at the BU.
    """
    if not ctx.packet.problems:  # the usual case, on every message
        return []
    problems = [p for p in ctx.packet.problems if p.severity == "error"
                and (p.layer.startswith("mobility") or p.layer.startswith("option"))]
    if not problems:
        return []
    first = problems[0]
    return [packet_hit(ctx, f"Malformed mobility message: {first.reason} (at byte {first.offset}).")]


class AckWithoutUpdate:
    """What: a BA for which no BU with the same peer, home address and sequence number was seen.
    Why: 6275 §11.7.3 the MN discards a BA that does not match a BU it sent. Status 135 BAs
    carry the last accepted number instead and are not reported. Warning: the capture may have
    started after the BU.
    Example: BA seq 9 with no BU seq 9 before it -> warning at the BA.
    """

    def __init__(self) -> None:
        self.found: list[Hit] = []

    def observe(self, u: ev.UnmatchedBA, reader: EventReader) -> None:
        if u.status != OUT_OF_WINDOW:
            self.found.append(Hit(f"BA (status {u.status}, sequence {u.key.seq}) matches no captured Binding "
                                  "Update.", u.frame, u.time, u.key.hoa, None))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return list(self.found)


ack_without_update = PerKey(AckWithoutUpdate, ev.UnmatchedBA, name="ack_without_update")


class UpdateNeverAcknowledged:
    """What: a BU with the A flag that got no BA (timed out or superseded by a newer BU).
    Why: 6275 §9.5.1/§10.3.1: the receiver MUST send a BA when A is set. A BU sent less than
    MAX_BINDACK_TIMEOUT (32 s) before the capture ended is not reported.
    Example: BU A-flag seq 3, no BA within the engine's timeout -> warning at the BU.
    """

    def __init__(self) -> None:
        self.found: list[Hit] = []

    def observe(self, u: ev.UnansweredBU, reader: EventReader) -> None:
        if u.reason != "capture-end" or u.decided_at - u.time >= MAX_BINDACK_TIMEOUT:
            self.found.append(Hit(f"Binding Update (sequence {u.key.seq}) was never acknowledged "
                                  f"({u.reason}).", u.frame, u.time, u.key.hoa,
                                  u.bids[0] if u.bids else None))

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        return list(self.found)


update_never_acknowledged = PerKey(UpdateNeverAcknowledged, ev.UnansweredBU, name="update_never_acknowledged")


@PerOutcome
def granted_above_requested(p: ev.BindingUpdateProcessed, ctx: AnswerReader) -> list[Hit]:
    """What: a BA granting a longer lifetime than the BU requested.
    Why: 6275 §9.5.1 "the lifetime for the Binding Cache entry MUST NOT be greater than the
    Lifetime value specified in the Binding Update".
    Example: BU Lifetime 400 s -> BA status 0 Lifetime 800 s -> finding at the BA.
    """
    if p.ba_frame is not None and p.granted_lifetime is not None and p.ba_status is not None \
            and p.ba_status < 128 and p.granted_lifetime > p.requested_lifetime:
        return [Hit(f"BA grants {p.granted_lifetime} s, more than the {p.requested_lifetime} s requested.",
                    p.ba_frame, p.time, p.key.hoa, None)]
    return []


class TrafficAfterExpiry:
    """What: data still flows for a home address after its binding at that node expired without
    a refresh (reported once per expiry).
    Why: 6275 §11.7.1 the MN SHOULD refresh before the lifetime runs out; the node drops or
    mis-routes the traffic once the binding is gone. Warning.
    Example: binding expires at t=400 s; tunnelled data for the HoA at t=410 s -> warning.
    """

    def __init__(self) -> None:
        # per (node, HoA): the expiries, as (index in capture order, key, CoA, time); judged at
        # the end against the unbound data, as an expiry decided late may be older than the data
        self.expired: dict[tuple[str, str], list[tuple[int, BindingKey, str, float]]] = {}
        self.count = 0

    def observe(self, e: ev.BindingExpired, reader: EventReader) -> None:
        self.expired.setdefault((e.key.node, e.key.hoa), []).append((self.count, e.key, e.coa, e.time))
        self.count += 1

    def hits(self, ctx: HistoryContext) -> list[Hit]:
        waiting = {pair: list(found) for pair, found in self.expired.items()}  # ``hits`` may be asked again
        hits = []
        for d in ctx.of(ev.DataWithoutBinding):
            if d.reason != "no-binding":
                continue
            mine = waiting.get((d.key.peer, d.key.hoa))
            if not mine:
                continue
            for i, key, coa, time in mine:
                if time <= d.time:
                    hits.append(Hit(f"Data for {d.key.hoa} still flows at {d.key.peer} after its binding for "
                                    f"{coa} expired.", d.frame, d.time, d.key.hoa, key.bid, key=str(i)))
            mine[:] = [m for m in mine if m[3] > d.time]
        return hits


# fed the expiries; the unbound data at the end is kept (DWB, read by other rules too)
traffic_after_expiry = PerKey(TrafficAfterExpiry, ev.BindingExpired, name="traffic_after_expiry")
