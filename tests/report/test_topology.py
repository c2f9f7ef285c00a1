"""The topology graph: nodes and edges from the bindings (truth files say which exist)."""

from __future__ import annotations

from mcoaviz.pipeline import Analysis, AnalysisOptions, analyse
from mcoaviz.report.topology import build_graph, topology_figure
from tests.conftest import SAMPLES
from tests.engine.samples import load_truth


def test_bindings_become_tunnel_and_route_optimisation_edges() -> None:
    capture = SAMPLES / "figure8-rfc5648.pcapng"
    truth = load_truth(capture)
    graph, left_out = build_graph(analyse(capture, AnalysisOptions(run_checker=False)))
    assert left_out == 0
    for row in truth["bindings"]:
        kind = "tunnel" if row["role"] == "home-agent" else "route-optimised"
        assert graph.edges[row["coa"], row["node"]]["kind"] == kind
        assert graph.edges[row["hoa"], row["coa"]]["kind"] == "owns"
        assert graph.nodes[row["node"]]["kind"] == row["role"]
    coas = {row["coa"] for row in truth["bindings"]}
    assert {n for n, d in graph.nodes(data=True) if d["kind"] == "coa"} == coas


def test_mobile_network_prefix_hangs_off_its_home_address() -> None:
    graph, _ = build_graph(analyse(SAMPLES / "nemo-rfc5648.pcapng", AnalysisOptions(run_checker=False)))
    assert graph.nodes["2001:db8:77::/48"]["kind"] == "prefix"
    assert graph.edges["2001:db8:1::100", "2001:db8:77::/48"]["kind"] == "prefix"


def test_only_the_busiest_home_addresses_are_drawn() -> None:
    bindings = [{"node": "ha", "role": "home-agent", "hoa": f"hoa{i}", "bid": b, "coa": f"coa{i}-{b}",
                 "home": False} for i in range(100) for b in range(1 + (i % 3))]
    analysis = Analysis(capture={}, messages=[], bindings=bindings, bul=[], traffic=[], traffic_bins=[],
                        findings=[], problems=[])
    graph, left_out = build_graph(analysis, max_hoas=10)
    hoas = [n for n, d in graph.nodes(data=True) if d["kind"] == "mobile-node"]
    assert len(hoas) == 10 and left_out == 90
    assert all(int(h[3:]) % 3 == 2 for h in hoas)  # those with three bindings
    title = topology_figure(analysis).layout.title.text  # the figure's own cap is MAX_HOAS (60)
    assert title.endswith("(the 60 home addresses with most bindings; 40 more not drawn)")
