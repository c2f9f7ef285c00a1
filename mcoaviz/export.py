"""Analysis -> JSON (one object) or CSV (one file per table in a folder).

The keys are the export contract of docs/architecture.md: keys are added, never renamed. In CSV,
list or dict cells (e.g. a message's ``bids``) are written as compact JSON, ``null`` as an empty
cell.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import IO, Any, TextIO

from mcoaviz.pipeline import Analysis
from mcoaviz.timings import GAP_COLUMNS, LATENCY_COLUMNS, timing_tables

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


def to_json_object(analysis: Analysis) -> dict[str, Any]:
    """The analysis tables plus the derived ``latencies`` and ``gaps`` (mcoaviz.timings)."""
    out = analysis.to_dict()
    out.update(timing_tables(analysis))
    return out


def write_json(analysis: Analysis, out: IO[str]) -> None:
    """The JSON object, written table by table and row by row (one row per line): nothing the
    size of the output is built in memory, and each row goes through json's C encoder."""
    encode = json.JSONEncoder(ensure_ascii=True, check_circular=False).encode
    separator = "{"
    for name, value in to_json_object(analysis).items():
        out.write(f'{separator}\n"{name}": ')
        separator = ","
        if not isinstance(value, list):
            out.write(json.dumps(value, indent=1))
            continue
        out.write("[")
        comma = "\n"
        for row in value:
            out.write(comma)
            out.write(encode(row))
            comma = ",\n"
        out.write("\n]")
    out.write("}\n" if separator == "," else "{}\n")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def columns_of(table: str, rows: list[dict[str, Any]]) -> list[str]:
    columns = list(COLUMNS.get(table, ()))
    seen = set(columns)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    return columns


def write_csv_table(table: str, rows: list[dict[str, Any]], out: TextIO) -> None:
    columns = columns_of(table, rows)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])


def write_csv_folder(analysis: Analysis, folder: str | os.PathLike[str]) -> list[Path]:
    """One CSV per table plus capture.csv (one row); returns the files written."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    written = []
    capture = dict(analysis.capture)
    tables: dict[str, list[dict[str, Any]]] = {"capture": [capture]}
    for name in Analysis.TABLES:
        tables[name] = getattr(analysis, name)
    tables.update(timing_tables(analysis))
    for name, rows in tables.items():
        target = path / f"{name}.csv"
        with target.open("w", newline="", encoding="utf-8") as out:
            write_csv_table(name, rows, out)
        written.append(target)
    return written
