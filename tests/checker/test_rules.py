# ruff: noqa: E501  (the fixture table keeps one rule per entry)
"""Every registered rule: a violating fixture (expected frames written by hand) and a clean one.

Fixtures are hand-made decoded records fed through the real engine and checker
(tests/checker/builders.py numbers them: the n-th packet is frame n).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from dissector.records import (
    AlternateCoA,
    BindingAuthData,
    IPv4AddressAck,
    IPv4CareOfAddress,
    IPv4HomeAddress,
    LinkLayerAddress,
    NATDetection,
    NonceIndices,
    Packet,
    Problem,
)
from mcoaviz.checker import RULES, CheckerConfig
from tests.checker.builders import (
    CN,
    COA1,
    COA2,
    DRAFT,
    HA,
    HA4,
    HA_MAC,
    HOA,
    HOA2,
    IKE_AUTH,
    IKE_SA_INIT,
    INFORMATIONAL,
    MN_MAC,
    RFC,
    ROUTER_MAC,
    V4COA,
    ba,
    be,
    bid,
    brr,
    bu,
    check,
    cot,
    coti,
    data,
    dbid,
    esp,
    hits,
    hoti,
    ike,
    mpa,
    mps,
    nd,
    ra,
    raw_mh,
    to_draft,
)

ALT = AlternateCoA(offset=12, address=COA2)
BAD = BindingAuthData(offset=12, authenticator=b"a" * 12)
V4HOA = IPv4HomeAddress(offset=12, prefix_length=24, p_flag=False, address="0.0.0.0")
V4ACK = IPv4AddressAck(offset=12, status=0, prefix_length=24, address="203.0.113.9")
NAT = NATDetection(offset=12, f_flag=True, refresh_time=110)
V4COA_OPT = IPv4CareOfAddress(offset=12, address=V4COA)
V4ACK_MCOA = IPv4AddressAck(offset=12, status=164, prefix_length=24, address="203.0.113.9")  # not RFC 5555's
HOME = 0x80  # RFC 5648 H flag
HOME_PREFIX = "2001:db8:a::/64"  # the home link's prefix (HOA is 2001:db8:a::100)
LLA = LinkLayerAddress(offset=12, option_code=2, address=MN_MAC)  # MH-LLA: the MN's MAC (RFC 5568)
V4HOA_ASSIGNED = "203.0.113.9"  # the IPv4 home address V4ACK assigns
NAT_V4 = "203.0.113.5"  # the NAT's public address: outer source differs from the BID's IPv4 CoA


@dataclass(frozen=True)
class Case:
    violating: Callable[[], list[Packet]]
    frames: list[int | None]  # expected frames of the rule's findings in ``violating``, by hand
    clean: Callable[[], list[Packet]]
    dialect: object = RFC
    config: CheckerConfig | None = None
    end: float | None = None
    draft: Case | None = None  # hand-made draft-05 fixture where to_draft() would change the meaning


def reg(seq: int, *bids, **kw) -> list[Packet]:  # noqa: ANN001, ANN003 - test shorthand
    """A BU with these BID options and its accepting BA (BID options copied without CoA)."""
    copies = [bid(b.bid, status=0, flags=b.flags_byte, dialect=b.dialect) for b in bids]
    answer = {"hoa": kw.get("hoa", HOA), "src": kw.get("dst", HA), "dst": kw.get("src", COA1)}
    return [bu(seq, *bids, **kw), ba(seq, *copies, **answer)]


def rfc_home_bu(seq: int = 1, **kw) -> Packet:  # noqa: ANN003
    return bu(seq, bid(1, HOA, flags=HOME), src=HOA, mac_src=MN_MAC, **kw)


def udp_bu(seq: int, *options, outer_src: str, **kw) -> Packet:  # noqa: ANN002, ANN003
    """A DSMIPv6 BU: IPv4/UDP outside, IPv6 from the HoA (no HAO) to the HA inside (Fig. 6)."""
    return bu(seq, *options, src=HOA, tunnel="udp", outer_src=outer_src, outer_dst=HA4, **kw)


def to_mn(coa: str, at: float | None = None) -> Packet:
    """Data from the CN for the MN, tunnelled by the HA to ``coa``."""
    return data(src=CN, dst=HOA, outer_src=HA, outer_dst=coa, tunnel="ip6ip6", at=at)


def at(packet: Packet, time: float) -> Packet:
    return dataclasses.replace(packet, time=time)


def nonces(careof: int, home: int = 1) -> NonceIndices:
    return NonceIndices(offset=12, home_nonce_index=home, careof_nonce_index=careof)


def care_of_test_then_bu(careof_index: int) -> list[Packet]:
    """Capture from t=1001; CoTI/CoT (nonce index 1) for CoA 1 at t=1300; BU to the CN at t=1301."""
    return reg(1, bid(1, COA1)) + [at(coti(bid(1)), 1300.0), at(cot(bid(1)), 1300.5),
                                   at(bu(2, bid(1), nonces(careof_index), flags="A", dst=CN), 1301.0)]


def tunnel_from(coa: str) -> Packet:
    """Data from the MN reverse-tunnelled to the HA from ``coa``."""
    return data(src=HOA, dst=CN, outer_src=coa, outer_dst=HA, tunnel="ip6ip6")
def lla_home_bu(seq: int = 1, *options, **kw) -> Packet:  # noqa: ANN002, ANN003
    """The RFC home-binding BU with the MH-LLA option (code 2) it SHOULD carry."""
    return bu(seq, bid(1, HOA, flags=HOME), LLA, *options, src=HOA, mac_src=MN_MAC, **kw)


def returnhome(status: int = 5, *, draft: bool = False) -> list[Packet]:
    """H-flag BU from the home link and the HA's BA (status 5: the HA keeps proxy ND). Draft-05:
    a Lifetime-0 BU, the status in the BID option (§5.6.3)."""
    if draft:
        return [draft_home_bu(), ba(1, dbid(1, status=status), lifetime=0, dst=HOA, mac_src=HA_MAC)]
    return [rfc_home_bu(), ba(1, bid(1), status=status, dst=HOA, mac_src=HA_MAC)]


def proxy_nd(*, answered: bool = False, draft: bool = False) -> list[Packet]:
    """RETURNHOME, then a router's NS for the home address (frame 3), answered by the HA or not;
    the RA at frame 4 shows the capture went on past RetransTimer."""
    answer = [nd(136, HOA, src="fe80::a:1", mac_src=HA_MAC, at=1003.5)] if answered else []
    return [*returnhome(draft=draft), nd(135, HOA, src="fe80::f:1", mac_src=ROUTER_MAC), *answer,
            ra(HOME_PREFIX, mac_src=ROUTER_MAC)]


OTHER_MAC = b"\x02\x00\x00\x00\x00\xcc"  # a home-link node that sent no RA


def returned_data(*frames: Packet, draft: bool = False, status: int = 5) -> list[Packet]:
    """Router R's RA for the home /64 (frame 1), RETURNHOME (frames 2-3), then data frames (4-)."""
    return [ra(HOME_PREFIX, mac_src=ROUTER_MAC), *returnhome(status, draft=draft), *frames]


def from_router(mac_dst: bytes = MN_MAC, mac_src: bytes = ROUTER_MAC) -> Packet:
    return data(src=CN, dst=HOA, mac_src=mac_src, mac_dst=mac_dst)


def to_next_hop(mac_dst: bytes, dst: str = CN) -> Packet:
    return data(src=HOA, dst=dst, mac_src=MN_MAC, mac_dst=mac_dst)


def dad(target: str = HOA, mac: bytes = HA_MAC) -> Packet:
    return nd(135, target, src="::", mac_src=mac)


def draft_home_bu(seq: int = 1) -> Packet:
    return bu(seq, dbid(1, None, "H"), src=HOA, mac_src=MN_MAC, lifetime=0)


CASES: dict[str, Case] = {
    # ---------------------------------------------------------------- 1xx BID option format
    "MCOA101": Case(lambda: [bu(1, bid(0, COA1))], [1], lambda: [bu(1, bid(1, COA1))]),
    "MCOA102": Case(lambda: [bu(1, bid(1, length=6))], [1], lambda: [bu(1, bid(1, COA1))]),
    "MCOA103": Case(lambda: [bu(1, dbid(1, None, "C"))], [1], lambda: [bu(1, dbid(1, COA1, "C"))], DRAFT),
    "MCOA104": Case(lambda: [bu(1, dbid(1, COA1, ""))], [1], lambda: [bu(1, dbid(1, COA1, "C"))], DRAFT),
    "MCOA105": Case(lambda: [bu(1, dbid(1, COA1, "CD"))], [1], lambda: [bu(1, dbid(1, V4COA, "CD"))], DRAFT),
    "MCOA106": Case(lambda: [bu(1, bid(1, COA1, flags=0x01))], [1], lambda: [bu(1, bid(1, COA1))]),
    "MCOA107": Case(lambda: [bu(1, bid(1, COA1, flags=HOME), flags="A", dst=CN)], [1],
                    lambda: [bu(1, bid(1, COA1), flags="A", dst=CN)],
                    # draft: a CoA field means C, itself valid only towards the HA; clean = no flags
                    draft=Case(lambda: [bu(1, dbid(1, COA1, "C"), flags="A", dst=CN)], [1],
                               lambda: [bu(1, dbid(1), flags="A", dst=CN)], DRAFT)),
    "MCOA108": Case(lambda: [coti(bid(1, COA1))], [1], lambda: [coti(bid(1))]),
    "MCOA109": Case(lambda: [bu(1, bid(1, COA1)), ba(1, bid(1, COA1))], [2], lambda: reg(1, bid(1, COA1))),
    "MCOA110": Case(lambda: [raw_mh("HoTI", 1, bid(1))], [1], lambda: [raw_mh("HoTI", 1)]),
    "MCOA111": Case(lambda: [bu(1, bid(1, COA1), bid(1, COA2))], [1],
                    lambda: [bu(1, bid(1, COA1), bid(2, COA2))]),
    "MCOA112": Case(lambda: [bu(1, ALT, bid(1, COA1))], [1], lambda: [bu(1, bid(1, COA1))]),
    "MCOA113": Case(lambda: [bu(1, BAD, bid(1, COA1), flags="A", dst=CN)], [1],
                    lambda: [bu(1, bid(1, COA1), BAD, flags="A", dst=CN)]),
    "MCOA114": Case(lambda: [bu(1, dbid(1))], [1], lambda: [bu(1, dbid(1, COA1, "C"))], DRAFT),
    "MCOA115": Case(lambda: [bu(1, bid(7)), ba(1, bid(7, status=167))], [1],
                    lambda: [bu(1, bid(7)), ba(1, bid(7))]),
    "MCOA130": Case(lambda: [coti(src=COA2), cot(dst=COA2), bu(1, bid(2), flags="A", src=COA2, dst=CN),
                             ba(1, bid(2), src=CN, dst=COA2)], [3],
                    # no preparation in the capture: a refresh of a binding older than the capture
                    lambda: [bu(1, bid(2), flags="A", src=COA2, dst=CN), ba(1, bid(2), src=CN, dst=COA2)]),
    "MCOA116": Case(lambda: [bu(1, bid(1, V4COA), flags="A", dst=CN)], [1],
                    lambda: [bu(1, bid(1, COA1), flags="A", dst=CN)]),
    "MCOA117": Case(lambda: [bu(1, o_header=True)], [1], lambda: [bu(1, bid(1, COA1), o_header=True)]),
    "MCOA118": Case(lambda: [bu(1, dbid(1, COA1, "C"), o_header=True)], [1],
                    lambda: [bu(1, dbid(1, COA1, "CO"))], DRAFT),
    # RFC H outside a BU (CoTI, CoT, BRR) and reserved bits in a CoT; clean: no flags, and the
    # reserved bits of a CoTI (MCOA106's) are not reported twice
    "MCOA119": Case(lambda: [coti(bid(1, flags=HOME)), cot(bid(1, flags=0x01)), brr(bid(2, flags=HOME | 0x02))],
                    [1, 2, 3], lambda: [coti(bid(1)), coti(bid(2, flags=0x02)), cot(bid(1)), brr(bid(2))]),
    # BA bits the BU did not set (H; reserved 0x04); clean: a BA that copies the BU's H and reserved bit
    "MCOA120": Case(lambda: [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1, flags=HOME), bid(2, flags=0x04))],
                    [2, 2], lambda: reg(1, bid(1, HOA, flags=HOME | 0x01), src=HOA)),
    # ---------------------------------------------------------------- 2xx bulk
    "MCOA201": Case(lambda: [bu(1, bid(1, COA1), bid(2, COA2), flags="A", dst=CN)], [1],
                    lambda: [bu(1, bid(1, COA1), bid(2, COA2))]),
    "MCOA202": Case(lambda: [bu(1, dbid(1, COA1, "C"), dbid(2, None, ""))], [1],
                    lambda: [bu(1, dbid(1, COA1, "C"), dbid(2, COA2, "C"))], DRAFT),
    "MCOA203": Case(lambda: [bu(1, dbid(1, COA1, "CO"), dbid(2, COA2, "C"))], [1],
                    lambda: [bu(1, dbid(1, COA1, "CO"), dbid(2, COA2, "CO"))], DRAFT),
    "MCOA204": Case(lambda: [bu(1, dbid(1, None, ""), dbid(2, None, ""))], [1],
                    lambda: [bu(1, dbid(1, COA1, "C"), dbid(2, COA2, "C"))], DRAFT),
    "MCOA205": Case(lambda: [bu(1, dbid(1, COA1, "C"), dbid(2, COA2, "C"), lifetime=0)], [1],
                    lambda: [bu(1, dbid(1), dbid(2), lifetime=0)], DRAFT),
    "MCOA206": Case(lambda: reg(10, bid(1, COA1)) + [bu(7, bid(1), bid(2, COA2))], [3],
                    lambda: reg(10, bid(1, COA1)) + [bu(11, bid(1), bid(2, COA2))]),
    "MCOA207": Case(lambda: [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2), status=168),
                             bu(2, bid(1, COA1), bid(2, COA2))], [3],
                    lambda: [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2), status=168),
                             bu(2, bid(1, COA1))]),
    "MCOA208": Case(lambda: [bu(1, bid(1, COA1), bid(2, COA2), flags="A", dst=CN),
                             ba(1, bid(1), bid(2), src=CN)], [2],
                    lambda: [bu(1, bid(1, COA1), bid(2, COA2), flags="A", dst=CN),
                             ba(1, bid(1), bid(2), status=168, src=CN)]),
    "MCOA209": Case(lambda: [bu(1, bid(1, COA1), bid(2, COA2), flags="A", dst=CN),
                             ba(1, bid(1), bid(2), status=129, src=CN)], [2],
                    lambda: [bu(1, bid(1, COA1), bid(2, COA2), flags="A", dst=CN),
                             ba(1, bid(1), bid(2), status=168, src=CN)]),
    # ---------------------------------------------------------------- 3xx acknowledgement / status
    "MCOA301": Case(lambda: [bu(1, bid(1, COA1)), ba(1)], [2], lambda: reg(1, bid(1, COA1))),
    "MCOA302": Case(lambda: [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1))], [2],
                    lambda: reg(1, bid(1, COA1), bid(2, COA2))),
    "MCOA303": Case(lambda: [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2), status=4)], [2],
                    lambda: [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2, status=164), status=4)]),
    "MCOA304": Case(lambda: [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2, status=164))], [2],
                    lambda: [bu(1, bid(1, COA1), bid(2, COA2)), ba(1, bid(1), bid(2, status=164), status=4)]),
    "MCOA305": Case(lambda: [bu(1, bid(1, COA1), flags="A", dst=CN), ba(1, bid(1, status=164), status=164, src=CN)],
                    [2], lambda: [bu(1, bid(1, COA1), flags="A", dst=CN), ba(1, bid(1), status=164, src=CN)]),
    "MCOA306": Case(lambda: [bu(1, bid(1, length=6)), ba(1, bid(1, length=6))], [2],
                    lambda: [bu(1, bid(1, length=6)), ba(1, bid(1, length=6), status=164)]),
    "MCOA307": Case(lambda: [bu(1, bid(9), lifetime=0), ba(1, bid(9), lifetime=0)], [2],
                    lambda: [bu(1, bid(9), lifetime=0), ba(1, bid(9), status=133, lifetime=0)]),
    "MCOA308": Case(lambda: [bu(1, bid(9), lifetime=0), ba(1, bid(9), status=128, lifetime=0)], [2],
                    lambda: [bu(1, bid(9), lifetime=0), ba(1, bid(9), status=133, lifetime=0)]),
    "MCOA309": Case(lambda: [bu(1, bid(1, COA1)), ba(1, bid(1), status=166), bu(2, bid(1, COA1))], [3],
                    lambda: [bu(1, bid(1, COA1)), ba(1, bid(1), status=166), bu(2)]),
    "MCOA310": Case(lambda: [bu(1, bid(1, COA1)), ba(1), bu(2, bid(1, COA1))], [3],
                    lambda: [bu(1, bid(1, COA1)), ba(1), bu(2)]),
    "MCOA311": Case(lambda: [bu(1, bid(1, COA1)), ba(1, bid(1), status=165), bu(2, bid(1, COA1))], [3],
                    lambda: [bu(1, bid(1, COA1)), ba(1, bid(1), status=165), bu(2, bid(1, COA1), o_header=True)]),
    "MCOA312": Case(lambda: [bu(5, bid(1, COA1)), ba(40, bid(1), status=135), bu(6, bid(1, COA1))], [3],
                    lambda: [bu(5, bid(1, COA1)), ba(40, bid(1), status=135), bu(41, bid(1, COA1))]),
    "MCOA313": Case(lambda: [bu(5, dbid(1, COA1, "C")), ba(40, dbid(1), status=135),
                             bu(40, dbid(1, COA1, "C"))], [3],
                    lambda: [bu(5, dbid(1, COA1, "C")), ba(40, dbid(1), status=135),
                             bu(41, dbid(1, COA1, "C"))], DRAFT),
    "MCOA314": Case(lambda: reg(1, bid(1, COA1)), [1], lambda: reg(1, bid(1, COA1), o_header=True)),
    "MCOA315": Case(lambda: [bu(1), ba(1), bu(2, bid(1, COA1)), ba(2, bid(1))], [4],
                    lambda: [bu(1), ba(1), bu(2, bid(1, COA1)), ba(2, bid(1), status=165)]),
    "MCOA316": Case(lambda: reg(1, bid(1, COA1)) + [bu(2, bid(1)), ba(2, bid(1, status=167))], [4],
                    lambda: reg(1, bid(1, COA1)) + [bu(2, bid(1)), ba(2, bid(1))]),
    "MCOA317": Case(lambda: [bu(1, bid(7)), ba(1, bid(7), status=167), bu(2, bid(7))], [3],
                    lambda: [bu(1, bid(7)), ba(1, bid(7), status=167), bu(2, bid(7, COA1))]),
    "MCOA318": Case(lambda: reg(1, bid(1, COA1)) + [bu(2, bid(1), lifetime=0), ba(2, bid(1), lifetime=0),
                                                    bu(3, bid(1)), ba(3, bid(1))], [6],
                    lambda: reg(1, bid(1, COA1)) + [bu(2, bid(1), lifetime=0), ba(2, bid(1), lifetime=0),
                                                    bu(3, bid(1)), ba(3, bid(1), status=167)]),
    "MCOA319": Case(lambda: [bu(1, bid(1, "fe80::1")), ba(1, bid(1))], [2],
                    lambda: [bu(1, bid(1, "fe80::1")), ba(1, bid(1), status=164)]),
    "MCOA320": Case(lambda: reg(1, bid(1, COA1)) + reg(2, bid(2, COA1)), [4],
                    lambda: reg(1, bid(1, COA1)) + reg(2, bid(2, COA2))),
    "MCOA321": Case(lambda: reg(1, bid(1, COA1), bid(2, COA2)) + [bu(2, lifetime=0), ba(2, lifetime=0),
                                                                  tunnel_from(COA2)], [5],
                    lambda: reg(1, bid(1, COA1), bid(2, COA2)) + [bu(2, bid(1), lifetime=0),
                                                                  ba(2, bid(1), lifetime=0), tunnel_from(COA2)]),
    "MCOA322": Case(lambda: reg(1, bid(1, COA1), bid(2, COA2)) + [rfc_home_bu(2), ba(2, dst=HOA),
                                                                  tunnel_from(COA2)], [5],
                    lambda: reg(1, bid(1, COA1), bid(2, COA2)) + [rfc_home_bu(2), ba(2, bid(1), dst=HOA),
                                                                  tunnel_from(COA2)]),
    # ---------------------------------------------------------------- 4xx returning home
    "MCOA323": Case(lambda: [bu(1), ba(1), tunnel_from(COA2), bu(2), ba(2)], [4],
                    lambda: [bu(1), ba(1), tunnel_from(COA2), bu(2, src=COA2), ba(2, dst=COA2)]),
    "MCOA324": Case(lambda: reg(1, bid(1, COA1)) + reg(2, bid(1, COA2)) + [tunnel_from(COA1)], [5],
                    lambda: reg(1, bid(1, COA1)) + reg(2, bid(1, COA2)) + [tunnel_from(COA2)]),
    "MCOA401": Case(lambda: [bu(1, bid(1, HOA, flags=HOME), src=COA1)], [1], lambda: [rfc_home_bu()]),
    "MCOA402": Case(lambda: [rfc_home_bu(), ba(1, bid(1), status=1, dst=HOA)], [2],
                    lambda: [rfc_home_bu(), ba(1, bid(1), status=5, dst=HOA)]),
    "MCOA403": Case(lambda: [rfc_home_bu(), nd(136, HOA), ba(1, bid(1), dst=HOA)], [2],
                    lambda: [rfc_home_bu(), nd(136, HOA, src=HA, mac_src=b"\x02" * 6), ba(1, bid(1), dst=HOA)]),
    "MCOA404": Case(lambda: [rfc_home_bu(), ba(1, bid(1), status=5, dst=HOA), nd(136, HOA)], [3],
                    lambda: [rfc_home_bu(), ba(1, bid(1), status=0, dst=HOA), nd(136, HOA)],
                    # draft §5.6.3: a de-registration (Lifetime 0) with H, status in the BID option
                    draft=Case(lambda: [draft_home_bu(), ba(1, dbid(1, status=5), lifetime=0, dst=HOA),
                                        nd(136, HOA)], [3],
                               lambda: [draft_home_bu(), ba(1, dbid(1), lifetime=0, dst=HOA), nd(136, HOA)],
                               DRAFT)),
    "MCOA405": Case(lambda: [bu(1, dbid(1, None, "H"), src=HOA)], [1],
                    lambda: [bu(1, dbid(1, None, "H"), src=HOA, lifetime=0)], DRAFT),
    "MCOA406": Case(lambda: [rfc_home_bu(lifetime=0)], [1], lambda: [rfc_home_bu()]),
    "MCOA407": Case(lambda: [bu(1, bid(1, COA2, flags=HOME), src=HOA)], [1], lambda: [rfc_home_bu()]),
    "MCOA408": Case(lambda: [ra(HOME_PREFIX, mac_src=ROUTER_MAC), rfc_home_bu(),
                             ba(1, bid(1), dst=HOA, mac_src=HA_MAC)], [3],
                    lambda: [ra(HOME_PREFIX, mac_src=ROUTER_MAC), rfc_home_bu(),
                             ba(1, bid(1), status=5, dst=HOA, mac_src=HA_MAC)]),
    "MCOA409": Case(lambda: [ra(HOME_PREFIX, mac_src=HA_MAC), *reg(1, bid(1, COA1))], [3],
                    lambda: [ra(HOME_PREFIX, mac_src=HA_MAC), bu(1, bid(1, COA1)), dad(), ba(1, bid(1))]),
    "MCOA410": Case(lambda: [bu(1, bid(1, COA1)), ba(1, bid(1), mac_src=HA_MAC), dad()], [3],
                    # DAD before any binding; later the MN's own DAD and a third node's (a duplicate)
                    lambda: [dad(), bu(1, bid(1, COA1), mac_src=MN_MAC), ba(1, bid(1), mac_src=HA_MAC),
                             dad(mac=MN_MAC), dad(mac=ROUTER_MAC)]),
    "MCOA411": Case(lambda: proxy_nd(), [3], lambda: proxy_nd(answered=True),
                    draft=Case(lambda: proxy_nd(draft=True), [3], lambda: proxy_nd(answered=True, draft=True),
                               DRAFT)),
    "MCOA412": Case(lambda: [*returnhome(), nd(135, "fe80::f:1")], [3],
                    lambda: [*returnhome(status=0), nd(135, "fe80::f:1")],
                    draft=Case(lambda: [*returnhome(draft=True), nd(135, "fe80::f:1")], [3],
                               lambda: [*returnhome(status=0, draft=True), nd(135, "fe80::f:1")], DRAFT)),
    # two frames: one episode at the first; the HA's own delivery and frames before the BA are fine
    "MCOA420": Case(lambda: returned_data(from_router(), from_router()), [4],
                    lambda: [ra(HOME_PREFIX, mac_src=ROUTER_MAC), from_router(), *returnhome(),
                             from_router(mac_src=HA_MAC), from_router(mac_dst=OTHER_MAC)],
                    draft=Case(lambda: returned_data(from_router(), draft=True), [4],
                               lambda: returned_data(from_router(), draft=True, status=0), DRAFT)),
    # to an unknown MAC (twice: one episode); clean: to R and the HA, on-link and multicast
    "MCOA421": Case(lambda: returned_data(to_next_hop(OTHER_MAC), to_next_hop(OTHER_MAC)), [4],
                    lambda: returned_data(to_next_hop(ROUTER_MAC), to_next_hop(HA_MAC),
                                          to_next_hop(OTHER_MAC, dst="2001:db8:a::7"),
                                          to_next_hop(b"\x33\x33\x00\x00\x00\x01", dst="ff02::1")),
                    draft=Case(lambda: returned_data(to_next_hop(OTHER_MAC), draft=True), [4],
                               lambda: returned_data(to_next_hop(OTHER_MAC), draft=True, status=0), DRAFT)),
    "MCOA413": Case(lambda: [rfc_home_bu(), data(src=HOA, dst=CN), ba(1, bid(1), dst=HOA)], [2],
                    lambda: [rfc_home_bu(), ba(1, bid(1), dst=HOA), data(src=HOA, dst=CN)]),
    "MCOA414": Case(lambda: [bu(1, src=HOA, lifetime=0), bu(1, flags="A", dst=CN)], [2],
                    lambda: [bu(1, flags="A", dst=CN), bu(1, src=HOA, lifetime=0)], DRAFT),
    "MCOA415": Case(lambda: [*reg(1, dbid(1, COA1, "C"), dbid(2, COA2, "C")),
                             bu(2, dbid(1), src=HOA, lifetime=0), ba(2, dbid(1), dst=HOA, lifetime=0)], [3],
                    lambda: [*reg(1, dbid(1, COA1, "C"), dbid(2, COA2, "C")),
                             bu(2, dbid(1), src=COA2, lifetime=0), ba(2, dbid(1), dst=COA2, lifetime=0)], DRAFT),
    "MCOA416": Case(lambda: [rfc_home_bu()], [1], lambda: [lla_home_bu()]),
    "MCOA417": Case(lambda: [rfc_home_bu(), ba(1, bid(1), dst=HOA),
                             bu(2, bid(2, HOA, flags=HOME), src=HOA, mac_src=MN_MAC), ba(2, bid(2), dst=HOA)], [4],
                    lambda: [rfc_home_bu(), ba(1, bid(1), dst=HOA), rfc_home_bu(2), ba(2, bid(1), dst=HOA)]),
    "MCOA418": Case(lambda: [lla_home_bu(), nd(135, HOA, src="fe80::a:1", mac_src=HA_MAC),
                             ba(1, bid(1), dst=HOA, mac_src=HA_MAC)], [2],
                    lambda: [lla_home_bu(), ba(1, bid(1), dst=HOA, mac_src=HA_MAC),
                             nd(135, HOA, src="fe80::a:1", mac_src=HA_MAC)]),
    "MCOA419": Case(lambda: [ra(HOME_PREFIX, mac_src=ROUTER_MAC), *returnhome(status=0), nd(136, HOA)], [4],
                    lambda: [ra(HOME_PREFIX, mac_src=HA_MAC), *returnhome(status=0), nd(136, HOA)]),
    # ---------------------------------------------------------------- 5xx return routability / BRR
    "MCOA501": Case(lambda: reg(1, dbid(1, COA1, "C")) + [coti()], [3],
                    lambda: reg(1, dbid(1, COA1, "C")) + [coti(dbid(1))], DRAFT),
    "MCOA502": Case(lambda: [coti(dbid(1, None, "C"))], [1], lambda: [coti(dbid(1))], DRAFT),
    "MCOA503": Case(lambda: [coti(dbid(1)), cot(dbid(2))], [2], lambda: [coti(dbid(1)), cot(dbid(1))], DRAFT),
    "MCOA504": Case(lambda: [coti(dbid(1, None, "C")), cot(dbid(1))], [2],
                    lambda: [coti(dbid(1, None, "C")), cot(dbid(1, status=164))], DRAFT),
    "MCOA505": Case(lambda: [coti(dbid(1)), cot(), bu(1, dbid(1), flags="A", dst=CN)], [3],
                    lambda: [coti(dbid(1)), cot(), bu(1, flags="A", dst=CN)], DRAFT),
    "MCOA506": Case(lambda: reg(1, bid(1, COA1), bid(2, COA2)) + [brr(bid(2)), bu(2, bid(1))], [4],
                    lambda: reg(1, bid(1, COA1), bid(2, COA2)) + [brr(bid(2)), bu(2, bid(2))]),
    "MCOA507": Case(lambda: reg(1, dbid(1, COA1, "C"), dbid(2, COA2, "C"))
                    + [brr(dbid(2)), bu(2, dbid(1, COA1, "C"), dbid(2, COA2, "C"))], [4],
                    lambda: reg(1, dbid(1, COA1, "C"), dbid(2, COA2, "C")) + [brr(dbid(2)), bu(2, dbid(2, COA2, "C"))],
                    DRAFT),
    "MCOA508": Case(lambda: reg(1, bid(1, COA1)) + [brr()], [3], lambda: reg(1, bid(1, COA1)) + [brr(bid(1))]),
    "MCOA509": Case(lambda: care_of_test_then_bu(7), [5], lambda: care_of_test_then_bu(1)),
    "MCOA510": Case(lambda: [coti(bid(1, COA2)), cot(bid(1), dst=COA2)], [2],
                    lambda: [coti(bid(1, COA2)), cot(bid(1))]),
    "MCOA511": Case(lambda: [bu(1, dbid(1), flags="A", dst=CN), ba(1, dbid(1), status=135, src=CN)], [2],
                    lambda: [bu(1, flags="A", dst=CN), ba(1, src=CN), bu(2, dbid(1), flags="A", dst=CN),
                             ba(2, dbid(1), status=135, src=CN)], DRAFT),
    # ---------------------------------------------------------------- 6xx data plane / security
    # §9.3.1: HoTIs from CoA 1 and CoA 2 tunnelled; only CoA 1's is forwarded (frame 4)
    "MCOA512": Case(lambda: [*reg(1, bid(1, COA1), bid(2, COA2)), hoti(outer_src=COA1), hoti(),
                             hoti(outer_src=COA2, cookie=b"2" * 8), brr()], [5],
                    lambda: [*reg(1, bid(1, COA1), bid(2, COA2)), hoti(outer_src=COA1), hoti(),
                             hoti(outer_src=COA2, cookie=b"2" * 8), hoti(cookie=b"2" * 8), brr()]),
    "MCOA601": Case(lambda: reg(1, bid(1, COA1), flags="A", dst=CN) + [data(src=COA2, dst=CN, hao=HOA)], [3],
                    lambda: reg(1, bid(1, COA1), flags="A", dst=CN) + [data(src=COA1, dst=CN, hao=HOA)]),
    "MCOA602": Case(lambda: reg(1, bid(1, COA1)) + [data(src=HOA, dst=CN, outer_src=COA2, outer_dst=HA,
                                                         tunnel="ip6ip6")], [3],
                    lambda: reg(1, bid(1, COA1)) + [data(src=HOA, dst=CN, outer_src=COA1, outer_dst=HA,
                                                         tunnel="ip6ip6")]),
    "MCOA606": Case(lambda: reg(1, bid(1, COA1), flags="A", dst=CN) + [data(src=COA2, dst=CN, hao=HOA)], [3],
                    lambda: reg(1, bid(1, COA1), flags="A", dst=CN) + [data(src=COA2, dst=CN, hao=HOA), be()]),
    "MCOA607": Case(lambda: reg(1, bid(1, COA1)) + [to_mn(COA2)], [3],
                    lambda: reg(1, bid(1, COA1)) + [to_mn(COA1)]),
    "MCOA603": Case(lambda: reg(1, bid(1, COA1)) + [data(src=COA1, dst=HA, hao=HOA)], [3],
                    lambda: reg(1, bid(1, COA1)) + [data(src=HOA, dst=CN, outer_src=COA1, outer_dst=HA,
                                                         tunnel="ip6ip6")]),
    "MCOA604": Case(lambda: reg(1, bid(1, COA1)) + reg(1, bid(1, COA1), hoa=HOA2), [4],
                    lambda: reg(1, bid(1, COA1)) + reg(1, bid(1, COA2), src=COA2, hoa=HOA2)),
    "MCOA605": Case(lambda: reg(1, bid(1, COA1), bid(2, COA2)), [2], lambda: reg(1, bid(1, COA1)),
                    config=CheckerConfig(max_coas_per_hoa=1)),
    "MCOA608": Case(lambda: reg(1, bid(1, COA1)) + [data(src=COA1, dst=CN, hao=HOA)], [3],
                    # the same data already flowed before the HA registration: the CN's binding may be older
                    lambda: [data(src=COA1, dst=CN, hao=HOA)] + reg(1, bid(1, COA1)) + [data(src=COA1, dst=CN, hao=HOA)]),
    "MCOA620": Case(lambda: [bu(1, bid(1, COA2)), ba(1, bid(1)), to_mn(COA1)], [3],
                    lambda: [bu(1, bid(1, COA2)), ba(1, bid(1)), to_mn(COA2)]),
    "MCOA621": Case(lambda: [bu(1, bid(1, COA2), src=COA2, flags="A", dst=CN), be()], [2],
                    lambda: [bu(1, bid(1, COA2), src=COA2, flags="A", dst=CN), data(src=COA2, dst=CN, hao=HOA),
                             be()]),
    # ---------------------------------------------------------------- 7xx DSMIPv6
    "MCOA701": Case(lambda: reg(1, bid(1, COA1), bid(2, V4COA)), [1],
                    lambda: reg(1, bid(2, V4COA)) + reg(2, bid(1, COA1), bid(2, V4COA))),
    "MCOA702": Case(lambda: [bu(1, bid(2, V4COA)), ba(1, bid(2), NAT), bu(2, bid(1, COA1), bid(2, V4COA))], [3],
                    lambda: [bu(1, bid(2, V4COA)), ba(1, bid(2)), bu(2, bid(1, COA1), bid(2, V4COA))]),
    "MCOA703": Case(lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, bid(1), V4ACK)], [2],
                    lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, V4ACK, bid(1))]),
    "MCOA704": Case(lambda: [bu(1, bid(1, COA1)), ba(1, V4ACK, bid(1))], [2],
                    lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, V4ACK, bid(1))]),
    "MCOA705": Case(lambda: [bu(1, bid(2, V4COA)), ba(1, V4ACK, bid(2, status=129), status=129)], [2],
                    lambda: [bu(1, bid(2, V4COA)), ba(1, bid(2, status=129), status=129)]),
    "MCOA706": Case(lambda: [bu(1, V4COA_OPT, bid(1, V4COA))], [1], lambda: [bu(1, bid(1, V4COA))]),
    "MCOA707": Case(lambda: reg(1, bid(2, V4COA)), [1],
                    lambda: [udp_bu(1, bid(2, V4COA), outer_src=V4COA), ba(1, bid(2), dst=HOA)]),
    "MCOA708": Case(lambda: [udp_bu(1, bid(2, V4COA), outer_src=NAT_V4), ba(1, bid(2), dst=HOA)], [2],
                    lambda: [udp_bu(1, bid(2, V4COA), outer_src=NAT_V4), ba(1, bid(2), NAT, dst=HOA)]),
    "MCOA713": Case(lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, bid(1))], [2],
                    lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, V4ACK, bid(1))]),
    "MCOA714": Case(lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, V4ACK_MCOA, bid(1))], [2],
                    lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, V4ACK, bid(1))]),
    "MCOA709": Case(lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, V4ACK, bid(1)), *reg(2, bid(1, COA1)),
                             data(src=V4HOA_ASSIGNED, dst="198.51.100.50")], [3],
                    lambda: [bu(1, V4HOA, bid(1, COA1)), ba(1, V4ACK, bid(1)), bu(2, V4HOA, bid(1, COA1)),
                             ba(2, V4ACK, bid(1)), data(src=V4HOA_ASSIGNED, dst="198.51.100.50")]),
    # ---------------------------------------------------------------- 9xx generic
    "MCOA901": Case(lambda: [bu(1, bid(1, COA1), checksum_ok=False)], [1], lambda: [bu(1, bid(1, COA1))]),
    "MCOA902": Case(lambda: [ba(7, bid(1))], [1], lambda: reg(7, bid(1, COA1))),
    "MCOA903": Case(lambda: [bu(1, bid(1, COA1))], [1], lambda: reg(1, bid(1, COA1)), end=1100.0),
    "MCOA904": Case(lambda: [bu(1, bid(1, COA1)), ba(1, bid(1), lifetime=800)], [2], lambda: reg(1, bid(1, COA1))),
    "MCOA905": Case(lambda: [bu(1, bid(1, COA1), lifetime=8), ba(1, bid(1), lifetime=8),
                             data(src=HOA, dst=CN, outer_src=COA1, outer_dst=HA, tunnel="ip6ip6", at=1100.0)],
                    [3],
                    lambda: [bu(1, bid(1, COA1), lifetime=8), ba(1, bid(1), lifetime=8),
                             data(src=HOA, dst=CN, outer_src=COA1, outer_dst=HA, tunnel="ip6ip6")]),
    "MCOA906": Case(lambda: [bu(1, bid(1, COA1), problems=(Problem("option:35", 60, "option overruns"),))], [1],
                    lambda: [bu(1, bid(1, COA1))]),
    # ---------------------------------------------------------------- 10xx IKEv2
    # §9.2: MPS from the primary CoA 1 answered, from CoA 2 (also registered) not within 3 s
    "MCOA920": Case(lambda: [*reg(1, bid(1, COA1), bid(2, COA2)), mps(identifier=1), mpa(identifier=1),
                             mps(src=COA2, identifier=2), brr(dst=COA2, at=1010.0)], [5],
                    lambda: [*reg(1, bid(1, COA1), bid(2, COA2)), mps(identifier=1), mpa(identifier=1),
                             mps(src=COA2, identifier=2), mpa(dst=COA2, identifier=2, at=1007.0),
                             brr(dst=COA2, at=1010.0)]),
    "MCOA1001": Case(lambda: [ike(IKE_AUTH), ike(INFORMATIONAL, src=COA2)], [2],
                     lambda: [ike(IKE_AUTH), *reg(1, bid(2, COA2), flags="AHK"), ike(INFORMATIONAL, src=COA2)]),
    "MCOA1002": Case(lambda: [ike(IKE_SA_INIT, rspi=0), *reg(1, bid(1, COA1), bid(2, COA2)),
                              *reg(2, bid(1), lifetime=0), esp(src=COA2)], [5],
                     lambda: [ike(IKE_SA_INIT, rspi=0), *reg(1, bid(1, COA1), bid(2, COA2)),
                              *reg(2, bid(1), lifetime=0), ike(IKE_SA_INIT, src=COA2, ispi=0x33, rspi=0),
                              esp(src=COA2)]),
}


def _run(case: Case, packets: list[Packet]):  # noqa: ANN202
    config = case.config
    if config is not None:
        config = CheckerConfig(select=config.select, dialect=case.dialect,  # type: ignore[arg-type]
                               max_coas_per_hoa=config.max_coas_per_hoa)
    return check(*packets, dialect=case.dialect, config=config, end=case.end)  # type: ignore[arg-type]


def test_every_rule_has_a_fixture() -> None:
    assert sorted(CASES) == sorted(r.code for r in RULES)


@pytest.mark.parametrize("code", sorted(r.code for r in RULES))
def test_rule_fires_on_its_violation(code: str) -> None:
    case = CASES.get(code)
    assert case is not None, f"{code} has no fixture"
    assert hits(_run(case, case.violating()), code) == case.frames


BOTH_DIALECTS = sorted(r.code for r in RULES if len(r.dialects) == 2)
# rules of both dialects whose fixture is written in RFC 5648 (the others are draft-05 already)
RFC_FIXTURES_OF_BOTH = [code for code in BOTH_DIALECTS if CASES[code].dialect is RFC]


@pytest.mark.parametrize("code", RFC_FIXTURES_OF_BOTH)
def test_rule_in_the_other_dialect(code: str) -> None:
    """Rules of both dialects: the RFC fixtures re-encoded as draft-05 (to_draft) behave the same."""
    case = CASES[code]
    draft = case.draft or Case(lambda: [to_draft(p) for p in case.violating()], case.frames,
                               lambda: [to_draft(p) for p in case.clean()], DRAFT, case.config, case.end)
    assert hits(_run(draft, draft.violating()), code) == draft.frames
    assert hits(_run(draft, draft.clean()), code) == []


@pytest.mark.parametrize("code", sorted(r.code for r in RULES))
def test_rule_is_quiet_on_its_clean_fixture(code: str) -> None:
    case = CASES.get(code)
    assert case is not None, f"{code} has no fixture"
    assert hits(_run(case, case.clean()), code) == []


# Written by hand from the keywords: (code) -> (severity in draft-05, severity in RFC 5648)
DIALECT_SEVERITIES = {
    "MCOA101": ("error", "warning"),  # draft §2 MUST NOT vs RFC §4.3 SHOULD NOT
    "MCOA106": ("error", "warning"),  # RFC 6089 BID-PRI reuses the bits (I-27)
    "MCOA308": ("warning", "error"),  # draft HA SHOULD 133 vs RFC MUST 133
    "MCOA311": ("warning", "error"),  # draft SHOULD use O vs RFC MUST set O
    "MCOA413": ("error", "warning"),  # draft MUST NOT assign the HoA vs RFC "can configure" after the BA
    "MCOA315": ("error", "warning"),  # draft MUST return BID CONFLICT vs RFC lowercase must/should
    "MCOA506": ("error", "warning"),  # draft MUST put a BID option vs RFC SHOULD "at least"
    "MCOA702": ("error", "warning"),  # draft MUST NOT vs RFC only implied
    "MCOA705": ("error", "warning"),  # draft MUST NOT vs RFC SHOULD NOT
    "MCOA706": ("warning", "error"),  # draft "instead of" vs RFC MUST NOT
    "MCOA708": ("error", "warning"),  # draft MUST send NAT Detection vs RFC (dropped; RFC 5555)
}


@pytest.mark.parametrize("code", sorted(DIALECT_SEVERITIES))
def test_severity_follows_the_dialect_keyword(code: str) -> None:
    case = CASES[code]
    draft_severity, rfc_severity = DIALECT_SEVERITIES[code]
    rfc = {f.severity for f in _run(case, case.violating()) if f.rule == code}
    draft_case = case.draft or Case(lambda: [to_draft(p) for p in case.violating()], case.frames,
                                    case.clean, DRAFT, case.config, case.end)
    draft = {f.severity for f in _run(draft_case, draft_case.violating()) if f.rule == code}
    assert (draft, rfc) == ({draft_severity}, {rfc_severity})


def test_every_dialect_dependent_severity_is_tested() -> None:
    assert sorted(DIALECT_SEVERITIES) == sorted(r.code for r in RULES if r.severity_rfc)
