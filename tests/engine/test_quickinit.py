"""quick_init: the events' and keys' quicker ``__init__`` builds the same frozen objects."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from mcoaviz.engine import events as ev
from mcoaviz.engine import keys
from mcoaviz.engine.quickinit import quick_init

MODULES = (ev.__name__, keys.__name__)
PATCHED = [c for c in (*vars(ev).values(), *vars(keys).values())
           if inspect.isclass(c) and dataclasses.is_dataclass(c) and c.__module__ in MODULES]


def test_every_event_and_key_class_has_the_quick_init() -> None:
    assert len(PATCHED) >= 24
    assert all("__create_fn__" not in c.__init__.__qualname__ for c in PATCHED), \
        [c.__name__ for c in PATCHED if "__create_fn__" in c.__init__.__qualname__]


@pytest.mark.parametrize("cls", PATCHED, ids=lambda c: c.__name__)
def test_fields_defaults_and_immutability_are_the_dataclass_ones(cls: type) -> None:
    fields = dataclasses.fields(cls)
    values = {f.name: f"value-{i}" for i, f in enumerate(fields)}
    by_keyword = cls(**values)
    by_position = cls(*values.values())
    for f in fields:
        assert getattr(by_keyword, f.name) == values[f.name]
    assert by_keyword == by_position and hash(by_keyword) == hash(by_position)
    assert repr(by_keyword) == f"{cls.__name__}(" + ", ".join(f"{k}={v!r}" for k, v in values.items()) + ")"
    required = {f.name: values[f.name] for f in fields if f.default is dataclasses.MISSING}
    minimal = cls(**required)
    for f in fields:
        if f.default is not dataclasses.MISSING:
            assert getattr(minimal, f.name) == f.default
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(by_keyword, fields[0].name, "changed")
    with pytest.raises(TypeError):
        cls(*values.values(), "one too many")
    if required:
        with pytest.raises(TypeError):
            cls()
    first = fields[0].name
    assert dataclasses.replace(by_keyword, **{first: "new"}) == cls(**{**values, first: "new"})


def test_classes_it_cannot_handle_exactly_keep_their_own_init() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        items: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True)
    class NotFrozen:
        a: int

    for cls in (WithFactory, NoSlots, NotFrozen):
        before = cls.__init__
        assert quick_init(cls) is cls and cls.__init__ is before
    assert WithFactory().items == []
