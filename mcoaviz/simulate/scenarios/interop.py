"""Interop: mobile nodes of both dialects behind one home agent (interpretation I-1).

Bit 0x80 of the BID flags is draft C ("a CoA follows") and RFC H ("home registration"); read in
the wrong dialect, the draft node's every registration becomes a home binding. Only a decision
per (mobile node, peer) pair reads both nodes right.
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from mcoaviz.simulate.mobile_node import MobileNode
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import Topology, router_mac, standard, steady_traffic

HOA2 = "2001:db8:1::200"


def coa2(index: int, host: int = 0x200) -> str:
    """Care-of address N of the second mobile node (its own foreign links 2001:db8:bN::/64)."""
    return f"2001:db8:b{index}::{host:x}"


@scenario(
    "two-dialects-one-ha",
    title="An RFC 5648 MN and a draft-05 MN behind one home agent",
    section="I-1 (draft05-vs-rfc5648 §1.8)",
    look_at="MN 2001:db8:1::100 (RFC 5648, BIDs 1-2) and MN 2001:db8:1::200 (draft-05, C flag 0x80 "
    "with every CoA, BIDs 1-2, a handover of BID 2, route optimisation with the CN) register "
    "with the same HA; the dialects table gives each (MN, peer) pair its own dialect",
    dialects=(Dialect.RFC5648,),
    mixed=True,
)
def two_dialects_one_ha(sim: Simulation) -> float:
    net = standard(sim, interfaces=2, cns=1)
    mn, ha, cn = net.mn, net.ha, net.cn
    assert cn is not None
    for index, (delay, jitter) in enumerate(((10.0, 2.5), (30.0, 5.0)), start=1):
        sim.network.add_link(f"mn2-if{index}", delay_ms=delay, jitter_ms=jitter,
                             router_mac=router_mac(20 + index), description=f"MN2 interface {index}")
    mn2 = MobileNode(sim, "mn2", HOA2, ha, mac_base=0x0B02, dialect=Dialect.DRAFT05)
    sim.network.route(HOA2, ha.uplink)
    for index in (1, 2):
        mn2.add_interface(f"if{index}", f"mn2-if{index}", coa2(index), index)
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(1.5, lambda: mn2.register(bulk=True))
    sim.at(6.0, lambda: mn2.route_optimise(cn))
    sim.at(10.0, lambda: mn2.move("if2", "mn2-if2", coa2(2, 0x201)))
    sim.at(10.5, lambda: mn2.register([2], bulk=False))
    sim.at(14.0, lambda: mn.deregister([2], via=1))
    steady_traffic(sim, net, start=2.0, end=20.0, rate=4.0)
    steady_traffic(sim, Topology(sim, ha, mn2, cn), start=2.2, end=20.0, rate=4.0)
    return 22.0
