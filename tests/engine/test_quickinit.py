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


def test_keyword_only_fields_keep_their_signature() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Mixed:
        a: int
        b: int = dataclasses.field(default=2, kw_only=True)
        c: str = dataclasses.field(kw_only=True, default="c")
        d: int = 4

    reference = inspect.signature(Mixed.__init__)
    quick_init(Mixed)
    assert "__create_fn__" not in Mixed.__init__.__qualname__
    # the same parameters, kinds and defaults as the dataclass's own __init__ (d before the *)
    assert [(p.name, p.kind, p.default) for p in inspect.signature(Mixed.__init__).parameters.values()] \
        == [(p.name, p.kind, p.default) for p in reference.parameters.values()]
    built = Mixed(1, 5, b=3)
    assert (built.a, built.b, built.c, built.d) == (1, 3, "c", 5)
    assert Mixed(1, b=3, c="x") == Mixed(a=1, d=4, c="x", b=3)
    with pytest.raises(TypeError):
        Mixed(1, 4, 3)  # b is keyword-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.b = 9  # type: ignore[misc]
