"""How each binding was read: a view over the engine's events (``mcoaviz explain``, the TUI's
explanation pane and the report's "how each binding was read" block all show this).

For one home address (and optionally one BID) every step that created, changed and ended a
binding at a home agent or correspondent node, in processing order, with its frames, the
draft/RFC rule that applied and the interpretation (I-n of draft05-vs-rfc5648.md §5) taken where
the texts disagree. The texts come from the events' ``why`` fields (written where the engine
decides, ``mcoaviz/engine/registration.py``); this module only selects and orders them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcoaviz.engine import events as ev
from mcoaviz.engine.keys import BindingKey
from mcoaviz.query.filters import Network, address_in

WIDTH = 110  # the text view's line width
ACTIONS: dict[type, str] = {
    ev.BindingStarted: "started", ev.BindingRefreshed: "refreshed", ev.BindingRejected: "rejected",
}


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happened to one binding."""

    time: float
    frame: int | None  # the frame that made it happen (the BA, or the BU without A); None: expiry
    action: str  # started | refreshed | rejected | replaced | overwritten | deregistered | expired
    coa: str | None
    detail: str  # lifetime, status, pre-existing, ... (one short clause)
    why: str  # the rule and the interpretation(s)
    bu_frame: int | None = None  # the BU behind it, when a BU was
    ba_frame: int | None = None
    interpretations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "frame": self.frame, "action": self.action, "coa": self.coa,
                "detail": self.detail, "why": self.why, "bu_frame": self.bu_frame,
                "ba_frame": self.ba_frame, "interpretations": list(self.interpretations)}


@dataclass(frozen=True, slots=True)
class Story:
    """Every step of the bindings of one (node, HoA, BID)."""

    node: str
    role: str
    hoa: str
    bid: int | None
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        bid = "regular binding (no BID)" if self.bid is None else f"BID {self.bid}"
        return f"{self.hoa} {bid} at {self.node} ({self.role})"

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "role": self.role, "hoa": self.hoa, "bid": self.bid,
                "steps": [s.to_dict() for s in self.steps]}


def _detail(e: object) -> str:
    if isinstance(e, ev.BindingStarted):
        parts = [f"lifetime {e.lifetime} s" if e.lifetime is not None else "no expiry"]
        if e.home:
            parts.append("home binding")
        if not e.confirmed:
            parts.append("unconfirmed")
        if e.pre_existing:
            parts.append("pre-existing (older than the capture)")
        if e.claimed_coa:
            parts.append(f"claimed CoA {e.claimed_coa}")
        return ", ".join(parts)
    if isinstance(e, ev.BindingRefreshed):
        return f"lifetime {e.lifetime} s" if e.lifetime is not None else "no expiry"
    if isinstance(e, ev.BindingRejected):
        return f"status {e.status}"
    return ""  # an end: its start is the story's earlier step


def stories(events: Iterable[object], hoas: Sequence[Network] | None,
            bids: Sequence[int | None] = ()) -> list[Story]:
    """The stories of every binding of the home addresses in ``hoas`` (None: every one) and
    BIDs in ``bids`` (empty: every BID), ordered by node, HoA and BID; steps in processing order."""
    networks = None if hoas is None else tuple(hoas)
    steps: dict[BindingKey, list[Step]] = {}
    roles: dict[BindingKey, str] = {}
    processed: ev.BindingUpdateProcessed | None = None
    for e in events:
        if isinstance(e, ev.BindingUpdateProcessed):
            processed = e
            continue
        key = getattr(e, "key", None)
        if not isinstance(key, BindingKey) or (networks is not None and not address_in(networks, key.hoa)):
            continue
        if bids and key.bid not in bids:
            continue
        action = ACTIONS.get(type(e)) or (e.reason if isinstance(e, ev.BindingEnded) else None)
        if action is None:
            continue
        time: float = getattr(e, "time", 0.0)
        frame = getattr(e, "frame", None)
        # the BU outcome that produced this event has the same frame (the engine emits it first)
        by_bu = processed if processed is not None and frame is not None and processed.frame == frame \
            and processed.key.node == key.node and processed.key.hoa == key.hoa else None
        if isinstance(e, ev.BindingStarted):
            roles[key] = e.role
        elif by_bu is not None:
            roles.setdefault(key, by_bu.role)
        steps.setdefault(key, []).append(Step(
            time=time, frame=frame, action=action, coa=getattr(e, "coa", None), detail=_detail(e),
            why=getattr(e, "why", ""), bu_frame=by_bu.bu_frame if by_bu else None,
            ba_frame=by_bu.ba_frame if by_bu else None,
            interpretations=by_bu.interpretations if by_bu else ()))
    return [Story(k.node, roles.get(k, "-"), k.hoa, k.bid, tuple(v))
            for k, v in sorted(steps.items(), key=lambda kv: (kv[0].node, *BindingKey.sort_key(kv[0])))]


def known_bindings(events: Iterable[object]) -> dict[str, set[int | None]]:
    """Home address -> the BIDs it had bindings (or refusals) for: what ``explain`` can explain."""
    known: dict[str, set[int | None]] = {}
    for e in events:
        key = getattr(e, "key", None)
        if isinstance(key, BindingKey) and isinstance(e, (ev.BindingStarted, ev.BindingRejected)):
            known.setdefault(key.hoa, set()).add(key.bid)
    return known


def render(story: Story, point: Any) -> list[str]:
    """Plain-text lines of one story; ``point(t)`` formats a time (``TimeFormat.point``)."""
    lines = [story.title]
    for s in story.steps:
        frame = f"[{s.frame}]" if s.frame is not None else "[-]"
        exchange = ""
        if s.bu_frame is not None:
            answer = f", BA frame {s.ba_frame})" if s.ba_frame else ", no BA)"
            exchange = f"  (BU frame {s.bu_frame}{answer}"
        coa = f" CoA {s.coa}" if s.coa else ""
        detail = f", {s.detail}" if s.detail else ""
        lines.append(f"  {frame:>7} {point(s.time):>12}  {s.action:<12}{coa}{detail}{exchange}")
        if s.why:
            lines.extend(textwrap.wrap(f"why: {s.why}", width=WIDTH, initial_indent=" " * 24,
                                       subsequent_indent=" " * 29, break_on_hyphens=False))
        if s.interpretations:
            lines.append(f"{'':24}interpretations of this BU: {', '.join(s.interpretations)}")
    return lines
