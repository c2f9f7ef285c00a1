"""Text from a capture, made safe to show: the one place every view neutralises it.

Anyone on a mirrored link chooses a capture's bytes, and a pcapng's interface names, descriptions
and comments are free text. Shown raw, an ESC or OSC sequence retitles or repaints the user's
terminal, a CR or BS hides what was printed, and bidirectional overrides reorder what is read
("Trojan Source"). Every view (CLI, TUI, report) passes such text through ``printable`` before it
shows it; the TUI and Rich output also escape markup (``for_rich``); the report escapes HTML on
top (``html.escape`` / JSON with ``<`` escaped).
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode format characters that change how text is read:
# bidi embeddings/overrides/isolates, zero-width and line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
MAX_SHOWN = 256  # a name longer than this is cut; the rest is counted, not shown


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` with every control or reordering character shown as an escape (``\\x1b``,
    ``\\u202e``), cut to ``limit`` characters with a note of how many were left out.
    A backslash is doubled so that an escape shown cannot be forged by the capture."""
    if text is None:
        return ""
    s = str(text).replace("\\", "\\\\")
    s = _UNSAFE.sub(_escape, s)
    if limit and len(s) > limit:
        s = f"{s[:limit]}…(+{len(s) - limit} chars)"
    return s


def for_rich(text: object, limit: int = MAX_SHOWN) -> str:
    """``printable`` plus Rich markup escaped, for Rich and Textual renderables that parse markup."""
    from rich.markup import escape

    return escape(printable(text, limit))


def utc_text(seconds: float | None) -> str:
    """A capture time as UTC text. A capture chooses its timestamps too (``if_tsresol`` 0 with
    64-bit ticks, a huge ``if_tsoffset``): a time no calendar can show is printed as seconds."""
    if seconds is None:
        return "-"
    from datetime import UTC, datetime

    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.6g} s since the epoch (outside the calendar)"
