"""Options shared by the subcommands that answer questions: filters, time window, time display,
colour. Parsing only; the logic is in ``mcoaviz.query`` and the rendering in the views.

Values are checked in ``run`` (not by argparse ``type=``) so that a bad one gives the usual
one-line error and exit 2 before the capture is read.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from mcoaviz.query import (
    TIME_FORMATS,
    Query,
    QueryError,
    RowFilter,
    TimeFormat,
    TimeSpec,
    parse_time,
    time_format_name,
)


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "output filters", "the analysis runs on everything; only what is shown is restricted. "
        "Repeat an option for alternatives; different options must all match.")
    group.add_argument("--hoa", action="append", metavar="H", help="home address or prefix (2001:db8:1::/48)")
    group.add_argument("--coa", action="append", metavar="C", help="care-of address or prefix")
    group.add_argument("--node", action="append", metavar="N",
                       help="home agent or correspondent node address or prefix")
    group.add_argument("--bid", action="append", metavar="B",
                       help="Binding Identifier ('none': rows without one)")


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "time", "TIME: seconds from the first frame (12.5), or ISO 8601 (2023-11-14T22:13:25Z, "
        "22:13:25; local time without Z or an offset)")
    group.add_argument("--at", metavar="TIME",
                       help="binding caches and binding update lists as they were at TIME, "
                       "with lifetime remaining")
    group.add_argument("--between", nargs=2, metavar=("T1", "T2"),
                       help="only intervals, messages, traffic and findings overlapping T1..T2")


def add_time_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-t", dest="time_format", default="relative", metavar="FORMAT",
                        help=f"how times are shown: {', '.join(TIME_FORMATS)} (tshark's r, a, ad, u, ud, d "
                        "work too; default relative)")


def add_colour_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-color", "--no-colour", dest="no_color", action="store_true",
                        help="plain text even on a terminal (NO_COLOR in the environment does the same)")


@dataclass(frozen=True, slots=True)
class Requested:
    """The question as written, checked but not yet tied to a capture."""

    rows: RowFilter
    at: TimeSpec | None = None
    between: tuple[TimeSpec, TimeSpec] | None = None
    time_format: str = "relative"

    def query(self, first_time: float | None) -> Query:
        """Resolved against the capture's first frame; raises QueryError (T2 before T1)."""
        if self.at is not None:
            return Query.at(self.at.resolve(first_time), self.rows)
        if self.between is not None:
            t1, t2 = (spec.resolve(first_time) for spec in self.between)
            if t2 < t1:
                raise QueryError(f"--between {self.between[0].text} {self.between[1].text}: "
                                 "the second time is before the first")
            return Query(self.rows, t1, t2)
        return Query(self.rows)

    def time_formatter(self, first_time: float | None, digits: int = 3) -> TimeFormat:
        return TimeFormat(self.time_format, first_time, digits)


def requested(args: argparse.Namespace) -> Requested:
    """What the options ask for; raises QueryError with a one-line reason."""
    rows = RowFilter.parse(getattr(args, "hoa", None) or (), getattr(args, "coa", None) or (),
                           getattr(args, "node", None) or (), getattr(args, "bid", None) or ())
    at, between = getattr(args, "at", None), getattr(args, "between", None)
    if at is not None and between is not None:
        raise QueryError("--at and --between cannot be used together")
    return Requested(
        rows=rows,
        at=parse_time(at) if at is not None else None,
        between=(parse_time(between[0]), parse_time(between[1])) if between else None,
        time_format=time_format_name(getattr(args, "time_format", None) or "relative"),
    )
