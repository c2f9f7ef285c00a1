"""Scratch files at the engine's seam. The engine is sans-IO: a whole-file run's caller hands it
a way to get a temporary file (``MessageSpool.scratch_file``, made by ``mcoaviz.rowspool``), and
the engine only writes and reads what it was given. ``SpoolError`` is what either side raises
when such a file cannot be made or written (the CLI turns it into one clear message)."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO


class SpoolError(OSError):
    """The temporary file could not be made or written (no room in the temporary directory)."""


ScratchFile = Callable[[], IO[bytes]]  # a new anonymous temporary file, owned by the caller

__all__ = ["ScratchFile", "SpoolError"]
