"""Issue 11, points 3 and 4: route-optimised data checked at its receiver, and a first
registration without care-of address that the capture shows being prepared."""

from __future__ import annotations

from dataclasses import replace

from dissector.codepoints import Dialect
from dissector.encode import binding_identifier
from dissector.records import BindingIdentifier
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import standard, steady_traffic


@scenario(
    "ro-without-cn-binding",
    title="Route-optimised data to a CN that holds no binding (the HA's binding does not count)",
    section="§6.5 (RFC §6.5)",
    look_at="the HA binds CoAs 1 and 2; at 5 s the MN sends five datagrams with a Home Address "
    "option from CoA 1 straight to the CN, which never got a BU (MCOA608 at the first, one finding "
    "for the run; the CN answers with a Binding Error); from 8 s RR and a BU for BID 1 make the "
    "same route-optimised data bound",
)
def ro_without_cn_binding(sim: Simulation) -> float:
    net = standard(sim, interfaces=2, cns=1)
    mn, cn = net.mn, net.cn
    assert cn is not None
    sim.at(1.0, lambda: mn.register(bulk=True))

    def burst() -> None:
        for i in range(5):
            def one(first: bool = i == 0) -> None:
                tx = mn.send_unbound_ro_data(cn, 1, 200)
                if first and tx is not None:
                    sim.truth.violation(tx, "6.5", "route-optimised data to a CN without binding for "
                                        "that home address (only the HA holds the CoA)", "MCOA608")
            sim.after(0.2 * i, one)

    sim.at(5.0, burst)
    sim.at(8.0, lambda: mn.route_optimise(cn, bids=[1]))
    steady_traffic(sim, net, start=2.0, end=16.0, rate=4.0)
    return 18.0


def _without_coa(spec: MobilitySpec) -> MobilitySpec:
    """The BU's BID options without their care-of address (Length 4)."""
    return replace(spec, options=tuple(
        binding_identifier(o.bid, dialect=o.dialect) if isinstance(o, BindingIdentifier) else o
        for o in spec.options))


@scenario(
    "first-registration-without-coa",
    title="First registration of a BID at a CN without its care-of address, after return routability",
    section="RFC §5.1, §6.2",
    look_at="the MN runs RR for CoA 2 with the CN and sends its first BU for BID 2 with a Length-4 "
    "BID option (no CoA; MCOA130); the CN accepts it with the BU's source as the CoA (I-6). The "
    "binding starts at the BA, not at the capture's start (it is not pre-existing)",
    dialects=(Dialect.RFC5648,),
)
def first_registration_without_coa(sim: Simulation) -> float:
    net = standard(sim, interfaces=2, cns=1)
    mn, cn = net.mn, net.cn
    assert cn is not None
    cn.policy.accept_unknown_bid_without_coa = True
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(4.0, lambda: mn.mangle_next("BU", _without_coa,
                                       violation=("5.1", "first registration of BID 2 without its "
                                                  "care-of address", "MCOA130")))
    sim.at(4.0, lambda: mn.route_optimise(cn, bids=[2]))
    steady_traffic(sim, net, start=2.0, end=16.0, rate=4.0)
    return 18.0
