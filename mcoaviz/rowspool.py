"""Rows kept on disk as JSON lines instead of Python dicts (a whole-file export's message rows).

A message row is a dict of ~25 keys with nested lists and dicts (~3 KB of Python objects); a
home agent's capture has one per signalling message, so holding them grows the memory with the
capture's length. ``RowSpool`` encodes each row once, when it is made, with the exporter's JSON
encoder (``ROW_ENCODER``) into an anonymous temporary file and keeps only the offset of every
``RowSpool.STRIDE``-th line (a fraction of a byte a row). The JSON exporter copies the lines as
they are (the same bytes the in-memory writer makes); every other reader sees a read-only
sequence of dicts decoded on demand. JSON keeps every value a row can hold (str, int, float,
bool, None, lists, dicts with str keys) except that a tuple comes back as a list: the exported
text is the same either way.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, overload

from mcoaviz.engine.engine import MessageSpool
from mcoaviz.engine.scratch import SpoolError

# the export's row encoder (mcoaviz.export.write_json uses this one too: same bytes)
ROW_ENCODER = json.JSONEncoder(ensure_ascii=True, check_circular=False)
BLOCK = 1 << 20  # bytes read at once when the rows are read back


def spool_error(exc: OSError, what: str = "message rows") -> SpoolError:
    return SpoolError(f"cannot keep {what} in a temporary file in {tempfile.gettempdir()} "
                      f"({exc.strerror or exc}); set TMPDIR to a directory with room")


def temporary_file(prefix: str, what: str) -> IO[bytes]:
    """A new anonymous temporary file in ``TMPDIR`` (unlinked at once: it goes with the process);
    ``SpoolError`` naming ``what`` when none can be made."""
    try:
        return tempfile.TemporaryFile(prefix=prefix)
    except OSError as exc:
        raise spool_error(exc, what) from exc


class _Rows(Sequence[dict[str, Any]]):
    """What both row sequences share: indexing (``_row`` gives one row), equality with each
    other and with lists, no hash (like a list)."""

    def _row(self, index: int) -> dict[str, Any]:
        raise NotImplementedError

    def _slice(self, index: slice) -> list[dict[str, Any]]:
        return [self._row(i) for i in range(*index.indices(len(self)))]

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return self._slice(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("row index out of range")
        return self._row(index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (_Rows, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list


class RowSpool(_Rows, MessageSpool):
    """An append-only sequence of dict rows stored as JSON lines in a temporary file (in
    ``TMPDIR``; unlinked at once, so it disappears with the process).

    Only the start of every ``STRIDE``-th line is kept (8 bytes per ``STRIDE`` rows, not per
    row: a home agent's capture has one row per signalling message): ``[i]`` reads the
    ``STRIDE`` rows of row i's block and splits them; the last few blocks read stay split
    (``CACHED``), so reading rows in nearly their order (``RetiredRows.ordered``) reads each
    block about once."""

    STRIDE = 32
    CACHED = 8

    def __init__(self) -> None:
        self._file: IO[bytes] = temporary_file("mcoaviz-rows-", "message rows")
        self._starts = array("q")  # start of lines 0, STRIDE, 2 * STRIDE, ...
        self._count = 0
        self._end = 0  # end of the last line (the file's length once pending lines are written)
        self._encode = ROW_ENCODER.encode
        self._pending: list[bytes] = []  # encoded lines not yet written (written in batches)
        self._pending_bytes = 0
        self._blocks: dict[int, list[bytes]] = {}  # block number -> its lines (newest last)

    def append(self, row: dict[str, Any]) -> None:
        self.append_json(self._encode(row))

    def append_json(self, text: str) -> None:
        """Append a row already encoded as ``ROW_ENCODER`` would encode it (one line of ASCII)."""
        line = (text + "\n").encode("ascii")  # ensure_ascii: ASCII only
        if self._count % self.STRIDE == 0:
            self._starts.append(self._end)
        else:  # the last block grows: a split copy of it is out of date
            self._blocks.pop(self._count // self.STRIDE, None)
        self._count += 1
        self._end += len(line)
        self._pending.append(line)
        self._pending_bytes += len(line)
        if self._pending_bytes >= 1 << 16:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            try:
                self._file.seek(0, 2)
                self._file.write(b"".join(self._pending))
                self._file.flush()
            except OSError as exc:
                raise spool_error(exc) from exc
            self._pending.clear()
            self._pending_bytes = 0

    def another(self) -> RowSpool:
        return RowSpool()

    def __len__(self) -> int:
        return self._count

    def _block_end(self, block: int) -> int:
        starts = self._starts
        return starts[block + 1] if block + 1 < len(starts) else self._end

    def lines(self) -> Iterator[str]:
        """Each row's JSON text (without the newline), in order. Reads with ``os.pread`` in
        chunks of whole blocks (up to ``BLOCK`` bytes, at least one block), so several passes
        (and ``[i]``) may run at once."""
        self._write_pending()
        fd, starts = self._file.fileno(), self._starts
        blocks, count = len(starts), self._count
        k = 0
        while k < blocks:
            start = starts[k]
            m = k + 1  # blocks k..m-1 in this chunk
            while m < blocks and self._block_end(m) - start <= BLOCK:
                m += 1
            chunk = os.pread(fd, self._block_end(m - 1) - start, start)
            lines = chunk.split(b"\n")
            for line in lines[:min(len(lines) - 1, count - k * self.STRIDE)]:
                yield line.decode("ascii")
            k = m

    def __iter__(self) -> Iterator[dict[str, Any]]:
        loads = json.loads
        for line in self.lines():
            yield loads(line)

    def _row(self, index: int) -> dict[str, Any]:
        block, at = divmod(index, self.STRIDE)
        blocks = self._blocks
        lines = blocks.pop(block, None)
        if lines is None:
            self._write_pending()
            start = self._starts[block]
            lines = os.pread(self._file.fileno(), self._block_end(block) - start, start).split(b"\n")
            if len(blocks) >= self.CACHED:
                del blocks[next(iter(blocks))]  # the least recently read
        blocks[block] = lines  # (re)inserted: the most recently read
        return dict(json.loads(lines[at]))

    def scratch_file(self) -> IO[bytes]:
        return temporary_file("mcoaviz-bins-", "traffic bins")

    def close(self) -> None:
        self._file.close()


class RowView(_Rows):
    """A read-only sequence of rows made on demand by ``make()`` (one pass per iteration): a
    finished engine's table handed to the exporter without building every dict at once."""

    def __init__(self, make: Callable[[], Iterable[dict[str, Any]]], length: int | Callable[[], int],
                 source: Any = None) -> None:
        self._make = make
        self._length = length  # or what counts the rows, asked on first use (it may cost a pass)
        self.source = source  # what the rows are made from (a reader may ask it directly)

    def __len__(self) -> int:
        if not isinstance(self._length, int):
            self._length = self._length()
        return self._length

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._make())

    def _slice(self, index: slice) -> list[dict[str, Any]]:
        return list(self)[index]  # one pass, not one per row

    def _row(self, index: int) -> dict[str, Any]:
        return next(itertools.islice(self, index, None))
