"""``--png``: kaleido renders the overview, the topology and each selected home address through
Debian's chromium. Skips without kaleido or chromium (scripts/test.sh installs both)."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import pytest

from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.report import build_model
from mcoaviz.report.png import file_name, hoa_figure, write_pngs
from tests.conftest import IN_CI, SAMPLES, require_tool


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_hoa_figure_has_a_bar_per_binding_and_a_line_per_series() -> None:
    analysis = analyse(SAMPLES / "handover-storm-rfc5648.pcapng", AnalysisOptions(run_checker=False))
    model = build_model(analysis)
    detail = model["hoas"]["2001:db8:1::100"]
    fig = hoa_figure("2001:db8:1::100", detail, model["t_end"], model["traffic_bucket"])
    bars = sum(len(trace.base) for trace in fig.data if trace.type == "bar")
    lines = [trace for trace in fig.data if trace.type == "scatter" and trace.mode == "lines"]
    assert bars == len(detail["bars"]) == 14
    assert len(lines) == len(detail["traffic"])
    lanes = {y for trace in fig.data if trace.type == "bar" for y in trace.y}
    assert lanes == {"HA 2001:db8:1::1 · BID 1", "HA 2001:db8:1::1 · BID 2"}


def test_png_files_are_written(tmp_path: Path) -> None:
    require_tool("chromium")
    if importlib.util.find_spec("kaleido") is None:
        if IN_CI:
            pytest.fail("kaleido is required in CI (scripts/test.sh installs the png extra)")
        pytest.skip("kaleido is not installed (pip install 'mcoaviz[png]')")
    model = build_model(analyse(SAMPLES / "figure8-rfc5648.pcapng", AnalysisOptions(run_checker=False)))
    written = write_pngs(model, tmp_path / "png", ["2001:db8:1::100"])
    assert [p.name for p in written] == ["overview.png", "topology.png", file_name("2001:db8:1::100")]
    assert file_name("2001:db8:1::100") == "hoa-2001_db8_1__100.png"
    for path in written:
        width, height = _png_size(path)
        assert width == 1400 and height >= 400
