"""Times the user writes (``--at``, ``--between``) and how times are shown (``-t``, like tshark).

A time the user writes is one of:

* seconds from the first frame: ``12``, ``12.5``, ``12.5s``;
* an ISO 8601 date and time: ``2023-11-14T22:13:25.5Z``, ``2023-11-14 22:13:25+01:00``;
* an ISO 8601 time of day: ``22:13:25`` / ``22:13:25.5Z``: that time on the day of the first
  frame (the next day when that is earlier than the first frame: a capture across midnight).

Without a UTC offset a date or time of day is local time, as ``-t absolute`` shows it (tshark
does the same); add ``Z`` for UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from mcoaviz.query.filters import QueryError

_SECONDS = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)s?")
_CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """A time as written, resolved against a capture's first frame by ``resolve``."""

    text: str
    relative: float | None = None  # seconds from the first frame
    absolute: datetime | None = None  # aware when written with an offset
    clock: time | None = None  # time of day (aware when written with an offset)

    def resolve(self, first_time: float | None, tz: tzinfo | None = None) -> float:
        """Capture time (epoch seconds). ``tz``: the zone of times written without an offset
        (default: the machine's local zone)."""
        if self.relative is not None:
            return (first_time or 0.0) + self.relative
        if self.absolute is not None:
            moment = self.absolute
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
            return moment.timestamp()
        assert self.clock is not None
        if first_time is None:
            raise QueryError(f"time of day {self.text!r} needs a capture with frames")
        zone = self.clock.tzinfo or tz
        day = datetime.fromtimestamp(first_time, zone).date()
        moment = datetime.combine(day, self.clock.replace(tzinfo=None))
        moment = moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()
        if moment.timestamp() < first_time - 1e-6:  # a capture across midnight: the next day
            moment += timedelta(days=1)
        return moment.timestamp()


def parse_time(text: str) -> TimeSpec:
    """Read a time the user wrote; raises QueryError with a one-line reason."""
    raw = text.strip()
    if _SECONDS.fullmatch(raw):
        return TimeSpec(raw, relative=float(raw.removesuffix("s")))
    iso = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw  # Python 3.11 reads Z, 3.10 did not
    if _CLOCK.fullmatch(raw):
        try:
            return TimeSpec(raw, clock=time.fromisoformat(iso if len(iso.split(":")[0]) == 2 else "0" + iso))
        except ValueError:
            pass
    else:
        try:
            return TimeSpec(raw, absolute=datetime.fromisoformat(iso))
        except ValueError:
            pass
    raise QueryError(f"time {text!r} is neither seconds from the first frame (12.5) nor an ISO 8601 "
                     "time (2023-11-14T22:13:25Z, 22:13:25)")


# --------------------------------------------------------------------------- showing times

# -t values, with tshark's letters as aliases (tshark: r, a, ad, u, ud, d)
TIME_FORMATS = ("relative", "absolute", "absolute-date", "utc", "utc-date", "delta")
ALIASES = {"r": "relative", "a": "absolute", "ad": "absolute-date", "u": "utc", "ud": "utc-date",
           "d": "delta", "dd": "delta"}
DESCRIPTIONS = {
    "relative": "seconds from the first frame",
    "absolute": "local time of day",
    "absolute-date": "local date and time",
    "utc": "UTC time of day",
    "utc-date": "UTC date and time",
    "delta": "seconds since the previous row; interval ends as +duration",
}


def time_format_name(text: str) -> str:
    name = ALIASES.get(text, text)
    if name not in TIME_FORMATS:
        raise QueryError(f"time format {text!r} is not one of {', '.join(TIME_FORMATS)} "
                         "(or r, a, ad, u, ud, d)")
    return name


@dataclass(slots=True)
class TimeFormat:
    """Formats capture times one way. ``delta`` is stateful: each ``point`` is shown as the
    time since the previous one (start a new table with ``restart``)."""

    mode: str
    first_time: float | None
    digits: int = 3
    tz: tzinfo | None = None  # zone of "absolute" (default: local)
    _previous: float | None = None

    def restart(self) -> None:
        self._previous = None

    def point(self, t: float | None) -> str:
        if t is None:
            return "-"
        if self.mode == "delta":
            base = self._previous if self._previous is not None else (self.first_time or t)
            self._previous = t
            return f"{t - base:.{self.digits}f}"
        return self.instant(t)

    def instant(self, t: float) -> str:
        """``t`` in the chosen form (``delta`` shows it relative to the first frame)."""
        if self.mode in ("relative", "delta"):
            return f"{t - (self.first_time or 0.0):.{self.digits}f}"
        zone = UTC if self.mode.startswith("utc") else self.tz
        moment = datetime.fromtimestamp(t, zone) if zone is not None else datetime.fromtimestamp(t)
        pattern = "%Y-%m-%d %H:%M:%S" if self.mode.endswith("-date") else "%H:%M:%S"
        # cut, not rounded: a clock never shows a second that has not begun
        fraction = "." + f"{moment.microsecond:06d}"[:self.digits] if self.digits else ""
        return moment.strftime(pattern) + fraction

    def end(self, start: float | None, end: float | None) -> str:
        """An interval's end; with ``delta`` its duration, ``+12.000``."""
        if end is None:
            return "-"
        if self.mode == "delta" and start is not None:
            return f"+{end - start:.{self.digits}f}"
        return self.instant(end)

    def legend(self) -> str:
        return DESCRIPTIONS[self.mode]
