"""The streaming export (``AnalysisOptions.stream``: message rows on disk, tables made while they
are written) writes the same bytes as the in-memory analysis.

The reference JSON text is built here from the in-memory tables with ``json.dumps`` (the layout
of docs/architecture.md: the capture object indented, then one row per line), not with the
exporter; the CSV reference is the in-memory analysis written table by table from lists."""

from __future__ import annotations

import csv
import io
import json
from array import array
from pathlib import Path
from typing import Any

import pytest

from mcoaviz.export import write_csv_folder, write_json
from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.rowspool import RowSpool
from mcoaviz.timings import gaps, latencies
from tests.conftest import SAMPLES

CAPTURES = ("figure8-rfc5648.pcapng", "handover-storm-draft05.pcapng", "dsmipv6-nat-rfc5648.pcapng",
            "data-after-signalling-violations-draft05.pcapng", "bid-conflict-rfc5648.pcapng")
TABLES = ("messages", "bindings", "bul", "traffic", "traffic_bins", "findings", "problems", "dialects")


def _reference_text(path: Path) -> str:
    memory = analyse(path, AnalysisOptions())
    tables: dict[str, list[dict[str, Any]]] = {name: list(getattr(memory, name)) for name in TABLES}
    tables["latencies"] = latencies(memory.events)
    tables["gaps"] = gaps(memory.bindings, memory.traffic, memory.traffic_bins)
    text = '{\n"capture": ' + json.dumps(memory.capture, indent=1)
    for name, rows in tables.items():
        text += f',\n"{name}": [' + ",".join("\n" + json.dumps(row) for row in rows) + "\n]"
    return text + "}\n"


@pytest.mark.parametrize("name", CAPTURES)
def test_streamed_json_is_byte_identical_to_the_in_memory_tables(name: str) -> None:
    streamed = analyse(SAMPLES / name, AnalysisOptions(stream=True))
    assert isinstance(streamed.messages, RowSpool) and len(streamed.messages) > 0
    out = io.StringIO()
    write_json(streamed, out)
    assert out.getvalue() == _reference_text(SAMPLES / name)


@pytest.mark.parametrize("name", CAPTURES[:3])
def test_streamed_csv_is_byte_identical_to_the_in_memory_csv(name: str, tmp_path: Path) -> None:
    write_csv_folder(analyse(SAMPLES / name, AnalysisOptions(stream=True)), tmp_path / "stream")
    memory = analyse(SAMPLES / name, AnalysisOptions())
    assert isinstance(memory.messages, list)
    write_csv_folder(memory, tmp_path / "memory")
    files = sorted(p.name for p in (tmp_path / "memory").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "stream").iterdir())
    assert "messages.csv" in files and "gaps.csv" in files
    for file in files:
        assert (tmp_path / "stream" / file).read_bytes() == (tmp_path / "memory" / file).read_bytes(), file
    with (tmp_path / "stream" / "messages.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["frame"]) for r in rows] == [m["frame"] for m in memory.messages]
    compact = [json.dumps(m["bids"], separators=(",", ":")) for m in memory.messages]
    assert [r["bids"] for r in rows] == compact


def test_streamed_analysis_still_answers_the_views() -> None:
    """Views that read ``messages`` (count, iterate, index) see the same rows."""
    streamed = analyse(SAMPLES / CAPTURES[0], AnalysisOptions(stream=True))
    memory = analyse(SAMPLES / CAPTURES[0], AnalysisOptions())
    assert len(streamed.messages) == len(memory.messages)
    assert list(streamed.messages) == memory.messages
    assert streamed.messages[-1] == memory.messages[-1]


@pytest.mark.parametrize("name", CAPTURES)
def test_gaps_read_from_the_bin_columns_match_gaps_read_from_the_bin_rows(name: str) -> None:
    streamed = analyse(SAMPLES / name, AnalysisOptions(stream=True))
    rows = list(streamed.traffic_bins)  # a plain list: gaps reads the rows themselves
    assert getattr(streamed.traffic_bins, "source", None) is not None
    from_rows = gaps(streamed.bindings, streamed.traffic, rows)
    assert from_rows, "the capture has binding changes"
    assert gaps(streamed.bindings, streamed.traffic, streamed.traffic_bins) == from_rows
    busy: dict[tuple[str, str, str], set[int]] = {}
    for row in rows:
        if row["packets"]:
            busy.setdefault((row["node"], row["hoa"], row["coa"]), set()).add(row["second"])
    compact = streamed.traffic_bins.source.busy_seconds()
    assert {k: list(v) for k, v in compact.items()} == {k: sorted(v) for k, v in busy.items()}
    assert all(isinstance(v, array) and v.typecode == "q" for v in compact.values())  # 8 bytes a start
