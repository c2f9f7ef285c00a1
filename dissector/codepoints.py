"""Every wire codepoint mcoaviz knows, as IntEnums plus name tables.

Sources: ../shared/spec/protocol-facts.md (IANA registry snapshot, RFC 6275/5648/5555/3963).
Nothing above the dissector should need a raw number: it uses these names.
The draft-05 dialect has no numbers of its own ("TBD"); we use the values IANA later
assigned (draft05-vs-rfc5648.md, interpretation I-2) and show both names.
"""

from __future__ import annotations

import functools
from enum import Enum, IntEnum


class Dialect(str, Enum):  # noqa: UP042 - StrEnum would change str(); kept as designed
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


@functools.lru_cache(maxsize=4096)
def flag_letters(value: int, table: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """Letters of the set flags, in the table's (wire) order (memoised: a few values per table
    recur in every message)."""
    return tuple(letter for letter, mask in table if value & mask)


# IANA "Mobility Options" (mobility-parameters-2), 2016-05-31 snapshot (protocol-facts.md §2.8).
OPTION_NAMES: dict[int, str] = {
    0: 'Pad1',
    1: 'PadN',
    2: 'Binding Refresh Advice',
    3: 'Alternate Care-of Address',
    4: 'Nonce Indices',
    5: 'Binding Authorization Data',
    6: 'Mobile Network Prefix',
    7: 'Mobility Header Link-Layer Address',
    8: 'MN-ID-OPTION-TYPE',
    9: 'AUTH-OPTION-TYPE',
    10: 'MESG-ID-OPTION-TYPE',
    11: 'CGA Parameters Request',
    12: 'CGA Parameters',
    13: 'Signature',
    14: 'Permanent Home Keygen Token',
    15: 'Care-of Test Init',
    16: 'Care-of Test',
    17: 'DNS-UPDATE-TYPE',
    18: 'Experimental Mobility Option',
    19: 'Vendor Specific Mobility Option',
    20: 'Service Selection Mobility Option',
    21: 'Binding Authorization Data for FMIPv6 (BADF)',
    22: 'Home Network Prefix Option',
    23: 'Handoff Indicator Option',
    24: 'Access Technology Type Option',
    25: 'Mobile Node Link-layer Identifier Option',
    26: 'Link-local Address Option',
    27: 'Timestamp Option',
    28: 'Restart Counter',
    29: 'IPv4 Home Address',
    30: 'IPv4 Address Acknowledgement',
    31: 'NAT Detection',
    32: 'IPv4 Care-of Address',
    33: 'GRE Key Option',
    34: 'Mobility Header IPv6 Address/Prefix',
    35: 'Binding Identifier',
    36: 'IPv4 Home Address Request',
    37: 'IPv4 Home Address Reply',
    38: 'IPv4 Default-Router Address',
    39: 'IPv4 DHCP Support Mode',
    40: 'Context Request Option',
    41: 'Local Mobility Anchor Address Option',
    42: 'Mobile Node Link-local Address Interface Identifier Option',
    43: 'Transient Binding',
    44: 'Flow Summary Mobility Option',
    45: 'Flow Identification Mobility Option',
    46: 'Redirect-Capability Mobility Option',
    47: 'Redirect Mobility Option',
    48: 'Load Information Mobility Option',
    49: 'Alternate IPv4 Care-of Address',
    50: 'Mobile Node Group Identifier',
    51: 'MAG IPv6 Address',
    52: 'Access Network Identifier',
    53: 'IPv4 Traffic Offload Selector',
    54: 'Dynamic IP Multicast Selector',
    55: 'Delegated Mobile Network Prefix',
    56: 'Active Multicast Subscription IPv4',
    57: 'Active Multicast Subscription IPv6',
    58: 'Quality-of-Service',
    59: 'LMA User-Plane Address',
    60: 'Multicast Mobility Option',
    61: 'Multicast Acknowledgement Option',
}


# IANA "Status Codes" for the BA (mobility-parameters-6), 2016-05-31 (protocol-facts.md §2.6, §1.3).
# These are the RFC 5648 names; DRAFT05_STATUS_NAMES gives the draft-05 names for 4, 5 and 164-168.
BA_STATUS_NAMES: dict[int, str] = {
    0: 'Binding Update accepted/Proxy Binding Update accepted',
    1: 'Accepted but prefix discovery necessary',
    2: 'GRE_KEY_OPTION_NOT_REQUIRED',
    3: 'GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED',
    4: 'MCOA NOTCOMPLETE',
    5: 'MCOA RETURNHOME WO/NDP',
    6: 'PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH',
    128: 'Reason unspecified',
    129: 'Administratively prohibited',
    130: 'Insufficient resources',
    131: 'Home registration not supported',
    132: 'Not home subnet',
    133: 'Not home agent for this mobile node',
    134: 'Duplicate Address Detection failed',
    135: 'Sequence number out of window',
    136: 'Expired home nonce index',
    137: 'Expired care-of nonce index',
    138: 'Expired nonces',
    139: 'Registration type change disallowed',
    140: 'Mobile Router Operation not permitted',
    141: 'Invalid Prefix',
    142: 'Not Authorized for Prefix',
    143: 'Forwarding Setup failed',
    144: 'MIPV6-ID-MISMATCH',
    145: 'MIPV6-MESG-ID-REQD',
    146: 'MIPV6-AUTH-FAIL',
    147: 'Permanent home keygen token unavailable',
    148: 'CGA and signature verification failed',
    149: 'Permanent home keygen token exists',
    150: 'Non-null home nonce index expected',
    151: 'SERVICE_AUTHORIZATION_FAILED',
    152: 'PROXY_REG_NOT_ENABLED',
    153: 'NOT_LMA_FOR_THIS_MOBILE_NODE',
    154: 'MAG_NOT_AUTHORIZED_FOR_PROXY_REG',
    155: 'NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX',
    156: 'TIMESTAMP_MISMATCH',
    157: 'TIMESTAMP_LOWER_THAN_PREV_ACCEPTED',
    158: 'MISSING_HOME_NETWORK_PREFIX_OPTION',
    159: 'BCE_PBU_PREFIX_SET_DO_NOT_MATCH',
    160: 'MISSING_MN_IDENTIFIER_OPTION',
    161: 'MISSING_HANDOFF_INDICATOR_OPTION',
    162: 'MISSING_ACCESS_TECH_TYPE_OPTION',
    163: 'GRE_KEY_OPTION_REQUIRED',
    164: 'MCOA MALFORMED',
    165: 'MCOA NON-MCOA BINDING EXISTS',
    166: 'MCOA PROHIBITED',
    167: 'MCOA UNKNOWN COA',
    168: 'MCOA BULK REGISTRATION PROHIBITED',
    169: 'MCOA SIMULTANEOUS HOME AND FOREIGN PROHIBITED',
    170: 'NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE',
    171: 'NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS',
    172: 'NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE',
    173: 'MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED',
    174: 'Invalid Care-of Address',
    175: 'INVALID_MOBILE_NODE_GROUP_IDENTIFIER',
    176: 'REINIT_SA_WITH_HAC',
    177: 'NOT_AUTHORIZED_FOR_DELEGATED_MNP',
    178: 'REQUESTED_DMNP_IN_USE',
    179: 'CANNOT_MEET_QOS_SERVICE_REQUEST',
}


# Binding Error status (RFC 6275 §6.1.9).
BE_STATUS_NAMES: dict[int, str] = {
    1: 'Unknown binding for Home Address destination option',
    2: 'Unrecognized MH Type value',
}


def option_name(kind: int, bid_type: int = DEFAULT_BID_OPTION_TYPE) -> str:
    """IANA name of a mobility option type; a configured pre-standard BID type is named as BID."""
    if kind == bid_type:
        return "Binding Identifier"
    return OPTION_NAMES.get(kind, f"Unknown option {kind}")


def ba_status_name(status: int, dialect: Dialect = Dialect.RFC5648) -> str:
    """BA (and BID) status name; the draft-05 dialect uses the draft's names where it has one."""
    if dialect is Dialect.DRAFT05 and status in DRAFT05_STATUS_NAMES:
        return DRAFT05_STATUS_NAMES[status]
    if status in BA_STATUS_NAMES:
        return BA_STATUS_NAMES[status]
    return f"{'Unassigned, accepted' if status < ACCEPTED_BELOW else 'Unassigned, rejected'} ({status})"
