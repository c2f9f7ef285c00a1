"""State records of the mobile node: a BU waiting for its BA, return-routability tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dissector.records import MobilityOption
from mcoaviz.simulate.model import Transmission
from mcoaviz.simulate.network import Iface
from mcoaviz.simulate.registrar import Registrar

INITIAL_BINDACK_TIMEOUT = 1.0
INITIAL_BINDACK_TIMEOUT_FIRST_REG = 1.5
MAX_BINDACK_TIMEOUT = 32.0


@dataclass(eq=False)
class PendingBU:
    """A BU waiting for its BA; what to resend on timeout."""

    peer: Registrar
    entries: Sequence[tuple[int | None, str | None]]  # (BID, CoA) pairs; [(None, coa)] = regular BU
    lifetime: int
    iface: Iface
    overwrite: bool = False
    home: bool = False
    timeout: float = INITIAL_BINDACK_TIMEOUT
    tx: Transmission | None = None
    seq: int = 0
    extra: tuple[MobilityOption, ...] = ()
    scripted: bool = False  # hand-made (send_raw): the BUL follows the BA, the MN does not react


@dataclass(eq=False)
class RRState:
    home_token: bytes | None = None
    home_index: int = 0
    careof: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # CoA -> (index, token)
    mcoa: bool = True  # the CN returned a BID in the CoT
