"""Deliberate violations: one scenario that breaks at least one rule of every checker family.

Each misbehaviour is recorded in the truth file's ``violations`` (frame, draft-05 section,
checker rule). ``tests/checker/test_samples.py`` checks that ``mcoaviz check`` reports every one
of them at its frame and nothing else at error level. Hand-made messages that the receiver
must not act on are sent with ``deliver=False`` so the rest of the run stays clean.
"""

from __future__ import annotations

from dataclasses import replace

from dissector.codepoints import Dialect
from dissector.encode import binding_identifier, binding_update
from dissector.records import BindingAck, BindingIdentifier, MobilityOption
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import standard, steady_traffic

OTHER_HOA = "2001:db8:1::200"  # a second home address claiming the MN's first CoA (§10)
NEW_IPV4_COA = "192.0.2.99"  # never registered before: its first BU must be individual (§8.1)


def _keep_first_bid(options: tuple[MobilityOption, ...]) -> tuple[MobilityOption, ...]:
    bids = [o for o in options if isinstance(o, BindingIdentifier)]
    return tuple(o for o in options if not isinstance(o, BindingIdentifier) or o is bids[0])


def _zero_bid_status(options: tuple[MobilityOption, ...]) -> tuple[MobilityOption, ...]:
    return tuple(replace(o, status=0) if isinstance(o, BindingIdentifier) else o for o in options)


def _with_status(spec: MobilitySpec, status: int) -> MobilitySpec:
    assert isinstance(spec.body, BindingAck)
    return replace(spec, body=replace(spec.body, status=status), options=_zero_bid_status(spec.options))


@scenario(
    "violations",
    title="Deliberate violations, one or more per checker family",
    section="§2, §5.1, §5.4, §5.6.3, §5.8, §6.3, §8.1, §10; RFC 6275 §6.1.1",
    look_at="`mcoaviz check` lists every violation of the truth file at its frame (MCOA1xx-9xx)",
    dialects=(Dialect.RFC5648, Dialect.DRAFT05),
)
def violations(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn, ha, cn = net.mn, net.ha, net.cn
    assert cn is not None
    dialect = sim.dialect
    if1, if2 = mn.interfaces["if1"], mn.interfaces["if2"]
    coa1 = if1.address
    assert coa1 is not None  # standard() gives every interface a CoA; this scenario never moves them

    def bid(value: int, coa: str | None = None) -> BindingIdentifier:
        return binding_identifier(value, coa, dialect=dialect)

    def home_bu(*options: MobilityOption, flags: tuple[str, ...] = ("A", "H")) -> MobilitySpec:
        return MobilitySpec(
            binding_update(mn.next_seq(ha), 400, *flags), coa1, ha.address, options, hao=mn.hoa
        )

    sim.at(1.0, lambda: mn.register(bulk=True))

    # 1xx: the same BID twice in one BU (§5.1); the HA never sees it
    sim.at(
        3.0,
        lambda: mn.send_raw(
            home_bu(bid(1, if1.address), bid(1, if2.address)),
            if1,
            ha.uplink,
            violation=("5.1", "BID 1 twice in one Binding Update", "MCOA111"),
            deliver=False,
        ),
    )

    # 2xx: bulk registration sent to a correspondent node (§2, §5.4)
    def bulk_to_cn() -> None:
        spec = MobilitySpec(
            binding_update(mn.next_seq(cn), 400, "A"),
            coa1,
            cn.address,
            (bid(1, if1.address), bid(2, if2.address)),
            hao=mn.hoa,
        )
        tx = mn.send_raw(
            spec, if1, cn.iface, violation=("2", "bulk registration sent to a CN", "MCOA201"), deliver=False
        )
        if dialect is Dialect.DRAFT05:  # draft C (CoA present) is valid only towards the HA (§4.2.1)
            sim.truth.violation(tx, "4.2.1", "C flag in a BU to a correspondent node", "MCOA107")

    sim.at(5.0, bulk_to_cn)

    # 3xx: the HA's BA copies only the first BID option of a bulk BU (§6.3)
    sim.at(
        7.0,
        lambda: ha.mangle_next(
            "BA",
            lambda s: replace(s, options=_keep_first_bid(s.options)),
            violation=("6.3", "BA does not copy every BID option", "MCOA302"),
        ),
    )
    sim.at(7.0, lambda: mn.register([1, 2], bulk=True))

    # 3xx: MCOA NOTCOMPLETE although every BID option says 0 (§6.3)
    sim.at(
        9.0,
        lambda: ha.mangle_next(
            "BA",
            lambda s: _with_status(s, 4),
            violation=("6.3", "NOTCOMPLETE without a per-BID error", "MCOA303"),
        ),
    )
    sim.at(9.0, lambda: mn.register([1, 2, 3], bulk=True))

    # 9xx: a BU with a wrong Mobility Header checksum (RFC 6275 §6.1.1)
    sim.at(
        11.0,
        lambda: mn.send_raw(
            replace(home_bu(bid(3, mn.interfaces["if3"].address)), checksum=0x0BAD),
            if1,
            ha.uplink,
            deliver=False,
            violation=("6275 6.1.1", "bad Mobility Header checksum", "MCOA901"),
        ),
    )

    # 7xx: a new IPv4 care-of address first registered in a bulk BU sent over IPv6 (§8.1)
    def ipv4_in_bulk() -> None:
        spec = home_bu(bid(1, if1.address), bid(4, NEW_IPV4_COA))
        tx = mn.send_raw(
            spec,
            if1,
            ha.uplink,
            deliver=False,
            violation=("8.1", "first registration of an IPv4 CoA in a bulk BU", "MCOA701"),
        )
        sim.truth.violation(tx, "8.1", "first BU of an IPv4 CoA not sent over IPv4/UDP", "MCOA707")

    sim.at(13.0, ipv4_in_bulk)

    # 5xx: the BU answering a BRR for BID 2 refreshes BID 1 instead (§5.8)
    sim.at(
        14.0,
        lambda: mn.mangle_next(
            "BU",
            lambda s: replace(s, options=(bid(1, if1.address),)),
            violation=("5.8", "BU answering a BRR with BID 2 lacks BID 2", "MCOA506"),
        ),
    )
    sim.at(14.0, lambda: ha.send_brr(mn.hoa, [2]))

    # 6xx: another home address binds the MN's first CoA at the same HA (§10)
    def shared_coa() -> None:
        spec = MobilitySpec(
            binding_update(1, 400, "A", "H"), coa1, ha.address, (bid(1, if1.address),), hao=OTHER_HOA
        )
        ha.mangle_next(
            "BA", lambda s: s, violation=("10", "CoA already bound by another home address", "MCOA604")
        )
        mn.send_raw(spec, if1, ha.uplink)

    sim.at(16.0, shared_coa)

    # 4xx: returning home with H, the HA answers status 1 instead of 0 / RETURNHOME (§5.6.3)
    sim.at(18.0, lambda: mn.attach_home("if3"))
    sim.at(
        18.5,
        lambda: ha.mangle_next(
            "BA",
            lambda s: _with_status(s, 1),
            violation=("5.6.3", "H-flag BU answered with status 1", "MCOA402"),
        ),
    )
    sim.at(18.5, lambda: mn.return_home_simultaneous("if3"))

    steady_traffic(sim, net, start=2.0, end=24.0, rate=3.0)
    return 26.0
