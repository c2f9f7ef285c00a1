"""Oracle: Zeek's checksum pair, its mobility_msg baseline and its dest-opts weird log
(../shared/captures/third-party/zeek/)."""

from __future__ import annotations

import re

import pytest

from dissector.records import (
    BindingAck,
    BindingError,
    BindingRefreshRequest,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
    Packet,
)
from tests.conftest import THIRD_PARTY, require_shared
from tests.oracles.decoded import decode_capture

ZEEK = THIRD_PARTY / "zeek"


def only_mh(name: str) -> Packet:
    require_shared()
    packets, _ = decode_capture(ZEEK / name)
    (packet,) = [p for p in packets if p.mobility is not None]
    return packet


def test_bad_mh_checksum_is_flagged_and_good_is_not() -> None:
    bad = only_mh("Traces__chksums__mip6-bad-mh-chksum.pcap")
    good = only_mh("Traces__chksums__mip6-good-mh-chksum.pcap")
    assert bad.mobility is not None and bad.mobility.checksum_ok is False
    assert good.mobility is not None and good.mobility.checksum_ok is True


# Zeek fields we do not compare: each option's otype/data (the option types are compared as
# "options"), and rsv, the reserved field, which the dissector does not keep.
ZEEK_ONLY = frozenset({"otype", "data", "rsv"})
# Zeek's record names of the message types
ZEEK_KINDS = {"BRR": "brr", "HoTI": "hoti", "CoTI": "coti", "HoT": "hot", "CoT": "cot", "BU": "bu",
              "BA": "back", "BE": "be"}

# The .test runs these traces in this order and the baseline prints one block per message.
MOBILITY_MSG_TRACES = ["back", "be", "brr", "bu", "cot", "coti", "hot", "hoti"]


def baseline_blocks() -> list[dict[str, str]]:
    text = (ZEEK / "Baseline__core.mobility_msg__output").read_text()
    blocks = []
    for match in re.finditer(r"mobility=\[nxt=(\d+), len=(\d+), mh_type=(\d+), rsv=\d+, chksum=(\d+), "
                             r"msg=\[id=\d+, (.*)\]\]\]\]\]", text):
        nxt, hlen, mh_type, chksum, rest = match.groups()
        message = re.search(r"(brr|hoti|coti|hot|cot|bu|back|be)=\[([^\]]*(?:\[\[[^\]]*\]\])?[^\]]*)\]", rest)
        assert message is not None
        fields = dict(re.findall(r"(\w+)=([^,\[\]]+)", message.group(2)))
        fields.update(nxt=nxt, len=hlen, mh_type=mh_type, chksum=chksum, kind=message.group(1))
        fields["options"] = ",".join(re.findall(r"otype=(\d+)", message.group(2)))
        blocks.append(fields)
    return blocks


def ours(packet: Packet) -> dict[str, str]:
    m = packet.mobility
    assert m is not None
    row = {"nxt": str(m.payload_proto), "len": str(m.header_len // 8 - 1), "mh_type": str(m.mh_type),
           "chksum": str(m.checksum), "options": ",".join(str(o.type) for o in m.options),
           "kind": ZEEK_KINDS.get(m.type_name, m.type_name)}
    body = m.body
    if isinstance(body, BindingUpdate):
        row.update(seq=str(body.seq), life=str(body.lifetime // 4),
                   **{k.lower(): "T" if k in body.flags else "F" for k in ("A", "H", "L", "K")})
    elif isinstance(body, BindingAck):
        row.update(status=str(body.status), k="T" if "K" in body.flags else "F", seq=str(body.seq),
                   life=str(body.lifetime // 4))
    elif isinstance(body, BindingError):
        row.update(status=str(body.status), hoa=body.home_address)
    elif isinstance(body, (HomeTestInit, CareOfTestInit)):
        row.update(cookie=str(int.from_bytes(body.cookie, "big")))
    elif isinstance(body, (HomeTest, CareOfTest)):
        row.update(nonce_idx=str(body.nonce_index), cookie=str(int.from_bytes(body.cookie, "big")),
                   token=str(int.from_bytes(body.keygen_token, "big")))
    elif isinstance(body, BindingRefreshRequest):
        pass
    return row


def test_mobility_msg_baseline_agrees() -> None:
    require_shared()
    blocks = baseline_blocks()
    assert len(blocks) == len(MOBILITY_MSG_TRACES)
    for trace, expected in zip(MOBILITY_MSG_TRACES, blocks, strict=True):
        mine = ours(only_mh(f"Traces__mobile-ipv6__mip6_{trace}.pcap"))
        # both ways: every field Zeek printed is ours too, except the ones we do not model
        compared = {k: v for k, v in expected.items() if k not in ZEEK_ONLY}
        assert len(compared) >= 6, (trace, expected)
        assert mine == compared, trace


def test_home_address_option_and_routing_header_traces() -> None:
    require_shared()
    hoa, _ = decode_capture(ZEEK / "Traces__mobile-ipv6__ipv6-mobile-hoa.pcap")
    assert hoa[0].path.home_address_option == "2001:78:1:32::1" and hoa[0].problems == ()
    routing, _ = decode_capture(ZEEK / "Traces__mobile-ipv6__ipv6-mobile-routing.pcap")
    assert routing[0].path.routing_type2 == "2001:78:1:32::1" and routing[0].problems == ()


@pytest.mark.parametrize(("frame", "zeek_weird", "ours_reason"), [
    (1, "bad_ipv6_dest_opt_len", "option 202 runs past the end of the header"),
    # Zeek also reports multiple_home_addr_opts: it reads the second HAO beyond the IPv6 Payload
    # Length; we bound the walk by the Payload Length, so only the overrun is reported.
    (2, "invalid_IP_header_size", "Destination Options header (40 bytes by its Hdr Ext Len) runs 4 bytes "
                                  "past the IP payload"),
    (3, "bad_home_addr_len", "Home Address option Length 1, must be 16"),
])
def test_dest_opts_weirds_are_problems(frame: int, zeek_weird: str, ours_reason: str) -> None:
    require_shared()
    weird = (ZEEK / "Baseline__core.mobile-ipv6-dst-opts__weird.log").read_text()
    assert zeek_weird in weird
    packets, _ = decode_capture(ZEEK / "Traces__ipv6-mobility-dst-opts.pcap")
    errors = [(p.layer, p.reason) for p in packets[frame - 1].problems if p.severity == "error"]
    assert errors == [("dest-options", ours_reason)]
