"""Deliberate §9.2 / §9.3.1 violations: the home agent accepts Mobile Prefix Solicitations and
reverse-tunnelled HoTIs only from the primary care-of address (RFC 3775 behaviour), while the
draft and RFC 5648 require any registered CoA. Both need the time after the message (an answer
within 3 s, a forwarded copy within 1 s), and a capture point beyond the HA (ha-uplink, cn-link).

MPS/MPA are ESP-NULL protected (readable); HoTIs are sent in the clear inside the 6in6 tunnel.
First everything works from CoA 1 and CoA 2; from t=10 the HA behaves as RFC 3775 alone:
* MPS from CoA 2 (registered, BID 2) is dropped: no MPA (MCOA920), CoA 1's is answered;
* HoTI reverse-tunnelled from CoA 2 is dropped: no HoA -> CN copy (MCOA512).
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.records import HomeTestInit
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import standard, steady_traffic


@scenario(
    "prefix-hoti-violations",
    title="Deliberate violations: HA answers MPS and relays tunnelled HoTI only from the primary CoA",
    section="§9.2, §9.3.1",
    look_at="until t=10 MPS from CoA 1 and 2 are answered and HoTI from CoA 1 forwarded; then the HA "
    "drops CoA 2's MPS (MCOA920) and its reverse-tunnelled HoTI (MCOA512)",
    dialects=(Dialect.RFC5648, Dialect.DRAFT05),
)
def prefix_hoti_violations(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn, ha, cn = net.mn, net.ha, net.cn
    assert cn is not None
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(4.0, lambda: mn.solicit_prefixes(1))
    sim.at(5.0, lambda: mn.solicit_prefixes(2))
    sim.at(6.0, lambda: mn.route_optimise(cn, [1]))
    sim.at(10.0, lambda: setattr(ha, "primary_only", True))

    def unanswered_mps() -> None:
        tx = mn.solicit_prefixes(2)
        assert tx is not None
        sim.truth.violation(tx, "9.2", "MPS from registered CoA 2 not answered (primary CoA only)", "MCOA920")

    sim.at(11.0, unanswered_mps)
    sim.at(11.5, lambda: mn.solicit_prefixes(1))
    since = [0]

    def hoti_from_coa2() -> None:
        since[0] = len(sim.transmissions)
        mn.route_optimise(cn, [2])

    def mark_hoti() -> None:
        coa2 = mn.iface_of_bid(2).address
        for tx in sim.transmissions[since[0]:]:
            spec = tx.intent
            if tx.kind == "HoTI" and spec is not None and isinstance(spec.body, HomeTestInit) \
                    and spec.tunnel is not None and spec.tunnel[0] == coa2:
                sim.truth.violation(tx, "9.3.1", "tunnelled HoTI from registered CoA 2 dropped", "MCOA512")
                return

    sim.at(13.0, hoti_from_coa2)
    sim.at(13.5, mark_hoti)
    # a refresh later on: the checker judges an answer only when the capture's signalling goes on
    # past the wait (data alone does not show the capture kept looking at signalling)
    sim.at(16.0, lambda: mn.register(bulk=True))
    steady_traffic(sim, net, start=2.0, end=18.0, rate=2.0)
    return 20.0
