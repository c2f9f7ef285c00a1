"""Field-by-field comparison of one Mobility Header message: mcoaviz's record against Wireshark's
``mip6.*`` fields (tshark 4.0 abbreviations, protocol-facts.md §5.1).

Pure functions: the fields come in as ``{abbreviation: [values in packet order]}``, as
``mcoaviz.wireshark`` reads them through pyshark. A ``Difference`` whose ``known`` is set is one
of the Wireshark limitations documented in protocol-facts.md §5 (named there); any other is a
disagreement someone should look at.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from dissector.codepoints import Dialect
from dissector.records import (
    AlternateCoA,
    BindingAck,
    BindingError,
    BindingIdentifier,
    BindingRefreshAdvice,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
    IPv4AddressAck,
    IPv4CareOfAddress,
    IPv4HomeAddress,
    MobileNetworkPrefix,
    MobilityMessage,
    NATDetection,
    NonceIndices,
)

Fields = dict[str, list[str]]

KNOWN_O_FLAG = ("Wireshark has no O flag: it names BU bit 0x0040 B, Bulk-Binding-Update "
                "(protocol-facts.md §5.1)")
KNOWN_BID_DRAFT = ("Wireshark reads the BID flags byte as RFC 5648 only (0x80 = H); draft-05 has "
                   "C 0x80, O 0x40, H 0x20, D 0x10 (protocol-facts.md §5.2)")
KNOWN_CHECKSUM = "Wireshark does not verify Mobility Header checksums (protocol-facts.md §5.1, mip6.csum)"
KNOWN_S_FLAG = "Wireshark has no field for the S flag (protocol-facts.md §5.1)"

BU_BITS = (("mip6.bu.a_flag", 0x8000, "A"), ("mip6.bu.h_flag", 0x4000, "H"), ("mip6.bu.l_flag", 0x2000, "L"),
           ("mip6.bu.k_flag", 0x1000, "K"), ("mip6.bu.m_flag", 0x0800, "M"),
           ("mip6.nemo.bu.r_flag", 0x0400, "R"), ("mip6.bu.p_flag", 0x0200, "P"),
           ("mip6.bu.f_flag", 0x0100, "F"), ("mip6.bu.t_flag", 0x0080, "T"))
BA_BITS = (("mip6.ba.k_flag", 0x80, "K"), ("mip6.nemo.ba.r_flag", 0x40, "R"), ("mip6.ba.p_flag", 0x20, "P"),
           ("mip6.ba.t_flag", 0x10, "T"), ("mip6.ba.b_flag", 0x08, "B"))


@dataclass(frozen=True, slots=True)
class Difference:
    field: str  # Wireshark's field abbreviation, or a description when it has none
    ours: str
    theirs: str
    known: str | None = None  # the documented Wireshark limitation, or None

    def describe(self) -> str:
        text = f"{self.field}: mcoaviz {self.ours}, Wireshark {self.theirs}"
        return f"{text} (known: {self.known})" if self.known else text


def _same(field: str, ours: str, theirs: str) -> bool:
    if ours == theirs:
        return True
    if field.endswith((".haddr", ".acoa", ".mnp", ".coa_ipv6", ".coa_ipv4", ".ha", ".addr")):
        try:
            return ipaddress.ip_address(ours) == ipaddress.ip_address(theirs)
        except ValueError:
            return False
    if field.endswith((".cookie", ".token")):
        return ours.replace(":", "").lower() == theirs.removeprefix("0x").replace(":", "").lower()
    return False


class _Comparison:
    def __init__(self, theirs: Fields, cut_short: bool) -> None:
        self.theirs = theirs
        self.cut_short = cut_short  # Wireshark stopped at an exception: missing fields are not news
        self.found: list[Difference] = []

    def values(self, field: str, ours: list[str]) -> None:
        """Compare a (possibly repeated) field, in packet order."""
        theirs = self.theirs.get(field, [])
        if self.cut_short and len(theirs) < len(ours):
            ours = ours[: len(theirs)]
        if len(ours) == len(theirs) and all(_same(field, a, b) for a, b in zip(ours, theirs, strict=True)):
            return
        self.found.append(Difference(field, ", ".join(ours) or "(none)", ", ".join(theirs) or "(none)"))

    def one(self, field: str, ours: object) -> None:
        self.values(field, [str(ours)])

    def note(self, field: str, ours: str, theirs: str, known: str) -> None:
        self.found.append(Difference(field, ours, theirs, known))


def _hex(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


def compare_message(message: MobilityMessage, theirs: Fields, dialect: Dialect,
                    cut_short: bool = False) -> list[Difference]:
    """Every field where Wireshark decodes ``message`` differently. ``cut_short``: Wireshark
    reported the packet malformed, so its fields may end early."""
    if not theirs.get("mip6.mhtype"):
        return [Difference("mip6.mhtype", str(message.mh_type), "no Mobility Header decoded")]
    c = _Comparison(theirs, cut_short)
    c.one("mip6.mhtype", message.mh_type)
    c.one("mip6.proto", message.payload_proto)
    c.one("mip6.hlen", message.header_len // 8 - 1)
    c.one("mip6.csum", f"0x{message.checksum:04x}")
    if message.checksum_ok is False:
        c.note("checksum status", "incorrect", "not verified", KNOWN_CHECKSUM)
    _compare_body(c, message, dialect)
    _compare_options(c, message, dialect)
    return c.found


def _compare_body(c: _Comparison, message: MobilityMessage, dialect: Dialect) -> None:
    body = message.body
    if isinstance(body, BindingUpdate):
        c.one("mip6.bu.seqnr", body.seq)
        c.one("mip6.bu.lifetime", body.lifetime // 4)
        for field, mask, _ in BU_BITS:
            c.one(field, int(bool(body.flags_word & mask)))
        bit = int(bool(body.flags_word & 0x0040))
        c.one("mip6.bu.b_flag", bit)
        if bit and "B" not in body.flags:
            ours = "O (Overwrite, RFC 5648 §4.2)" if "O" in body.flags else "reserved bit (draft-05)"
            c.note("BU flag 0x0040", ours, "B (Bulk-Binding-Update)", KNOWN_O_FLAG)
        if body.flags_word & 0x0020:
            c.note("BU flag 0x0020", "S", "(no field)", KNOWN_S_FLAG)
    elif isinstance(body, BindingAck):
        c.one("mip6.ba.status", body.status)
        c.one("mip6.ba.seqnr", body.seq)
        c.one("mip6.ba.lifetime", body.lifetime // 4)
        for field, mask, _ in BA_BITS:
            c.one(field, int(bool(body.flags_byte & mask)))
        if body.flags_byte & 0x04:
            c.note("BA flag 0x04", "S", "(no field)", KNOWN_S_FLAG)
    elif isinstance(body, BindingError):
        c.one("mip6.be.status", body.status)
        c.one("mip6.be.haddr", body.home_address)
    elif isinstance(body, HomeTestInit):
        c.one("mip6.hoti.cookie", _hex(body.cookie))
    elif isinstance(body, CareOfTestInit):
        c.one("mip6.coti.cookie", _hex(body.cookie))
    elif isinstance(body, HomeTest | CareOfTest):
        prefix = "mip6.hot" if isinstance(body, HomeTest) else "mip6.cot"
        c.one(f"{prefix}.nindex", body.nonce_index)
        c.one(f"{prefix}.cookie", _hex(body.cookie))
        c.one("mip6.hot.token", _hex(body.keygen_token))  # Wireshark files the CoT token there too (§5.1)


def _compare_options(c: _Comparison, message: MobilityMessage, dialect: Dialect) -> None:
    bids = [o for o in message.options if isinstance(o, BindingIdentifier) and o.type == 35]
    c.values("mip6.bi.bid", [str(o.bid) for o in bids])
    c.values("mip6.bi.status", [str(o.status) for o in bids])
    # Wireshark shows a CoA only for Length 8 / 20 (§5.2), so these lists align by Length.
    c.values("mip6.bi.coa_ipv4", [o.coa for o in bids if o.length == 8 and o.coa])
    c.values("mip6.bi.coa_ipv6", [o.coa for o in bids if o.length == 20 and o.coa])
    raw_h = [str(int(bool(o.flags_byte & 0x80))) for o in bids]
    c.values("mip6.bi.h_flag", raw_h)  # the same bit on both sides; its meaning is compared below
    if dialect is Dialect.DRAFT05:
        for o, shown in zip(bids, c.theirs.get("mip6.bi.h_flag", []), strict=False):
            if int(o.home_flag) != int(shown == "1"):
                c.note(f"BID {o.bid} H flag", f"H={int(o.home_flag)} (0x20), C={int(o.coa_flag)} (0x80)",
                       f"H={shown} (0x80)", KNOWN_BID_DRAFT)
    kinds = message.options
    c.values("mip6.bra.interval", [str(o.interval // 4) for o in kinds
                                   if isinstance(o, BindingRefreshAdvice)])
    c.values("mip6.acoa.acoa", [o.address for o in kinds if isinstance(o, AlternateCoA)])
    c.values("mip6.ni.hni", [str(o.home_nonce_index) for o in kinds if isinstance(o, NonceIndices)])
    c.values("mip6.ni.cni", [str(o.careof_nonce_index) for o in kinds if isinstance(o, NonceIndices)])
    c.values("mip6.nemo.mnp.pfl", [str(o.prefix_length) for o in kinds if isinstance(o, MobileNetworkPrefix)])
    c.values("mip6.nemo.mnp.mnp", [o.prefix for o in kinds if isinstance(o, MobileNetworkPrefix)])
    # The IPv4 Address Acknowledgement reuses the IPv4 Home Address fields (§5.1).
    ipv4 = [o for o in kinds if isinstance(o, IPv4HomeAddress | IPv4AddressAck)]
    c.values("mip6.ipv4ha.preflen", [str(o.prefix_length) for o in ipv4])
    c.values("mip6.ipv4ha.ha", [o.address for o in ipv4])
    c.values("mip6.ipv4ha.p_flag", [str(int(o.p_flag)) for o in ipv4 if isinstance(o, IPv4HomeAddress)])
    c.values("mip6.ipv4aa.sts", [str(o.status) for o in kinds if isinstance(o, IPv4AddressAck)])
    c.values("mip6.natd.f_flag", [str(int(o.f_flag)) for o in kinds if isinstance(o, NATDetection)])
    c.values("mip6.natd.refresh_t", [str(o.refresh_time) for o in kinds if isinstance(o, NATDetection)])
    c.values("mip6.ipv4coa.addr", [o.address for o in kinds if isinstance(o, IPv4CareOfAddress)])
