"""decode's text output: lines checked for unsafe text in one go, escaped line by line when needed."""

from __future__ import annotations

from mcoaviz.cli.decode import _printable_lines
from mcoaviz.safetext import printable


def test_clean_lines_are_written_as_they_are() -> None:
    lines = ["     6     0.002951  2001:db8::1 -> 2001:db8::2  BU  seq=2", "  Frame 6: 170 bytes on wire"]
    assert _printable_lines(lines) == lines[0] + "\n" + lines[1] + "\n"


def test_one_unsafe_line_is_escaped_and_the_others_are_not() -> None:
    lines = ["clean", "name \x1b]0;owned\x07 here", "back\\slash", "also clean"]
    assert _printable_lines(lines) == "clean\nname \\x1b]0;owned\\x07 here\nback\\\\slash\nalso clean\n"
    assert _printable_lines(lines) == "".join(printable(line, limit=0) + "\n" for line in lines)


def test_a_newline_inside_a_line_is_escaped_not_written() -> None:
    assert _printable_lines(["a\nb", "c"]) == "a\\x0ab\nc\n"
    assert _printable_lines(["x" * 300]) == "x" * 300 + "\n"  # no cut: decode lines are never shortened


def test_printable_changes_no_character_that_isprintable_accepts() -> None:
    """The shortcut's premise, over every code point (surrogates cannot be printed at all)."""
    accepted = "".join(c for c in map(chr, range(0x110000)) if c.isprintable() and c != "\\")
    assert len(accepted) > 100_000
    assert printable(accepted, limit=0) == accepted
    head, tail = accepted[:5000], accepted[5000:]
    assert _printable_lines([head, tail]) == head + "\n" + tail + "\n"
