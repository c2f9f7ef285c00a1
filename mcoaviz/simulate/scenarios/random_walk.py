"""A seeded random walk through the MN's procedures, for robustness tests (not a sample).

Odd seeds give interface 3 an IPv4 care-of address behind a NAT (DSMIPv6). Every few
seconds the MN does one of: bulk or individual registration, per-BID or full
de-registration, a handover of one interface, losing an interface, returning it, route
optimisation with the CN; the HA sometimes sends a BRR. Different seeds give different walks.
"""

from __future__ import annotations

from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import coa, standard, steady_traffic


@scenario(
    "random-walk",
    title="Seeded random walk through registration procedures",
    section="§5, §6",
    look_at="robustness: whatever the seed, the truth and the capture agree",
    sample=False,
)
def random_walk(sim: Simulation) -> float:
    ipv4 = 3 if sim.seed % 2 else None  # odd seeds: interface 3 has an IPv4 CoA behind a NAT
    net = standard(sim, interfaces=3, cns=1, lifetime=60, ipv4_interface=ipv4)
    mn, ha, cn = net.mn, net.ha, net.cn
    assert cn is not None
    hosts = {name: 0x100 for name in mn.interfaces}

    def act() -> None:
        choice = sim.rng.randrange(9)
        live = [b for n, b in mn.bids.items() if mn.interfaces[n].up and mn.interfaces[n].address]
        if choice == 0 or not live:
            mn.register(bulk=True)
        elif choice == 1:
            mn.register(live[: 1 + sim.rng.randrange(len(live))], bulk=False)
        elif choice == 2:
            mn.deregister([sim.rng.choice(live)], via=live[0])
        elif choice == 3:
            mn.deregister(via=live[0])
        elif choice in (4, 5):
            name = sim.rng.choice(sorted(mn.interfaces))
            index = int(name[2:])
            hosts[name] += 1
            address = f"10.0.0.{hosts[name] - 0xC0}" if index == ipv4 else coa(index, hosts[name])
            mn.move(name, f"mn-if{index}", address)
            mn.register([mn.bids[name]], bulk=False)
        elif choice == 6 and len(live) > 1:
            name = next(n for n, b in mn.bids.items() if b == live[-1])
            mn.move(name, None, None)
        elif choice == 7:
            mn.route_optimise(cn, [b for b in live if b != ipv4] or live[:1])
        elif ha.cache.of(mn.hoa):
            ha.send_brr(
                mn.hoa, [sim.rng.choice(sorted(b for b in ha.cache.of(mn.hoa) if b is not None) or [1])]
            )

    sim.at(1.0, lambda: mn.register(bulk=True))
    for step in range(12):
        sim.at(4.0 + 3.5 * step, act)
    steady_traffic(sim, net, start=2.0, end=48.0, rate=3.0)
    return 50.0
