"""Topology: who talks to whom, as a networkx graph laid out by networkx and drawn by Plotly.

Nodes are home agents, correspondent nodes, mobile nodes (one per home address), care-of
addresses and mobile network prefixes. Edges: a binding at a home agent (the tunnel between
the home agent and the CoA), a binding at a correspondent (route optimisation), the mobile node
owning its CoAs, and a NEMO prefix registered by a home address. A home agent with thousands of
mobile nodes would be an unreadable hairball (and slow to lay out), so only the ``MAX_HOAS``
home addresses with the most bindings are drawn; the figure says how many were left out.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx
import plotly.graph_objects as go

from mcoaviz.pipeline import Analysis

MAX_HOAS = 60
KINDS = {  # kind -> (legend name, colour, marker symbol)
    "home-agent": ("home agent", "#d62728", "square"),
    "correspondent": ("correspondent node", "#9467bd", "diamond"),
    "mobile-node": ("mobile node (HoA)", "#2ca02c", "circle"),
    "coa": ("care-of address", "#1f77b4", "circle-open"),
    "prefix": ("mobile network prefix", "#8c564b", "triangle-up"),
}
EDGE_KINDS = {"tunnel": ("binding / tunnel (HA)", "#d62728", "solid"),
              "route-optimised": ("binding / route optimisation (CN)", "#9467bd", "dot"),
              "owns": ("CoA of the mobile node", "#7f7f7f", "solid"),
              "prefix": ("prefix registered", "#8c564b", "dash")}


def mobile_network_prefixes(analysis: Analysis) -> set[tuple[str, str]]:
    """(HoA, prefix/len) from the Mobile Network Prefix options of BUs (NEMO, draft §7)."""
    out = set()
    for message in analysis.messages:
        if message.get("type") != "BU" or not message.get("hoa"):
            continue
        for option in message.get("options") or ():
            prefix = option.get("prefix") if isinstance(option, dict) else None
            if prefix and option.get("prefix_length") is not None:
                out.add((message["hoa"], f"{prefix}/{option['prefix_length']}"))
    return out


def build_graph(analysis: Analysis, max_hoas: int = MAX_HOAS) -> tuple[nx.Graph, int]:
    """The graph and the number of home addresses left out."""
    per_hoa = Counter(row["hoa"] for row in analysis.bindings)
    for row in analysis.bul:
        per_hoa[row["hoa"]] += 0
    shown = {hoa for hoa, _ in per_hoa.most_common(max_hoas)}
    graph = nx.Graph()
    for row in analysis.bindings:
        if row["hoa"] not in shown:
            continue
        node, hoa, coa = row["node"], row["hoa"], row["coa"]
        graph.add_node(node, kind=row["role"])
        graph.add_node(hoa, kind="mobile-node")
        if row.get("home") or coa == hoa:
            graph.add_edge(hoa, node, kind="tunnel" if row["role"] == "home-agent" else "route-optimised")
            continue
        graph.add_node(coa, kind="coa")
        graph.add_edge(hoa, coa, kind="owns")
        graph.add_edge(coa, node, kind="tunnel" if row["role"] == "home-agent" else "route-optimised")
    for row in analysis.bul:
        if row["hoa"] in shown and row["peer"] not in graph:
            graph.add_node(row["peer"], kind=row["peer_role"])
            graph.add_node(row["hoa"], kind="mobile-node")
            graph.add_edge(row["hoa"], row["peer"], kind="tunnel" if row["peer_role"] == "home-agent"
                           else "route-optimised")
    for hoa, prefix in mobile_network_prefixes(analysis):
        if hoa in shown:
            graph.add_node(prefix, kind="prefix")
            graph.add_edge(hoa, prefix, kind="prefix")
    return graph, max(0, len(per_hoa) - len(shown))


def topology_figure(analysis: Analysis) -> go.Figure:
    graph, left_out = build_graph(analysis)
    positions: dict[Any, Any] = nx.spring_layout(graph, seed=1) if len(graph) else {}
    fig = go.Figure()
    for kind, (name, colour, dash) in EDGE_KINDS.items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for a, b, data in graph.edges(data=True):
            if data["kind"] == kind:
                xs += [round(float(positions[a][0]), 4), round(float(positions[b][0]), 4), None]
                ys += [round(float(positions[a][1]), 4), round(float(positions[b][1]), 4), None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, hoverinfo="skip",
                                     line={"color": colour, "dash": dash, "width": 1.5}))
    for kind, (name, colour, symbol) in KINDS.items():
        nodes = [n for n, data in graph.nodes(data=True) if data["kind"] == kind]
        if not nodes:
            continue
        fig.add_trace(go.Scatter(
            x=[round(float(positions[n][0]), 4) for n in nodes],
            y=[round(float(positions[n][1]), 4) for n in nodes],
            mode="markers+text" if len(graph) <= 40 else "markers", text=nodes, textposition="top center",
            hovertext=[f"{name}: {n} ({graph.degree(n)} link(s))" for n in nodes], hoverinfo="text",
            name=name, marker={"color": colour, "symbol": symbol, "size": 14 if kind != "coa" else 10,
                               "line": {"width": 2, "color": colour}}))
    title = ""  # the page's section heading names the figure; the title only says what is left out
    if left_out:
        title = f"Topology (the {MAX_HOAS} home addresses with most bindings; {left_out} more not drawn)"
    fig.update_layout(title=title or None, height=520, template="plotly_white", showlegend=True,
                      margin={"l": 20, "r": 20, "t": 50, "b": 20},
                      xaxis={"visible": False}, yaxis={"visible": False})
    return fig
