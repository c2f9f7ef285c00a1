"""Snapshot tests (pytest-textual-snapshot) of the TUI on sample captures, small and large terminals.

Regenerate after a deliberate change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs in ``__snapshots__`` before committing them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.test_app import make_app


async def _loaded(pilot: Any) -> None:
    from textual.widgets import DataTable

    await pilot.app.workers.wait_for_complete()
    pilot.app.refresh_screen(force=True)
    await pilot.pause()
    # a DataTable's header line can be rendered from column widths of an earlier draw (the
    # rows under it are right; the next repaint fixes it): repaint once more before the picture
    for table in pilot.app.screen.query(DataTable):
        table.refresh(layout=True)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_figure8_at_the_end(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(make_app("figure8-rfc5648"), terminal_size=size, run_before=_loaded)


def test_handover_storm_scrubbed_to_the_fifth_event(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("g", *["right_square_bracket"] * 5)

    assert snap_compare(make_app("handover-storm-draft05"), terminal_size=(120, 32), run_before=run_before)


def test_violations_findings_log(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("f")

    assert snap_compare(make_app("violations-rfc5648"), terminal_size=(120, 32), run_before=run_before)


def test_help_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app("figure8-draft05"), terminal_size=(80, 24), run_before=run_before)
