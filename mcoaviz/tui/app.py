"""The mcoaviz terminal UI: bindings first, packets one key away.

One screen: the node / HoA tree, the selected HoA's binding table, and below them the Mobility
Header messages (with a detail tree and hex) or the findings. Everything shows the state as of
a time cursor: offline it steps from event to event or by seconds; live it follows now until
paused. A worker thread feeds the ``Session``; the screen redraws from a copy of the analysis
on a timer (``REFRESH_SECONDS``), so updates are batched however fast packets arrive.
"""

from __future__ import annotations

import bisect
import gc
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
    Tree,
)

from mcoaviz.cli.decode_view import detail_lines
from mcoaviz.safetext import for_rich, printable
from mcoaviz.tui import model
from mcoaviz.tui.model import ViewData
from mcoaviz.tui.session import UI_LOCK_WAIT, Session
from mcoaviz.tui.widgets import (
    ExplainScreen,
    HelpScreen,
    HexView,
    count,
    exchange,
    lifetime_left,
    relative,
    severity_cell,
    state_cell,
    sync_rows,
    utc,
)

W = TypeVar("W", bound=Widget)
REFRESH_SECONDS = 0.5
REFRESH_SHARE = 0.25  # timed redraws take at most about this share of the time (ingest gets the rest)
GIL_SWITCH_SECONDS = 0.001
BINDING_COLUMNS = ("BID", "CoA", "State", "Left", "Rate", "→MN pk/B", "MN→ pk/B", "Node", "Last BU",
                   "Last BA", "Status")
MESSAGE_COLUMNS = ("No.", "Time", "Type", "HoA", "Seq", "Status", "BIDs", "Src → Dst")
FINDING_COLUMNS = ("Severity", "Rule", "Section", "Frame", "Message")


class McoaApp(App[int]):
    """``feeder`` runs in a worker thread and fills ``session``; ``live`` makes the cursor follow now."""

    CSS_PATH = "app.tcss"
    AUTO_FOCUS = "#nodes"
    TITLE = "mcoaviz"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("slash", "filter", "Filter"),
        Binding("e", "export", "Export"),
        Binding("x", "explain", "Explain", show=False),  # in the help; the footer is full
        Binding("r", "report", "Report"),
        Binding("left_square_bracket", "step(-1)", "◀ event"),
        Binding("right_square_bracket", "step(1)", "event ▶"),
        Binding("comma", "seconds(-1)", "-1 s", show=False),
        Binding("full_stop", "seconds(1)", "+1 s", show=False),
        Binding("g", "jump_start", "Start", show=False),
        Binding("G", "jump_end", "End/now", show=False),
        Binding("p", "pause", "Pause"),
        Binding("m", "tab('messages')", "Msgs", show=False),
        Binding("f", "tab('findings')", "Findings", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, session: Session, feeder: Callable[[Session, threading.Event], None],
                 live: bool = False, export_path: str | None = None,
                 on_quit: Callable[[], None] | None = None, report_path: str | None = None) -> None:
        super().__init__()
        self.on_quit = on_quit  # live: stops dumpcap, so that the ingest thread sees the end of its pipe
        self.session = session
        self.feeder = feeder
        self.live = live
        self.export_path = export_path
        self.report_path = report_path
        self.stop_event = threading.Event()
        self.cursor: float | None = None  # None: follow the newest data (live, or while loading)
        self.filter_text = ""
        self.selected_hoa: str | None = None
        self.data: ViewData | None = None
        self._drawn: tuple[Any, ...] | None = None
        self._tree_entries: list[model.TreeEntry] = []
        self._tree_nodes: list[Any] = []  # the Tree's node of each entry, in the same order
        self._next_timed = 0.0  # monotonic time before which a timed redraw is skipped
        self._shown_frame: int | None = None
        self.sub_title = Path(session.name).name if session.name and not live else (session.name or "")

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="top"):
            yield Tree("nodes", id="nodes")
            yield DataTable(id="bindings", cursor_type="row", zebra_stripes=True)
        with TabbedContent(id="bottom", initial="messages"):
            with TabPane("Messages", id="messages"):
                with Horizontal():
                    yield DataTable(id="message-list", cursor_type="row")
                    with Vertical(id="detail-pane"):
                        yield Tree("message", id="detail")
                        yield HexView(id="hex")
            with TabPane("Findings", id="findings"):
                yield DataTable(id="finding-list", cursor_type="row")
        yield Input(placeholder="filter: HoA, CoA, BID, message type or rule (esc clears)", id="filter")
        with Horizontal(id="timebar"):
            yield Static("", id="time")
            yield ProgressBar(total=100, show_eta=False, id="progress")
        yield Footer()

    def _widget(self, selector: str, kind: type[W]) -> W:
        """A widget of the main screen (``query_one`` would search a help screen on top)."""
        return self.screen_stack[0].query_one(selector, kind)

    def on_mount(self) -> None:
        self._widget("#bindings", DataTable).add_columns(*BINDING_COLUMNS)
        self._widget("#message-list", DataTable).add_columns(*MESSAGE_COLUMNS)
        self._widget("#finding-list", DataTable).add_columns(*FINDING_COLUMNS)
        tree = self._widget("#nodes", Tree)
        tree.show_root = False
        self._widget("#detail", Tree).show_root = False
        self.run_feeder()
        self.set_interval(REFRESH_SECONDS, self.timed_refresh)
        self.refresh_screen()
        # Python, Textual and the widgets are long-lived: keep the cyclic collector's full runs
        # (which stop every thread, the event loop too) from rescanning them (unfrozen on unmount)
        gc.freeze()

    @work(thread=True, exclusive=True, group="ingest")
    def run_feeder(self) -> None:
        # the ingest thread is pure Python: hand the GIL back sooner (default 5 ms) so that the
        # event loop, which gives it up at every select(), gets it back quickly
        previous = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        try:
            self.feeder(self.session, self.stop_event)
        finally:
            sys.setswitchinterval(previous)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and what the panes show", self.action_help)
        yield SystemCommand("Filter", "Filter by HoA, CoA, BID, message type or rule", self.action_filter)
        yield SystemCommand("Export JSON", "Write the analysis as JSON", self.action_export)
        yield SystemCommand("HTML report", "Write the HTML timeline report of what is loaded",
                            self.action_report)
        yield SystemCommand("Next event", "Move the time cursor to the next event",
                            lambda: self.action_step(1))
        yield SystemCommand("Previous event", "Move the time cursor to the previous event",
                            lambda: self.action_step(-1))
        yield SystemCommand("Start of capture", "Time cursor to the first packet", self.action_jump_start)
        yield SystemCommand("End / follow now", "Time cursor to the newest packet", self.action_jump_end)
        if self.live:
            yield SystemCommand("Pause / follow", "Freeze the screen or follow now again", self.action_pause)
        yield SystemCommand("Findings", "Show the findings log", lambda: self.action_tab("findings"))
        yield SystemCommand("Messages", "Show the Mobility Header messages",
                            lambda: self.action_tab("messages"))

    # ------------------------------------------------------------------ time
    def now(self) -> float:
        """The time the screen shows: the cursor, or the newest data (live: the wall clock, so
        lifetimes count down between packets)."""
        data = self.data
        if self.cursor is not None:
            return self.cursor
        last = data.last_time if data is not None and data.last_time is not None else 0.0
        if self.live and data is not None and data.last_time is not None:
            return max(last, time.time())
        return last

    def set_cursor(self, t: float | None) -> None:
        self.cursor = t
        self.refresh_screen(force=True)

    def action_step(self, direction: int) -> None:
        if self.data is not None:
            self.set_cursor(model.step_time(self.data, self.now(), direction))

    def action_seconds(self, seconds: int) -> None:
        if self.data is not None:
            self.set_cursor(self.now() + seconds)

    def action_jump_start(self) -> None:
        if self.data is not None and self.data.first_time is not None:
            self.set_cursor(self.data.first_time)

    def action_jump_end(self) -> None:
        if self.live or not self.session.done:
            self.set_cursor(None)
        elif self.data is not None:
            self.set_cursor(self.data.last_time)

    def action_pause(self) -> None:
        self.set_cursor(self.now() if self.cursor is None else None)

    # ------------------------------------------------------------------ actions
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_filter(self) -> None:
        box = self._widget("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self._widget("#filter", Input)
        box.value = ""
        box.display = False
        self.filter_text = ""
        self.refresh_screen(force=True)

    @on(Input.Submitted, "#filter")
    def apply_filter(self, event: Input.Submitted) -> None:
        self.filter_text = event.value.strip()
        if not self.filter_text:
            event.input.display = False
        self._widget("#bindings", DataTable).focus()
        self.refresh_screen(force=True)

    def action_explain(self) -> None:
        """How the highlighted binding was read (``mcoaviz explain`` for that node, HoA, BID)."""
        table = self._widget("#bindings", DataTable)
        if self.selected_hoa is None or table.row_count == 0:
            self.notify("select a binding first")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        node, _, bid = key.rpartition("|")
        lines = self.session.explanation(self.selected_hoa, node, None if bid == "None" else int(bid))
        self.push_screen(ExplainScreen(lines))

    def action_tab(self, name: str) -> None:
        self._widget("#bottom", TabbedContent).active = name

    def action_export(self) -> None:
        path = Path(self.export_path or self.default_export_name())
        try:
            from mcoaviz.export import write_json

            with path.open("w", encoding="utf-8") as out:
                write_json(self.session.analysis(), out)
        except (OSError, TypeError, ValueError) as exc:
            self.notify(f"export failed: {for_rich(exc)}", severity="error")
            return
        self.notify(f"wrote {for_rich(path)}")

    def action_report(self) -> None:
        """The same report as ``mcoaviz report``, of the analysis as it stands (live: so far)."""
        from mcoaviz.report import write_report

        path = Path(self.report_path or self.default_export_name().replace(".json", "") + ".html")
        try:
            write_report(self.session.analysis(), path)
        except (OSError, TypeError, ValueError) as exc:
            self.notify(f"report failed: {for_rich(exc)}", severity="error")
            return
        self.notify(f"wrote {for_rich(path)}")

    def default_export_name(self) -> str:
        if self.session.name and not self.live:
            return Path(self.session.name).stem + ".mcoaviz.json"
        return time.strftime("mcoaviz-live-%Y%m%d-%H%M%S.json", time.gmtime())

    async def action_quit(self) -> None:
        self.stop_event.set()
        if self.on_quit is not None:
            self.on_quit()
        self.exit(0)

    # ------------------------------------------------------------------ selection
    @on(Tree.NodeHighlighted, "#nodes")
    def hoa_highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        entry = event.node.data
        if self.closing:
            return
        if isinstance(entry, model.TreeEntry) and entry.hoa is not None and entry.hoa != self.selected_hoa:
            self.selected_hoa = entry.hoa
            self.refresh_screen(force=True)

    @on(DataTable.RowHighlighted, "#message-list")
    def message_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.show_message(int(event.row_key.value))

    @on(DataTable.RowSelected, "#finding-list")
    def finding_selected(self, event: DataTable.RowSelected) -> None:
        """Jump to the finding's message: the cursor goes to its time, the list to its row."""
        key = event.row_key.value
        if not key or self.data is None or self.closing:
            return
        frame = int(key.split(":")[1]) if key.split(":")[1] else None  # key: rule:frame:n
        message = next((m for m in self.data.messages if m["frame"] == frame), None)
        if message is None:
            self.notify("this finding has no message frame", severity="warning")
            return
        self.cursor = message["time"]
        self.refresh_screen(force=True)
        self.action_tab("messages")
        table = self._widget("#message-list", DataTable)
        table.move_cursor(row=table.get_row_index(str(frame)))
        table.focus()
        self.show_message(message["frame"])  # == frame, and an int: a message has one

    def show_message(self, frame: int) -> None:
        if frame == self._shown_frame or self.closing:
            return
        self._shown_frame = frame
        tree = self._widget("#detail", Tree)
        tree.clear()
        packet, raw = self.session.packet(frame)
        hex_pane = self._widget("#hex", HexView)
        if packet is None or packet.mobility is None:
            tree.root.add_leaf(f"frame {frame}: bytes no longer held (only the newest messages keep them)")
            hex_pane.show(b"")
            return
        name = self.session.interface_name(packet.interface)
        if name:
            tree.root.add_leaf(f"Captured on interface {packet.interface}: {for_rich(name)}")
        stack = [(-1, tree.root)]
        for line in detail_lines(packet):
            depth = len(line) - len(line.lstrip(" "))
            while stack[-1][0] >= depth:
                stack.pop()
            node = stack[-1][1].add(for_rich(line.strip()), expand=True)
            stack.append((depth, node))
        self._prune_leaves(tree.root)
        hex_pane.show(raw or b"")

    @staticmethod
    def _prune_leaves(node: Any) -> None:
        for child in node.children:
            if child.children:
                McoaApp._prune_leaves(child)
            else:
                child.allow_expand = False

    # ------------------------------------------------------------------ drawing
    @property
    def closing(self) -> bool:
        """Messages still queued while the app exits must not touch the (gone) main screen."""
        return self._exit or not self.screen_stack

    def timed_refresh(self) -> None:
        """The timer's redraw, spaced out when redraws are slow (thousands of HoAs): the
        ingest thread needs the GIL too. Keys still redraw at once (``refresh_screen``)."""
        now = time.monotonic()
        if now < self._next_timed:
            return
        self.refresh_screen()
        took = time.monotonic() - now
        self._next_timed = now + took / REFRESH_SHARE

    def refresh_screen(self, force: bool = False) -> None:
        if self.closing:
            return
        try:
            self._refresh(force)
        except NoMatches:  # a timer that fires while the app tears its screen down
            return

    def _refresh(self, force: bool) -> None:
        session = self.session
        key = (session.version, self.cursor, self.filter_text, self.selected_hoa,
               int(time.time()) if self.live and self.cursor is None else 0)
        if not force and key == self._drawn:
            self._draw_timebar()
            return
        data = session.view(wait=UI_LOCK_WAIT)
        if data is None:  # ingest is busy (a chunk, the checker rerunning its rules): next tick
            self._draw_timebar()
            return
        self._drawn = key
        self.data = data
        t = self.now()
        self._draw_tree(data, t)
        self._draw_bindings(data, t)
        self._draw_messages(data, t)
        self._draw_findings(data, t)
        self._draw_timebar()

    def _draw_tree(self, data: ViewData, t: float) -> None:
        entries = model.tree_at(data, t, self.filter_text)
        if self.selected_hoa is None or not any(e.hoa == self.selected_hoa for e in entries):
            self.selected_hoa = next((e.hoa for e in entries if e.hoa is not None), None)
        if entries == self._tree_entries:
            return
        old, self._tree_entries = self._tree_entries, entries
        same_lines = len(old) == len(entries) and all(
            (a.group, a.node, a.hoa) == (b.group, b.node, b.hoa) for a, b in zip(old, entries, strict=True))
        if same_lines and self._tree_nodes:
            # same lines, new counts: relabel the changed ones (a rebuild redraws every line)
            for node, a, b in zip(self._tree_nodes, old, entries, strict=True):
                if a != b:
                    node.set_label(self._tree_label(b))
                    node.data = b
            return
        tree = self._widget("#nodes", Tree)
        tree.clear()
        self._tree_nodes = []
        groups: dict[str, Any] = {}
        parents: dict[tuple[str, str | None], Any] = {}
        select_line = None
        for e in entries:
            group = groups.get(e.group)
            if group is None:
                group = groups[e.group] = tree.root.add(e.group, expand=True)
            if e.hoa is None:
                parents[(e.group, e.node)] = line = group.add(self._tree_label(e), data=e, expand=True)
                self._tree_nodes.append(line)
                continue
            parent = parents.get((e.group, e.node), group)
            leaf = parent.add_leaf(self._tree_label(e), data=e)
            self._tree_nodes.append(leaf)
            if e.hoa == self.selected_hoa and select_line is None:
                select_line = leaf
        if select_line is not None:
            self.call_after_refresh(self._select_tree_line, select_line)

    @staticmethod
    def _tree_label(e: model.TreeEntry) -> str:
        if e.hoa is None:
            return f"{for_rich(e.node)} ({e.bindings})"
        return f"{for_rich(e.hoa)} [{e.bindings} b, {e.messages} m]"

    def _select_tree_line(self, node: Any) -> None:
        tree = self._widget("#nodes", Tree)
        if node.line >= 0 and tree.cursor_line != node.line:
            tree.move_cursor(node)

    def _draw_bindings(self, data: ViewData, t: float) -> None:
        table = self._widget("#bindings", DataTable)
        first = data.first_time
        lines = model.bindings_for(data, self.selected_hoa, t, self.filter_text)
        row = table.cursor_row
        table.clear()
        for b in lines:
            table.add_row(
                "-" if b.bid is None else str(b.bid), for_rich(b.coa), state_cell(b.state),
                lifetime_left(b.remaining), Text(b.spark, style="green"), count(*b.to_mn), count(*b.from_mn),
                for_rich(b.node), exchange(b.last_bu, first), exchange(b.last_ba, first), for_rich(b.status),
                key=f"{b.node}|{b.bid}",
            )
        if lines:
            table.move_cursor(row=min(row, len(lines) - 1))

    def _draw_messages(self, data: ViewData, t: float) -> None:
        table = self._widget("#message-list", DataTable)
        messages = model.messages_until(data, t, self.filter_text)
        at_end = table.row_count == 0 or table.cursor_row >= table.row_count - 1 or not table.has_focus
        first = data.first_time

        def cells(i: int) -> tuple[Any, ...]:
            m = messages[i]
            bids = ",".join(str(b["bid"]) for b in m["bids"])
            status = "" if m["status"] is None else f"{m['status']} {m.get('status_name') or ''}".strip()
            return (str(m["frame"]), relative(m["time"], first), for_rich(m["type"]),
                    for_rich(m.get("hoa") or ""), "" if m["seq"] is None else str(m["seq"]),
                    for_rich(status), bids, for_rich(f"{m['src']} → {m['dst']}"))

        keys = [str(m["frame"]) for m in messages]
        if sync_rows(table, keys, cells) and keys and at_end:  # follow the newest unless the user moved
            table.move_cursor(row=len(keys) - 1)

    def _draw_findings(self, data: ViewData, t: float) -> None:
        findings = model.findings_until(data, t, self.filter_text)
        keys = []
        seen: dict[str, int] = {}
        for f in findings:
            key = f"{f['rule']}:{f['frame'] or ''}"
            seen[key] = seen.get(key, 0) + 1
            keys.append(f"{key}:{seen[key]}")

        def cells(i: int) -> tuple[Any, ...]:
            f = findings[i]
            return (severity_cell(f["severity"]), for_rich(f["rule"]), for_rich(f["section"]),
                    "" if f["frame"] is None else str(f["frame"]), Text(printable(f["message"])))

        sync_rows(self._widget("#finding-list", DataTable), keys, cells)

    def _draw_timebar(self) -> None:
        session, data = self.session, self.data
        progress = self._widget("#progress", ProgressBar)
        loading = not session.done and not self.live
        progress.display = loading
        if loading and session.total_bytes:
            progress.update(progress=min(100.0, 100.0 * session.bytes_read / session.total_bytes))
        parts = []
        if data is not None and data.last_time is not None:
            t = self.now()
            times = data.event_times()
            index = bisect.bisect_right(times, t)
            parts.append(f"t {relative(t, data.first_time)} s ({utc(t)} UTC)  event {index}/{len(times)}")
        if self.live:
            parts.append("[b]PAUSED[/b]" if self.cursor is not None else "[b green]LIVE[/b green]")
        elif loading:
            parts.append(f"loading… {session.frames} frames")
        parts.append(f"{session.frames} frames")
        if self.filter_text:
            parts.append(f"filter: {for_rich(self.filter_text)}")
        if data is not None and data.messages_dropped:
            parts.append(f"{data.messages_dropped} older messages counted only")
        if session.error:
            parts.append(f"[red]{for_rich(session.error)}[/red]")
        if session.status:
            parts.append(for_rich(session.status))
        self._widget("#time", Static).update("  ".join(parts))

    def on_unmount(self) -> None:
        self.stop_event.set()
        gc.unfreeze()
