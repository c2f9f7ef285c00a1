"""Output files written all at once or not at all: the one helper every command that writes uses.

A command that fails halfway (a full disk, Ctrl-C, an error in the data) must not leave a
truncated file where a good one was. ``atomic_file`` writes into a temporary file beside the
target and renames it over the target only when everything was written; ``atomic_folder`` does
the same for a folder of files (CSV export). The parent directory must exist: no command creates
missing parents, so a mistyped path is an error rather than a new directory tree.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class OutputError(Exception):
    """The output cannot be written; ``str(error)`` is one line for the user."""


def _parent_of(path: Path) -> Path:
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: directory {parent} does not exist")
    return parent


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path``, on any error it
    is removed and ``path`` is left as it was."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a directory")
    if target.exists() and not target.is_file():  # /dev/stdout, a FIFO: nothing to rename over
        binary = "b" in mode
        with open(target, mode, encoding=None if binary else encoding,
                  newline=None if binary else newline) as direct:
            yield direct
        return
    if target.is_symlink():  # replace the file it points to, not the link
        target = Path(os.path.realpath(target))
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=_parent_of(target))
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding,
                       newline=None if binary else newline) as out:
            yield out
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


@contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary folder beside ``path`` to fill; on success it becomes ``path`` (or, when that
    folder exists, each file written replaces its namesake there); on any error it is removed
    and nothing in ``path`` has changed."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputError(f"cannot write {target}: it exists and is not a directory")
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=_parent_of(target)))
    try:
        os.chmod(temporary, 0o777 & ~_umask())
        yield temporary
        if target.exists():
            # never delete the folder: it may be the user's own (``-o .``); each file is replaced
            # whole, other files stay
            for written in sorted(temporary.iterdir()):
                os.replace(written, target / written.name)
            temporary.rmdir()
        else:
            os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
