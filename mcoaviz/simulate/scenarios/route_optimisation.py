"""Return routability and route optimisation with a CN that supports MCoA and one that does not."""

from __future__ import annotations

from dissector.records import BindingIdentifier
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import mark_first, standard, steady_traffic


@scenario(
    "return-routability",
    title="RR per CoA with an MCoA CN and a legacy CN (CoT without BID)",
    section="§5.2, §6.2, §5.7",
    look_at="CN (2001:db8:c0::10): CoTI/CoT with BID per CoA, three BUs with BIDs, three bindings; "
    "CN2 (2001:db8:c1::20) ignores the BID: its CoT has none, the MN sends one BU "
    "without BID and CN2 holds one regular binding",
)
def return_routability(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=2)
    mn, cn, cn2 = net.mn, net.cn, net.cn2
    assert cn is not None and cn2 is not None
    cn2.policy.mcoa = False
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(3.0, lambda: mn.route_optimise(cn))
    sim.at(4.0, lambda: mn.route_optimise(cn2))
    steady_traffic(sim, net, start=2.0, end=20.0, rate=4.0)
    steady_traffic(sim, net, start=2.0, end=20.0, rate=4.0, cn_index=1)
    return 22.0


@scenario(
    "cn-bulk-refused",
    title="Bulk BU sent to a CN, refused with 168, then individual BUs",
    section="§2, §6.3 (RFC §6.2)",
    look_at="after RR for CoA 1 and 2 the MN sends one BU with two BIDs to the CN (a violation of "
    "§2, recorded in the truth); the CN answers 168 with BID status 0 and installs nothing; "
    "the MN falls back to one BU per CoA",
)
def cn_bulk_refused(sim: Simulation) -> float:
    net = standard(sim, interfaces=2, cns=1)
    mn, cn = net.mn, net.cn
    assert cn is not None
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(3.0, lambda: mn.route_optimise(cn, bulk=True))

    mark_first(
        sim,
        6.0,
        lambda tx: (
            tx.kind == "BU"
            and tx.intent.dst == cn.address
            and sum(isinstance(o, BindingIdentifier) for o in tx.intent.options) > 1
        ),
        "2",
        "bulk registration sent to a correspondent node",
        "MCOA201",
    )
    steady_traffic(sim, net, start=2.0, end=18.0, rate=4.0)
    return 20.0
