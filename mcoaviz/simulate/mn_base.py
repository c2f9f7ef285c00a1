"""What the mobile node's mixins may use of each other and of ``MobileNode`` (for the type checker).

The mixins (``mn_acks``, ``mn_bul``, ``mn_home_data``, ``mn_return_routability``) are only ever
combined in ``MobileNode``; they derive from ``MobileNodeBase`` while type checking and from
``object`` at run time, so the method resolution order and behaviour of ``MobileNode`` do not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dissector.codepoints import Dialect
from mcoaviz.simulate.home_agent import HomeAgent
from mcoaviz.simulate.mn_state import PendingBU, RRState
from mcoaviz.simulate.model import Transmission
from mcoaviz.simulate.network import Iface
from mcoaviz.simulate.node import Node
from mcoaviz.simulate.registrar import Registrar
from mcoaviz.simulate.truth import BulRow


class MobileNodeBase(Node):
    """The state ``MobileNode.__init__`` sets and the methods one mixin calls on another."""

    hoa: str
    ha: HomeAgent
    prefixes: tuple[str, ...]
    lifetime: int
    bids: dict[str, int]
    seq: dict[str, int]
    pending: dict[tuple[str, int], PendingBU]
    bul_rows: dict[tuple[str, int | None], BulRow]
    bul_pending: dict[tuple[str, int | None, str], BulRow]
    legacy_peers: set[str]
    orphans: list[BulRow]
    bootstrapped: set[str]
    _rr_wanted: dict[str, tuple[Registrar, list[int], bool, int]]
    leaving: set[tuple[str, int | None]]
    foreign_rows: dict[tuple[str, int, str], list[BulRow]]
    generation: int
    no_bulk_peers: set[str]
    rr: dict[str, RRState]
    auto_refresh: bool
    esp_seq: int
    ipv4_hoa_request: bool
    on_home_status: int | None

    if TYPE_CHECKING:
        # declarations only: the definitions live in MobileNode and the mixins

        @property
        def dialect(self) -> Dialect: ...

        def iface_of_bid(self, bid: int) -> Iface: ...

        def _any_foreign_iface(self) -> Iface: ...

        def _send_bu(self, pending: PendingBU, *, seq: int | None = None) -> Transmission: ...

        def _send_spaced(self, batch: list[PendingBU]) -> None: ...

        def _after_home_ba(self) -> None: ...

        def _bul_accept(
            self,
            peer: str,
            bid: int | None,
            coa: str | None,
            status: int,
            lifetime: int,
            tx: Transmission,
            seq: int,
        ) -> None: ...

        def _bul_end(
            self, peer: str, bids: Sequence[int | None] | None, reason: str, tx: Transmission
        ) -> None: ...

        def _bul_reject(
            self, peer: str, bid: int | None, coa: str | None, status: int, tx: Transmission
        ) -> None: ...

        def _as_sent(self, pending: PendingBU, tx: Transmission) -> PendingBU: ...

        def _open_bul_rows(self, pending: PendingBU, tx: Transmission) -> None: ...
