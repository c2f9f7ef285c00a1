"""Pilot tests of the TUI on sample captures: keys, selection, filtering, scrubbing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, Static, TabbedContent, Tree

from mcoaviz.pipeline import analyse
from mcoaviz.tui.app import McoaApp
from mcoaviz.tui.ingest import ingest_file
from mcoaviz.tui.session import Session
from mcoaviz.tui.widgets import HelpScreen
from tests.conftest import SAMPLES

HOA = "2001:db8:1::100"


def make_app(name: str, export_path: str | None = None, report_path: str | None = None) -> McoaApp:
    path = str(SAMPLES / f"{name}.pcapng")
    return McoaApp(Session(name=path), lambda s, stop: ingest_file(s, path, stop), export_path=export_path,
                   report_path=report_path)


@asynccontextmanager
async def loaded(name: str, size: tuple[int, int] = (120, 40),
                 **kw: Any) -> AsyncIterator[tuple[McoaApp, Any]]:
    app = make_app(name, **kw)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        assert app.session.done and app.session.error is None
        app.refresh_screen(force=True)
        await pilot.pause()
        yield app, pilot


def truth_at(name: str, t: float) -> set[tuple[str, str, str]]:
    truth = json.loads((SAMPLES / f"{name}.truth.json").read_text())
    return {(str(b["bid"]), b["coa"], b["node"]) for b in truth["bindings"]
            if b["hoa"] == HOA and b["start"] <= t and (b["end"] is None or t < b["end"])}


def shown_bindings(app: McoaApp) -> set[tuple[str, str, str]]:
    table = app.query_one("#bindings", DataTable)
    rows = [table.get_row_at(i) for i in range(table.row_count)]
    return {(str(r[0]), str(r[1]), str(r[7])) for r in rows}


async def test_scrubbing_event_by_event_shows_the_truth_at_the_cursor() -> None:
    name = "handover-storm-rfc5648"
    async with loaded(name) as (app, pilot):
        assert app.data is not None
        times = app.data.event_times()
        await pilot.press("g")
        assert app.cursor == times[0]
        assert shown_bindings(app) == truth_at(name, times[0]) == set()
        for step in range(1, len(times)):
            await pilot.press("right_square_bracket")
            assert app.cursor == times[step]
            assert shown_bindings(app) == truth_at(name, times[step]), f"step {step}"
        await pilot.press("left_square_bracket")
        assert app.cursor == times[-2]
        assert shown_bindings(app) == truth_at(name, times[-2])


async def test_seconds_keys_move_the_cursor_and_the_countdown() -> None:
    async with loaded("refresh-expiry-rfc5648") as (app, pilot):
        await pilot.press("g")
        start = app.cursor
        assert start is not None
        for _ in range(5):
            await pilot.press("full_stop")
        assert app.cursor == start + 5
        table = app.query_one("#bindings", DataTable)
        left_at_5 = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[3]) for i in range(table.row_count)}
        await pilot.press("full_stop", "full_stop", "comma")
        left_at_6 = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[3]) for i in range(table.row_count)}
        assert set(left_at_5) == set(left_at_6) == {"1", "2", "3"}
        for bid in left_at_5:  # one second later, one second less
            assert int(left_at_6[bid].rstrip("s")) == int(left_at_5[bid].rstrip("s")) - 1
        await pilot.press("G")
        assert app.cursor == app.data.last_time  # type: ignore[union-attr]


async def test_help_opens_and_closes() -> None:
    async with loaded("figure8-rfc5648") as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "previous / next event" in str(app.screen.query_one("#help-text", Static).render())
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_filter_narrows_bindings_and_messages_and_escape_clears() -> None:
    async with loaded("figure8-rfc5648") as (app, pilot):
        assert len(shown_bindings(app)) == 6
        await pilot.press("slash")
        box = app.query_one("#filter", Input)
        assert box.display and box.has_focus
        await pilot.press(*"a2::", "enter")
        assert {coa for _, coa, _ in shown_bindings(app)} == {"2001:db8:a2::100"}
        messages = app.query_one("#message-list", DataTable)
        assert messages.row_count > 0
        await pilot.press("escape")
        assert app.filter_text == ""
        assert len(shown_bindings(app)) == 6


async def test_filter_by_message_type() -> None:
    async with loaded("figure8-rfc5648") as (app, pilot):
        await pilot.press("slash", *"coti", "enter")
        table = app.query_one("#message-list", DataTable)
        types = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert types == {"CoTI"}


async def test_selecting_a_message_shows_its_detail_tree_and_hex() -> None:
    async with loaded("figure8-rfc5648") as (app, pilot):
        table = app.query_one("#message-list", DataTable)
        table.focus()
        first_bu = next(i for i in range(table.row_count) if str(table.get_row_at(i)[2]) == "BU")
        table.move_cursor(row=first_bu)
        await pilot.pause()
        frame = int(str(table.get_row_at(first_bu)[0]))
        labels = [str(node.label) for node in _walk(app.query_one("#detail", Tree).root)]
        assert labels[0].startswith("Captured on interface ")
        assert labels[0].split(": ")[1] in {"ha-uplink", "home-link", "cn-link", "cn2-link", "mn-if1",
                                            "mn-if2", "mn-if3"}
        assert labels[1].startswith(f"Frame {frame}:")
        assert any(label.startswith("Mobility Header: BU (type 5)") for label in labels)
        assert any(label.startswith("Binding Identifier (35)") for label in labels)
        hex_text = str(app.query_one("#hex", Static).render())
        assert hex_text.startswith("0000  ")


async def test_selecting_a_finding_jumps_to_its_message() -> None:
    async with loaded("violations-rfc5648") as (app, pilot):
        await pilot.press("f")
        assert app.query_one("#bottom", TabbedContent).active == "findings"
        findings = app.query_one("#finding-list", DataTable)
        findings.focus()
        row = next(i for i in range(findings.row_count) if str(findings.get_row_at(i)[3]))
        frame = int(str(findings.get_row_at(row)[3]))
        findings.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one("#bottom", TabbedContent).active == "messages"
        messages = app.query_one("#message-list", DataTable)
        assert str(messages.get_row_at(messages.cursor_row)[0]) == str(frame)
        message = next(m for m in app.data.messages if m["frame"] == frame)  # type: ignore[union-attr]
        assert app.cursor == message["time"]


async def test_export_key_writes_the_analysis(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    async with loaded("deregistration-rfc5648", export_path=str(out)) as (app, pilot):
        await pilot.press("e")
        await pilot.pause()
    data = json.loads(out.read_text())
    expected = analyse(SAMPLES / "deregistration-rfc5648.pcapng")
    assert data["bindings"] == expected.bindings
    assert data["findings"] == expected.findings


async def test_report_key_writes_the_html_report_of_the_loaded_capture(tmp_path: Path) -> None:
    out = tmp_path / "out.html"
    async with loaded("deregistration-rfc5648", report_path=str(out)) as (app, pilot):
        await pilot.press("r")
        await pilot.pause()
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # every binding of the capture is in the embedded model, as in `mcoaviz report`'s
    expected = analyse(SAMPLES / "deregistration-rfc5648.pcapng")
    for row in expected.bindings:
        assert row["coa"] in page
    assert HOA in page


async def test_q_quits_with_status_zero() -> None:
    async with loaded("figure8-rfc5648") as (app, pilot):
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_works_at_80x24() -> None:
    async with loaded("figure8-rfc5648", size=(80, 24)) as (app, pilot):
        assert app.query_one("#bindings", DataTable).region.height >= 6
        assert len(shown_bindings(app)) == 6
        assert app.query_one("#message-list", DataTable).region.height >= 4


async def test_command_palette_offers_the_actions() -> None:
    async with loaded("figure8-rfc5648") as (app, pilot):
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Help", "Filter", "Export JSON", "HTML report", "Next event", "Previous event"} <= titles


async def test_capture_text_is_shown_escaped(tmp_path: Path) -> None:
    """An interface name chosen by whoever wrote the capture: markup and ESC stay visible text."""
    from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter
    from mcoaviz.sources import read_frames

    hostile = "[red]evil[/red]\x1b]0;pwned\x07\u202e"
    frames, _ = read_frames(SAMPLES / "figure8-rfc5648.pcapng")
    path = tmp_path / "hostile.pcapng"
    with path.open("wb") as out:
        writer = PcapngWriter(out, [InterfaceSpec(hostile)])
        for frame in frames:
            writer.write(0, round(frame.time * 1e9), frame.data)
    app = McoaApp(Session(name=str(path)), lambda s, stop: ingest_file(s, str(path), stop))
    async with app.run_test(size=(200, 40)) as pilot:
        await app.workers.wait_for_complete()
        app.refresh_screen(force=True)
        await pilot.pause()
        table = app.query_one("#message-list", DataTable)
        table.focus()
        table.move_cursor(row=0)
        await pilot.pause()
        label = app.query_one("#detail", Tree).root.children[0].label
        assert label.plain == "Captured on interface 0: [red]evil[/red]\\x1b]0;pwned\\x07\\u202e"
        assert "\x1b" not in label.plain and "\u202e" not in label.plain


def _walk(node: Any) -> list[Any]:
    out = []
    for child in node.children:
        out.append(child)
        out.extend(_walk(child))
    return out


async def test_x_explains_the_highlighted_binding() -> None:
    from mcoaviz.tui.widgets import ExplainScreen

    async with loaded("first-registration-without-coa-rfc5648") as (app, pilot):
        await pilot.press("G")
        table = app.query_one("#bindings", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        at_cn = next(i for i, r in enumerate(rows) if str(r[7]) == "2001:db8:c0::10")
        table.focus()
        table.move_cursor(row=at_cn)
        await pilot.press("x")
        assert isinstance(app.screen, ExplainScreen)
        text = " ".join(str(app.screen.query_one("#explain-text", Static).render()).split())
        # frames read with tshark: BU to the CN at 85, its BA at 87, the CoT at 78
        assert "BID 2 at 2001:db8:c0::10 (correspondent)" in text
        assert "(BU frame 85, BA frame 87)" in text and "CoT for BID 2 at frame 78" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, ExplainScreen)
