"""Binding Update processing shared by the home agent and the correspondent node.

Follows draft §6.3 and RFC 5648 §6.2 per the simulation's dialect, with the interpretations of
draft05-vs-rfc5648.md §5:

* no BID option: one regular binding replaces everything (lifetime > 0) or all are deleted;
* Length not 4/8/20 (or, draft, C without a CoA / a CoA without C): 164 for the whole BU;
* more than one BID and bulk not supported (always at a CN): 168 for the whole BU;
* lifetime 0: per BID delete, unknown BID -> 133; draft H (0x20) -> home binding (I-13/I-14);
* O (RFC: BU header 0x0040 with P=0; draft: option 0x40) removes every binding first;
* a regular binding and a BID BU without O: RFC 165 and no change (I-8); draft BID CONFLICT
  (165 by I-2): regular binding removed, BID bindings installed, unconfirmed (I-7);
* CoA: RFC Length 20/8 -> the field, Length 4 -> the stored CoA or 167 (I-6); draft C -> the
  field, else Alt-CoA or the IPv6 source (I-5); an IPv4 CoA that differs from the outer IPv4
  source is replaced by the outer source (NAT, I-22) and the BA carries NAT Detection;
* per-BID statuses with NOTCOMPLETE (4) at the HA; a CN puts the status in the BA only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dissector.codepoints import Dialect
from dissector.encode import binding_ack
from dissector.records import (
    AlternateCoA,
    BindingAuthData,
    BindingIdentifier,
    BindingRefreshAdvice,
    BindingUpdate,
    IPv4AddressAck,
    IPv4HomeAddress,
    MobileNetworkPrefix,
    MobilityOption,
    NATDetection,
    UnknownOption,
)
from dissector.sequence import seq_newer
from mcoaviz.simulate.bindings import BindingCache
from mcoaviz.simulate.messages import MobilitySpec
from mcoaviz.simulate.model import Simulation, Transmission
from mcoaviz.simulate.network import Iface
from mcoaviz.simulate.node import Node, Received

MALFORMED, BID_CONFLICT_OR_NON_MCOA, UNKNOWN_COA, BULK_REFUSED = 164, 165, 167, 168
NOT_HOME_AGENT, OUT_OF_WINDOW, INSUFFICIENT_RESOURCES = 133, 135, 130
NOTCOMPLETE, RETURNHOME = 4, 5
DSMIP_PORT = 4191


@dataclass
class RegistrarPolicy:
    mcoa: bool = True  # False: a legacy RFC 6275 node that ignores the BID option
    bulk: bool = True
    max_lifetime: int = 600  # seconds
    only_router: bool = True  # home link: HA is the only router (topology a) -> status 0
    omit_bid_in_ba: bool = False
    max_bindings: int | None = None  # per HoA; further new BIDs get 130 (insufficient resources)
    dad: bool = True  # HA: Duplicate Address Detection for a HoA without bindings (6275 §10.3.1)
    # RFC: accept a Length-4 BID option for a BID it does not hold, with the BU's source as the CoA
    # (a deviating node: RFC §6.2 answers 167; the analyser reads it as I-6 does)
    accept_unknown_bid_without_coa: bool = False


@dataclass
class _Outcome:
    option: BindingIdentifier
    status: int
    coa: str | None = None
    action: str = "install"  # "install" | "delete" | "home" | "none"
    home: bool = False
    udp_port: int | None = None


@dataclass
class _Reply:
    status: int
    lifetime: int
    bid_options: list[BindingIdentifier]
    extra: list[MobilityOption] = field(default_factory=list)
    nemo: bool = False


class Registrar(Node):
    """A node that keeps a binding cache: answers BUs per §6.3 / §6.2."""

    role = "registrar"

    def __init__(self, sim: Simulation, name: str, mac_base: int, address: str) -> None:
        super().__init__(sim, name, mac_base)
        self.address = address
        self.policy = RegistrarPolicy()
        self.cache = BindingCache(sim, address, self.role)
        self.last_seq: dict[str, int] = {}
        self.esp_seq = 0
        self.serving: str | None = None  # address of the mobile node being answered

    @property
    def dialect(self) -> Dialect:
        """The dialect of the mobile node being answered (each MN may have its own: I-1)."""
        return self.sim.dialect_of(self.serving)

    def receive_mh(self, message: Received) -> None:
        if isinstance(message.spec.body, BindingUpdate):
            self.sim.after(self.sim.processing_delay(), lambda: self.process_bu(message))

    # ----------------------------------------------------------------- replying
    def reply_iface(self, message: Received) -> Iface:
        return message.iface

    def send_ba(self, message: Received, reply: _Reply, seq: int) -> Transmission:
        spec = message.spec
        hoa = spec.hao or spec.src
        options: list[MobilityOption] = list(reply.extra)
        if not self.policy.omit_bid_in_ba:
            options += reply.bid_options
        if self.role == "home-agent" and reply.status < 128 and reply.lifetime:
            # RFC 6275 §6.2.4: tell the MN when to refresh (it refreshes at 75 % anyway)
            options.append(BindingRefreshAdvice(0, reply.lifetime * 3 // 4 // 4 * 4))
        options += self.ba_auth_options()
        letters: tuple[str, ...] = ("K",) if self.role == "home-agent" and self.sim.esp else ()
        if reply.nemo:
            letters += ("R",)
        body = binding_ack(reply.status, seq, reply.lifetime, *letters)
        src_iface = self.reply_iface(message)
        outer = message.outer_ipv4
        esp = self.next_esp() if self.role == "home-agent" and self.sim.esp else None
        if outer is not None:  # DSMIPv6: back over UDP to where the BU came from (after NAT)
            ba = MobilitySpec(
                body,
                self.address,
                hoa,
                tuple(options),
                esp=esp,
                udp=(self.ipv4_address(), outer[0], DSMIP_PORT, outer[1]),
            )
        elif spec.hao is not None:
            ba = MobilitySpec(body, self.address, spec.src, tuple(options), rh2=hoa, esp=esp)
        else:
            ba = MobilitySpec(body, self.address, spec.src, tuple(options), esp=esp)
        return self.send_mh(ba, src_iface, message.sender)

    def ba_auth_options(self) -> list[MobilityOption]:
        return []

    def next_esp(self) -> tuple[int, int]:
        self.esp_seq += 1
        return (0x2001, self.esp_seq)

    def ipv4_address(self) -> str:
        raise NotImplementedError

    def grant(self, requested: int) -> int:
        return min(requested, self.policy.max_lifetime) // 4 * 4

    # ----------------------------------------------------------------- §6.3 / §6.2
    def process_bu(self, message: Received) -> None:
        spec = message.spec
        bu = spec.body
        assert isinstance(bu, BindingUpdate)
        hoa = spec.hao or spec.src
        self.serving = hoa
        bids = [o for o in spec.options if isinstance(o, BindingIdentifier)]
        copies = [self._copy(b, 0) for b in bids]
        last = self.last_seq.get(hoa)
        if last is not None and not seq_newer(bu.seq, last):
            self.send_ba(message, _Reply(OUT_OF_WINDOW, 0, copies), last)
            return
        raw_bids = [o for o in spec.options if isinstance(o, UnknownOption) and o.type == self.sim.bid_type]
        if not (bids or raw_bids) or not self.policy.mcoa:
            self._regular(message, hoa)
            return
        candidates: list[BindingIdentifier | UnknownOption] = [*bids, *raw_bids]
        for option in candidates:
            if isinstance(option, UnknownOption) or self._malformed(option):
                self.last_seq[hoa] = bu.seq
                self.send_ba(message, _Reply(MALFORMED, 0, copies), bu.seq)
                return
        if len(bids) > 1 and not (self.policy.bulk and self.role == "home-agent"):
            self.last_seq[hoa] = bu.seq
            self.send_ba(message, _Reply(BULK_REFUSED, 0, copies), bu.seq)
            return
        self.last_seq[hoa] = bu.seq
        if bu.lifetime == 0:
            self._deregister(message, hoa, bids)
        else:
            self._register(message, hoa, bids)

    def _copy(self, option: BindingIdentifier, status: int) -> BindingIdentifier:
        """The BA copy of a BU's BID option: same BID and flags, CoA omitted (C/D cleared)."""
        flags = option.flags_byte & (0x60 if self.dialect is Dialect.DRAFT05 else 0xFF)
        return replace(option, length=4, coa=None, status=status, flags_byte=flags)

    def _malformed(self, option: BindingIdentifier) -> bool:
        if option.length not in (4, 8, 20):
            return True
        if self.dialect is Dialect.DRAFT05:
            return bool(option.flags_byte & 0x80) != (option.coa is not None)
        return False

    def _source_coa(self, message: Received) -> str:
        spec = message.spec
        alt = next((o.address for o in spec.options if isinstance(o, AlternateCoA)), None)
        if message.outer_ipv4 is not None:
            return message.outer_ipv4[0]
        return alt or spec.src

    def _regular(self, message: Received, hoa: str) -> None:
        bu = message.spec.body
        assert isinstance(bu, BindingUpdate)
        self.last_seq[hoa] = bu.seq
        lifetime = self.grant(bu.lifetime) if bu.lifetime else 0
        extra, port = self._ipv4_extras(message, None)
        tx = self.send_ba(message, _Reply(0, lifetime, [], extra), bu.seq)
        if bu.lifetime == 0 or self._source_coa(message) == hoa:  # 6275 §9.5.1: CoA = HoA deletes
            self.cache.remove_all(hoa, "deregistered", tx)
            return
        for bid in [b for b in self.cache.of(hoa) if b is not None]:
            self.cache.remove(hoa, bid, "overwritten", tx)
        self.cache.install(hoa, None, self._source_coa(message), lifetime, tx, udp_port=port)

    def _ipv4_extras(self, message: Received, claimed: str | None) -> tuple[list[MobilityOption], int | None]:
        """IPv4AA (first, §8.2) when an IPv4 HoA was requested; NAT Detection when the outer
        IPv4 source differs from the claimed IPv4 CoA (RFC 5555 §4.2)."""
        extra: list[MobilityOption] = []
        request = next((o for o in message.spec.options if isinstance(o, IPv4HomeAddress)), None)
        if request is not None:
            extra.append(IPv4AddressAck(0, 0, 32, self.assign_ipv4_hoa(request.address)))
        outer = message.outer_ipv4
        if outer is None:
            return extra, None
        nat = claimed is not None and claimed != outer[0]
        extra.append(NATDetection(0, nat, 110 if nat else 0xFFFFFFFF))
        return extra, outer[1]

    def assign_ipv4_hoa(self, requested: str) -> str:
        """0.0.0.0 asks for a dynamic IPv4 home address (RFC 5555 §3.1.1): hand one out."""
        return "198.51.100.100" if requested == "0.0.0.0" else requested

    def _deregister(self, message: Received, hoa: str, bids: list[BindingIdentifier]) -> None:
        bu = message.spec.body
        assert isinstance(bu, BindingUpdate)
        known = self.cache.of(hoa)
        outcomes = []
        for option in bids:
            draft_home = (
                self.dialect is Dialect.DRAFT05
                and self.role == "home-agent"
                and bool(option.flags_byte & 0x20)
            )
            if draft_home:
                status = 0 if self.policy.only_router else RETURNHOME
                outcomes.append(_Outcome(option, status, hoa, "home", home=True))
            elif option.bid in known:
                outcomes.append(_Outcome(option, 0, None, "delete"))
            else:
                outcomes.append(_Outcome(option, NOT_HOME_AGENT, None, "none"))
        tx = self._answer(message, bu, outcomes, 0, conflict=False)
        for outcome in outcomes:
            if outcome.status >= 128 and self._ba_rejects_all(outcomes):
                continue
            if outcome.action == "delete" and outcome.status < 128:
                self.cache.remove(hoa, outcome.option.bid, "deregistered", tx)
            elif outcome.action == "home":
                self.cache.install(hoa, outcome.option.bid, hoa, None, tx, home=True)

    @staticmethod
    def _ba_rejects_all(outcomes: list[_Outcome]) -> bool:
        return all(o.status >= 128 for o in outcomes)

    def _register(self, message: Received, hoa: str, bids: list[BindingIdentifier]) -> None:
        spec = message.spec
        bu = spec.body
        assert isinstance(bu, BindingUpdate)
        draft = self.dialect is Dialect.DRAFT05
        if draft:
            overwrite = any(o.flags_byte & 0x40 for o in bids)
        else:
            overwrite = bool(bu.flags_word & 0x0040) and not bu.flags_word & 0x0200
        known = self.cache.of(hoa)
        conflict = False
        if None in known and not overwrite:
            if not draft:
                self.send_ba(
                    message, _Reply(BID_CONFLICT_OR_NON_MCOA, 0, [self._copy(b, 0) for b in bids]), bu.seq
                )
                return
            conflict = True
        lifetime = self.grant(bu.lifetime)
        outcomes = []
        claimed_v4 = None
        for option in bids:
            home = False
            if not draft:
                if option.coa is None:
                    if option.bid in known and not overwrite:
                        coa: str | None = known[option.bid].coa
                    elif self.policy.accept_unknown_bid_without_coa:
                        coa = self._source_coa(message)
                    else:
                        outcomes.append(_Outcome(option, UNKNOWN_COA, None, "none"))
                        continue
                else:
                    coa = option.coa
                home = self.role == "home-agent" and bool(option.flags_byte & 0x80) and coa == hoa
            else:
                coa = option.coa if option.flags_byte & 0x80 and self.role == "home-agent" else None
                coa = coa or self._source_coa(message)
            port = None
            if coa is not None and ":" not in coa:
                claimed_v4 = coa
                if message.outer_ipv4 is not None:
                    coa, port = message.outer_ipv4
            status = RETURNHOME if home and not self.policy.only_router else 0
            room = self.policy.max_bindings
            if room is not None and option.bid not in known:
                in_use = len(known) + sum(1 for o in outcomes if o.status < 128 and o.option.bid not in known)
                if overwrite:
                    in_use = sum(1 for o in outcomes if o.status < 128)
                if in_use >= room:
                    outcomes.append(_Outcome(option, INSUFFICIENT_RESOURCES, None, "none"))
                    continue
            outcomes.append(_Outcome(option, status, coa, "install", home=home, udp_port=port))
        prefixes = tuple(
            f"{o.prefix}/{o.prefix_length}" for o in spec.options if isinstance(o, MobileNetworkPrefix)
        )
        extra, _ = self._ipv4_extras(message, claimed_v4)
        tx = self._answer(
            message, bu, outcomes, lifetime, conflict=conflict, extra=extra, nemo=bool(bu.flags_word & 0x0400)
        )
        accepted = [o for o in outcomes if o.status < 128]
        if not accepted:
            return
        if overwrite:
            self.cache.remove_all(hoa, "overwritten", tx)
        if conflict:
            self.cache.remove(hoa, None, "overwritten", tx)
        for outcome in accepted:
            assert outcome.coa is not None
            self.cache.install(
                hoa,
                outcome.option.bid,
                outcome.coa,
                lifetime,
                tx,
                home=outcome.home,
                confirmed=not conflict,
                udp_port=outcome.udp_port,
                prefixes=prefixes,
            )

    def _answer(
        self,
        message: Received,
        bu: BindingUpdate,
        outcomes: list[_Outcome],
        lifetime: int,
        *,
        conflict: bool,
        extra: list[MobilityOption] | None = None,
        nemo: bool = False,
    ) -> Transmission:
        rejected = [o for o in outcomes if o.status >= 128]
        accepted = [o for o in outcomes if o.status < 128]
        draft = self.dialect is Dialect.DRAFT05
        per_bid = {id(o): 0 for o in outcomes}
        if self.role != "home-agent":
            status = rejected[0].status if rejected and not accepted else 0
        elif not rejected:
            special = [o.status for o in accepted if o.status]
            if special and draft:
                per_bid.update({id(o): o.status for o in accepted})
                status = 0
            else:
                status = special[0] if special else 0
            if conflict:
                status = BID_CONFLICT_OR_NON_MCOA
        elif not accepted:
            status = rejected[0].status
        else:
            status = NOTCOMPLETE
            per_bid.update({id(o): o.status for o in outcomes})
        copies = [self._copy(o.option, per_bid[id(o)]) for o in outcomes]
        granted = lifetime if status < 128 else 0
        return self.send_ba(message, _Reply(status, granted, copies, extra or [], nemo), bu.seq)


def auth_data(*parts: bytes) -> BindingAuthData:
    """A deterministic 96-bit authenticator (a stand-in for RFC 6275 §5.2.6)."""
    import hashlib

    return BindingAuthData(0, hashlib.sha1(b"".join(parts)).digest()[:12])
