"""The binding lifecycle transition table (states.py) and its use by the cache."""

from __future__ import annotations

import pytest

from mcoaviz.engine.states import TRANSITIONS, BindingState, Input, StateError, mermaid, next_state

S, In = BindingState, Input


def test_registration_paths() -> None:
    assert next_state(S.ABSENT, In.ACCEPT) is S.ACTIVE
    assert next_state(S.ABSENT, In.INSTALL_UNCONFIRMED) is S.UNCONFIRMED
    assert next_state(S.UNCONFIRMED, In.ACCEPT) is S.ACTIVE  # a later BA confirms
    assert next_state(S.ACTIVE, In.ACCEPT_HOME) is S.HOME


@pytest.mark.parametrize("state", [S.ACTIVE, S.UNCONFIRMED, S.HOME])
@pytest.mark.parametrize("how", [In.DEREGISTER, In.OVERWRITE, In.EXPIRE])
def test_every_registered_state_can_end(state: BindingState, how: Input) -> None:
    assert next_state(state, how) is S.ABSENT


@pytest.mark.parametrize("state", [S.ACTIVE, S.UNCONFIRMED, S.HOME])
def test_a_rejection_keeps_what_the_node_had(state: BindingState) -> None:
    assert next_state(state, In.REJECT) is state


def test_nothing_absent_can_expire_or_be_overwritten() -> None:
    for how in (In.EXPIRE, In.OVERWRITE):
        with pytest.raises(StateError):
            next_state(S.ABSENT, how)


def test_mermaid_lists_every_transition() -> None:
    text = mermaid()
    assert text.startswith("stateDiagram-v2")
    assert len(text.splitlines()) == len(TRANSITIONS) + 2
    assert "active --> absent: expire" in text


def test_docs_carry_the_current_state_diagram() -> None:
    from tests.conftest import ROOT

    assert mermaid() in (ROOT / "docs" / "engine.md").read_text()
