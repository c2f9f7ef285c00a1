"""Text output with optional colour (through Rich), and aligned text tables.

Colour only on a terminal, never when piped, never with ``--no-color`` or ``NO_COLOR`` set
(https://no-color.org). ``FORCE_COLOR`` set (non-empty) forces it, as Rich does. The plain
text is the same with and without colour: colour only styles spans of it, so tests and scripts
see one layout.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from mcoaviz.safetext import printable

# one place for the palette (ANSI 16 colours: readable on light and dark terminals)
STYLES = {
    "title": "bold",
    "heading": "bold cyan",
    "column": "bold",
    "dim": "dim",
    "error": "bold red",
    "warning": "yellow",
    "info": "cyan",
    "valid": "green",
    "expired": "yellow",
    "deregistered": "magenta",
    "replaced": "blue",
    "overwritten": "blue",
    "rejected": "red",
    "unconfirmed": "yellow",
    "pending": "yellow",
}


def wants_colour(out: TextIO, no_color: bool = False) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


@dataclass(frozen=True, slots=True)
class Styled:
    """A table cell (or text piece) with a style name from STYLES."""

    value: Any
    style: str | None


Span = tuple[int, int, str]  # start, end, style name


class Writer:
    """Writes lines; with colour, styles the given spans through a Rich console."""

    def __init__(self, out: TextIO, colour: bool) -> None:
        self.out = out
        self.colour = colour
        self._console: Any = None
        if colour:
            from rich.console import Console

            self._console = Console(file=out, force_terminal=True, color_system="standard", highlight=False,
                                    soft_wrap=True, emoji=False, markup=False)

    def line(self, text: str = "", spans: Sequence[Span] = ()) -> None:
        if self._console is None or not spans:
            self.out.write(text + "\n")
            return
        from rich.text import Text

        styled = Text(text)
        for start, end, style in spans:
            styled.stylize(STYLES.get(style, style), start, end)
        self._console.print(styled)

    def styled(self, text: str, style: str) -> None:
        self.line(text, [(0, len(text), style)])

    def lines(self, rows: Sequence[tuple[str, Sequence[Span]]]) -> None:
        for text, spans in rows:
            self.line(text, spans)


def cell_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return printable(value)  # a cell may hold text from the capture (names, finding messages)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ",
          header: bool = True) -> list[tuple[str, list[Span]]]:
    """Left-aligned text columns (numbers right-aligned), two spaces apart, with the style spans
    of ``Styled`` cells and of the header row."""
    plain = [[c.value if isinstance(c, Styled) else c for c in row] for row in rows]
    cells = [[cell_text(c) for c in row] for row in plain]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    def is_number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    # a column is numeric when every value given is a number (and there is one)
    numeric = [any(is_number(row[i]) for row in plain)
               and all(is_number(row[i]) for row in plain if row[i] is not None) for i in range(len(headers))]

    def line(values: Sequence[str], styles: Sequence[str | None]) -> tuple[str, list[Span]]:
        parts, spans, pos = [], [], len(indent)
        for value, width, num, style in zip(values, widths, numeric, styles, strict=True):
            text = value.rjust(width) if num else value.ljust(width)
            if style:
                lead = len(text) - len(text.lstrip())
                spans.append((pos + lead, pos + lead + len(value), style))
            parts.append(text)
            pos += len(text) + 2
        return (indent + "  ".join(parts)).rstrip(), spans

    out = []
    if header:
        out.append(line(list(headers), ["column"] * len(headers)))
        out.append(line(["-" * w for w in widths], [None] * len(headers)))
    for given, texts in zip(rows, cells, strict=True):
        out.append(line(texts, [c.style if isinstance(c, Styled) else None for c in given]))
    return out
