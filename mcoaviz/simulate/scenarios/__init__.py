"""Scenario registry and the scenario-writing API.

A scenario is a function that receives a fresh ``Simulation`` (seeded, with the dialect
chosen on the command line), builds a topology, schedules what the nodes do, and returns the
duration to simulate in seconds. Register it with ``@scenario(...)``; modules in this package
are imported by ``load_all()`` so the registry ``SCENARIOS`` is complete.

Writing a scenario (e.g. ``scenarios/violations.py``)::

    from dataclasses import replace
    from dissector.codepoints import Dialect
    from dissector.encode import binding_ack, binding_identifier, binding_update
    from mcoaviz.simulate.messages import MobilitySpec
    from mcoaviz.simulate.model import Simulation
    from mcoaviz.simulate.scenarios import scenario
    from mcoaviz.simulate.scenarios.common import standard, steady_traffic

    @scenario("violations", title="Deliberate violations", section="various",
              look_at="every truth violation is a finding", dialects=(Dialect.RFC5648, Dialect.DRAFT05))
    def violations(sim: Simulation) -> float:
        net = standard(sim, interfaces=3, cns=1)          # HA, CN, MN with if1..if3 / BID 1..3
        mn, ha, cn = net.mn, net.ha, net.cn
        sim.at(1.0, lambda: mn.register(bulk=True))        # normal behaviour, step by step
        # (a) make a node misbehave once: the next BA the HA sends loses its BID copies
        sim.at(5.0, lambda: ha.mangle_next("BA", lambda spec: replace(spec, options=()),
                                           violation=("6.3", "BA without the BU's BID options", "Q88")))
        sim.at(5.0, lambda: mn.register([2], bulk=False))
        # (b) send a hand-made message with a truth violation entry on its frame
        def bid_zero() -> None:
            iface = mn.interfaces["if1"]
            spec = MobilitySpec(binding_update(mn.next_seq(ha), 400, "A", "H"), iface.address, ha.address,
                                (binding_identifier(0, iface.address, dialect=sim.dialect),), hao=mn.hoa)
            mn.send_raw(spec, iface, ha.uplink, violation=("5.1", "BID 0 is reserved", "Q12"))
        sim.at(8.0, bid_zero)
        steady_traffic(sim, net, start=2.0, end=20.0)
        return 25.0

The pieces a scenario can use:

* ``sim.at(t, fn)`` / ``sim.after(dt, fn)``: run ``fn`` at scenario time t (seconds; ``at``
  adds a small seeded offset, the same for every action at that t, so their order holds).
  ``sim.rng`` is the only randomness allowed (seeded). ``sim.dialect``, ``sim.esp``,
  ``sim.bid_type``.
* ``common.standard(sim, interfaces=N, cns=K, ...)`` -> ``Topology`` with ``ha``
  (``HomeAgent``), ``cn``/``cn2`` (``CorrespondentNode``), ``mn`` (``MobileNode``), and the
  links (capture points "ha-uplink", "home-link", "cn-link", "cn2-link", "mn-if1".."mn-ifN").
* ``MobileNode``: ``register(bids=None, bulk=True, overwrite=False, lifetime=None, via=None)``,
  ``register_regular(via)``, ``deregister(bids=None, peer=None, via=None)``,
  ``route_optimise(cn, bids=None, bulk=False)``, ``move(if_name, link, address)``,
  ``solicit_prefixes(bid)`` (ESP-NULL Mobile Prefix Solicitation; the HA answers with an MPA),
  ``attach_home(if_name)``, ``return_home_deregister_all(if_name)``,
  ``return_home_simultaneous(if_name)``, ``send_data(cn, bid, size)``, ``next_seq(peer)``;
  attributes ``hoa``, ``interfaces`` (name -> Iface with ``.address``), ``bids`` (name -> BID),
  ``auto_refresh`` (refresh at 75 % of the lifetime), ``lifetime``.
* ``HomeAgent`` / ``CorrespondentNode``: ``policy`` (``RegistrarPolicy``: ``mcoa``,
  ``bulk``, ``max_lifetime``, ``only_router``, ``max_bindings``, ``omit_bid_in_ba``, ``dad``),
  the HA runs DAD and proxy ND for a HoA's first binding and forwards reverse-tunnelled data
  only from registered CoAs; the CN answers HAO data from an unbound CoA with a Binding Error;
  ``cache`` (the binding cache), ``send_brr(hoa, bids)`` / ``send_brr(hoa, bid)``,
  ``primary_only`` (HA: relay tunnelled HoTIs and answer MPSs only from the lowest-BID CoA),
  ``address``, ``uplink`` / ``home`` (HA interfaces), ``iface`` (CN interface).
* Any node: ``mangle_next(kind, fn, violation=(section, description[, rule]))`` rewrites the
  next outgoing message of that kind ("BU", "BA", "BRR", "CoTI", "CoT", "HoTI", "HoT", "BE")
  through ``fn(MobilitySpec) -> MobilitySpec``; ``send_raw(spec, src_iface, dst_iface,
  violation=..., deliver=True)`` sends a hand-made message (the receiver processes it unless
  ``deliver=False``). ``MobilitySpec`` fields: body (a ``dissector.records`` message),
  src, dst, options, hao, rh2, esp, tunnel, udp, and overrides ``mh_type``, ``header_len``,
  ``align`` (False = no alignment padding), ``checksum``, ``payload_proto``. A BU sent by the
  MN with ``send_raw`` enters the truth BUL as sent and its BA updates it, but the MN does not
  react to that BA (no retry, no refresh); a BU rewritten by ``mangle_next`` is tracked as sent.
* ``mn.reboot()`` drops the MN's mobility state (BUL, pending BUs, sequence numbers: §5.10);
  ``mn.auto_refresh = False`` stops refreshes; ``mn.ipv4_hoa_request = True`` adds an IPv4
  Home Address request to HA BUs; ``sim.network.add_link(name, ...)`` adds a capture point.
* ``MobileNode(..., dialect=Dialect.DRAFT05)``: a mobile node that follows another text than
  the simulation (interop, I-1); home agents and CNs answer each MN in its own dialect
  (``sim.dialect_of(address)``). Register such a scenario with ``mixed=True`` and one base
  dialect: its sample is ``NAME-mixed.pcapng`` and its truth lists each MN's dialect.
* ``sim.truth.violation(tx, section, description, rule=None)`` marks any transmission;
  ``sim.network.drop(predicate, count)`` loses matching transmissions after the sender's link.
* ``common.steady_traffic(sim, net, start, end, rate=...)``: bidirectional data over every
  binding in force (tunnel / UDP / route-optimised, per the nodes' state at each instant).

Every MH message that reaches the wire is recorded with its ``MobilitySpec`` intent
(``Transmission.intent``), which the tests compare with tshark's reading.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dissector.codepoints import Dialect
from mcoaviz.simulate.model import EPOCH_NS, Simulation
from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter

BOTH = (Dialect.RFC5648, Dialect.DRAFT05)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    build: Callable[[Simulation], float]
    title: str
    section: str  # the draft figure / section it reproduces
    look_at: str = ""
    dialects: tuple[Dialect, ...] = BOTH  # dialects where the scenario is meaningful
    esp: bool = False  # ESP-NULL protected MN-HA signalling by default
    sample: bool = True  # part of sample-captures/
    mixed: bool = False  # its mobile nodes follow different dialects: one sample, NAME-mixed


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str,
    *,
    title: str,
    section: str,
    look_at: str = "",
    dialects: tuple[Dialect, ...] = BOTH,
    esp: bool = False,
    sample: bool = True,
    mixed: bool = False,
) -> Callable[[Callable[[Simulation], float]], Callable[[Simulation], float]]:
    """Decorator: register ``fn`` as scenario ``name``."""

    def wrap(fn: Callable[[Simulation], float]) -> Callable[[Simulation], float]:
        SCENARIOS[name] = Scenario(name, fn, title, section, look_at, dialects, esp, sample, mixed)
        return fn

    return wrap


def load_all() -> dict[str, Scenario]:
    """Import every scenario module of this package (each registers itself)."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return SCENARIOS


@dataclass
class Result:
    pcapng: bytes
    truth: dict[str, Any]
    sim: Simulation


def run(
    name: str,
    *,
    seed: int = 1,
    dialect: Dialect = Dialect.RFC5648,
    esp: bool | None = None,
    bid_type: int = 35,
) -> Result:
    """Run scenario ``name``; returns the capture bytes, the truth and the finished simulation."""
    spec = load_all()[name]
    sim = Simulation(seed, dialect, esp=spec.esp if esp is None else esp, bid_type=bid_type)
    duration = spec.build(sim)
    sim.run(duration)
    frames = sim.ordered_sightings()
    stream = io.BytesIO()
    links = sim.network.capture_links()
    writer = PcapngWriter(stream, [InterfaceSpec(link.name, description=link.description) for link in links])
    for frame in frames:
        writer.write(frame.interface, EPOCH_NS + frame.time_ns, frame.data)
    truth = sim.truth.to_json(name, spec.title)
    truth["section"] = spec.section
    truth["esp"] = sim.esp
    truth["bid_type"] = sim.bid_type
    return Result(stream.getvalue(), truth, sim)


load_all()  # importing the package fills SCENARIOS (the modules import ``scenario`` from above)
