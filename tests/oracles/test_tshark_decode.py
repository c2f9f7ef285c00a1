"""Oracle: every Mobility Header message agrees with tshark 4.0 (`-T fields`) after unit conversion.

Captures: every pcap of ../shared/captures/third-party (tcpdump + zeek) and every *.pcapng in
sample-captures/ (found at test time). Compared per MH message: type, sequence, BU/BA header flags,
lifetime (tshark: raw 4-s units), BA/BE status, BID, BID status, BID H flag, BID CoA (IPv4/IPv6),
Home Address option, type 2 routing header address, Mobile Network Prefix.

Deliberate differences (protocol-facts.md §5), handled below and not compared as equal:
* BU flag 0x0040: Wireshark always calls it B (`mip6.bu.b_flag`); we say O when P=0 (RFC 5648
  §4.2) and B when P=1. We compare the bit. Wireshark has no field for S (0x0020): not compared.
* draft-05 captures: Wireshark reads the BID flags byte as RFC 5648 (0x80 = H). There we compare
  its `mip6.bi.h_flag` with the raw bit 0x80 (our C), and its BU B flag with the raw bit 0x0040
  (a reserved bit for us).
* Unknown options: Wireshark prints the MH Header Len as their length (§5.5): not compared.
* `_ws.col.Protocol` "NEMO" is stateful in Wireshark (§5.5): not compared.
* DSMIPv6 UDP 4191 is not registered in Wireshark: we run it with `-d udp.port==4191,ipv6`.
  Wireshark decodes ESP-NULL only with `esp.enable_null_encryption_decode_heuristic`, set here.
* Malformed messages: only when tshark itself reports the frame malformed (`_ws.malformed` in
  `frame.protocols`) are option-level lists compared as far as tshark got: Wireshark stops at
  the exception, we keep every option before the bad one, so tshark's list must be a prefix of
  ours. Everywhere else every list is compared whole, both ways: a value either side lacks is a
  difference (issue 16: a one-way oracle passed with Home Address option decoding removed).
* HAO / RH2: tshark lists those of every IPv6 header of the frame; the MH's header is the
  innermost one, so ours must equal tshark's last value, and tshark must have none when we
  have none.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dissector.codepoints import Dialect
from dissector.records import BindingAck, BindingError, BindingUpdate, MobileNetworkPrefix, Packet
from tests.conftest import SAMPLES, THIRD_PARTY, require_shared, require_tool
from tests.oracles.decoded import decode_capture

FIELDS = (
    "frame.number", "frame.protocols", "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.seqnr",
    "mip6.bu.lifetime", "mip6.ba.lifetime",
    "mip6.ba.status", "mip6.be.status",
    "mip6.bu.a_flag", "mip6.bu.h_flag", "mip6.bu.l_flag", "mip6.bu.k_flag", "mip6.bu.m_flag",
    "mip6.nemo.bu.r_flag", "mip6.bu.p_flag", "mip6.bu.f_flag", "mip6.bu.t_flag", "mip6.bu.b_flag",
    "mip6.ba.k_flag", "mip6.nemo.ba.r_flag", "mip6.ba.p_flag", "mip6.ba.t_flag", "mip6.ba.b_flag",
    "mip6.bi.bid", "mip6.bi.status", "mip6.bi.h_flag", "mip6.bi.coa_ipv4", "mip6.bi.coa_ipv6",
    "ipv6.opt.mipv6.home_address", "ipv6.routing.mipv6.home_address", "mip6.nemo.mnp.mnp",
)
BU_BITS = {"mip6.bu.a_flag": 0x8000, "mip6.bu.h_flag": 0x4000, "mip6.bu.l_flag": 0x2000,
           "mip6.bu.k_flag": 0x1000, "mip6.bu.m_flag": 0x0800, "mip6.nemo.bu.r_flag": 0x0400,
           "mip6.bu.p_flag": 0x0200, "mip6.bu.f_flag": 0x0100, "mip6.bu.t_flag": 0x0080,
           "mip6.bu.b_flag": 0x0040}
BU_LETTERS = {"mip6.bu.a_flag": "A", "mip6.bu.h_flag": "H", "mip6.bu.l_flag": "L", "mip6.bu.k_flag": "K",
              "mip6.bu.m_flag": "M", "mip6.nemo.bu.r_flag": "R", "mip6.bu.p_flag": "P", "mip6.bu.f_flag": "F",
              "mip6.bu.t_flag": "T"}
BA_LETTERS = {"mip6.ba.k_flag": "K", "mip6.nemo.ba.r_flag": "R", "mip6.ba.p_flag": "P", "mip6.ba.t_flag": "T",
              "mip6.ba.b_flag": "B"}


def captures() -> list[Path]:
    found = sorted(THIRD_PARTY.glob("*/*.pcap")) if THIRD_PARTY.is_dir() else []
    return found + sorted(SAMPLES.glob("*.pcapng"))


def sample_dialect(path: Path) -> Dialect | None:
    truth = path.with_name(path.name.removesuffix(".pcapng") + ".truth.json")
    if truth.is_file():
        value = json.loads(truth.read_text()).get("dialect")
        if value in ("rfc5648", "draft05"):
            return Dialect(value)
    return None


def tshark_rows(path: Path) -> dict[int, dict[str, list[str]]]:
    tshark = require_tool("tshark")
    command = [tshark, "-n", "-r", str(path), "-d", "udp.port==4191,ipv6", "-Y", "mipv6", "-T", "fields",
               "-o", "esp.enable_null_encryption_decode_heuristic:TRUE",
               "-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=\t"]
    for name in FIELDS:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout
    rows: dict[int, dict[str, list[str]]] = {}
    for line in out.splitlines():
        values = line.split("\t")
        row = {name: (value.split("|") if value else []) for name, value in zip(FIELDS, values, strict=False)}
        rows[int(row["frame.number"][0])] = row
    return rows


def one(row: dict[str, list[str]], name: str) -> str | None:
    values = row.get(name) or []
    return values[0] if values else None


def last(row: dict[str, list[str]], name: str) -> str | None:
    values = row.get(name) or []
    return values[-1] if values else None


def compare(packet: Packet, row: dict[str, list[str]], dialect: Dialect) -> list[str]:
    """Differences between our record and tshark's fields for one frame (empty = agree)."""
    m = packet.mobility
    assert m is not None
    diffs: list[str] = []

    def check(what: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            diffs.append(f"{what}: ours {ours!r}, tshark {theirs!r}")

    check("mh type", str(m.mh_type), one(row, "mip6.mhtype"))
    body = m.body
    if isinstance(body, BindingUpdate):
        check("seq", str(body.seq), one(row, "mip6.bu.seqnr"))
        raw = one(row, "mip6.bu.lifetime")
        check("lifetime", body.lifetime, None if raw is None else int(raw) * 4)
        for field, letter in BU_LETTERS.items():
            check(f"BU flag {letter}", letter in body.flags, one(row, field) == "1")
        # 0x0040: Wireshark's B; ours O (P=0, rfc5648), B (P=1), reserved (draft05): compare the bit
        check("BU bit 0x0040", bool(body.flags_word & 0x0040), one(row, "mip6.bu.b_flag") == "1")
        if dialect is Dialect.RFC5648:
            expected = ("B" if body.flags_word & 0x0200 else "O") if body.flags_word & 0x0040 else None
            if expected:
                check("BU 0x0040 letter", expected in body.flags, True)
    elif isinstance(body, BindingAck):
        check("seq", str(body.seq), one(row, "mip6.ba.seqnr"))
        raw = one(row, "mip6.ba.lifetime")
        check("lifetime", body.lifetime, None if raw is None else int(raw) * 4)
        check("status", str(body.status), one(row, "mip6.ba.status"))
        for field, letter in BA_LETTERS.items():
            check(f"BA flag {letter}", letter in body.flags, one(row, field) == "1")
    elif isinstance(body, BindingError):
        check("BE status", str(body.status), one(row, "mip6.be.status"))
    # option-level lists: whole, unless tshark stopped at a malformed packet (then a prefix of ours)
    tshark_cut = "_ws.malformed" in (one(row, "frame.protocols") or "").split(":")

    def check_list(what: str, ours: list[object], theirs: list[object]) -> None:
        if tshark_cut and len(theirs) <= len(ours):
            ours = ours[: len(theirs)]
        check(what, ours, theirs)

    bids = m.bids
    check_list("BIDs", [str(b.bid) for b in bids], row.get("mip6.bi.bid", []))
    check_list("BID status", [str(b.status) for b in bids], row.get("mip6.bi.status", []))
    # Wireshark reads 0x80 as H in every capture; in draft05 that bit is our C flag
    ours_h = [b.home_flag if dialect is Dialect.RFC5648 else bool(b.flags_byte & 0x80) for b in bids]
    check_list("BID H (0x80)", ours_h, [v == "1" for v in row.get("mip6.bi.h_flag", [])])
    check_list("BID IPv4 CoA", [b.coa for b in bids if b.length == 8], row.get("mip6.bi.coa_ipv4", []))
    check_list("BID IPv6 CoA", [b.coa for b in bids if b.length == 20], row.get("mip6.bi.coa_ipv6", []))
    prefixes = [o.prefix for o in m.options if isinstance(o, MobileNetworkPrefix)]
    check_list("MNP", prefixes, row.get("mip6.nemo.mnp.mnp", []))
    # HAO / RH2 of the header carrying the MH: the innermost IPv6 header, tshark's last value
    check("HAO", packet.path.home_address_option, last(row, "ipv6.opt.mipv6.home_address"))
    check("RH2", packet.path.routing_type2, last(row, "ipv6.routing.mipv6.home_address"))
    return diffs


@pytest.mark.tshark
@pytest.mark.parametrize("path", captures(), ids=lambda p: p.name)
def test_mobility_messages_agree_with_tshark(path: Path) -> None:
    if THIRD_PARTY in path.parents:
        require_shared()
    rows = tshark_rows(path)
    dialect = sample_dialect(path)
    packets, detected = decode_capture(path, dialect)
    ours = {p.frame: p for p in packets if p.mobility is not None}
    assert sorted(ours) == sorted(rows), "frames with a Mobility Header differ"
    problems = {frame: compare(ours[frame], rows[frame], detected) for frame in sorted(ours)}
    assert {frame: diffs for frame, diffs in problems.items() if diffs} == {}


def test_the_oracle_sees_the_third_party_captures() -> None:
    require_shared()
    assert len([p for p in captures() if THIRD_PARTY in p.parents]) >= 20


def handbuilt_capture(path: Path) -> Path:
    """MCoA signalling written by hand (no simulator): bulk BIDs, HAO, RH2, MNP, IPv4 CoA, DSMIPv6."""
    import struct

    from tests.dissector.handbuilt import (
        HA,
        MN_COA,
        MN_HOA,
        a4,
        a6,
        ba_body,
        bid,
        bu_body,
        dest_opts_hao,
        ethernet,
        ipv4,
        ipv6,
        mh,
        padn,
        routing_type2,
        udp,
    )

    def bu(options: bytes, flags: int) -> bytes:
        message = mh(5, bu_body(7, flags, 150) + options, src=MN_HOA, dst=HA)
        return ethernet(ipv6(MN_COA, HA, 60, dest_opts_hao(135, MN_HOA) + message))

    mnp = b"\x06\x12\x00\x30" + a6("2001:db8:aaaa::")
    frames = [
        bu(padn(6) + bid(1, coa=a6(MN_COA)) + padn(2) + bid(2, flags=0x80, coa=a6(MN_HOA)) + bid(3), 0xD040),
        bu(mnp + padn(4) + bid(4, coa=a4("198.51.100.9")), 0xC400),
        ethernet(ipv6(HA, MN_COA, 43, routing_type2(135, MN_HOA) + mh(
            6, ba_body(4, 0xC0, 7, 150) + padn(4) + bid(1) + bid(2, status=169) + bid(3, status=167),
            src=HA, dst=MN_HOA))),
        ethernet(ipv4("198.51.100.9", "203.0.113.1", 17, udp(4191, 4191, ipv6(MN_HOA, HA, 135, mh(
            5, bu_body(8, 0x8100, 10) + padn(6) + bid(5, coa=a4("198.51.100.9")), src=MN_HOA, dst=HA)))),
            0x0800),
        ethernet(ipv6(HA, MN_COA, 135, mh(7, bytes([1, 0]) + a6(MN_HOA), src=HA, dst=MN_COA))),
    ]
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, data in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000, i, len(data), len(data)) + data
    path.write_bytes(out)
    return path


@pytest.mark.tshark
def test_handbuilt_mcoa_signalling_agrees_with_tshark(tmp_path: Path) -> None:
    path = handbuilt_capture(tmp_path / "mcoa.pcap")
    rows = tshark_rows(path)
    packets, dialect = decode_capture(path, Dialect.RFC5648)
    ours = {p.frame: p for p in packets if p.mobility is not None}
    assert sorted(ours) == sorted(rows) == [1, 2, 3, 4, 5]
    assert sum(len(r["mip6.bi.bid"]) for r in rows.values()) == 8  # the BID comparisons really run
    assert {frame: compare(ours[frame], rows[frame], dialect) for frame in ours} == {f: [] for f in ours}


@pytest.mark.tshark
def test_fragmented_bu_is_reassembled_in_the_same_frame_as_tshark(tmp_path: Path) -> None:
    import struct

    from tests.dissector.handbuilt import (
        HA,
        MN_COA,
        MN_HOA,
        a6,
        bid,
        bu_body,
        dest_opts_hao,
        ethernet,
        ipv6,
        mh,
    )

    body = bu_body(11, 0x8000, 10) + b"\x01\x04\0\0\0\0"
    for n in range(1, 6):
        body += bid(n, coa=a6(f"2001:db8:{n}::1")) + b"\x01\x00"
    payload = dest_opts_hao(135, MN_HOA) + mh(5, body, src=MN_HOA, dst=HA)
    frames = []
    for offset in range(0, len(payload), 80):
        header = struct.pack("!BBHI", 60, 0, offset | int(offset + 80 < len(payload)), 5)
        frames.append(ethernet(ipv6(MN_COA, HA, 44, header + payload[offset : offset + 80])))
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, data in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000, i, len(data), len(data)) + data
    path = tmp_path / "frag.pcap"
    path.write_bytes(out)
    rows = tshark_rows(path)
    packets, dialect = decode_capture(path, Dialect.RFC5648)
    ours = {p.frame: p for p in packets if p.mobility is not None}
    assert sorted(ours) == sorted(rows) == [len(frames)]
    assert compare(ours[len(frames)], rows[len(frames)], dialect) == []
