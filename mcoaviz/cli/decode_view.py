"""Text rendering for `mcoaviz decode`: the packet-list line and the -V detail tree."""

from __future__ import annotations

from dissector.codepoints import BE_STATUS_NAMES, Dialect, ba_status_name, option_name
from dissector.records import (
    AlternateCoA,
    BindingAck,
    BindingAuthData,
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
    LinkLayerAddress,
    MobileNetworkPrefix,
    MobilityOption,
    NATDetection,
    NonceIndices,
    Packet,
    Pad1,
    PadN,
    RawMessage,
    UnknownOption,
)
from mcoaviz.messages import home_address, message_dialect


def _bid_text(option: BindingIdentifier, in_ba: bool) -> str:
    parts = [f"BID {option.bid}"]
    if option.coa:
        parts.append(f"coa={option.coa}")
    if option.flags_byte and option.flags:  # no bit set, no letter (skips the flags lookup)
        parts.append("".join(option.flags))
    if option.status or in_ba:
        parts.append(f"status={option.status}" + (f" ({ba_status_name(option.status, option.dialect)})"
                                                   if option.status else ""))
    return " ".join(parts)


def summary_line(packet: Packet, first_time: float, time_text: str | None = None) -> str:
    """frame, time (``time_text``, default seconds from ``first_time``), src -> dst, type and the
    fields that matter, like Wireshark's list."""
    m = packet.mobility
    assert m is not None
    path = packet.path
    where = f"{path.src} -> {path.dst}"
    if path.tunnel:
        where += f" [{path.tunnel} {path.outer_src} -> {path.outer_dst}]"
    when = f"{packet.time - first_time:.6f}" if time_text is None else time_text
    text = [f"{packet.frame:>6} {when:>12}  {where}  {m.type_name}"]
    body = m.body
    if isinstance(body, BindingUpdate):
        text.append(f"seq={body.seq} lifetime={body.lifetime}s")
        if body.flags:
            text.append("flags=" + "".join(body.flags))
    elif isinstance(body, BindingAck):
        name = ba_status_name(body.status, message_dialect(packet))
        text.append(f"seq={body.seq} status={body.status} ({name}) lifetime={body.lifetime}s")
        if body.flags:
            text.append("flags=" + "".join(body.flags))
    elif isinstance(body, BindingError):
        text.append(f"status={body.status} ({BE_STATUS_NAMES.get(body.status, 'unknown')}) "
                    f"hoa={body.home_address}")
    hoa = home_address(packet)
    if path.home_address_option or path.routing_type2:
        text.append(f"hoa={hoa}")
    bids = [_bid_text(b, isinstance(body, BindingAck)) for b in m.bids]
    if bids:
        text.append("[" + "; ".join(bids) + "]")
    if m.checksum_ok is False:
        text.append("[bad checksum]")
    if packet.malformed:
        text.append("[malformed]")
    return "  ".join(text)


def option_text(option: MobilityOption) -> str:
    if isinstance(option, BindingIdentifier):  # the two options of every bulk message first
        return _bid_option_text(option)
    head = f"{option_name(option.type, -1)} ({option.type}) at MH offset {option.offset}"
    if isinstance(option, PadN):
        return f"{head}: {option.length} bytes" + (" [non-zero padding]" if option.nonzero_padding else "")
    if isinstance(option, Pad1):
        return head
    if isinstance(option, BindingRefreshAdvice):
        return f"{head}: refresh interval {option.interval} s"
    if isinstance(option, (AlternateCoA, IPv4CareOfAddress)):
        return f"{head}: {option.address}"
    if isinstance(option, NonceIndices):
        return f"{head}: home nonce {option.home_nonce_index}, care-of nonce {option.careof_nonce_index}"
    if isinstance(option, BindingAuthData):
        return f"{head}: authenticator {option.authenticator.hex()}"
    if isinstance(option, MobileNetworkPrefix):
        return f"{head}: {option.prefix}/{option.prefix_length}"
    if isinstance(option, LinkLayerAddress):
        return f"{head}: option code {option.option_code}, {option.address.hex(':')}"
    if isinstance(option, IPv4HomeAddress):
        return f"{head}: {option.address}/{option.prefix_length}" + (" P" if option.p_flag else "")
    if isinstance(option, IPv4AddressAck):
        return f"{head}: status {option.status}, {option.address}/{option.prefix_length}"
    if isinstance(option, NATDetection):
        return f"{head}: F={int(option.f_flag)}, refresh {option.refresh_time} s"
    if isinstance(option, UnknownOption):
        return f"{head}: {len(option.data)} bytes {option.data.hex()}"
    return head


_DIALECT_VALUES = {dialect: dialect.value for dialect in Dialect}  # Enum.value is a slow descriptor
_VERDICTS = {True: "correct", False: "INCORRECT", None: "not verified"}  # checksum_ok


def _bid_option_text(option: BindingIdentifier) -> str:
    flags = ("".join(option.flags) if option.flags_byte else "") or "none"
    coa = option.coa or "(none)"
    reserved = option.reserved_bits if option.flags_byte else 0
    reserved_text = f", reserved bits 0x{reserved:02x}" if reserved else ""
    return (f"Binding Identifier ({option.type}) at MH offset {option.offset}: Length {option.length}, "
            f"BID {option.bid}, Status {option.status}, flags 0x{option.flags_byte:02x} [{flags}] "
            f"({_DIALECT_VALUES[option.dialect]}){reserved_text}, CoA {coa}")


def detail_lines(packet: Packet) -> list[str]:
    """A Wireshark-like detail tree for one message."""
    m = packet.mobility
    assert m is not None
    path = packet.path
    lines = [f"  Frame {packet.frame}: {packet.wire_length} bytes on wire, interface {packet.interface}, "
             f"time {packet.time:.6f}"]
    if path.tunnel:
        lines.append(f"  Outer: {path.outer_src} -> {path.outer_dst} ({path.tunnel}"
                     + (f", UDP {path.udp_sport} -> {path.udp_dport})" if path.udp_sport else ")"))
    lines.append(f"  IP: {path.src} -> {path.dst}")
    if path.home_address_option:
        lines.append(f"    Home Address option: {path.home_address_option}")
    if path.routing_type2:
        lines.append(f"    Type 2 Routing Header: {path.routing_type2}")
    if packet.esp:
        lines.append(f"    ESP: SPI 0x{packet.esp.spi:08x}, sequence {packet.esp.sequence}"
                     + (" (NULL, decoded)" if packet.esp.null_decoded else ""))
    verdict = _VERDICTS[m.checksum_ok]
    lines.append(f"  Mobility Header: {m.type_name} (type {m.mh_type}), Payload Proto {m.payload_proto}, "
                 f"length {m.header_len} bytes, checksum 0x{m.checksum:04x} [{verdict}]")
    lines += ["    " + line for line in _body_lines(m.body, message_dialect(packet))]
    if m.options:
        lines.append("    Mobility Options")
        lines += ["      " + option_text(o) for o in m.options]
    for problem in packet.problems:
        lines.append(f"  [{problem.severity}] {problem.layer} at offset {problem.offset}: {problem.reason}")
    return lines


def _body_lines(body: object, dialect: Dialect) -> list[str]:
    if body is None:
        return ["(fixed part not readable)"]
    if isinstance(body, BindingUpdate):
        return [f"Sequence: {body.seq}", f"Flags: 0x{body.flags_word:04x} [{''.join(body.flags)}]",
                f"Lifetime: {body.lifetime} s ({body.lifetime // 4} x 4 s)"]
    if isinstance(body, BindingAck):
        name = ba_status_name(body.status, dialect)
        return [f"Status: {body.status} ({name})", f"Flags: 0x{body.flags_byte:02x} [{''.join(body.flags)}]",
                f"Sequence: {body.seq}", f"Lifetime: {body.lifetime} s ({body.lifetime // 4} x 4 s)"]
    if isinstance(body, BindingError):
        return [f"Status: {body.status} ({BE_STATUS_NAMES.get(body.status, 'unknown')})",
                f"Home Address: {body.home_address}"]
    if isinstance(body, (HomeTestInit, CareOfTestInit)):
        return [f"Init Cookie: {body.cookie.hex()}"]
    if isinstance(body, (HomeTest, CareOfTest)):
        return [f"Nonce Index: {body.nonce_index}", f"Init Cookie: {body.cookie.hex()}",
                f"Keygen Token: {body.keygen_token.hex()}"]
    if isinstance(body, RawMessage):
        return [f"Message Data: {len(body.data)} bytes {body.data[:32].hex()}"]
    return []
