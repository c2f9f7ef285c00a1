from mcoaviz.safetext import for_rich, printable


def test_controls_become_escapes() -> None:
    hostile = "eth0\x1b]0;pwned\x07\r\x08\x9b31m"
    shown = printable(hostile)
    assert shown == "eth0\\x1b]0;pwned\\x07\\x0d\\x08\\x9b31m"
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)


def test_bidi_override_and_backslash() -> None:
    assert printable("a\u202eb") == "a\\u202eb"
    # a literal backslash sequence in the capture cannot pose as an escape we produced
    assert printable("\\x1b") == "\\\\x1b"


def test_plain_text_unchanged_and_none_empty() -> None:
    assert printable("wlan0 (MN radio) – ä") == "wlan0 (MN radio) – ä"
    assert printable(None) == ""


def test_long_text_is_cut_with_count() -> None:
    shown = printable("x" * 300, limit=10)
    assert shown == "x" * 10 + "…(+290 chars)"


def test_rich_markup_escaped() -> None:
    assert for_rich("[bold red]boom[/]") == "\\[bold red]boom\\[/]"


def test_utc_text_within_and_outside_the_calendar() -> None:
    from mcoaviz.safetext import utc_text

    assert utc_text(1_700_000_000.25) == "2023-11-14 22:13:20.250000 UTC"
    assert utc_text(float(1 << 64)) == "1.84467e+19 s since the epoch (outside the calendar)"
    assert utc_text(-1e300) == "-1e+300 s since the epoch (outside the calendar)"
    assert utc_text(None) == "-"
