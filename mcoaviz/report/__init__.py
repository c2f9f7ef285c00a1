"""HTML timeline report: one self-contained, offline file that tells each home address's story.

``write_report(analysis, path, hoas=None)`` is the public entry point (the CLI's ``report``
subcommand and the TUI call it). The report is built from the same ``Analysis`` as
``mcoaviz export``: ``data`` turns it into a compact model, ``overview`` and ``topology`` build
the page-wide Plotly figures in Python, and the page's script builds each home address's
figures in the browser from the compact model when that address is opened.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mcoaviz.pipeline import Analysis
from mcoaviz.safetext import printable


def build_model(analysis: Analysis, hoas: list[str] | None = None) -> dict[str, Any]:
    """The report's data: ``data.prepare`` plus the page-wide figures as Plotly JSON."""
    from mcoaviz.report.data import prepare
    from mcoaviz.report.overview import overview_figure
    from mcoaviz.report.topology import topology_figure

    model = prepare(analysis, hoas)
    roles = {row["node"]: row["role"] for row in analysis.bindings}
    model["figures"] = {
        "overview": json.loads(overview_figure(analysis, roles).to_json()),
        "topology": json.loads(topology_figure(analysis).to_json()),
    }
    return model


def page_title(analysis: Analysis) -> str:
    return f"mcoaviz report: {printable(Path(str(analysis.capture.get('file') or 'capture')).name)}"


def render_report(analysis: Analysis, hoas: list[str] | None = None,
                  model: dict[str, Any] | None = None) -> str:
    """The HTML document (``model``: an already built ``build_model`` result to reuse)."""
    from mcoaviz.report.page import render

    return render(model if model is not None else build_model(analysis, hoas), page_title(analysis))


def write_report(analysis: Analysis, path: str | os.PathLike[str], hoas: list[str] | None = None,
                 model: dict[str, Any] | None = None) -> Path:
    """Write the report of ``analysis`` to ``path`` (restricted to ``hoas`` when given);
    returns the path. Raises OSError when the file cannot be written."""
    target = Path(path)
    target.write_text(render_report(analysis, hoas, model), encoding="utf-8")
    return target
