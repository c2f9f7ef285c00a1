"""``checker.spill.FloatLog``: records of floats kept in a temporary file past a small buffer,
read back exactly and in order, appending possible after a read; and MCOA315, which keeps its
accepted BUs there, finds the same with its log on disk."""

from __future__ import annotations

import pytest

from mcoaviz.checker import Checker, CheckerConfig, spill
from mcoaviz.checker.spill import FloatLog, TextLog
from mcoaviz.engine.engine import BindingEngine
from tests.checker import builders as b


def flat(log: FloatLog) -> list[float]:
    return [x for chunk in log.chunks() for x in chunk]


def test_records_come_back_exactly_in_order_across_the_file_and_the_buffer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "BUFFERED", 4)
    monkeypatch.setattr(spill, "READ", 3)  # reads split records across several chunks
    log = FloatLog(2, "test records")
    values = [(i, 1e9 + i / 7) for i in range(10)]
    for v in values[:9]:
        log.append(*v)
    assert log._file is not None and len(log._buffer) == 2  # 8 on disk, 1 buffered
    assert flat(log) == [x for v in values[:9] for x in v]
    log.append(*values[9])  # after a read, appends go after the records already there
    assert flat(log) == [x for v in values for x in v] and len(log) == 10
    assert all(len(chunk) % 2 == 0 for chunk in log.chunks())


def test_a_log_that_never_fills_its_buffer_makes_no_file() -> None:
    log = FloatLog(3, "test records")
    log.append(1.0, 2.0, 3.0)
    assert log._file is None and flat(log) == [1.0, 2.0, 3.0]


def test_text_lines_come_back_in_order_across_the_file_and_the_buffer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "BUFFERED", 3)
    log = TextLog("test lines")
    lines = [f"2001:db8::{i}\t{1e9 + i / 3!r}" for i in range(7)]
    for line in lines[:5]:
        log.append(line)
    assert log._file is not None and log._buffer == lines[3:5]
    assert list(log.lines()) == lines[:5]
    for line in lines[5:]:
        log.append(line)  # the 6th fills the buffer again: written after the first three
    assert list(log.lines()) == lines and len(log) == 7
    assert float(list(log.lines())[4].split("\t")[1]) == 1e9 + 4 / 3  # exact through repr


def test_mcoa315_finds_the_same_with_its_accepted_bus_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "BUFFERED", 2)
    # 7 home addresses, each with a regular binding and then a BID BU without O accepted
    # (status 0): 7 findings, one per such BA, whether the log holds them in memory or in its file
    hoas = [f"2001:db8:99::{i}" for i in range(1, 8)]
    packets = [p for seq, hoa in enumerate(hoas, start=1)
               for p in (b.bu(seq, hoa=hoa), b.ba(seq, hoa=hoa), b.bu(seq + 10, b.bid(1, b.COA1), hoa=hoa),
                         b.ba(seq + 10, b.bid(1), hoa=hoa))]
    assert b.hits(b.check(*packets), "MCOA315") == list(range(4, 29, 4))
    engine, checker = BindingEngine(), Checker(CheckerConfig(select=("MCOA315",)), streaming=True)
    for p in b.number(packets):
        checker.observe(p, engine.feed(p))
    (state,) = checker._states
    assert state.accepted._file is not None and len(state.accepted) == 7  # type: ignore[attr-defined]


class _FullDisk:
    """A temporary file on a full disk: every write fails as the kernel says."""

    def seek(self, *args: object) -> int:
        return 0

    def write(self, data: object) -> int:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("make", [lambda: FloatLog(2, "test records"), lambda: TextLog("test lines")])
def test_a_full_temporary_directory_is_a_spool_error_naming_what_was_kept(
        make: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcoaviz.engine.scratch import SpoolError

    monkeypatch.setattr(spill, "BUFFERED", 2)
    monkeypatch.setattr(spill, "temporary_file", lambda prefix, what: _FullDisk())
    log = make()  # type: ignore[operator]
    append = (lambda: log.append(1.0, 2.0)) if isinstance(log, FloatLog) else (lambda: log.append("x"))
    append()
    with pytest.raises(SpoolError) as caught:
        append()
    message = str(caught.value)
    assert "No space left on device" in message and "TMPDIR" in message
    assert ("test records" if isinstance(log, FloatLog) else "test lines") in message
