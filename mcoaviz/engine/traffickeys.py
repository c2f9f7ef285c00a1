"""Idle traffic keys on file: what lets a whole-file run's traffic table hold only the keys with
recent data (``TrafficTable.sweep``), not every key the capture ever used.

A sweep writes the totals of the keys it moves as one *run*: records ``(key, packets, bytes,
first, last, ident)`` sorted in row order (``ident``: the key's id in the spilled bins, -1 for
none), ``marshal``-led in blocks of ``KEY_BLOCK`` records so that a reader holds one block per
run. A key that comes back gets a new cell in memory, so its rows may lie in several runs and in
memory: ``merged`` sums them (packets and bytes added, the least first and the greatest last),
which is what one cell counting every row gives. The engine is sans-IO: the file comes from the
caller (``ScratchFile``)."""

from __future__ import annotations

import heapq
import marshal
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from mcoaviz.engine.scratch import ScratchFile, SpoolError

KEY_BLOCK = 1024  # records per marshalled block (what a reader holds per run)

# (key, packets, bytes, first, last, ident): one key's totals in one place
KeyRecord = tuple[Any, int, int, float, float, int]


class KeyRuns:
    """The runs of idle keys written so far, in one scratch file (made on the first run)."""

    def __init__(self, scratch: ScratchFile) -> None:
        self._scratch = scratch
        self._file: IO[bytes] | None = None
        self.runs: list[list[tuple[int, int]]] = []  # per run: (offset, size) of each block
        self.keys = 0  # records written (a key counts once per run it lies in)

    def write(self, records: list[KeyRecord]) -> None:
        """Append one run (``records`` sorted in row order)."""
        blocks: list[tuple[int, int]] = []
        try:
            if self._file is None:
                self._file = self._scratch()
            file = self._file
            file.seek(0, 2)
            offset = file.tell()
            for at in range(0, len(records), KEY_BLOCK):
                data = marshal.dumps(records[at:at + KEY_BLOCK])
                file.write(data)
                blocks.append((offset, len(data)))
                offset += len(data)
            file.flush()
        except SpoolError:
            raise
        except OSError as exc:
            raise SpoolError(f"cannot keep idle traffic keys in a temporary file ({exc.strerror or exc}); "
                             "set TMPDIR to a directory with room") from exc
        self.runs.append(blocks)
        self.keys += len(records)

    def read(self, run: int) -> Iterator[KeyRecord]:
        """Run ``run``'s records in row order, a block at a time."""
        file = self._file
        assert file is not None
        for offset, size in self.runs[run]:
            file.seek(offset)
            block: list[KeyRecord] = marshal.loads(file.read(size))
            yield from block


def merged(sources: Iterable[Iterable[KeyRecord]],
           order: Callable[[Any], tuple[Any, ...]]) -> Iterator[tuple[Any, list[Any], list[int]]]:
    """(key, [packets, bytes, first, last], idents) of every key in row order (``order``), from
    sources each sorted in row order; a key found in several sources is summed. ``idents``: its
    ids in the spilled bins (-1 left out)."""
    key: Any = None
    total: list[Any] = []
    idents: list[int] = []
    for record in heapq.merge(*sources, key=lambda record: order(record[0])):
        if total and record[0] == key:
            total[0] += record[1]
            total[1] += record[2]
            if record[3] < total[2]:
                total[2] = record[3]
            if record[4] > total[3]:
                total[3] = record[4]
        else:
            if total:
                yield key, total, idents
            key, total, idents = record[0], [record[1], record[2], record[3], record[4]], []
        if record[5] >= 0:
            idents.append(record[5])
    if total:
        yield key, total, idents


__all__ = ["KEY_BLOCK", "KeyRecord", "KeyRuns", "merged"]
