"""Ended binding / BUL rows of a whole-file run, kept as JSON lines instead of objects.

A home agent's binding cache and its mobile nodes' BULs make one row per binding interval, ever:
held as objects, they grow with the capture's length. In a whole-file streaming run
(``BindingEngine`` given a message spool) the engine hands every row that no engine path can
touch again (``BindingEngine._retire``) to a ``RetiredRows``: the row's ``to_dict()`` goes to a
spool of the caller's kind (``MessageSpool.another``: a temporary file) as the exporter's JSON
text, and only its start time and creation number stay in memory (12 bytes; the spool keeps an
offset per 32 rows). ``ordered`` gives
the table back in exactly the order the in-memory rows were sorted in: a stable sort of the rows
in creation order by (start, node / HoA, HoA / peer, BID), i.e. by (that key, creation number).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mcoaviz.engine.engine import MessageSpool

# the same text the exporter's encoder makes (mcoaviz.rowspool.ROW_ENCODER: json.dumps defaults)
_ENCODE = json.JSONEncoder(ensure_ascii=True, check_circular=False).encode


class Row(Protocol):
    start: float
    order: int

    def to_dict(self) -> dict[str, Any]: ...


SortKey = Callable[[dict[str, Any]], tuple[Any, ...]]  # a row dict's key after ``start``


class RetiredRows:
    """Rows moved out of memory, in the order they were retired (any order)."""

    def __init__(self, spool: MessageSpool, tie_key: SortKey) -> None:
        self._spool = spool
        self._tie_key = tie_key  # orders rows that start at the same time (then creation order)
        self._starts = array("d")
        self._orders = array("I")  # creation numbers: 4 bytes (``'q'`` once one passes 2**32)

    def __len__(self) -> int:
        return len(self._orders)

    def add(self, row: Row) -> None:
        self._spool.append_json(_ENCODE(row.to_dict()))
        self._starts.append(row.start)
        orders = self._orders
        if orders.typecode == "I" and not 0 <= row.order < 1 << 8 * orders.itemsize:
            orders = self._orders = array("q", orders)
        orders.append(row.order)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every retired row, in retirement order."""
        return iter(self._spool)

    def ordered(self, live: Sequence[Row]) -> Iterator[dict[str, Any]]:
        """The retired rows and ``live`` (rows still in memory) as dicts, sorted by (start,
        tie key, creation number): the order ``sorted(all rows in creation order, key=(start,
        tie key))`` gives. Holds one small tuple per row while it runs; reads each retired row
        once (the rows that share a start with another are read before they are sorted)."""
        spool, starts, orders = self._spool, self._starts, self._orders
        # (start, creation number, index): index >= 0 a retired row, < 0 the live row -1 - index
        keys = [(starts[i], orders[i], i) for i in range(len(orders))]
        keys += [(row.start, row.order, -1 - j) for j, row in enumerate(live)]
        keys.sort()

        def made(index: int) -> dict[str, Any]:
            return spool[index] if index >= 0 else live[-1 - index].to_dict()

        i, n = 0, len(keys)
        while i < n:
            j = i + 1
            while j < n and keys[j][0] == keys[i][0]:
                j += 1
            if j == i + 1:
                yield made(keys[i][2])
            else:  # a tie on start: the rest of the key decides, then creation order
                group = [(self._tie_key(row), order, row) for _s, order, index in keys[i:j]
                         for row in (made(index),)]
                group.sort(key=lambda g: (g[0], g[1]))
                for _key, _order, row in group:
                    yield row
            i = j
