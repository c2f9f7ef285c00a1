"""Home agent / correspondent processing rules (draft §6.3, RFC 5648 §6.2) in the simulator model.

Each test drives the model with hand-made Binding Updates and checks the BA that comes back and
the binding cache left behind; expected values come from the spec text, not from the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from dissector.codepoints import Dialect
from dissector.encode import binding_identifier, binding_update
from dissector.records import BindingAck, BindingIdentifier, MobilityOption, NATDetection, UnknownOption
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation
from mcoaviz.simulate.registrar import Registrar
from mcoaviz.simulate.scenarios import run
from mcoaviz.simulate.scenarios.common import HOA, Topology, coa, standard

RFC, DRAFT = Dialect.RFC5648, Dialect.DRAFT05


def setup(dialect: Dialect = RFC, **kwargs: object) -> tuple[Simulation, Topology]:
    sim = Simulation(1, dialect)
    net = standard(sim, interfaces=3, cns=1, **kwargs)  # type: ignore[arg-type]
    net.mn.auto_refresh = False
    net.ha.policy.dad = False  # tested on its own below
    return sim, net


def send_bu(
    sim: Simulation,
    net: Topology,
    options: Sequence[MobilityOption],
    *,
    lifetime: int = 400,
    letters: tuple[str, ...] = ("A", "H"),
    via: str = "if1",
    peer: Registrar | None = None,
    seq: int | None = None,
) -> None:
    target = peer or net.ha
    iface = net.mn.interfaces[via]
    number = net.mn.next_seq(target) if seq is None else seq
    spec = MobilitySpec(
        binding_update(number, lifetime, *letters),
        iface.address or "",
        target.address,
        tuple(options),
        hao=HOA,
    )
    dst = net.ha.uplink if target is net.ha else target.interfaces["eth0"]
    net.mn.send_raw(spec, iface, dst)


def step(sim: Simulation, seconds: float = 1.0) -> None:
    sim.run(sim.now / 1e9 + seconds)


def last_ba(sim: Simulation, sender: str = "ha") -> tuple[BindingAck, list[BindingIdentifier], MobilitySpec]:
    spec = [tx.intent for tx in sim.transmissions if tx.kind == "BA" and tx.sender == sender][-1]
    assert isinstance(spec.body, BindingAck)
    return spec.body, [o for o in spec.options if isinstance(o, BindingIdentifier)], spec


def cache(net: Topology, node: Registrar | None = None) -> dict[int | None, str]:
    return {bid: b.coa for bid, b in (node or net.ha).cache.of(HOA).items()}


def bid(value: int, address: str | None = None, dialect: Dialect = RFC, **flags: bool) -> BindingIdentifier:
    return binding_identifier(value, address, dialect=dialect, **flags)


def test_bulk_registration_installs_every_bid_and_copies_options_without_coa() -> None:
    sim, net = setup()
    send_bu(sim, net, [bid(1, coa(1)), bid(2, coa(2)), bid(3, coa(3))])
    step(sim)
    ba, copies, _ = last_ba(sim)
    assert ba.status == 0 and ba.lifetime == 400
    assert [(o.bid, o.status, o.coa) for o in copies] == [(1, 0, None), (2, 0, None), (3, 0, None)]
    assert cache(net) == {1: coa(1), 2: coa(2), 3: coa(3)}


def test_regular_bu_replaces_all_bindings() -> None:
    sim, net = setup()
    send_bu(sim, net, [bid(1, coa(1)), bid(2, coa(2))])
    step(sim)
    send_bu(sim, net, [], via="if3")
    step(sim)
    assert cache(net) == {None: coa(3)}
    ended = {(r.bid, r.end_reason) for r in sim.truth.bindings if r.end_reason}
    assert ended == {(1, "overwritten"), (2, "overwritten")}


def test_rfc_o_flag_in_the_bu_header_replaces_everything() -> None:
    sim, net = setup()
    send_bu(sim, net, [bid(1, coa(1)), bid(2, coa(2))])
    step(sim)
    send_bu(sim, net, [bid(3, coa(3))], letters=("A", "H", "O"))
    step(sim)
    assert cache(net) == {3: coa(3)}


def test_draft_o_flag_lives_in_the_option_and_header_bit_is_ignored() -> None:
    sim, net = setup(DRAFT)
    send_bu(sim, net, [bid(1, coa(1), DRAFT), bid(2, coa(2), DRAFT)])
    step(sim)
    send_bu(sim, net, [bid(3, coa(3), DRAFT)], letters=("A", "H", "O"))  # 0x0040: reserved in the draft
    step(sim)
    assert cache(net) == {1: coa(1), 2: coa(2), 3: coa(3)}
    send_bu(sim, net, [bid(3, coa(3), DRAFT, overwrite=True)])
    step(sim)
    assert cache(net) == {3: coa(3)}


def test_rfc_bid_bu_over_a_regular_binding_gets_165_and_changes_nothing() -> None:
    sim, net = setup()
    send_bu(sim, net, [])
    step(sim)
    send_bu(sim, net, [bid(1, coa(1))])
    step(sim)
    ba, _, _ = last_ba(sim)
    assert ba.status == 165
    assert cache(net) == {None: coa(1)}


def test_draft_bid_conflict_installs_the_bid_binding_unconfirmed() -> None:
    sim, net = setup(DRAFT)
    send_bu(sim, net, [])
    step(sim)
    send_bu(sim, net, [bid(2, coa(2), DRAFT)], via="if2")
    step(sim)
    ba, _, _ = last_ba(sim)
    assert ba.status == 165  # MCOA BID CONFLICT, IANA number per I-2
    assert cache(net) == {2: coa(2)}
    row = next(r for r in sim.truth.bindings if r.bid == 2)
    assert row.confirmed is False


def test_partial_refusal_is_notcomplete_with_per_bid_status() -> None:
    sim, net = setup()
    net.ha.policy.max_bindings = 2
    send_bu(sim, net, [bid(1, coa(1)), bid(2, coa(2)), bid(3, coa(3))])
    step(sim)
    ba, copies, _ = last_ba(sim)
    assert ba.status == 4
    assert [o.status for o in copies] == [0, 0, 130]
    assert cache(net) == {1: coa(1), 2: coa(2)}


def test_deregistering_an_unknown_bid_gets_133_and_changes_nothing() -> None:
    sim, net = setup()
    send_bu(sim, net, [bid(1, coa(1))])
    step(sim)
    send_bu(sim, net, [bid(9)], lifetime=0)
    step(sim)
    assert last_ba(sim)[0].status == 133
    assert cache(net) == {1: coa(1)}


def test_rfc_length_4_for_an_unknown_bid_is_167() -> None:
    sim, net = setup()
    send_bu(sim, net, [bid(4)])
    step(sim)
    assert last_ba(sim)[0].status == 167
    assert cache(net) == {}


def test_bad_bid_length_is_malformed_for_the_whole_bu() -> None:
    sim, net = setup()
    bogus = UnknownOption(0, 35, b"\x00\x05\x00\x00\x00\x00")  # Length 6
    send_bu(sim, net, [bid(1, coa(1)), bogus])
    step(sim)
    assert last_ba(sim)[0].status == 164
    assert cache(net) == {}


def test_correspondent_refuses_bulk_with_168_and_status_only_in_the_ba() -> None:
    sim, net = setup()
    assert net.cn is not None
    send_bu(sim, net, [bid(1, coa(1)), bid(2, coa(2))], letters=("A",), peer=net.cn)
    step(sim)
    ba, copies, _ = last_ba(sim, "cn")
    assert ba.status == 168
    assert [o.status for o in copies] == [0, 0]
    assert cache(net, net.cn) == {}


def test_old_sequence_number_gets_135_with_the_last_accepted_number() -> None:
    sim, net = setup()
    send_bu(sim, net, [bid(1, coa(1))], seq=500)
    step(sim)
    send_bu(sim, net, [bid(2, coa(2))], seq=499)
    step(sim)
    ba, _, _ = last_ba(sim)
    assert (ba.status, ba.seq) == (135, 500)
    assert cache(net) == {1: coa(1)}


def test_draft_home_binding_from_lifetime_zero_with_h() -> None:
    sim, net = setup(DRAFT)
    net.ha.policy.only_router = False
    send_bu(sim, net, [bid(3, coa(3), DRAFT)], via="if3")
    step(sim)
    send_bu(sim, net, [bid(3, None, DRAFT, home=True)], lifetime=0, via="if3")
    step(sim)
    ba, copies, _ = last_ba(sim)
    assert ba.status == 0 and [o.status for o in copies] == [5]  # RETURNHOME in the BID option (§5.6.3)
    binding = net.ha.cache.of(HOA)[3]
    assert (binding.home, binding.coa, binding.lifetime) == (True, HOA, None)


def test_rfc_home_binding_has_coa_equal_hoa_and_returnhome_in_the_ba() -> None:
    sim, net = setup()
    net.ha.policy.only_router = False
    send_bu(sim, net, [bid(3, HOA, home=True)], via="if3")
    step(sim)
    ba, _, _ = last_ba(sim)
    assert ba.status == 5
    binding = net.ha.cache.of(HOA)[3]
    assert (binding.home, binding.coa, binding.lifetime) == (True, HOA, 400)


def test_ipv4_coa_behind_nat_binds_the_outer_address_and_reports_nat() -> None:
    sim, net = setup(ipv4_interface=2)
    net.mn.register([2])
    step(sim)
    _, _, spec = last_ba(sim)
    nat = [o for o in spec.options if isinstance(o, NATDetection)]
    assert nat and nat[0].f_flag
    assert cache(net) == {2: "203.0.113.7"}
    assert spec.udp is not None and spec.udp[1] == "203.0.113.7"


def test_lost_ba_retransmissions_back_off_and_binding_starts_at_first_ba() -> None:
    result = run("lost-ba")
    sends = [
        tx
        for tx in result.sim.transmissions
        if tx.kind == "BU"
        and tx.sender == "mn"
        and any(isinstance(o, BindingIdentifier) and o.bid == 2 for o in tx.intent.options)
    ]
    times = [tx.first.time for tx in sends if tx.first is not None]
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:], strict=False)]
    assert gaps == [1.5, 3.0]  # RFC 6275 §11.8: InitialBindackTimeoutFirstReg, then doubled
    seqs = [tx.intent.body.seq for tx in sends]
    assert seqs == sorted(set(seqs))  # every retransmission has a new sequence number
    first_ba = next(
        tx
        for tx in result.sim.transmissions
        if tx.kind == "BA"
        and tx.sender == "ha"
        and any(o.bid == 2 for o in tx.intent.options if isinstance(o, BindingIdentifier))
    )
    row = next(b for b in result.truth["bindings"] if b["bid"] == 2)
    assert first_ba.first is not None and row["start"] == first_ba.first.time
    assert not first_ba.delivered


def test_first_home_registration_waits_for_dad_and_then_proxies_the_hoa() -> None:
    sim, net = setup()
    net.ha.policy.dad = True
    send_bu(sim, net, [bid(1, coa(1))])
    send_bu(sim, net, [bid(2, coa(2))], via="if2")  # arrives during DAD: answered after it
    step(sim, 3.0)
    home_link = [tx for tx in sim.transmissions if tx.kind == "nd"]
    dad, proxy = home_link[0], home_link[1]
    ns = dad.first.data[14:] if dad.first else b""
    assert ns[6] == 58 and ns[8:24] == bytes(16) and ns[40] == 135  # NS from ::
    bas = [tx for tx in sim.transmissions if tx.kind == "BA"]
    assert [tx.intent.body.status for tx in bas] == [0, 0]
    assert bas[0].first is not None and dad.first is not None
    assert 1.0 <= bas[0].first.time - dad.first.time < 1.01  # RetransTimer
    na = proxy.first.data[14:] if proxy.first else b""
    assert na[40] == 136 and na[44] & 0xE0 == 0x20  # unsolicited: R=0, S=0, O=1
    send_bu(sim, net, [bid(3, coa(3))], via="if3")  # the HoA already has bindings: no new DAD
    step(sim, 1.0)
    assert [tx.kind for tx in sim.transmissions].count("nd") == 2


def test_correspondent_answers_hao_data_without_binding_with_binding_error() -> None:
    sim, net = setup()
    cn = net.cn
    assert cn is not None
    net.mn.register([1])  # the HoT reaches the MN through the HA's tunnel
    step(sim, 1.0)
    net.mn.route_optimise(cn, [1])
    step(sim, 2.0)
    assert cache(net, cn) == {1: coa(1)}
    cn.cache.remove(HOA, 1, "deregistered", sim.transmissions[-1])  # the CN forgets; the MN does not know
    for _ in range(3):
        net.mn.send_data(cn, 1, 100)
    step(sim, 0.5)
    errors = [tx.intent for tx in sim.transmissions if tx.kind == "BE"]
    assert len(errors) == 1  # rate-limited
    assert (errors[0].body.status, errors[0].body.home_address, errors[0].dst) == (1, HOA, coa(1))
