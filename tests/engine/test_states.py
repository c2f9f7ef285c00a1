"""The binding lifecycle transition table (states.py) and its use by the cache."""

from __future__ import annotations

import pytest

from mcoaviz.engine.states import (
    STEPS,
    TRANSITIONS,
    BindingState,
    Input,
    StateError,
    Step,
    mermaid,
    next_state,
    step_for,
)

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


REGISTRAR_INPUTS = (In.ACCEPT, In.INSTALL_UNCONFIRMED, In.ACCEPT_HOME, In.REJECT, In.DEREGISTER)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("how", REGISTRAR_INPUTS)
def test_the_registrar_has_a_step_for_every_state_and_input_and_it_agrees_with_the_transitions(
        state: BindingState, how: Input) -> None:
    step = step_for(state, how)
    after = next_state(state, how)
    if step is Step.START:
        assert state is S.ABSENT and after is not S.ABSENT
    elif step is Step.RENEW:
        assert state is not S.ABSENT and after is not S.ABSENT
    elif step is Step.END:
        assert state is not S.ABSENT and after is S.ABSENT
    else:  # KEEP, IGNORE: nothing changes
        assert after is state


def test_steps_named_by_case() -> None:
    assert step_for(S.ABSENT, In.DEREGISTER) is Step.IGNORE  # unknown BID (I-11)
    assert step_for(S.HOME, In.DEREGISTER) is Step.END
    assert step_for(S.UNCONFIRMED, In.ACCEPT) is Step.RENEW
    assert step_for(S.ABSENT, In.ACCEPT_HOME) is Step.START
    assert step_for(S.ACTIVE, In.REJECT) is Step.KEEP
    assert set(STEPS) <= set(TRANSITIONS)
    for how in (In.OVERWRITE, In.EXPIRE):  # the cache's own inputs, never a BID option's
        with pytest.raises(StateError):
            step_for(S.ACTIVE, how)
