"""tshark's reading of every captured Mobility Header message equals what the simulator meant
to send (type, Header Len, sequence number, flags, lifetime, status, BIDs, BID statuses, CoAs),
and no frame of any scenario is malformed for tshark.

The expectations come from the simulator's intent (the message records it asked for) and the
RFC texts, never from the encoder's bytes: the MH Type from the message kind (RFC 6275 §6.1),
the Header Len from the fixed part and option sizes and alignments of protocol-facts.md."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dissector.codepoints import Dialect
from dissector.records import (
    BindingAck,
    BindingAuthData,
    BindingIdentifier,
    BindingRefreshAdvice,
    BindingUpdate,
    IPv4AddressAck,
    IPv4HomeAddress,
    LinkLayerAddress,
    MobileNetworkPrefix,
    MobilityOption,
    NATDetection,
    NonceIndices,
)
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.samples import sample_files
from mcoaviz.simulate.scenarios import run
from tests.conftest import require_tool

FIELDS = [
    "frame.number",
    "frame.protocols",
    "mip6.mhtype",
    "mip6.hlen",
    "mip6.bu.seqnr",
    "mip6.bu.a_flag",
    "mip6.bu.h_flag",
    "mip6.bu.l_flag",
    "mip6.bu.k_flag",
    "mip6.bu.m_flag",
    "mip6.bu.p_flag",
    "mip6.bu.f_flag",
    "mip6.bu.t_flag",
    "mip6.nemo.bu.r_flag",
    "mip6.bu.b_flag",
    "mip6.bu.lifetime",
    "mip6.ba.status",
    "mip6.ba.seqnr",
    "mip6.ba.lifetime",
    "mip6.nemo.ba.r_flag",
    "mip6.bi.bid",
    "mip6.bi.status",
    "mip6.bi.h_flag",
    "mip6.bi.coa_ipv6",
    "mip6.bi.coa_ipv4",
    "ipv6.opt.mipv6.home_address",
    "ipv6.routing.mipv6.home_address",
    "esp.spi",
]
TSHARK_OPTIONS = ["-d", "udp.port==4191,ipv6", "-o", "esp.enable_null_encryption_decode_heuristic:TRUE"]
SCENARIOS = sorted({(name, dialect) for _, name, dialect in sample_files()}) + [
    ("random-walk", Dialect.RFC5648),
    ("random-walk", Dialect.DRAFT05),
]


def read_with_tshark(path: Path) -> dict[int, dict[str, str]]:
    tshark = require_tool("tshark")
    command = [tshark, "-r", str(path), *TSHARK_OPTIONS, "-T", "fields", "-E", "occurrence=a"]
    for field in FIELDS:
        command += ["-e", field]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        values = line.split("\t")
        rows[int(values[0])] = dict(zip(FIELDS, values, strict=True))
    return rows


def _csv(values: list[object]) -> str:
    return ",".join(str(v) for v in values)


# RFC 6275 §6.1.2-§6.1.9: MH Type and fixed-part octets after the 6-octet common header
MH_TYPES = {"BRR": (0, 2), "HoTI": (1, 10), "CoTI": (2, 10), "HoT": (3, 18), "CoT": (4, 18),
            "BU": (5, 6), "BA": (6, 6), "BE": (7, 18)}
# BU flag bits (RFC 6275 §6.1.7, RFC 3963 §4.1 R, RFC 5213 P, RFC 5555 F, RFC 5845 T)
BU_FLAG_FIELDS = {"mip6.bu.a_flag": 0x8000, "mip6.bu.h_flag": 0x4000, "mip6.bu.l_flag": 0x2000,
                  "mip6.bu.k_flag": 0x1000, "mip6.bu.m_flag": 0x0800, "mip6.nemo.bu.r_flag": 0x0400,
                  "mip6.bu.p_flag": 0x0200, "mip6.bu.f_flag": 0x0100, "mip6.bu.t_flag": 0x0080,
                  "mip6.bu.b_flag": 0x0040}  # 0x0040: RFC 5648 O, shown by Wireshark as B


def option_layout(option: MobilityOption) -> tuple[int, tuple[int, int] | None]:
    """(Length field, xn+y alignment) of one option, from protocol-facts.md's option table."""
    match option:
        case BindingIdentifier(coa=coa):  # RFC 5648 §6.1 / draft §4.3: 4, +4 IPv4, +16 IPv6
            return (4, (2, 0)) if coa is None else (8 if ":" not in coa else 20, (8, 2))
        case BindingRefreshAdvice() | NonceIndices():
            return (2 if isinstance(option, BindingRefreshAdvice) else 4), (2, 0)
        case BindingAuthData(authenticator=data):
            return len(data), (8, 2)
        case MobileNetworkPrefix():
            return 18, (8, 4)
        case IPv4HomeAddress() | IPv4AddressAck() | NATDetection():
            return 6, (4, 0)
        case LinkLayerAddress(address=address):
            return 1 + len(address), None
    raise AssertionError(f"no layout for {option!r}: add it from protocol-facts.md")


def header_len(kind: str, options: tuple[MobilityOption, ...]) -> int:
    """MH Header Len: 8-octet units after the first 8, options aligned with the least padding."""
    offset = 6 + MH_TYPES[kind][1]
    for option in options:
        length, rule = option_layout(option)
        if rule is not None:
            x, y = rule
            offset += (y - offset) % x
        offset += 2 + length
    return (offset + 7) // 8 - 1


def expected_fields(spec: MobilitySpec) -> dict[str, str]:
    """What tshark should print for this intended message."""
    assert spec.mh_type is None and spec.header_len is None and spec.align, "no scenario overrides these"
    bids = [o for o in spec.options if isinstance(o, BindingIdentifier)]
    expect = {
        "mip6.mhtype": str(MH_TYPES[spec.type_name][0]),
        "mip6.hlen": str(header_len(spec.type_name, spec.options)),
        "mip6.bi.bid": _csv([o.bid for o in bids]),
        "mip6.bi.status": _csv([o.status for o in bids]),
        "mip6.bi.h_flag": _csv([1 if o.flags_byte & 0x80 else 0 for o in bids]),  # RFC layout only
        "mip6.bi.coa_ipv6": _csv([o.coa for o in bids if o.coa and ":" in o.coa]),
        "mip6.bi.coa_ipv4": _csv([o.coa for o in bids if o.coa and ":" not in o.coa]),
    }
    expect["ipv6.opt.mipv6.home_address"] = spec.hao or ""
    expect["ipv6.routing.mipv6.home_address"] = spec.rh2 or ""
    expect["esp.spi"] = f"0x{spec.esp[0]:08x}" if spec.esp else ""
    body = spec.body
    if isinstance(body, BindingUpdate):
        word = body.flags_word
        expect.update(
            {
                "mip6.bu.seqnr": str(body.seq),
                "mip6.bu.lifetime": str(body.lifetime // 4),
            }
        )
        expect.update({field: str(int(bool(word & bit))) for field, bit in BU_FLAG_FIELDS.items()})
    if isinstance(body, BindingAck):
        expect.update(
            {
                "mip6.ba.status": str(body.status),
                "mip6.ba.seqnr": str(body.seq),
                "mip6.ba.lifetime": str(body.lifetime // 4),
                "mip6.nemo.ba.r_flag": str(int(bool(body.flags_byte & 0x40))),
            }
        )
    return expect


@pytest.mark.tshark
@pytest.mark.parametrize(("name", "dialect"), SCENARIOS, ids=[f"{n}-{d.value}" for n, d in SCENARIOS])
def test_tshark_reads_what_was_meant(name: str, dialect: Dialect, tmp_path: Path) -> None:
    result = run(name, dialect=dialect, seed=19 if name == "random-walk" else 1)
    path = tmp_path / "capture.pcapng"
    path.write_bytes(result.pcapng)
    rows = read_with_tshark(path)
    assert len(rows) == result.truth["capture"]["frames"]
    deliberate = {v["frame"] for v in result.truth["violations"]}
    malformed = [
        n for n, row in rows.items() if "_ws.malformed" in row["frame.protocols"] and n not in deliberate
    ]
    assert malformed == []
    checked = 0
    for tx in result.sim.transmissions:
        if not isinstance(tx.intent, MobilitySpec):
            continue
        expect = expected_fields(tx.intent)
        for sighting in tx.sightings:
            row = rows[sighting.number]
            got = {key: row[key] for key in expect}
            assert got == expect, f"frame {sighting.number} ({tx.kind})"
            checked += 1
    assert checked > 0
