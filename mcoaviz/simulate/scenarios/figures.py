"""Draft Appendix A, Figures 8-11: multiple interfaces, returning home in three ways."""

from __future__ import annotations

from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import Topology, standard, steady_traffic


def _everything_registered(sim: Simulation, *, interfaces: int = 3, home_router: bool = False) -> Topology:
    """Bulk registration with the HA at t=1, RR + per-CoA BUs with the CN at t=3, traffic from t=2."""
    net = standard(sim, interfaces=interfaces, cns=2, home_router=home_router)
    assert net.cn is not None
    cn = net.cn
    sim.at(1.0, lambda: net.mn.register(bulk=True))
    sim.at(3.0, lambda: net.mn.route_optimise(cn))
    return net


@scenario(
    "figure8",
    title="Three interfaces on foreign links, bindings at the HA and the CN",
    section="Figure 8; §5.2-§5.4",
    esp=True,
    look_at="bulk BU (BID 1-3) to the HA under ESP-NULL, RR per CoA with BID in CoTI/CoT, "
    "three BUs to the CN, tunnelled and route-optimised traffic on all three CoAs",
)
def figure8(sim: Simulation) -> float:
    net = _everything_registered(sim)
    steady_traffic(sim, net, start=2.0, end=28.0, rate=3.0)  # with the CN: route-optimised from t~3.2
    steady_traffic(sim, net, start=2.0, end=28.0, rate=3.0, cn_index=1)  # CN2 (no RR): via the HA
    return 30.0


@scenario(
    "figure9",
    title="Returning home on one interface: de-register everything at the HA, keep CN bindings",
    section="Figure 9; §5.6.1",
    look_at="home-link RS/RA, BU lifetime 0 without BID from the HoA on the home link, BA 0, "
    "unsolicited NA for the HoA by the MN; CN keeps BID 2 and 3 (BID 1 de-registered "
    "at the CN from interface 2)",
)
def figure9(sim: Simulation) -> float:
    net = _everything_registered(sim)
    mn, cn = net.mn, net.cn
    assert cn is not None
    sim.at(12.0, lambda: mn.deregister([1], peer=cn, via=2))  # §5.6.1: CN bindings of the other CoAs stay
    sim.at(14.0, lambda: mn.attach_home("if1"))
    sim.at(14.5, lambda: mn.return_home_deregister_all("if1"))
    steady_traffic(sim, net, start=2.0, end=28.0, rate=3.0)
    steady_traffic(sim, net, start=2.0, end=28.0, rate=2.0, cn_index=1)
    return 30.0


@scenario(
    "figure10",
    title="Home interface disabled: its binding de-registered from a foreign interface",
    section="Figure 10; §5.6.2",
    look_at="BU lifetime 0 with BID 3 sent from CoA 1 to the HA and to the CN; HA and CN keep "
    "BID 1 and 2; traffic continues through the tunnel / route optimisation",
)
def figure10(sim: Simulation) -> float:
    net = _everything_registered(sim)
    mn, cn = net.mn, net.cn
    assert cn is not None

    def leave() -> None:
        mn.move("if3", None, None)  # the interface that reached the home link is shut down
        mn.deregister([3], via=1)
        mn.deregister([3], peer=cn, via=1)

    sim.at(12.0, leave)
    steady_traffic(sim, net, start=2.0, end=28.0, rate=5.0)
    return 30.0


def _figure11(sim: Simulation, *, router: bool) -> float:
    net = _everything_registered(sim, home_router=router)
    mn, ha = net.mn, net.ha
    ha.policy.only_router = not router
    home_router = net.router
    if home_router is not None:
        sim.at(0.5, home_router.advertise)
    sim.at(12.0, lambda: mn.attach_home("if3"))
    sim.at(12.5, lambda: mn.return_home_simultaneous("if3"))
    if home_router is not None:
        sim.at(14.0, lambda: home_router.resolve(mn.hoa))
    else:
        sim.at(14.0, lambda: ha.resolve_home_address(mn.hoa))
    steady_traffic(sim, net, start=2.0, end=28.0, rate=3.0, cn_index=1)
    steady_traffic(sim, net, start=2.0, end=28.0, rate=2.0)
    return 30.0


@scenario(
    "figure11a",
    title="Home and foreign links at once, HA the only home router (status 0)",
    section="Figure 11 topology a; §5.6.3",
    look_at="H-flag BU from the home link (draft: lifetime 0 + BID H 0x20; RFC: lifetime > 0, "
    "BID H 0x80, CoA = HoA, MH-LLA), BA status 0, the MN then answers ND for its HoA",
)
def figure11a(sim: Simulation) -> float:
    return _figure11(sim, router=False)


@scenario(
    "figure11b",
    title="Home and foreign links at once, another router on the home link (RETURNHOME)",
    section="Figure 11 topology b; §5.6.3",
    look_at="RA from router R and from the HA (H flag), H-flag BU, status 5 RETURNHOME WO/NDP, "
    "R's NS for the HoA answered by the HA's proxy NA, the MN stays silent",
)
def figure11b(sim: Simulation) -> float:
    return _figure11(sim, router=True)
