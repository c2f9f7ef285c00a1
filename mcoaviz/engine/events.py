"""State events: what the engine concluded, in the order it concluded it.

The checker reads ONLY these events plus the packets, so this module is a contract: fields are
added, never renamed or removed. Every event is a frozen slotted dataclass with

* ``time``  – capture time (epoch seconds) at which the thing happened (for a binding: when
  the node acted, e.g. the BA frame time; for an expiry: start of the last acceptance +
  granted lifetime),
* ``frame`` – 1-based frame number of the record that caused it (``None`` only when no single
  frame did: an expiry, or data counted by the fast path),
* ``key``   – the table key the event is about (``BindingKey``, ``BulKey``, ``ExchangeKey``,
  ``PeerKey`` or ``TestKey``; see ``mcoaviz.engine.keys``).

Events are emitted in processing order, which is capture order except for ``UnansweredBU`` (and
the bindings it installs), which are decided later than the BU they concern and carry the BU's
time and frame.

Vocabulary: "effective status" of a BID is the BID option's Status if non-zero, else the BA
Status (draft §5.7, RFC §5.7, interpretation I-9); < 128 means accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mcoaviz.engine.keys import BindingKey, BulKey, ExchangeKey, PeerKey
from mcoaviz.engine.quickinit import quick_init

# --------------------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True)
class TestKey:
    """A care-of test exchange: the care-of address tested and the correspondent node."""

    coa: str
    peer: str


@dataclass(frozen=True, slots=True)
class MessageSeen:
    """First sighting of a Mobility Header message (BU, BA, BRR, BE, HoTI/CoTI/HoT/CoT, ...).

    ``key`` is the ``ExchangeKey`` for BU/BA (peer, HoA, seq), a ``TestKey`` for CoTI/CoT, a
    ``PeerKey`` for other messages, or None when the addressing is unusable.
    ``answers`` is the frame of the BU (first sighting) a BA answers, or None.
    ``role`` is the peer's inferred role for BU/BA ("home-agent" | "correspondent").
    ``peer`` is the HA/CN side of the exchange, ``hoa`` the mobile node's home address.
    """

    time: float
    frame: int
    key: ExchangeKey | PeerKey | TestKey | None
    kind: str  # "BU", "BA", "BRR", "BE", "HoTI", "CoTI", "HoT", "CoT", or the type name
    interface: int
    src: str | None
    dst: str | None
    hoa: str | None
    peer: str | None
    seq: int | None
    bids: tuple[int, ...] = ()
    answers: int | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class DuplicateSighting:
    """The same message seen again at another capture interface (first sighting wins)."""

    time: float
    frame: int
    key: ExchangeKey | PeerKey | TestKey | None
    kind: str
    interface: int
    first_frame: int


@dataclass(frozen=True, slots=True)
class RetransmissionSeen:
    """A BU resent with the same (peer, HoA, seq): not counted as a new registration."""

    time: float
    frame: int
    key: ExchangeKey
    first_frame: int
    attempt: int  # 2 for the first retransmission


# An unanswered BU may still be applied, unconfirmed, on evidence (data to one of its CoAs) until
# its time + lifetime (``BindingEngine._evidence``). A reader waiting for that adds this margin:
# fast-path rows reach the engine after later packets, and capture times may go back a little.
EVIDENCE_MARGIN = 60.0


@dataclass(frozen=True, slots=True)
class UnansweredBU:
    """A BU with the A flag for which no BA was captured.

    ``reason``: "superseded" (the MN sent a newer BU to the same peer for an overlapping BID
    set), "timeout" (no BA within EngineConfig.ba_timeout), or "capture-end".
    ``decided_at`` is the capture time at which the engine gave up waiting.
    """

    time: float
    frame: int
    key: ExchangeKey
    bids: tuple[int, ...]
    lifetime: int  # requested, seconds
    reason: str
    decided_at: float


@dataclass(frozen=True, slots=True)
class UnmatchedBA:
    """A BA with no BU of the same (peer, HoA, seq) seen before it."""

    time: float
    frame: int
    key: ExchangeKey
    status: int


# --------------------------------------------------------------------------- BU outcome


@dataclass(frozen=True, slots=True)
class BidResult:
    """Outcome of one BID option (or of the regular binding, bid None) of a processed BU.

    ``action``: "started" (new binding), "refreshed" (same CoA, lifetime extended),
    "replaced" (new CoA under this BID), "deregistered", "rejected" (effective status >= 128,
    state unchanged), "unknown-bid" (de-registration of a BID the node did not hold),
    "home" (home binding, CoA = HoA), "kept" (no change, e.g. RFC 165).
    """

    bid: int | None
    coa: str | None  # the CoA the node registered (after I-5, I-6, I-22)
    claimed_coa: str | None  # the CoA field of the BID option as sent, if any
    status: int | None  # effective status (I-9); None when no BA applies (no A flag, unanswered)
    accepted: bool
    action: str
    home: bool = False


@dataclass(frozen=True, slots=True)
class BindingUpdateProcessed:
    """A BU took effect at its peer (when the BA was seen, or when sent without A, or when the
    engine gave up waiting for the BA: then ``confirmed`` is False).

    ``time``/``frame`` are the BA's when a BA was seen, otherwise the BU's.
    """

    time: float
    frame: int
    key: ExchangeKey
    role: str  # "home-agent" | "correspondent"
    bu_frame: int
    bu_time: float
    ba_frame: int | None
    requested_lifetime: int
    granted_lifetime: int | None  # BA lifetime when a BA was seen
    ba_status: int | None
    ack_requested: bool  # A flag
    regular: bool  # no BID option in the BU
    bulk: bool  # more than one BID option
    overwrite: bool  # O flag as the dialect places it (option in draft05, header in rfc5648)
    deregistration: bool  # lifetime 0
    legacy_receiver: bool  # a BID BU answered by a BA without any BID option (I-10)
    confirmed: bool
    results: tuple[BidResult, ...]
    dialect: str  # "rfc5648" | "draft05"
    interpretations: tuple[str, ...] = ()  # I-n applied, e.g. ("I-7",)


# --------------------------------------------------------------------------- bindings


@dataclass(frozen=True, slots=True)
class BindingStarted:
    """A node started holding a binding (HoA, BID) -> CoA."""

    time: float
    frame: int
    key: BindingKey
    role: str
    coa: str
    lifetime: int | None  # granted (or requested: unconfirmed / no A flag), s; None: draft home
    expires: float | None  # None: no expiry (draft home binding, I-13)
    home: bool  # home binding (H), CoA = HoA
    confirmed: bool
    pre_existing: bool  # first seen as a refresh of a binding older than the capture
    claimed_coa: str | None = None  # IPv4 CoA written in the option when NAT made it differ (I-22)
    # why the engine read it so: the draft/RFC rule and the I-n applied (``mcoaviz explain``)
    why: str = ""
    # a Length-4 (no CoA) registration of a BID the capture never saw, read as a first registration
    # because the capture shows it being prepared: that evidence (frames); "" otherwise (issue 11.4)
    first_registration: str = ""


@dataclass(frozen=True, slots=True)
class BindingRefreshed:
    """An accepted BU for the same CoA extended the binding."""

    time: float
    frame: int
    key: BindingKey
    coa: str
    lifetime: int | None
    expires: float | None
    confirmed: bool
    why: str = ""


@dataclass(frozen=True, slots=True)
class BindingEnded:
    """Base of the four ways a binding ends; ``reason`` is the export's ``end_reason``."""

    REASON: ClassVar[str] = ""

    time: float
    frame: int | None
    key: BindingKey
    coa: str
    start: float
    why: str = ""

    @property
    def reason(self) -> str:
        return self.REASON


@dataclass(frozen=True, slots=True)
class BindingReplaced(BindingEnded):
    """A new CoA was registered under the same BID (or a regular BU replaced a regular one)."""

    REASON: ClassVar[str] = "replaced"


@dataclass(frozen=True, slots=True)
class BindingOverwritten(BindingEnded):
    """Removed by a regular BU (§6.3) or an O-flag BU before its own bindings were registered."""

    REASON: ClassVar[str] = "overwritten"


@dataclass(frozen=True, slots=True)
class BindingDeregistered(BindingEnded):
    """Lifetime-0 BU for this BID (or a full de-registration)."""

    REASON: ClassVar[str] = "deregistered"


@dataclass(frozen=True, slots=True)
class BindingExpired(BindingEnded):
    """Last acceptance + granted lifetime passed without a refresh."""

    REASON: ClassVar[str] = "expired"


@dataclass(frozen=True, slots=True)
class BindingRejected:
    """A BID (or regular) registration the node refused (effective status >= 128)."""

    time: float
    frame: int
    key: BindingKey
    coa: str | None
    status: int
    bu_frame: int
    why: str = ""


@dataclass(frozen=True, slots=True)
class HomeNdOwner:
    """Who owns Neighbour Discovery for the HoA on the home link after an H-flag home binding
    (draft §5.6.3, RFC §5.6.4): "mobile-node" after status 0, "home-agent" after RETURNHOME
    WO/NDP (5) (interpretation I-18: status from the BA or the BID option), "home-agent" again
    when the home binding ends."""

    time: float
    frame: int | None
    key: BindingKey
    owner: str  # "mobile-node" | "home-agent"
    status: int | None


# --------------------------------------------------------------------------- binding update list


@dataclass(frozen=True, slots=True)
class BulEntryChanged:
    """A mobile node's binding update list entry changed.

    ``change``: "sent" (BU sent, new entry or new CoA), "refreshed" (BU sent for the same CoA),
    "acknowledged" (accepting BA), "rejected" (effective status >= 128; the entry ends),
    "ended" (see ``end_reason``).
    """

    time: float
    frame: int | None
    key: BulKey
    change: str
    coa: str | None
    seq: int | None
    lifetime: int | None
    status: int | None = None
    end_reason: str | None = None


# --------------------------------------------------------------------------- other signalling


@dataclass(frozen=True, slots=True)
class BrrSeen:
    """A Binding Refresh Request from ``key.peer`` to the MN ``key.hoa``, with its BIDs."""

    time: float
    frame: int
    key: PeerKey
    bids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CareOfTestSeen:
    """CoTI (MN -> CN, from the CoA) or CoT (CN -> MN, to the CoA), with or without BID.

    ``bids`` holds (bid, status, flags letters) per BID option; ``answers`` is the CoTI frame a
    CoT answers (matched on CoA, peer and cookie), or None.
    """

    time: float
    frame: int
    key: TestKey
    kind: str  # "CoTI" | "CoT"
    bids: tuple[tuple[int, int, tuple[str, ...]], ...]
    answers: int | None = None

    @property
    def has_bid(self) -> bool:
        return bool(self.bids)


@dataclass(frozen=True, slots=True)
class DataWithoutBinding:
    """Data attributed to a mobile node while the receiving node held no binding for that CoA.

    ``reason``: "unregistered-coa" (the node has bindings for the HoA, none with this CoA) or
    "no-binding" (the node holds no binding for the HoA at all, e.g. after expiry).
    ``frame`` is None when the packets were counted by the fast path (``packets`` > 1).
    """

    time: float
    frame: int | None
    key: PeerKey  # (hoa, node)
    coa: str
    via: str
    direction: str  # "from-mn" | "to-mn"
    packets: int
    reason: str


@dataclass(frozen=True, slots=True)
class DataWithoutBindingEnded:
    """The end of the run a ``DataWithoutBinding`` started (the same key, CoA, via and
    direction): emitted when that data is flagged again after a binding change, and at the end
    of the capture. ``time``/``frame`` are the run's last packet (frame None: fast path),
    ``first_time``/``first_frame`` its first, ``packets`` the whole run."""

    time: float
    frame: int | None
    key: PeerKey  # (hoa, node)
    coa: str
    via: str
    direction: str
    packets: int
    first_time: float
    first_frame: int | None


@dataclass(frozen=True, slots=True)
class DialectNote:
    """An interpretation the engine applied where the dialects differ or the text is silent
    (``interpretation`` is the I-n of draft05-vs-rfc5648.md §5)."""

    time: float
    frame: int | None
    key: BindingKey | BulKey | PeerKey | ExchangeKey | None
    interpretation: str
    note: str


Event = (
    MessageSeen | DuplicateSighting | RetransmissionSeen | UnansweredBU | UnmatchedBA
    | BindingUpdateProcessed | BindingStarted | BindingRefreshed | BindingEnded | BindingRejected
    | HomeNdOwner | BulEntryChanged | BrrSeen | CareOfTestSeen | DataWithoutBinding
    | DataWithoutBindingEnded | DialectNote
)

# every class of event the engine makes (a BindingEnded is one of its subclasses or itself)
EVENT_CLASSES: tuple[type, ...] = (*Event.__args__, BindingReplaced, BindingOverwritten,
                                   BindingDeregistered, BindingExpired)

BINDING_END_REASONS: tuple[str, ...] = ("expired", "deregistered", "replaced", "overwritten")

# every event class (and TestKey) is built many times per message: the quicker __init__
for _cls in (TestKey, BidResult, *(c for c in Event.__args__ if c is not BindingEnded),
             BindingEnded, BindingReplaced, BindingOverwritten, BindingDeregistered, BindingExpired):
    quick_init(_cls)
