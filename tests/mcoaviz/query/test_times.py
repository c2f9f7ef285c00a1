"""Times the user writes, and the -t display formats."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest

from mcoaviz.query import QueryError, TimeFormat, parse_time, time_format_name

FIRST = 1_700_000_001.25  # 2023-11-14 22:13:21.25 UTC
PLUS_ONE = timezone(timedelta(hours=1))


@pytest.mark.parametrize(("text", "expected"), [
    ("12", FIRST + 12), ("12.5", FIRST + 12.5), ("12.5s", FIRST + 12.5), (".5", FIRST + 0.5),
    ("2023-11-14T22:13:25Z", 1_700_000_005.0),
    ("2023-11-14 22:13:25.5+00:00", 1_700_000_005.5),
    ("2023-11-14T23:13:25+01:00", 1_700_000_005.0),
    ("2023-11-14T22:13:25", 1_700_000_005.0),  # no offset: the given zone (UTC here)
    ("22:13:25", 1_700_000_005.0), ("22:13:25.75Z", 1_700_000_005.75), ("22:14", 1_700_000_040.0),
    ("23:13:25+01:00", 1_700_000_005.0),
])
def test_parse_and_resolve(text: str, expected: float) -> None:
    assert parse_time(text).resolve(FIRST, UTC) == pytest.approx(expected, abs=1e-6)


def test_naive_times_are_in_the_zone_given() -> None:
    assert parse_time("23:13:25").resolve(FIRST, PLUS_ONE) == pytest.approx(1_700_000_005.0)


def test_time_of_day_before_the_first_frame_is_the_next_day() -> None:
    assert parse_time("00:00:10Z").resolve(FIRST, UTC) == pytest.approx(1_700_006_410.0)  # 2023-11-15


@pytest.mark.parametrize("text", ["soon", "12:5", "25:00:00", "2023-13-01T00:00:00", "1e3", ""])
def test_bad_times_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_time(text)
    assert "is neither seconds from the first frame" in str(info.value)


def test_formats() -> None:
    t = FIRST + 3.0004567
    assert TimeFormat("relative", FIRST).instant(t) == "3.000"
    assert TimeFormat("relative", FIRST, digits=6).instant(t) == "3.000457"
    assert TimeFormat("utc", FIRST).instant(t) == "22:13:24.250"
    # datetime rounds the float to whole microseconds; the format then cuts
    assert TimeFormat("utc-date", FIRST, digits=6).instant(t) == "2023-11-14 22:13:24.250457"
    assert TimeFormat("absolute", FIRST, tz=PLUS_ONE).instant(t) == "23:13:24.250"
    assert TimeFormat("absolute-date", FIRST, digits=0, tz=PLUS_ONE).instant(t) == "2023-11-14 23:13:24"


def test_clock_formats_cut_rather_than_round() -> None:
    assert TimeFormat("utc", FIRST).instant(1_700_000_005.9999) == "22:13:25.999"


def test_delta_counts_from_the_previous_point_and_restarts() -> None:
    f = TimeFormat("delta", FIRST)
    assert [f.point(FIRST + x) for x in (1.0, 1.5, 4.0)] == ["1.000", "0.500", "2.500"]
    assert f.end(FIRST + 1.0, FIRST + 13.0) == "+12.000"
    f.restart()
    assert f.point(FIRST + 2.0) == "2.000"
    assert f.point(None) == "-" and f.end(FIRST, None) == "-"


def test_tshark_letters_are_aliases() -> None:
    assert [time_format_name(x) for x in ("r", "a", "ad", "u", "ud", "d")] == [
        "relative", "absolute", "absolute-date", "utc", "utc-date", "delta"]
    with pytest.raises(QueryError):
        time_format_name("epoch")
