"""Binding lifecycle at a home agent or correspondent node, as an explicit transition table.

In the h11 style: the table below is the whole state machine; ``BindingCache`` asks
``next_state`` for every change and never sets a state by hand, so an impossible change is a bug
in the engine (raised as ``StateError``), not something a capture can trigger: capture content
only selects which input is applied. ``mermaid()`` renders the table for docs/engine.md.

One machine runs per ``BindingKey`` (node, HoA, BID). States:

* ``ABSENT``      – the node holds no binding for the key;
* ``ACTIVE``      – a binding whose acceptance was seen (BA with effective status < 128) or that
  took effect when sent (BU without A);
* ``UNCONFIRMED`` – installed without a seen acceptance: the BA was not captured (the BU's
  lifetime is the upper bound, I-29), or draft-05 BID CONFLICT (I-7);
* ``HOME``        – a home binding (H flag, CoA = HoA; draft §5.6.3 / RFC §5.6.3).
"""

from __future__ import annotations

from enum import StrEnum


class BindingState(StrEnum):
    ABSENT = "absent"
    ACTIVE = "active"
    UNCONFIRMED = "unconfirmed"
    HOME = "home"


class Input(StrEnum):
    ACCEPT = "accept"  # accepted registration (new binding, same CoA refresh or new CoA)
    INSTALL_UNCONFIRMED = "install-unconfirmed"  # registration without a seen acceptance
    ACCEPT_HOME = "accept-home"  # accepted home binding (CoA = HoA)
    REJECT = "reject"  # effective status >= 128: the node keeps what it had
    DEREGISTER = "deregister"  # lifetime 0 for this BID, or a full de-registration
    OVERWRITE = "overwrite"  # regular BU or O flag removed it
    EXPIRE = "expire"  # lifetime ran out


S, In = BindingState, Input
_REGISTERED = (S.ACTIVE, S.UNCONFIRMED, S.HOME)

TRANSITIONS: dict[tuple[BindingState, Input], BindingState] = {
    (S.ABSENT, In.ACCEPT): S.ACTIVE,
    (S.ABSENT, In.INSTALL_UNCONFIRMED): S.UNCONFIRMED,
    (S.ABSENT, In.ACCEPT_HOME): S.HOME,
    (S.ABSENT, In.REJECT): S.ABSENT,
    (S.ABSENT, In.DEREGISTER): S.ABSENT,  # unknown BID: no state change (I-11)
    **{(s, In.ACCEPT): S.ACTIVE for s in _REGISTERED},
    **{(s, In.ACCEPT_HOME): S.HOME for s in _REGISTERED},
    **{(s, In.REJECT): s for s in _REGISTERED},
    **{(s, i): S.ABSENT for s in _REGISTERED for i in (In.DEREGISTER, In.OVERWRITE, In.EXPIRE)},
    # An unanswered refresh of a confirmed binding leaves it confirmed (its lifetime is extended
    # to the BU's upper bound); an unconfirmed one stays unconfirmed.
    (S.ACTIVE, In.INSTALL_UNCONFIRMED): S.ACTIVE,
    (S.UNCONFIRMED, In.INSTALL_UNCONFIRMED): S.UNCONFIRMED,
    (S.HOME, In.INSTALL_UNCONFIRMED): S.HOME,
}


class Step(StrEnum):
    """What the registrar does with one BID option (``STEPS``)."""

    KEEP = "keep"  # refused: the node keeps what it had
    IGNORE = "ignore"  # de-registration of a BID the node does not hold (I-11)
    END = "end"  # de-registration: the binding ends
    START = "start"  # a new binding
    RENEW = "renew"  # a held binding: refreshed (same CoA and kind) or replaced (new CoA)


_ACCEPTING = (In.ACCEPT, In.INSTALL_UNCONFIRMED, In.ACCEPT_HOME)

# The registrar reads a BID option's outcome as an ``Input``, looks up the binding's state and
# does what this table says; the cache then moves the state through ``TRANSITIONS``.
STEPS: dict[tuple[BindingState, Input], Step] = {
    (S.ABSENT, In.REJECT): Step.KEEP,
    (S.ABSENT, In.DEREGISTER): Step.IGNORE,
    **{(S.ABSENT, i): Step.START for i in _ACCEPTING},
    **{(s, In.REJECT): Step.KEEP for s in _REGISTERED},
    **{(s, In.DEREGISTER): Step.END for s in _REGISTERED},
    **{(s, i): Step.RENEW for s in _REGISTERED for i in _ACCEPTING},
}


class StateError(RuntimeError):
    """The engine tried a transition the table does not allow (an engine bug)."""


def next_state(state: BindingState, event: Input) -> BindingState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise StateError(f"no transition from {state} on {event}") from None


def step_for(state: BindingState, event: Input) -> Step:
    """The registrar's step for a BID option read as ``event`` while the binding is in ``state``."""
    try:
        return STEPS[(state, event)]
    except KeyError:
        raise StateError(f"no registration step from {state} on {event}") from None


def mermaid() -> str:
    """The transition table as a mermaid state diagram (docs/engine.md)."""
    lines = ["stateDiagram-v2", "    [*] --> absent"]
    for (state, event), target in TRANSITIONS.items():
        lines.append(f"    {state.value} --> {target.value}: {event.value}")
    return "\n".join(lines)
