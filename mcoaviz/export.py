"""Analysis -> JSON (one object) or CSV (one file per table in a folder).

The keys are the export contract of docs/architecture.md: keys are added, never renamed. In CSV,
list or dict cells (e.g. a message's ``bids``) are written as compact JSON, ``null`` as an empty
cell.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TextIO

from mcoaviz.engine.traffic import TrafficTable
from mcoaviz.pipeline import Analysis
from mcoaviz.rowspool import ROW_ENCODER, RowSpool
from mcoaviz.timings import GAP_COLUMNS, LATENCY_COLUMNS, gap_rows, latency_json, latency_rows

# Column order for each table (extra keys found in rows are appended after these).
COLUMNS: dict[str, tuple[str, ...]] = {
    "messages": ("frame", "time", "interface", "src", "dst", "outer_src", "outer_dst", "hoa", "type",
                 "mh_type", "seq", "lifetime", "status", "flags", "bids", "options", "checksum_ok",
                 "malformed"),
    "bindings": ("node", "role", "hoa", "bid", "coa", "start", "end", "end_reason", "home", "lifetime",
                 "confirmed", "pre_existing", "start_frame", "end_frame"),
    "bul": ("hoa", "peer", "peer_role", "bid", "coa", "start", "end", "end_reason", "acknowledged",
            "status", "last_seq", "lifetime"),
    "traffic": ("interface", "node", "hoa", "coa", "bid", "direction", "via", "packets", "bytes",
                "first", "last"),
    "traffic_bins": ("interface", "node", "hoa", "coa", "bid", "direction", "via", "second", "packets",
                     "bytes", "width"),
    "findings": ("rule", "section", "severity", "frame", "message", "rfc_section", "time", "hoa", "bid"),
    "problems": ("frame", "layer", "offset", "reason", "severity"),
    "dialects": ("hoa", "peer", "dialect", "basis", "reason", "first_frame", "messages"),
    "latencies": LATENCY_COLUMNS,
    "gaps": GAP_COLUMNS,
}


RowsOf = Callable[[], Iterable[dict[str, Any]]]
_COLUMNAR = ("traffic", "traffic_bins")  # tables a streamed analysis hands over as the engine's TrafficTable


def tables(analysis: Analysis) -> Iterator[tuple[str, RowsOf | RowSpool]]:
    """(name, rows) of every exported table after ``capture``, in the order of the export
    contract. Each table is made only when its turn comes (and only its rows are held while it
    is written): the timing tables are computed from the analysis then; a ``RowSpool`` (message
    rows on disk) is handed over as it is; ``rows()`` may be called again for a second pass."""
    for name in Analysis.TABLES:
        value = getattr(analysis, name)
        yield name, value if isinstance(value, RowSpool) else _given(value)
    yield "latencies", lambda: latency_rows(analysis)
    yield "gaps", lambda: gap_rows(analysis)


def _given(rows: Iterable[dict[str, Any]]) -> RowsOf:
    return lambda: rows


def row_encoder() -> Callable[[Any], str]:
    """``ROW_ENCODER.encode`` (the same text), without remaking json's C encoder per row."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without json's C accelerator
        return ROW_ENCODER.encode
    # the arguments ``JSONEncoder.iterencode`` passes for ROW_ENCODER (no indent, ASCII only,
    # no circular check, NaN allowed, keys as given)
    encoder = make(None, ROW_ENCODER.default, json.encoder.encode_basestring_ascii, None,
                   ROW_ENCODER.key_separator, ROW_ENCODER.item_separator, False, False, True)
    return lambda row: "".join(encoder(row, 0))


def write_json(analysis: Analysis, out: IO[str]) -> None:
    """The JSON object, written table by table and row by row (one row per line): nothing the
    size of the output is built in memory, and each row goes through json's C encoder. Rows
    spooled as JSON lines (``RowSpool``, made by the same encoder) are copied as they are, and
    the whole traffic table's totals and bins are written from its columns (``iter_json``,
    ``iter_bin_json``: the same text; a source may hand over several lines joined by ",\n")."""
    encode = row_encoder()
    out.write("{\n\"capture\": ")
    out.write(json.dumps(analysis.capture, indent=1))
    for name, rows in tables(analysis):
        out.write(f',\n"{name}": [')
        comma = "\n"
        table = getattr(getattr(analysis, name), "source", None) if name in _COLUMNAR else None
        if isinstance(rows, RowSpool):
            lines: Iterable[str] = rows.lines()
        elif isinstance(table, TrafficTable):  # the whole table: text straight from its columns
            lines = table.iter_bin_json(encode) if name == "traffic_bins" else table.iter_json(encode)
        elif name == "latencies":  # text straight from the events (the same as encoding each row)
            lines = latency_json(analysis, encode)
        else:
            lines = map(encode, rows())
        for line in lines:
            out.write(comma)
            out.write(line)
            comma = ",\n"
        out.write("\n]")
    out.write("}\n")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def columns_of(table: str, rows: Iterable[dict[str, Any]]) -> list[str]:
    columns = list(COLUMNS.get(table, ()))
    seen = set(columns)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    return columns


def write_csv_table(table: str, rows: Iterable[dict[str, Any]] | RowsOf, out: TextIO) -> None:
    """One table. ``rows`` is read twice (once for the columns, once to write): a list or
    sequence, or a callable giving the rows each time, so that a table made on demand is never
    held whole (not a one-shot iterator)."""
    rows_of = rows if callable(rows) else _given(rows)
    columns = columns_of(table, rows_of())
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows_of():
        writer.writerow([_cell(row.get(column)) for column in columns])


def write_csv_folder(analysis: Analysis, folder: str | os.PathLike[str]) -> list[Path]:
    """One CSV per table plus capture.csv (one row); returns the files written."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    written = []
    capture = dict(analysis.capture)
    for name, rows in [("capture", _given([capture])), *tables(analysis)]:
        target = path / f"{name}.csv"
        with target.open("w", newline="", encoding="utf-8") as out:
            write_csv_table(name, rows, out)
        written.append(target)
    return written
