"""tshark's reading of every captured Mobility Header message equals what the simulator meant
to send (type, Header Len, sequence number, flags, lifetime, status, BIDs, BID statuses, CoAs),
and no frame of any scenario is malformed for tshark."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dissector.codepoints import Dialect
from dissector.records import BindingAck, BindingIdentifier, BindingUpdate
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
    "mip6.bu.k_flag",
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


def expected_fields(spec: MobilitySpec) -> dict[str, str]:
    """What tshark should print for this intended message."""
    mh = spec.mobility_header()
    bids = [o for o in spec.options if isinstance(o, BindingIdentifier)]
    expect = {
        "mip6.mhtype": str(mh[2]),
        "mip6.hlen": str(mh[1]),
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
                "mip6.bu.a_flag": str(int(bool(word & 0x8000))),
                "mip6.bu.h_flag": str(int(bool(word & 0x4000))),
                "mip6.bu.k_flag": str(int(bool(word & 0x1000))),
                "mip6.nemo.bu.r_flag": str(int(bool(word & 0x0400))),
                "mip6.bu.b_flag": str(int(bool(word & 0x0040))),  # RFC 5648 O, shown by Wireshark as B
            }
        )
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
