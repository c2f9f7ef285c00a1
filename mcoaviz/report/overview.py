"""The overview figure: live bindings per home agent / correspondent, signalling rate by message
type, data rate per capture interface and findings by severity, on one shared time axis.

Every series is aggregated to at most ``MAX_POINTS`` time buckets, so the figure's size does not
grow with the capture's length or its number of packets.
"""

from __future__ import annotations

import html
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mcoaviz.engine.events import MessageSeen
from mcoaviz.pipeline import Analysis
from mcoaviz.safetext import printable

MAX_POINTS = 600
MAX_NODE_TRACES = 8  # the busiest home agents / correspondents get a line each, the rest one "others"
SEVERITY_COLOURS = {"error": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}


def bucket_width(span: float) -> float:
    """Bucket width in seconds: 1 s for short captures, wider so that at most MAX_POINTS remain."""
    return max(1.0, math.ceil(span / MAX_POINTS))


def live_bindings(bindings: Sequence[dict[str, Any]], t0: float,
                  t_end: float) -> dict[str, tuple[list, list]]:
    """Per node: a step series (x, y) of bindings held, sampled at change points (bounded)."""
    changes: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for row in bindings:
        changes[row["node"]].append((row["start"] - t0, 1))
        if row["end"] is not None:
            changes[row["node"]].append((row["end"] - t0, -1))
    busiest = sorted(changes, key=lambda n: -len(changes[n]))
    groups: dict[str, list[tuple[float, int]]] = {}
    for i, node in enumerate(busiest):
        name = node if i < MAX_NODE_TRACES else "others"
        groups.setdefault(name, []).extend(changes[node])
    width = bucket_width(t_end)
    out = {}
    for name, points in groups.items():
        points.sort()
        level, last_bucket = 0, None
        xs: list[float] = [0.0]
        ys: list[int] = [0]
        for t, delta in points:
            level += delta
            bucket = math.floor(t / width)
            if bucket == last_bucket:  # keep one point per bucket: the level at its end
                xs[-1], ys[-1] = round(t, 3), level
            else:
                xs.append(round(t, 3))
                ys.append(level)
                last_bucket = bucket
        xs.append(round(t_end, 3))
        ys.append(level)
        out[name] = (xs, ys)
    return out


def overview_figure(analysis: Analysis, roles: dict[str, str]) -> go.Figure:
    cap = analysis.capture
    t0 = cap.get("first_time") or 0.0
    t_end = (cap.get("last_time") or t0) - t0
    width = bucket_width(t_end)
    centre = [round((i + 0.5) * width, 3) for i in range(int(t_end // width) + 1)]
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        row_heights=[0.32, 0.24, 0.24, 0.2],
                        subplot_titles=("Live bindings per home agent / correspondent",
                                        f"Signalling (messages/s, {width:g} s buckets)",
                                        f"Data (packets/s per capture interface, {width:g} s buckets)",
                                        "Findings by severity"))
    for node, (xs, ys) in live_bindings(analysis.bindings, t0, t_end).items():
        role = roles.get(node, "")
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line_shape="hv", name=f"{node} {role}".strip(),
                                 legendgroup="bindings", legendgrouptitle_text="bindings"), row=1, col=1)
    kinds: dict[str, Counter[int]] = defaultdict(Counter)
    for event in analysis.events:
        if isinstance(event, MessageSeen):
            kinds[event.kind][int((event.time - t0) // width)] += 1
    for kind, counts in sorted(kinds.items()):
        fig.add_trace(go.Scatter(x=centre, y=[counts.get(i, 0) / width for i in range(len(centre))],
                                 mode="lines", name=kind, legendgroup="signalling",
                                 legendgrouptitle_text="signalling"), row=2, col=1)
    # Plotly reads a few HTML tags in trace names: capture text is escaped as well as made printable
    names = {i["id"]: html.escape(printable(i.get("name") or f"if{i['id']}"), quote=False)
             for i in cap.get("interfaces", [])}
    rates: dict[int, Counter[int]] = defaultdict(Counter)
    for row in analysis.traffic_bins:
        rates[row["interface"]][int((row["second"] - math.floor(t0)) // width)] += row["packets"]
    for interface, counts in sorted(rates.items()):
        fig.add_trace(go.Scatter(x=centre, y=[counts.get(i, 0) / width for i in range(len(centre))],
                                 mode="lines", name=names.get(interface, f"if{interface}"),
                                 legendgroup="data", legendgrouptitle_text="data at"), row=3, col=1)
    for severity in ("error", "warning", "info"):
        counts = Counter(int((f["time"] - t0) // width) for f in analysis.findings
                         if f["severity"] == severity and f.get("time") is not None)
        if not counts:
            continue
        buckets = sorted(counts)
        fig.add_trace(go.Scatter(
            x=[centre[min(b, len(centre) - 1)] for b in buckets], y=[severity] * len(buckets),
            customdata=[counts[b] for b in buckets], mode="markers", name=severity,
            marker={"color": SEVERITY_COLOURS[severity], "symbol": "diamond",
                    "size": [min(18, 6 + 3 * math.log2(counts[b])) for b in buckets]},
            hovertemplate="%{customdata} finding(s) near %{x:.1f} s<extra>" + severity + "</extra>",
            legendgroup="findings", legendgrouptitle_text="findings"), row=4, col=1)
    if not any(f.get("time") is not None for f in analysis.findings):
        note = "no findings" if analysis.checker_available else "checker not run"
        fig.add_annotation(text=note, showarrow=False, xref="x4 domain", yref="y4 domain", x=0.5, y=0.5)
    fig.update_yaxes(categoryorder="array", categoryarray=["info", "warning", "error"], row=4, col=1)
    fig.update_xaxes(title_text="seconds from the first frame", row=4, col=1)
    fig.update_layout(height=760, margin={"l": 60, "r": 20, "t": 40, "b": 40}, template="plotly_white",
                      legend={"groupclick": "toggleitem"}, hovermode="closest")
    return fig
