"""``--png DIR``: static images of the overview, the topology and selected home addresses.

Rendered by kaleido (optional extra ``mcoaviz[png]``), which drives a Chromium it finds on the
machine (Debian's ``chromium`` works). The home address figure here is the static counterpart of
the page's interactive timeline: built from the same compact per-HoA model (``data.prepare``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mcoaviz.report.data import STATES

MAX_DEFAULT_HOAS = 20
WIDTH = 1400  # pixels
RENDER_TIMEOUT = 300.0  # s for all images: a busy machine is slow, not broken
STATE_COLOURS = {"confirmed": "#2ca02c", "unconfirmed": "#ffbb78", "home": "#17becf",
                 "pre-existing": "#9e9e9e"}
MARKERS = {"BU": ("triangle-right", "#37474f"), "BA": ("triangle-left", "#1565c0"),
           "BRR": ("star", "#6a1b9a")}


class PngUnavailable(RuntimeError):
    """kaleido or a Chromium for it is missing (the message says what to install)."""


def hoa_figure(hoa: str, detail: dict[str, Any], t_end: float, bucket: int) -> go.Figure:
    """Binding timeline (one lane per node and BID, bars by state, BU/BA markers) over per-CoA
    packets/s, sharing the time axis."""
    a = detail["a"]
    labels = [f"{role} {a[node]} · " + ("regular" if bid is None else f"BID {bid}")
              for node, bid, role in detail["lanes"]]  # role: "HA" | "CN"
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06,
                        subplot_titles=(f"Bindings of {hoa}", "packets/s per CoA and direction"))
    for state in STATES:
        bars = [b for b in detail["bars"] if b[4] == state]
        if bars:
            fig.add_trace(go.Bar(orientation="h", name=state, y=[labels[b[0]] for b in bars],
                                 base=[b[1] for b in bars],
                                 x=[max((t_end if b[2] is None else b[2]) - b[1], 0.05) for b in bars],
                                 text=[a[b[3]] for b in bars], textposition="inside",
                                 marker={"color": STATE_COLOURS[state]}), row=1, col=1)
    lane_of = {(node, bid): i for i, (node, bid, _) in enumerate(detail["lanes"])}
    for kind, (symbol, colour) in MARKERS.items():
        xs, ys = [], []
        for t, msg_kind, _src, _dst, _seq, _status, _frame, bids, _lifetime, peer in detail["msgs"]:
            if msg_kind != kind:
                continue
            for bid in [int(b) for b in bids.split(",")] if bids else [None]:
                lane = lane_of.get((peer, bid))
                if lane is not None:
                    xs.append(t)
                    ys.append(labels[lane])
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=kind,
                                     marker={"symbol": symbol, "color": colour, "size": 9}), row=1, col=1)
    for coa, direction, first, packets, _bytes in detail["traffic"]:
        fig.add_trace(go.Scatter(x=[(first + i + 0.5) * bucket for i in range(len(packets))],
                                 y=[p / bucket for p in packets], mode="lines", line_shape="hv",
                                 name=f"{a[coa]} {direction}"), row=2, col=1)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(reversed(labels)),
                     row=1, col=1)
    fig.update_xaxes(range=[0, max(t_end, 1.0)], title_text="seconds from the first frame", row=2, col=1)
    fig.update_layout(barmode="overlay", template="plotly_white", height=max(500, 300 + 40 * len(labels)),
                      width=WIDTH, margin={"l": 280, "r": 20, "t": 50, "b": 50})
    return fig


def file_name(hoa: str) -> str:
    return "hoa-" + re.sub(r"[^0-9A-Za-z.-]", "_", hoa) + ".png"


def write_pngs(model: dict[str, Any], folder: str | os.PathLike[str],
               hoas: list[str] | None = None) -> list[Path]:
    """Write overview.png, topology.png and hoa-ADDRESS.png for ``hoas`` (default: up to
    MAX_DEFAULT_HOAS with the most binding intervals). Raises PngUnavailable."""
    try:
        import kaleido
    except ModuleNotFoundError as exc:
        raise PngUnavailable("--png needs kaleido: pip install 'mcoaviz[png]'") from exc
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    figures: list[dict[str, Any]] = [model["figures"]["overview"], model["figures"]["topology"]]
    paths = [out / "overview.png", out / "topology.png"]
    if hoas is None:
        hoas = sorted(model["hoas"], key=lambda h: -len(model["hoas"][h]["bars"]))[:MAX_DEFAULT_HOAS]
    for hoa in hoas:
        figure = hoa_figure(hoa, model["hoas"][hoa], model["t_end"], model["traffic_bucket"])
        figures.append(figure.to_plotly_json())
        paths.append(out / file_name(hoa))
    specs = [{"fig": fig, "path": path, "opts": {"format": "png", "width": WIDTH, "scale": 1,
                                                 "height": fig["layout"].get("height") or 700}}
             for fig, path in zip(figures, paths, strict=True)]
    for path in paths:
        path.unlink(missing_ok=True)
    try:
        # cancel_on_error: kaleido otherwise returns render errors in a list (plotly's
        # write_images drops it) and a failed image would go unnoticed
        kaleido.write_fig_from_object_sync(specs, kopts={"timeout": RENDER_TIMEOUT}, cancel_on_error=True)
    except Exception as exc:  # a missing Chromium, a crashed tab, a timeout
        raise PngUnavailable(f"kaleido could not render images ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); "
                             "it needs Chromium (Debian: apt-get install chromium)") from exc
    missing = [path.name for path in paths if not path.exists()]
    if missing:
        raise PngUnavailable(f"kaleido wrote no {', '.join(missing)}")
    return paths
