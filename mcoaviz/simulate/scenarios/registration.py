"""Registration procedures with the home agent: bulk + O bootstrap, NOTCOMPLETE, BID conflict,
de-registration, a lost BA, a Binding Refresh Request, a handover storm."""

from __future__ import annotations

from collections.abc import Callable

from dissector.records import BindingIdentifier
from mcoaviz.simulate.model import Simulation, Transmission
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import coa, router_mac, standard, steady_traffic


@scenario(
    "bulk-bootstrap",
    title="Bulk registration, reboot, O-flag bootstrap refused with 135, retry",
    section="§5.4, §5.10 (RFC §5.9)",
    look_at="bulk BU with three BIDs; after the MN reboots, a bulk BU with O (RFC: BU flag 0x0040, "
    "draft: BID flag 0x40) and a low sequence number gets 135; the retry with the BA's "
    "number + 1 overwrites every binding (BID 2 is gone, BID 3 has a new CoA)",
)
def bulk_bootstrap(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn = net.mn
    sim.at(1.0, lambda: mn.register(bulk=True))

    def reboot() -> None:
        mn.reboot()
        mn.move("if2", None, None)
        mn.move("if3", "mn-if3", coa(3, 0x101))

    sim.at(12.0, reboot)
    sim.at(12.5, lambda: mn.register(bulk=True, overwrite=True))
    steady_traffic(sim, net, start=2.0, end=24.0, rate=5.0)
    return 25.0


@scenario(
    "bulk-notcomplete",
    title="Bulk registration partly refused: MCOA NOTCOMPLETE with per-BID status",
    section="§5.4, §5.7, §6.3",
    look_at="HA limited to two bindings: BA status 4 with BID 3 status 130; then a bulk "
    "de-registration of BID 2 and unknown BID 5: NOTCOMPLETE with BID 5 status 133",
)
def bulk_notcomplete(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn, ha = net.mn, net.ha
    ha.policy.max_bindings = 2
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(12.0, lambda: mn.deregister([2, 5], via=1))
    steady_traffic(sim, net, start=2.0, end=20.0, rate=5.0)
    return 22.0


@scenario(
    "bid-conflict",
    title="BID registration while a regular binding exists",
    section="§6.3 (draft BID CONFLICT, I-7) / RFC §6.2 (165, I-8)",
    look_at="regular BU (no BID), then a bulk BID BU without O: RFC 165 and nothing changes; draft "
    "BID CONFLICT (165) with the BID bindings installed unconfirmed; the MN retries with O",
)
def bid_conflict(sim: Simulation) -> float:
    net = standard(sim, interfaces=2, cns=1)
    mn = net.mn
    sim.at(1.0, lambda: mn.register_regular(via=1))
    sim.at(8.0, lambda: mn.register(bulk=True, overwrite=False))  # not bootstrapping with O: §5.9/§5.10
    steady_traffic(sim, net, start=2.0, end=20.0, rate=5.0)
    return 22.0


@scenario(
    "deregistration",
    title="Per-BID and full de-registration",
    section="§5.5, §6.3",
    look_at="lifetime-0 BU with BID 2 (only that binding goes), lifetime-0 BU with unknown BID 7 "
    "(133, nothing changes), then lifetime-0 BU without BID (everything goes)",
)
def deregistration(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn = net.mn
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(8.0, lambda: mn.deregister([2], via=1))
    sim.at(12.0, lambda: mn.deregister([7], via=1))
    sim.at(16.0, lambda: mn.deregister(via=3))
    steady_traffic(sim, net, start=2.0, end=20.0, rate=5.0)
    return 22.0


def _ba_for_bid(bid: int, sender: str = "ha") -> Callable[[Transmission], bool]:
    def match(tx: Transmission) -> bool:
        spec = tx.intent
        return (
            tx.kind == "BA"
            and tx.sender == sender
            and spec is not None
            and any(isinstance(o, BindingIdentifier) and o.bid == bid for o in spec.options)
        )

    return match


@scenario(
    "lost-ba",
    title="Lost Binding Acknowledgements and retransmission with back-off",
    section="§5.3; RFC 6275 §11.8",
    look_at="individual BUs; the HA's BA for BID 2 is lost twice after the HA uplink: the MN "
    "retransmits after 1.5 s and 3 s with new sequence numbers; the binding starts at the "
    "first (lost) BA seen on ha-uplink",
)
def lost_ba(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn = net.mn
    sim.network.drop(_ba_for_bid(2), count=2)
    sim.at(1.0, lambda: mn.register(bulk=False))
    steady_traffic(sim, net, start=2.0, end=18.0, rate=5.0)
    return 20.0


@scenario(
    "brr",
    title="Binding Refresh Request with a BID from the HA and from the CN",
    section="§5.8, §6.4",
    look_at="HA sends a BRR with BID 2 through the tunnel: the MN refreshes only BID 2; the CN "
    "sends a BRR with BID 1 (type 2 RH): the MN sends a BU with BID 1 to the CN",
)
def brr(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn, ha, cn = net.mn, net.ha, net.cn
    assert cn is not None
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(3.0, lambda: mn.route_optimise(cn))
    sim.at(10.0, lambda: ha.send_brr(mn.hoa, [2]))
    sim.at(14.0, lambda: cn.send_brr(mn.hoa, 1))
    steady_traffic(sim, net, start=2.0, end=20.0, rate=4.0)
    return 22.0


@scenario(
    "handover-storm",
    title="Handover storm: one interface flapping between two access points",
    section="§5.3, §6.3",
    look_at="interface 2 alternates between two Wi-Fi links (new CoA each time) and goes down "
    "twice; each attachment is an individual BU for BID 2 that replaces the binding",
)
def handover_storm(sim: Simulation) -> float:
    net = standard(sim, interfaces=2, cns=1)
    sim.network.add_link(
        "mn-if2b",
        delay_ms=9.0,
        jitter_ms=2.5,
        router_mac=router_mac(30),
        description="MN interface 2, second access point",
    )
    mn = net.mn
    sim.at(1.0, lambda: mn.register(bulk=True))
    t, host = 4.0, 0x100
    for step in range(12):
        host += 1
        if step in (4, 9):
            sim.at(t, lambda: mn.move("if2", None, None))
            t += 1.5
        link = "mn-if2b" if step % 2 == 0 else "mn-if2"
        address = f"2001:db8:b2::{host:x}" if step % 2 == 0 else coa(2, host)

        def attach(link: str = link, address: str = address) -> None:
            mn.move("if2", link, address)
            mn.register([2], bulk=False)

        sim.at(t, attach)
        t += sim.rng.uniform(1.2, 2.6)
    steady_traffic(sim, net, start=2.0, end=t + 2.0, rate=5.0)
    return t + 3.0


@scenario(
    "refresh-expiry",
    title="Refresh before expiry, and a binding left to expire",
    section="§5.3, §6.3; RFC 6275 §11.7.1, I-29",
    look_at="lifetime 40 s: the MN refreshes BID 1 and 2 every 30 s (bulk BU); interface 3 goes "
    "silent at t=12, so BID 3 expires at the HA 40 s after its last acceptance",
)
def refresh_expiry(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1, lifetime=40)
    mn = net.mn

    def silent() -> None:
        mn.move("if3", None, None)

    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(12.0, silent)
    steady_traffic(sim, net, start=2.0, end=75.0, rate=2.0)
    return 80.0


@scenario(
    "legacy-ha",
    title="Home agent without MCoA support: BA without BID, fallback to one binding",
    section="§5.7 (I-10)",
    look_at="bulk BU with three BIDs answered by a BA without any BID option: the HA holds one "
    "regular binding for the BU's source (CoA 1); the MN stops using CoA 2 and 3 and "
    "refreshes with BUs without BID every 30 s",
)
def legacy_ha(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1, lifetime=40)
    net.ha.policy.mcoa = False
    sim.at(1.0, lambda: net.mn.register(bulk=True))
    steady_traffic(sim, net, start=2.0, end=70.0, rate=3.0)
    return 72.0
