"""Every wire codepoint mcoaviz knows, as IntEnums plus name tables.

Sources: ../shared/spec/protocol-facts.md (IANA registry snapshot, RFC 6275/5648/5555/3963).
Nothing above the dissector should need a raw number: it uses these names.
The draft-05 dialect has no numbers of its own ("TBD"); we use the values IANA later
assigned (draft05-vs-rfc5648.md, interpretation I-2) and show both names.
"""

from __future__ import annotations

from enum import Enum, IntEnum


class Dialect(str, Enum):
    """Which text a Binding Identifier option follows (draft05-vs-rfc5648.md §1.1)."""

    RFC5648 = "rfc5648"
    DRAFT05 = "draft05"


class MHType(IntEnum):
    BRR = 0
    HOTI = 1
    COTI = 2
    HOT = 3
    COT = 4
    BU = 5
    BA = 6
    BE = 7


# Short names used in records, JSON and the packet list ("type" field).
MH_SHORT_NAMES: dict[int, str] = {
    0: "BRR", 1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE",
}

# IANA "Mobility Header Types" (mobility-parameters-1), 2016-05-31 snapshot.
MH_TYPE_NAMES: dict[int, str] = {
    0: "Binding Refresh Request",
    1: "Home Test Init",
    2: "Care-of Test Init",
    3: "Home Test",
    4: "Care-of Test",
    5: "Binding Update",
    6: "Binding Acknowledgement",
    7: "Binding Error",
    8: "Fast Binding Update",
    9: "Fast Binding Acknowledgment",
    10: "Fast Neighbor Advertisement (Deprecated)",
    11: "Experimental Mobility Header",
    12: "Home Agent Switch Message",
    13: "Heartbeat Message",
    14: "Handover Initiate",
    15: "Handover Acknowledge",
    16: "Binding Revocation Message",
    17: "Localized Routing Initiation",
    18: "Localized Routing Acknowledgment",
    19: "Update Notification",
    20: "Update Notification Acknowledgement",
    21: "Flow Binding Message",
    22: "Subscription Query",
    23: "Subscription Response",
}


class OptionType(IntEnum):
    PAD1 = 0
    PADN = 1
    BINDING_REFRESH_ADVICE = 2
    ALTERNATE_COA = 3
    NONCE_INDICES = 4
    BINDING_AUTH_DATA = 5
    MOBILE_NETWORK_PREFIX = 6
    LINK_LAYER_ADDRESS = 7
    IPV4_HOME_ADDRESS = 29
    IPV4_ADDRESS_ACK = 30
    NAT_DETECTION = 31
    IPV4_COA = 32
    BINDING_IDENTIFIER = 35


DEFAULT_BID_OPTION_TYPE = 35


class BAStatus(IntEnum):
    """BA status values used by MCoA processing (full names in BA_STATUS_NAMES)."""

    ACCEPTED = 0
    ACCEPTED_PREFIX_DISCOVERY = 1
    MCOA_NOTCOMPLETE = 4
    MCOA_RETURNHOME_WO_NDP = 5
    REASON_UNSPECIFIED = 128
    ADMIN_PROHIBITED = 129
    NOT_HOME_AGENT = 133
    SEQUENCE_OUT_OF_WINDOW = 135
    MCOA_MALFORMED = 164
    MCOA_NON_MCOA_BINDING_EXISTS = 165  # draft-05: MCOA BID CONFLICT (different processing)
    MCOA_PROHIBITED = 166
    MCOA_UNKNOWN_COA = 167
    MCOA_BULK_REGISTRATION_PROHIBITED = 168
    MCOA_SIMULTANEOUS_HOME_FOREIGN_PROHIBITED = 169


# Draft-05 status names mapped to the RFC 5648 numbers we decode them as (I-2).
DRAFT05_STATUS_NAMES: dict[int, str] = {
    4: "MCOA NOTCOMPLETE",
    5: "MCOA RETURNHOME WO/NDP",
    164: "MCOA MALFORMED",
    165: "MCOA BID CONFLICT",
    166: "MCOA PROHIBITED",
    168: "MCOA BULK REGISTRATION NOT SUPPORTED",
}

ACCEPTED_BELOW = 128  # status < 128 means accepted (RFC 6275 §6.1.8)

# BU header flags (16-bit word at MH offset 8). 0x0040 is O in RFC 5648 when P=0 (B when P=1).
BU_FLAGS: tuple[tuple[str, int], ...] = (
    ("A", 0x8000), ("H", 0x4000), ("L", 0x2000), ("K", 0x1000), ("M", 0x0800),
    ("R", 0x0400), ("P", 0x0200), ("F", 0x0100), ("T", 0x0080), ("O", 0x0040), ("S", 0x0020),
)
BU_FLAG_O = 0x0040
BU_FLAG_P = 0x0200

# BA flags (byte at MH offset 7).
BA_FLAGS: tuple[tuple[str, int], ...] = (
    ("K", 0x80), ("R", 0x40), ("P", 0x20), ("T", 0x10), ("B", 0x08), ("S", 0x04),
)

# Binding Identifier option flags byte (option offset 5), per dialect.
BID_FLAGS_RFC5648: tuple[tuple[str, int], ...] = (("H", 0x80),)
BID_FLAGS_DRAFT05: tuple[tuple[str, int], ...] = (("C", 0x80), ("O", 0x40), ("H", 0x20), ("D", 0x10))
BID_RESERVED_MASK = {Dialect.RFC5648: 0x7F, Dialect.DRAFT05: 0x0F}


class NextHeader(IntEnum):
    HOP_BY_HOP = 0
    IPV4 = 4
    TCP = 6
    UDP = 17
    IPV6 = 41
    ROUTING = 43
    FRAGMENT = 44
    ESP = 50
    AH = 51
    ICMPV6 = 58
    NO_NEXT = 59
    DEST_OPTS = 60
    MOBILITY_OLD = 62
    MOBILITY = 135


MOBILITY_NEXT_HEADERS = frozenset({NextHeader.MOBILITY, NextHeader.MOBILITY_OLD})
HOME_ADDRESS_OPTION = 0xC9
DSMIPV6_UDP_PORT = 4191


class LinkType(IntEnum):
    NULL = 0  # BSD loopback
    ETHERNET = 1
    RAW = 101
    LOOP = 108  # OpenBSD loopback
    LINUX_SLL = 113
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


def flag_letters(value: int, table: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """Letters of the set flags, in the table's (wire) order."""
    return tuple(letter for letter, mask in table if value & mask)
