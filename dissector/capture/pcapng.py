"""pcapng: section headers in either byte order, several interfaces, EPB/SPB/PB packets.

Every Interface Description Block keeps its own link type, ``if_tsresol`` (power of 10 or
power of 2) and ``if_tsoffset``, which is exactly what dpkt's reader does not do. Interface
ids are numbered across the whole file (the second section's first interface follows the
first section's last), as Wireshark does. Blocks of other types are skipped by length.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from dissector.capture.limits import MAX_INTERFACES, MAX_NAME_LENGTH, MAX_RECORD_LENGTH, RawRecord, WalkEnded
from dissector.records import Interface, Problem

SHB = 0x0A0D0D0A
IDB = 0x00000001
PB = 0x00000002  # obsolete Packet Block
SPB = 0x00000003
EPB = 0x00000006

BYTE_ORDER_MAGIC_LE = b"\x4d\x3c\x2b\x1a"
BYTE_ORDER_MAGIC_BE = b"\x1a\x2b\x3c\x4d"

OPT_END = 0
IF_NAME = 2
IF_DESCRIPTION = 3
IF_TSRESOL = 9
IF_TSOFFSET = 14


def is_pcapng_magic(head: bytes) -> bool:
    return len(head) >= 4 and head[:4] == b"\x0a\x0d\x0d\x0a"


def tsresol_divisor(value: int) -> int:
    """Timestamp units per second for an ``if_tsresol`` byte (MSB set: power of 2)."""
    return 2 ** (value & 0x7F) if value & 0x80 else 10**value


def _text(value: bytes) -> str:
    """An interface name or description: decoded, cut to a bounded length (shown escaped by views)."""
    return value[: MAX_NAME_LENGTH * 4].rstrip(b"\0").decode("utf-8", "replace")[:MAX_NAME_LENGTH]


class _Section:
    """What a block walk needs from the current section: byte order and its interfaces."""

    def __init__(self, order: str) -> None:
        self.order = order
        self.header = struct.Struct(order + "II")
        self.epb = struct.Struct(order + "IIIIIII")  # type, length, if, ts hi, ts lo, cap, orig
        self.pb = struct.Struct(order + "IIHHIIII")
        self.u32 = struct.Struct(order + "I")
        # local interface index -> (global id, linktype, units per second, offset seconds, snaplen)
        self.interfaces: list[tuple[int, int, int, int, int]] = []


class PcapngReader:
    """Walks pcapng blocks; keeps the interfaces seen so far and the time of the last packet."""

    def __init__(self, problems: list[Problem], interfaces: dict[int, Interface]) -> None:
        self.problems = problems
        self.interfaces = interfaces
        self.section: _Section | None = None
        self.pos = 0
        self.number = 0
        self.fatal: Problem | None = None
        self.last_time = 0.0  # Simple Packet Blocks carry no time: they reuse the previous one
        # set by RecordWalk.accelerate before a walk starts; taken (and cleared) when it does
        self.accelerator: Any = None

    # ------------------------------------------------------------------ block walk

    def scan(
        self, buf: object, pos: int, end: int, number: int, base: int, on_end: WalkEnded | None = None
    ) -> Iterator[RawRecord]:
        """Yield every complete packet in ``buf[pos:end]``.

        As for :meth:`PcapReader.scan`, ``self.pos`` and ``self.number`` are set when the walk
        ends or the consumer stops (a ``finally`` clause), not per record.
        """
        section = self.section or _Section("<")  # SHB's type reads the same in both orders
        accelerator, self.accelerator = self.accelerator, None
        last_time = self.last_time
        completed = True  # False when the consumer stops early (no end-of-input checks then)
        try:
            while pos + 12 <= end:
                if self.section is not None:
                    # Fast lane: consecutive Enhanced Packet Blocks of described interfaces, with
                    # every check of the general code below; anything else falls through to it.
                    unpack, trailer = section.epb.unpack_from, section.u32.unpack_from
                    interfaces = section.interfaces
                    described = len(interfaces)
                    while pos + 32 <= end:
                        if accelerator is not None:  # counts records itself, stops before others
                            pos, number, last_time = accelerator.pcapng(
                                buf, pos, end, number, last_time, interfaces, section.order == ">"
                            )
                            if pos + 32 > end:
                                break
                        btype, blen, ifid, ts_hi, ts_lo, caplen, wirelen = unpack(buf, pos)  # type: ignore[arg-type]
                        nxt = pos + blen
                        if (
                            btype != EPB
                            or nxt > end
                            or blen & 3
                            or ifid >= described
                            or caplen + 32 > blen
                            or trailer(buf, nxt - 4)[0] != blen  # type: ignore[arg-type]
                        ):
                            break
                        gid, linktype, divisor, offset, _ = interfaces[ifid]
                        last_time = ((ts_hi << 32) | ts_lo) / divisor + offset
                        number += 1
                        data, pos = pos + 28, nxt  # consumed before the yield: see the finally clause
                        yield (number, last_time, gid, linktype, buf, data, caplen, wirelen)
                    if pos + 12 > end:
                        break
                if pos + 28 <= end:
                    btype, blen, ifid, ts_hi, ts_lo, caplen, wirelen = section.epb.unpack_from(buf, pos)  # type: ignore[arg-type]
                else:
                    btype, blen = section.header.unpack_from(buf, pos)  # type: ignore[arg-type]
                    ifid = ts_hi = ts_lo = caplen = wirelen = 0
                if btype == SHB:
                    new_section = self._start_section(buf, pos, base)
                    if new_section is None:
                        return
                    section = new_section
                    btype, blen = section.header.unpack_from(buf, pos)  # type: ignore[arg-type]
                elif self.section is None:
                    self.fatal = Problem("pcapng", base + pos, "first block is not a Section Header Block")
                    return
                if blen < 12 or blen & 3 or blen > MAX_RECORD_LENGTH:
                    self.fatal = Problem(
                        "pcapng", base + pos, f"block length {blen} is invalid; file is corrupt"
                    )
                    return
                nxt = pos + blen
                if nxt > end:
                    return
                if section.u32.unpack_from(buf, nxt - 4)[0] != blen:  # type: ignore[arg-type]
                    self.fatal = Problem("pcapng", base + pos, "block length and trailing length differ")
                    return
                if btype == EPB:
                    if blen < 32 or 32 + ((caplen + 3) & ~3) > blen or ifid >= len(section.interfaces):
                        self._bad_packet_block(
                            base + pos, "enhanced packet block", blen, caplen, ifid, section
                        )
                    else:
                        gid, linktype, divisor, offset, _ = section.interfaces[ifid]
                        last_time = ((ts_hi << 32) | ts_lo) / divisor + offset
                        number += 1
                        data, pos = pos + 28, nxt  # consumed before the yield: see the finally clause
                        yield (number, last_time, gid, linktype, buf, data, caplen, wirelen)
                        continue
                elif btype == SPB:
                    if blen < 16 or not section.interfaces:
                        self._bad_packet_block(base + pos, "simple packet block", blen, 0, 0, section)
                    else:
                        gid, linktype, _, _, snaplen = section.interfaces[0]
                        wirelen = section.u32.unpack_from(buf, pos + 8)[0]  # type: ignore[arg-type]
                        caplen = min(wirelen, blen - 16)
                        if snaplen:
                            caplen = min(caplen, snaplen)
                        number += 1
                        data, pos = pos + 12, nxt
                        yield (number, last_time, gid, linktype, buf, data, caplen, wirelen)
                        continue
                elif btype == PB:
                    _, _, ifid, _, ts_hi, ts_lo, caplen, wirelen = (
                        section.pb.unpack_from(buf, pos) if blen >= 32 else (0,) * 8  # type: ignore[arg-type]
                    )
                    if blen < 32 or 32 + ((caplen + 3) & ~3) > blen or ifid >= len(section.interfaces):
                        self._bad_packet_block(base + pos, "packet block", blen, caplen, ifid, section)
                    else:
                        gid, linktype, divisor, offset, _ = section.interfaces[ifid]
                        last_time = ((ts_hi << 32) | ts_lo) / divisor + offset
                        number += 1
                        data, pos = pos + 28, nxt
                        yield (number, last_time, gid, linktype, buf, data, caplen, wirelen)
                        continue
                elif btype == IDB:
                    self._interface(buf, pos, blen, base, section)
                elif btype == SHB:
                    major = struct.unpack_from(section.order + "H", buf, pos + 12)[0] if blen >= 16 else 0  # type: ignore[arg-type]
                    if major != 1:
                        self.problems.append(
                            Problem("pcapng", base + pos, f"section version {major} is not 1", "warning")
                        )
                # NRB, ISB, DSB, custom and unknown blocks: skipped by length
                pos = nxt
        except GeneratorExit:
            completed = False
            raise
        finally:
            self.pos = pos
            self.number = number
            self.last_time = last_time
            if on_end is not None:
                on_end(completed)

    def describe_tail(self, buf: object, pos: int, end: int) -> str:
        have = end - pos
        if have < 12:
            return f"incomplete pcapng block header ({have} of 12 bytes)"
        order = self.section.order if self.section else "<"
        blen = struct.unpack_from(order + "I", buf, pos + 4)[0]  # type: ignore[arg-type]
        return f"incomplete pcapng block ({have} of {blen} bytes)"

    # ------------------------------------------------------------------ block bodies

    def _start_section(self, buf: object, pos: int, base: int) -> _Section | None:
        """A Section Header Block starts: its byte-order magic decides how to read the rest."""
        magic = bytes(buf[pos + 8 : pos + 12])  # type: ignore[index]
        if magic == BYTE_ORDER_MAGIC_LE:
            order = "<"
        elif magic == BYTE_ORDER_MAGIC_BE:
            order = ">"
        else:
            self.fatal = Problem(
                "pcapng", base + pos, f"bad byte-order magic {magic.hex()} in section header"
            )
            return None
        if self.section is None or self.section.order != order or self.section.interfaces:
            self.section = _Section(order)
        return self.section

    def _interface(self, buf: object, pos: int, blen: int, base: int, section: _Section) -> None:
        order = section.order
        if len(self.interfaces) >= MAX_INTERFACES:  # each one is kept: a flood of them is not
            self.problems.append(Problem("pcapng", base + pos, f"more than {MAX_INTERFACES} interfaces: "
                                                               "interface block ignored"))
            return
        if blen < 20:
            self.problems.append(Problem("pcapng", base + pos, f"interface block too short ({blen} bytes)"))
            linktype, snaplen = 0xFFFF, 0
        else:
            linktype, _, snaplen = struct.unpack_from(order + "HHI", buf, pos + 8)  # type: ignore[arg-type]
        name = description = None
        divisor, offset = 1_000_000, 0
        opt, end = pos + 16, pos + blen - 4
        while opt + 4 <= end:
            code, length = struct.unpack_from(order + "HH", buf, opt)  # type: ignore[arg-type]
            if code == OPT_END:
                break
            value = bytes(buf[opt + 4 : min(opt + 4 + length, end)])  # type: ignore[index]
            if code == IF_NAME:
                name = _text(value)
            elif code == IF_DESCRIPTION:
                description = _text(value)
            elif code == IF_TSRESOL and value:
                divisor = tsresol_divisor(value[0])
            elif code == IF_TSOFFSET and len(value) == 8:
                offset = struct.unpack(order + "q", value)[0]
            opt += 4 + ((length + 3) & ~3)
        gid = len(self.interfaces)
        self.interfaces[gid] = Interface(gid, linktype, name, description, 1 / divisor)
        section.interfaces.append((gid, linktype, divisor, offset, snaplen))

    def _bad_packet_block(
        self, at: int, kind: str, blen: int, caplen: int, ifid: int, section: _Section
    ) -> None:
        minimum = 16 if kind == "simple packet block" else 32
        if blen < minimum:  # its fields would be read from the next block: do not name them
            reason = f"{kind} of {blen} bytes is shorter than its {minimum}-byte minimum; skipped"
        elif kind == "simple packet block" and not section.interfaces:
            reason = f"{kind} before any interface is described; skipped"
        elif ifid >= len(section.interfaces):
            reason = f"{kind} refers to interface {ifid}, which is not described; skipped"
        else:
            reason = f"{kind} of {blen} bytes cannot hold {caplen} captured bytes; skipped"
        self.problems.append(Problem("pcapng", at, reason))
