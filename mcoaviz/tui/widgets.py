"""Small widgets and cell formatting for the TUI: help screen, filter bar, time bar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from mcoaviz.safetext import for_rich

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
STATE_STYLE = {"active": "green", "unconfirmed": "yellow", "home": "blue", "expired": "red"}

HELP_TEXT = """\
[b]mcoaviz TUI[/b]: binding state as of the time cursor

[b]Time[/b]
  [ / ]      previous / next event (message, binding change, finding)
  , / .      one second back / forward
  g / G      start / end of the capture (live: G follows now again)
  p          live: pause / follow now

[b]Panes[/b]
  tab        next pane            m / f   messages / findings tab
  enter      on a finding: jump to its message
  /          filter (HoA, CoA, BID, message type, rule); esc clears it
  x          on a binding: how it was read (steps, frames, rule, I-n)
  e          export the analysis as JSON
  r          write the HTML timeline report (as mcoaviz report)
  ctrl+p     command palette      ?       this help      q  quit
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 76; height: auto; max-height: 22; border: round $accent;
                            background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(HELP_TEXT, id="help-text")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class ExplainScreen(ModalScreen[None]):
    """``mcoaviz explain`` for the highlighted binding (text from ``mcoaviz.query.explain``)."""

    BINDINGS = [Binding("escape,q,x", "dismiss", "Close")]
    DEFAULT_CSS = """
    ExplainScreen { align: center middle; }
    ExplainScreen > VerticalScroll { width: 90%; height: 80%; border: round $accent;
                                     background: $surface; padding: 0 1; }
    """

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("\n".join(self.lines)), id="explain-text")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


def relative(t: float | None, first: float | None) -> str:
    if t is None:
        return ""
    return f"+{t - (first or t):.3f}"


def utc(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def lifetime_left(seconds: float | None) -> str:
    if seconds is None:
        return "∞"
    return f"{seconds:.0f}s"


def exchange(value: tuple[int, float, int | None] | None, first: float | None) -> str:
    if value is None:
        return "-"
    frame, time, seq = value
    return f"#{frame} {relative(time, first)} s{seq if seq is not None else '-'}"


def count(packets: int, nbytes: int) -> str:
    return f"{packets}/{_size(nbytes)}"


def _size(n: int) -> str:
    for unit in ("B", "k", "M", "G"):
        if n < 1000:
            return f"{n}{unit}"
        n //= 1000
    return f"{n}T"


def severity_cell(severity: str) -> Text:
    return Text(severity, style=SEVERITY_STYLE.get(severity, ""))


def state_cell(state: str) -> Text:
    return Text(state, style=STATE_STYLE.get(state, ""))


def capture_text(value: object) -> str:
    """Capture text for a markup-parsing label (addresses are checked text, names are not)."""
    return for_rich(value)


MAX_SHIFTED = 32  # rows removed one by one at most (``sync_rows``)


def sync_rows(table: DataTable, keys: list[str], cells: Callable[[int], tuple[Any, ...]]) -> bool:
    """Make ``table`` show one row per key (``cells(i)`` makes row i, called only for rows added)
    with few changes: nothing when the keys are the same; when the list moved on (the old rows'
    tail is the new rows' head), rows leave at the top and arrive at the bottom; otherwise a
    redraw. DataTable costs per row added, so a live list that grows by a few messages costs a
    few rows, not the whole table. True if anything changed."""
    row_keys = list(table.rows)
    old = [key.value for key in row_keys]
    if old == keys:
        return False
    start = old.index(keys[0]) if keys and keys[0] in old else -1
    # DataTable.remove_row re-indexes every row: past a few dozen, one redraw is cheaper
    if 0 <= start <= MAX_SHIFTED and old[start:] == keys[:len(old) - start]:
        for row_key in row_keys[:start]:
            table.remove_row(row_key)
        for i in range(len(old) - start, len(keys)):
            table.add_row(*cells(i), key=keys[i])
        return True
    table.clear()
    for i, key in enumerate(keys):
        table.add_row(*cells(i), key=key)
    return True


class HexView(Static):
    """Offset, hex and ASCII of a frame, as many bytes per line as the pane's width allows
    (worked out when drawn, so it follows resizes)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's parameter name
        super().__init__("", id=id)
        self.data = b""

    def show(self, data: bytes) -> None:
        self.data = data
        self.refresh(layout=True)

    def render(self) -> Text:
        from mcoaviz.tui.model import hexdump

        width = self.size.width
        per_line = max(4, min(16, (width - 8) // 4)) if width else 16
        return Text("\n".join(hexdump(self.data, per_line)))

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        per_line = max(4, min(16, (width - 8) // 4)) if width else 16
        return max(1, -(-len(self.data) // per_line))
