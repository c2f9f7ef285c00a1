"""A quicker ``__init__`` for the engine's frozen, slotted dataclasses (events and keys).

A signalling message makes some twenty of them (events, keys, results), and the ``__init__``
that ``dataclasses`` writes for a frozen class sets each field through ``object.__setattr__``,
about a third of the object's cost. This one sets each slot through its member descriptor:
same signature, defaults, equality, hash, repr and immutability (assignment still raises
``FrozenInstanceError``); only construction is quicker. Keyword-only fields (``kw_only=True``)
keep their place after a ``*`` as in the generated ``__init__`` (a class may move to them at
no cost beyond the keyword call itself). Classes it cannot handle exactly (a default factory,
``init=False`` fields, ``__post_init__``) keep their own.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        return cls
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or any(
            f.default_factory is not dataclasses.MISSING or not f.init
            or not isinstance(getattr(cls, f.name, None), types.MemberDescriptorType) for f in fields):
        return cls
    namespace: dict[str, Any] = {}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for f in fields:  # dataclasses puts keyword-only fields after the others, behind a ``*``
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        if f.default is dataclasses.MISSING:
            parameter = f.name
        else:
            namespace[f"_default_{f.name}"] = f.default
            parameter = f"{f.name}=_default_{f.name}"
        (keyword if f.kw_only else positional).append(parameter)
        body.append(f"    _set_{f.name}(self, {f.name})")
    signature = positional + (["*", *keyword] if keyword else [])
    source = f"def __init__(self, {', '.join(signature)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # noqa: S102 - generated from the class's own field names, as dataclasses does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]
    return cls

