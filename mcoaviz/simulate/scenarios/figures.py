"""Draft Appendix A, Figures 8-11: multiple interfaces, returning home in three ways."""

from __future__ import annotations

from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import standard, steady_traffic


def _everything_registered(sim: Simulation, *, interfaces: int = 3, home_router: bool = False):  # type: ignore[no-untyped-def]
    """Bulk registration with the HA at t=1, RR + per-CoA BUs with the CN at t=3, traffic from t=2."""
    net = standard(sim, interfaces=interfaces, cns=1, home_router=home_router)
    assert net.cn is not None
    cn = net.cn
    sim.at(1.0, lambda: net.mn.register(bulk=True))
    sim.at(3.0, lambda: net.mn.route_optimise(cn))
    return net


@scenario("figure8", title="Three interfaces on foreign links, bindings at the HA and the CN",
          section="Figure 8; §5.2-§5.4", esp=True,
          look_at="bulk BU (BID 1-3) to the HA under ESP-NULL, RR per CoA with BID in CoTI/CoT, "
                  "three BUs to the CN, tunnelled and route-optimised traffic on all three CoAs")
def figure8(sim: Simulation) -> float:
    net = _everything_registered(sim)
    steady_traffic(sim, net, start=2.0, end=28.0, rate=6.0)
    return 30.0
