"""Deliberate violations that only timing shows (issue 15): a long capture, because the rules
need a window of the capture before or after the offending message.

* MCOA408: the HA answers the H-flag BU with status 0 (ND allowed) although another router
  serves the home link; that router misses the MN's Router Solicitation (its interface is down
  for 0.2 s) and its next RA comes ~100 s after the BA (RAs are 200-600 s apart), so only an RA
  after the BA shows it.
* MCOA509: 250 s into the capture (longer than MAX_NONCE_LIFETIME, 240 s), the MN sends a BU to
  the CN whose care-of nonce index came from no CoT: the CN only ever gave out index 1.
* MCOA621: the CN answers that BU, 0.3 s later, with a Binding Error status 1.
* MCOA510: the CN sends a CoT to the CoA written in a CoTI's BID option (MCOA108), not to the
  CoTI's source.

Each is recorded in the truth file's ``violations``; tests/checker/test_samples.py checks that
``mcoaviz check`` reports it at its frame and nothing else at error level.
"""

from __future__ import annotations

from dissector.codepoints import Dialect
from dissector.encode import binding_identifier, binding_update
from dissector.records import (
    BindingAck,
    BindingError,
    CareOfTest,
    CareOfTestInit,
    MobilityOption,
    NonceIndices,
)
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.mn_state import RRState
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.registrar import auth_data
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import mark_first, standard, steady_traffic

NEVER_GIVEN_NONCE = 99  # the simulated CN hands out nonce index 1 only


@scenario(
    "violations-timing",
    title="Deliberate violations only timing shows (RA after the BA, stale nonce index, BE for a BU)",
    section="§4.2.1, §5.2, §5.6.3, §6.5; RFC 6275 §5.2.7",
    look_at="HA answers the home-link H BU with 0 and router R's RA comes 100 s later (MCOA408); "
    "a CoT goes to the CoA in the CoTI's BID option (MCOA510); at t=250 a BU to the CN uses a "
    "care-of nonce index no CoT gave (MCOA509) and the CN answers it with a Binding Error (MCOA621)",
    dialects=(Dialect.RFC5648, Dialect.DRAFT05),
)
def violations_timing(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1, home_router=True)
    mn, ha, cn, router = net.mn, net.ha, net.cn, net.router
    assert cn is not None and router is not None
    ha.policy.only_router = True  # the violation: it ignores router R on the home link
    sim.at(1.0, lambda: mn.register(bulk=True))
    sim.at(3.0, lambda: mn.route_optimise(cn, [1, 2]))

    # MCOA408: status 0 to the H-flag BU; R misses the MN's RS (its interface is down for 0.2 s,
    # a reboot) and its next unsolicited RA comes ~100 s after the BA
    sim.at(11.9, lambda: setattr(router.iface, "up", False))
    sim.at(12.0, lambda: mn.attach_home("if3"))
    sim.at(12.1, lambda: setattr(router.iface, "up", True))
    sim.at(12.5, lambda: mn.return_home_simultaneous("if3"))
    mark_first(
        sim,
        13.5,
        lambda tx: tx.kind == "BA" and tx.intent.dst == mn.hoa
        and isinstance(tx.intent.body, BindingAck) and tx.intent.body.status == 0,
        "5.6.3",
        "HA allowed ND (status 0) although router R serves the home link",
        "MCOA408",
    )
    sim.at(110.0, router.advertise)

    # MCOA509: a BU to the CN with a care-of nonce index the CN never gave out
    def stale_nonce_bu() -> None:
        iface = mn.interfaces["if2"]
        assert iface.address is not None
        home_index = mn.rr.get(cn.address, RRState()).home_index or 0
        seq = mn.next_seq(cn)
        options: tuple[MobilityOption, ...] = (
            binding_identifier(2, dialect=sim.dialect),
            NonceIndices(0, home_index, NEVER_GIVEN_NONCE),
            auth_data(mn.hoa.encode(), iface.address.encode(), str(seq).encode()),
        )
        body = binding_update(seq, 240, "A")
        spec = MobilitySpec(body, iface.address, cn.address, options, hao=mn.hoa)
        mn.send_raw(spec, iface, cn.iface, deliver=False,
                    violation=("5.2", "BU to the CN with a care-of nonce index no CoT gave", "MCOA509"))

    sim.at(250.0, stale_nonce_bu)

    # MCOA621: the CN answers that BU with a Binding Error (status 1) as if it were data with a
    # Home Address option from an unbound CoA (no data with a HAO reaches the CN meanwhile)
    def binding_error_for_bu() -> None:
        coa2 = mn.interfaces["if2"].address
        assert coa2 is not None
        spec = MobilitySpec(BindingError(1, mn.hoa), cn.address, coa2)
        cn.send_raw(spec, cn.iface, mn.interfaces["if2"], deliver=False,
                    violation=("6.5", "Binding Error answering a BU with a Home Address option", "MCOA621"))

    sim.at(250.3, binding_error_for_bu)

    # MCOA510: a CoTI whose BID option names another CoA (itself MCOA108, draft also MCOA502), and
    # the CN sends the CoT to that CoA instead of the CoTI's source
    cookie = b"timing!!"

    def coti_with_coa() -> None:
        if1, if2 = mn.interfaces["if1"], mn.interfaces["if2"]
        assert if1.address is not None and if2.address is not None
        spec = MobilitySpec(CareOfTestInit(cookie), if1.address, cn.address,
                            (binding_identifier(1, if2.address, dialect=sim.dialect),))
        tx = mn.send_raw(spec, if1, cn.iface, deliver=False,
                         violation=("4.2.1", "care-of address in the BID option of a CoTI", "MCOA108"))
        if sim.dialect is Dialect.DRAFT05:  # the CoA field comes with the C flag (§4.2.1)
            sim.truth.violation(tx, "5.2", "CoTI BID option with a flag set", "MCOA502")

    def cot_to_bid_coa() -> None:
        if2 = mn.interfaces["if2"]
        assert if2.address is not None
        spec = MobilitySpec(CareOfTest(1, cookie, b"k" * 8), cn.address, if2.address,
                            (binding_identifier(1, dialect=sim.dialect),))
        cn.send_raw(spec, cn.iface, if2, deliver=False,
                    violation=("4.2.1", "CoT sent to the CoTI's BID-option CoA", "MCOA510"))

    sim.at(30.0, coti_with_coa)
    sim.at(30.05, cot_to_bid_coa)
    steady_traffic(sim, net, start=2.0, end=20.0, rate=2.0)
    steady_traffic(sim, net, start=246.0, end=248.5, rate=2.0)
    return 256.0
