"""BID option flags outside the Binding Update to the home agent (RFC 5648 §4.3, draft §4.2.1).

RFC 5648: H is valid only in a BU to the home agent and the 7 other bits are reserved; a CoTI,
CoT or BRR with H, a CoT with reserved bits, a BA with bits its BU did not set, and a BU to a
correspondent node with H are findings (MCOA119, MCOA120, MCOA107). Draft-05: a CoTI with any
flag (MCOA502) and a BU to a correspondent node with C/O/H (MCOA107).
"""

from __future__ import annotations

from dataclasses import replace

from dissector.codepoints import Dialect
from dissector.encode import binding_identifier, binding_update
from dissector.records import BindingIdentifier, MobilityOption
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.scenarios import scenario
from mcoaviz.simulate.scenarios.common import standard, steady_traffic


def _set_flags(bits: int, bid: int | None = None):  # noqa: ANN202 - a MobilitySpec mangler
    """A mangler OR-ing ``bits`` into the flags byte of the BID options (of ``bid`` only, if given)."""

    def options(spec_options: tuple[MobilityOption, ...]) -> tuple[MobilityOption, ...]:
        return tuple(replace(o, flags_byte=o.flags_byte | bits)
                     if isinstance(o, BindingIdentifier) and (bid is None or o.bid == bid) else o
                     for o in spec_options)

    return lambda spec: replace(spec, options=options(spec.options))


@scenario(
    "bid-flags-outside-bu",
    title="BID option flags where the text does not allow them",
    section="§4.2.1, §5.2 (RFC §4.3, §6.2)",
    look_at="RFC: CoTI with H (MCOA119), CoT with H and a reserved bit (MCOA119), BRR with H "
    "(MCOA119), BA setting H its BU did not (MCOA120), BU to the CN with H (MCOA107, MCOA407); draft: "
    "CoTI with H (MCOA502), BU to the CN with C and H (MCOA107); bindings unaffected",
)
def bid_flags_outside_bu(sim: Simulation) -> float:
    net = standard(sim, interfaces=3, cns=1)
    mn, ha, cn = net.mn, net.ha, net.cn
    assert cn is not None
    rfc = sim.dialect is Dialect.RFC5648
    home = 0x80 if rfc else 0x20  # RFC H / draft H
    sim.at(1.0, lambda: mn.register(bulk=True))

    if rfc:  # the HA's BA to a plain refresh of BID 1 sets H (§6.2: only copied bits)
        not_copied = ("6.2", "BA BID option sets H its BU did not", "MCOA120")
        sim.at(3.0, lambda: ha.mangle_next("BA", _set_flags(0x80), violation=not_copied))
        sim.at(3.0, lambda: mn.register([1], bulk=False))

    # return routability for BID 1: the MN's CoTI sets H; (RFC) the CN's CoT sets H and bit 0x01
    sim.at(5.0, lambda: mn.mangle_next(
        "CoTI", _set_flags(home),
        violation=("4.3", "CoTI BID option sets H", "MCOA119") if rfc
        else ("5.2", "CoTI BID option sets a flag", "MCOA502")))
    if rfc:
        cot_flags = ("4.3", "CoT BID option sets H and a reserved bit", "MCOA119")
        sim.at(5.0, lambda: cn.mangle_next("CoT", _set_flags(0x81), violation=cot_flags))
    sim.at(5.0, lambda: mn.route_optimise(cn, [1]))

    if rfc:  # a BRR for BID 2 whose BID option sets H
        sim.at(8.0, lambda: ha.mangle_next("BRR", _set_flags(0x80),
                                           violation=("4.3", "BRR BID option sets H", "MCOA119")))
        sim.at(8.0, lambda: ha.send_brr(mn.hoa, [2]))

    # a BU to the CN for BID 3 with H (draft: and C, as its CoA is carried); the CN never acts on it
    def h_to_cn() -> None:
        iface = mn.interfaces["if3"]
        option = binding_identifier(3, iface.address, home=True, dialect=sim.dialect, bid_type=sim.bid_type)
        spec = MobilitySpec(binding_update(mn.next_seq(cn), 240, "A"), iface.address or "", cn.address,
                            (option,), hao=mn.hoa)
        to_cn = ("4.3" if rfc else "4.2.1", "BU to a correspondent node with H", "MCOA107")
        tx = mn.send_raw(spec, iface, cn.iface, deliver=False, violation=to_cn)
        if rfc:  # an RFC H registration also needs CoA = HoA (§5.6.3)
            sim.truth.violation(tx, "5.6.3", "H with a CoA other than the home address", "MCOA407")

    sim.at(11.0, h_to_cn)
    steady_traffic(sim, net, start=2.0, end=16.0, rate=3.0)
    return 18.0
