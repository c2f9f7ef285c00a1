"""Questions asked of an analysis: which rows, at which time, and what stands out.

Pure functions over ``mcoaviz.pipeline.Analysis`` (no I/O, no printing), shared by the command
line and the other views:

* ``filters``: ``RowFilter`` (HoA / CoA / node / BID, prefixes allowed) per table;
* ``times``: ``parse_time`` for what the user writes, ``TimeFormat`` for ``-t`` display;
* ``window``: ``Query`` and ``restrict`` (state at an instant with lifetime remaining,
  intervals overlapping a window);
* ``summary``: ``summarise`` (counts per node and role, top HoAs, busiest CoAs).
"""

from mcoaviz.query.filters import QueryError, RowFilter, parse_bid, parse_network
from mcoaviz.query.summary import CoaStats, HoaStats, NodeCount, Summary, summarise
from mcoaviz.query.times import TIME_FORMATS, TimeFormat, TimeSpec, parse_time, time_format_name
from mcoaviz.query.window import Query, overlaps, restrict

__all__ = [
    "TIME_FORMATS", "CoaStats", "HoaStats", "NodeCount", "Query", "QueryError", "RowFilter", "Summary",
    "TimeFormat", "TimeSpec", "overlaps", "parse_bid", "parse_network", "parse_time", "restrict",
    "summarise", "time_format_name",
]
