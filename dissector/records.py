"""Typed records the dissector hands upward. Frozen, slotted, wire-only.

Addresses are text (``socket.inet_ntop`` form) so records compare and serialise cleanly.
Lifetimes and intervals are in seconds (the wire carries 4-second units). Frame numbers are
1-based. Nothing here knows about bindings or state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dissector.codepoints import (
    BID_FLAGS_DRAFT05,
    BID_FLAGS_RFC5648,
    BID_RESERVED_MASK,
    Dialect,
    flag_letters,
)

# --------------------------------------------------------------------------- capture layer


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame as read from pcap/pcapng, before any decoding."""

    number: int  # 1-based, like Wireshark
    time: float  # seconds since the epoch, as in the capture
    interface: int  # pcapng interface id (0 for pcap)
    linktype: int
    data: bytes
    wire_length: int  # original length on the wire (>= len(data) when snapped)


@dataclass(frozen=True, slots=True)
class Interface:
    """A capture interface (pcapng IDB, or the single pcap 'interface')."""

    id: int
    linktype: int
    name: str | None = None
    description: str | None = None
    ts_resolution: float = 1e-6  # seconds per timestamp unit


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong on the wire: which layer, at which byte offset of the frame, and why."""

    layer: str  # "pcapng", "ethernet", "ipv6", "mobility", "option:35", ...
    offset: int  # byte offset from the start of the frame (or file, for capture-level problems)
    reason: str
    severity: str = "error"  # "error" (malformed) | "warning" (suspicious but decodable)


# --------------------------------------------------------------------------- mobility options


@dataclass(frozen=True, slots=True)
class Pad1:
    offset: int  # from the start of the Mobility Header
    type: int = 0


@dataclass(frozen=True, slots=True)
class PadN:
    offset: int
    length: int
    nonzero_padding: bool = False
    type: int = 1


@dataclass(frozen=True, slots=True)
class BindingRefreshAdvice:
    offset: int
    interval: int  # seconds
    type: int = 2


@dataclass(frozen=True, slots=True)
class AlternateCoA:
    offset: int
    address: str
    type: int = 3


@dataclass(frozen=True, slots=True)
class NonceIndices:
    offset: int
    home_nonce_index: int
    careof_nonce_index: int
    type: int = 4


@dataclass(frozen=True, slots=True)
class BindingAuthData:
    offset: int
    authenticator: bytes
    type: int = 5


@dataclass(frozen=True, slots=True)
class MobileNetworkPrefix:
    offset: int
    prefix_length: int
    prefix: str
    type: int = 6


@dataclass(frozen=True, slots=True)
class LinkLayerAddress:
    offset: int
    option_code: int
    address: bytes
    type: int = 7


@dataclass(frozen=True, slots=True)
class IPv4HomeAddress:
    offset: int
    prefix_length: int
    p_flag: bool
    address: str
    type: int = 29


@dataclass(frozen=True, slots=True)
class IPv4AddressAck:
    offset: int
    status: int
    prefix_length: int
    address: str
    type: int = 30


@dataclass(frozen=True, slots=True)
class NATDetection:
    offset: int
    f_flag: bool
    refresh_time: int  # seconds
    type: int = 31


@dataclass(frozen=True, slots=True)
class IPv4CareOfAddress:
    offset: int
    address: str
    type: int = 32


@dataclass(frozen=True, slots=True)
class BindingIdentifier:
    """Binding Identifier option, both dialects (draft05-vs-rfc5648.md §1.1).

    The raw flags byte is kept; its meaning depends on ``dialect``, which the decoder sets and
    the pipeline may later change with ``dataclasses.replace`` once auto-detection decides.
    The CoA is present by Length in both dialects (8 = IPv4, 20 = IPv6).
    """

    offset: int
    length: int
    bid: int
    status: int
    flags_byte: int
    coa: str | None
    dialect: Dialect
    type: int = 35

    @property
    def flags(self) -> tuple[str, ...]:
        table = BID_FLAGS_DRAFT05 if self.dialect is Dialect.DRAFT05 else BID_FLAGS_RFC5648
        return flag_letters(self.flags_byte, table)

    @property
    def reserved_bits(self) -> int:
        return self.flags_byte & BID_RESERVED_MASK[self.dialect]

    @property
    def home_flag(self) -> bool:
        """H: simultaneous home and foreign binding (0x80 in RFC 5648, 0x20 in draft-05)."""
        return bool(self.flags_byte & (0x20 if self.dialect is Dialect.DRAFT05 else 0x80))

    @property
    def overwrite_flag(self) -> bool:
        """Draft-05 O flag in the option (RFC 5648 carries O in the BU header instead)."""
        return self.dialect is Dialect.DRAFT05 and bool(self.flags_byte & 0x40)

    @property
    def coa_flag(self) -> bool:
        """Draft-05 C flag; in RFC 5648 'CoA present' is simply Length 8/20."""
        if self.dialect is Dialect.DRAFT05:
            return bool(self.flags_byte & 0x80)
        return self.coa is not None

    @property
    def ipv4_flag(self) -> bool:
        """Draft-05 D flag; in RFC 5648 'IPv4 CoA' is simply Length 8."""
        if self.dialect is Dialect.DRAFT05:
            return bool(self.flags_byte & 0x10)
        return self.length == 8


@dataclass(frozen=True, slots=True)
class UnknownOption:
    offset: int
    type: int
    data: bytes


MobilityOption = (
    Pad1 | PadN | BindingRefreshAdvice | AlternateCoA | NonceIndices | BindingAuthData
    | MobileNetworkPrefix | LinkLayerAddress | IPv4HomeAddress | IPv4AddressAck | NATDetection
    | IPv4CareOfAddress | BindingIdentifier | UnknownOption
)

# --------------------------------------------------------------------------- mobility messages


@dataclass(frozen=True, slots=True)
class BindingRefreshRequest:
    pass


@dataclass(frozen=True, slots=True)
class HomeTestInit:
    cookie: bytes


@dataclass(frozen=True, slots=True)
class CareOfTestInit:
    cookie: bytes


@dataclass(frozen=True, slots=True)
class HomeTest:
    nonce_index: int
    cookie: bytes
    keygen_token: bytes


@dataclass(frozen=True, slots=True)
class CareOfTest:
    nonce_index: int
    cookie: bytes
    keygen_token: bytes


@dataclass(frozen=True, slots=True)
class BindingUpdate:
    seq: int
    flags_word: int
    lifetime: int  # seconds
    flags: tuple[str, ...]  # header flag letters in wire order, e.g. ("A", "H", "K", "O")


@dataclass(frozen=True, slots=True)
class BindingAck:
    status: int
    flags_byte: int
    seq: int
    lifetime: int  # seconds
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BindingError:
    status: int
    home_address: str


@dataclass(frozen=True, slots=True)
class RawMessage:
    """MH types 8-23 and unknown types: named, kept raw."""

    data: bytes


MessageBody = (
    BindingRefreshRequest | HomeTestInit | CareOfTestInit | HomeTest | CareOfTest | BindingUpdate
    | BindingAck | BindingError | RawMessage
)


@dataclass(frozen=True, slots=True)
class MobilityMessage:
    """A decoded Mobility Header (RFC 6275 §6.1)."""

    offset: int  # byte offset of the MH in the frame
    mh_type: int
    type_name: str  # "BU", "BA", ... or the IANA name
    payload_proto: int
    header_len: int  # total length in bytes, (Header Len + 1) * 8
    checksum: int
    checksum_ok: bool | None  # None when it could not be verified (e.g. truncated)
    body: MessageBody | None  # None when the fixed part could not be read
    options: tuple[MobilityOption, ...] = ()
    # the Binding Identifier options, picked out once: rules and the engine ask for them often
    # (~27 times per message), so a plain slot, not a property (3.11 does not specialise a
    # property read: each is a Python call)
    bids: tuple[BindingIdentifier, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bids = [o for o in self.options if isinstance(o, BindingIdentifier)]
        object.__setattr__(self, "bids", tuple(bids))


# --------------------------------------------------------------------------- other payloads


@dataclass(frozen=True, slots=True)
class Icmp6Message:
    """ICMPv6 messages mcoaviz cares about: ND (133-137), MPS/MPA (146/147), HAAD (144/145)."""

    type: int
    code: int
    target: str | None = None  # NS/NA target address
    flags: tuple[str, ...] = ()  # NA R/S/O, RA M/O/H
    source_lla: bytes | None = None
    target_lla: bytes | None = None
    prefixes: tuple[str, ...] = ()  # RA / MPA prefixes ("2001:db8::/64")
    addresses: tuple[str, ...] = ()  # HAAD reply home agent addresses
    identifier: int | None = None  # MPS/MPA and HAAD: pairs a reply with its request (6275 §6.5-6.8)


@dataclass(frozen=True, slots=True)
class EspInfo:
    spi: int
    sequence: int
    null_decoded: bool  # the inside was plainly ESP-NULL and was decoded


@dataclass(frozen=True, slots=True)
class IkeHeader:
    """The fixed IKE header (RFC 7296 §3.1) of a UDP 500 / 4500 datagram; payloads stay unread."""

    initiator_spi: int
    responder_spi: int  # 0 in the first IKE_SA_INIT request
    next_payload: int
    major_version: int  # 2 for IKEv2
    minor_version: int
    exchange_type: int  # 34 IKE_SA_INIT, 35 IKE_AUTH, 36 CREATE_CHILD_SA, 37 INFORMATIONAL
    flags_byte: int
    message_id: int
    length: int  # of the whole IKE message, header included

    @property
    def initiator(self) -> bool:
        """I flag: sent by the original initiator of the IKE SA."""
        return bool(self.flags_byte & 0x08)

    @property
    def response(self) -> bool:
        """R flag: a response."""
        return bool(self.flags_byte & 0x20)


# --------------------------------------------------------------------------- the packet


@dataclass(frozen=True, slots=True)
class PacketPath:
    """Addressing of the packet, outermost to innermost.

    ``src``/``dst`` belong to the IPv6 (or IPv4) header that carries the payload of interest
    (the inner one when tunnelled or UDP-encapsulated); ``outer_*`` to the outermost IP header
    when there is a tunnel, else None.
    """

    src: str | None
    dst: str | None
    outer_src: str | None = None
    outer_dst: str | None = None
    tunnel: str | None = None  # "ip6ip6" | "ip4ip6" | "ip6ip4" | "udp" (DSMIPv6) | None
    udp_sport: int | None = None  # of the DSMIPv6 encapsulation
    udp_dport: int | None = None
    home_address_option: str | None = None  # HAO (dest opt 201)
    routing_type2: str | None = None  # type 2 routing header address
    mac_src: bytes | None = None
    mac_dst: bytes | None = None
    vlans: tuple[int, ...] = ()
    protocol: int | None = None  # final next header / IPv4 protocol


@dataclass(frozen=True, slots=True)
class Packet:
    """A fully decoded frame: the slow path, for signalling and anything unusual."""

    frame: int
    time: float
    interface: int
    wire_length: int
    path: PacketPath
    mobility: MobilityMessage | None = None
    icmp6: Icmp6Message | None = None
    esp: EspInfo | None = None
    fragment: bool = False  # an unreassembled fragment
    problems: tuple[Problem, ...] = field(default=())
    ike: IkeHeader | None = None  # IKE header on UDP 500 / 4500 (draft §9.1)

    @property
    def malformed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


# --------------------------------------------------------------------------- bulk data (fast path)


@dataclass(frozen=True, slots=True)
class TrafficCount:
    """Data packets aggregated by the fast path: one row per addressing key and second.

    The pipeline guarantees that no signalling record lies between ``first`` and ``last``, so
    the engine can attribute a whole row to the binding state in force at that moment.
    ``via`` is how the packet travelled: "tunnel" (IPv6/IPv4 in IPv6, or IPv6 in IPv4),
    "udp" (DSMIPv6 UDP encapsulation), "route-optimised" (HAO or type 2 routing header),
    or "plain" (none of these).
    """

    interface: int
    second: int  # int(time)
    via: str
    outer_src: str | None
    outer_dst: str | None
    src: str | None  # inner source (the only source when not tunnelled)
    dst: str | None
    home_address_option: str | None
    routing_type2: str | None
    packets: int
    bytes: int  # wire bytes (frame length)
    first: float
    last: float


# --------------------------------------------------------------------------- fast constructors

_T = TypeVar("_T")


def maker(cls: type[_T], post_init: bool = True) -> Callable[..., _T]:
    """A constructor equal to ``cls(...)`` (same parameters, defaults and ``__post_init__``) for a
    frozen slotted dataclass, about twice as fast: each slot is set through its own descriptor
    instead of ``object.__setattr__`` by name. The decoder makes some 20 records per signalling
    message (dissector/decode.py); the classes themselves stay ordinary dataclasses.
    ``post_init=False``: without ``__post_init__``, for a caller that sets what it derives itself."""
    params = [f for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    names: dict[str, Any] = {"_new_": object.__new__, "_cls_": cls}
    args, body = [], ["    o = _new_(_cls_)"]
    for f in params:
        names[f"_s_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            names[f"_d_{f.name}"] = f.default
            args.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_f_{f.name}"] = f.default_factory
            args.append(f"{f.name}=_d_missing_")
            names["_d_missing_"] = _MISSING
            body.append(f"    if {f.name} is _d_missing_: {f.name} = _f_{f.name}()")
        else:
            args.append(f.name)
        body.append(f"    _s_{f.name}(o, {f.name})")
    if post_init and hasattr(cls, "__post_init__"):
        body.append("    o.__post_init__()")
    body.append("    return o")
    source = f"def make({', '.join(args)}):\n" + "\n".join(body) + "\n"
    exec(source, names)  # noqa: S102 - our own field names, as dataclasses itself does
    make: Callable[..., _T] = names["make"]
    make.__qualname__ = make.__name__ = f"make_{cls.__name__}"
    return make


_MISSING = object()
