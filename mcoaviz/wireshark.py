"""Wireshark as a second opinion: its dissectors, through pyshark, on the signalling frames only.

``second_opinion(capture, frames, dialect)`` copies the given frames (by frame number) into a
temporary pcapng, so tshark dissects those frames and no bulk data, runs it through
``pyshark.FileCapture`` and returns findings in the export shape with ``"source": "wireshark"``:

* every Expert Info Wireshark raises in those frames (Malformed, invalid option length, bad
  checksums where Wireshark verifies them), severity mapped error/warning/info;
* every field where Wireshark and mcoaviz decode a Mobility Header message differently, as an info
  finding naming both values; the Wireshark limitations of protocol-facts.md §5 are named as such
  (rule ``WS-KNOWN``), anything else is ``WS-DIFF``.

tshark is run as the oracle tests run it: DSMIPv6 UDP 4191 decoded as IPv6 (Wireshark does not
register the port, §5.3), ESP-NULL heuristics on, IPv4/UDP checksum verification on. Wireshark
sees the frames without their neighbours, so it cannot reassemble a Mobility Header sent in
IPv6 fragments (mcoaviz's message frame is then the last fragment only).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dissector.capture import record_to_frame
from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.dialect import with_dialect
from dissector.records import MobilityMessage
from mcoaviz.safetext import printable
from mcoaviz.simulate.pcapng import InterfaceSpec, enhanced_packet, interface_description, section_header
from mcoaviz.sources import open_capture
from mcoaviz.wireshark_compare import Fields, compare_message

if TYPE_CHECKING:
    from mcoaviz.pipeline import Analysis

INSTALL_HINT = ("tshark (Wireshark's command-line tool) is needed for --wireshark: install it with "
                "`apt-get install tshark` (Debian/Ubuntu), `dnf install wireshark-cli` (Fedora) or "
                "`brew install wireshark` (macOS)")
DECODE_AS = {"udp.port==4191": "ipv6"}
# ESP sequence analysis is off: every capture point sees the same ESP packets, and Wireshark's
# per-SPI tracking across interfaces would report each repeat as a wrong sequence number.
PREFERENCES = {"esp.enable_null_encryption_decode_heuristic": "TRUE", "esp.do_esp_sequence_analysis": "FALSE",
               "ip.check_checksum": "TRUE", "udp.check_checksum": "TRUE"}
# _ws.expert.severity values (epan/proto.h PI_*); comments (PI_COMMENT) and chat are not findings.
SEVERITY = {0x00800000: "error", 0x00600000: "warning", 0x00400000: "info"}
RULES = {  # rule -> (name, summary) for the check view
    "WS-EXPERT": ("WiresharkExpertInfo", "Wireshark's dissectors raised an Expert Info"),
    "WS-KNOWN": ("WiresharkKnownDifference", "Wireshark decodes differently: a documented limitation of it"),
    "WS-DIFF": ("WiresharkDisagrees", "Wireshark decodes a Mobility Header field differently"),
}


class WiresharkUnavailable(Exception):
    """tshark cannot be run (missing, or it failed): a one-line message for the user."""


@dataclass(slots=True)
class WiresharkFrame:
    number: int
    fields: Fields = field(default_factory=dict)  # mip6.* abbreviation -> values in packet order
    experts: list[tuple[str, str, str]] = field(default_factory=list)  # (severity, group, message)
    snapped: bool = False  # "Packet size limited during capture": Wireshark stopped at the snap length

    @property
    def cut_short(self) -> bool:
        """Wireshark stopped dissecting early, so fields it lacks are not disagreements."""
        return self.snapped or any(group == "Malformed" for _, group, _ in self.experts)


def tshark_path() -> str:
    path = shutil.which("tshark")
    if path is None:
        raise WiresharkUnavailable(INSTALL_HINT)
    return path


def read_wireshark(capture: str | PathLike[str]) -> dict[int, WiresharkFrame]:
    """Wireshark's view of every frame of ``capture``: its mip6 fields and Expert Infos."""
    import asyncio

    import pyshark  # imported here: only --wireshark needs it, and it pulls in asyncio machinery

    try:  # pyshark runs tshark on this thread's event loop and raises when there is none
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:  # e.g. after an earlier asyncio.run() (the TUI) closed and unset it
        asyncio.set_event_loop(asyncio.new_event_loop())
    found: dict[int, WiresharkFrame] = {}
    capture_obj = pyshark.FileCapture(str(capture), keep_packets=False, decode_as=DECODE_AS,
                                      override_prefs=PREFERENCES, tshark_path=tshark_path())
    try:
        for packet in capture_obj:
            view = _frame_view(packet)
            found[view.number] = view
    except Exception as exc:  # pyshark raises its own types for a tshark crash or bad output
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise WiresharkUnavailable(f"tshark failed on {capture}: {reason}") from exc
    finally:
        capture_obj.close()
    return found


def _frame_view(packet: Any) -> WiresharkFrame:
    view = WiresharkFrame(int(packet.number))
    messages: list[str] = []
    severities: list[int] = []
    groups: list[str] = []
    for layer in packet.layers:
        view.snapped = view.snapped or layer.layer_name == "_ws.short"
        for name in layer.field_names:
            for item in layer.get_field(name).all_fields:
                abbrev = item.name or ""
                if abbrev.startswith("mip6."):
                    view.fields.setdefault(abbrev, []).append(item.show or "")
                elif abbrev == "_ws.expert.message":
                    messages.append(item.show or "")
                elif abbrev == "_ws.expert.severity":
                    severities.append(int(item.show or 0))
                elif abbrev == "_ws.expert.group":
                    groups.append(item.showname_value or item.show or "")
    for message, severity, group in zip(messages, severities, groups, strict=False):
        if severity in SEVERITY:
            view.experts.append((SEVERITY[severity], group, message))
    return view


def extract_frames(capture: str | PathLike[str], frames: Iterable[int], into: Path, dialect: Dialect,
                   bid_type: int = 35, per_frame: Mapping[int, Dialect] | None = None,
                   ) -> tuple[list[int], dict[int, MobilityMessage]]:
    """Copy ``frames`` of ``capture`` into the pcapng ``into`` (in capture order, interfaces and
    original lengths kept) and decode their Mobility Headers, each in ``per_frame``'s dialect
    (its (MN, peer) pair's), else ``dialect``. Returns the frame numbers in the order written
    (the k-th packet of ``into`` is frame ``numbers[k - 1]``) and mcoaviz's messages."""
    per_frame = per_frame or {}
    wanted = set(frames)
    options = DecodeOptions(dialect=dialect, bid_type=bid_type)
    numbers: list[int] = []
    messages: dict[int, MobilityMessage] = {}
    blocks: list[bytes] = []
    interfaces: dict[int, InterfaceSpec] = {}
    with open_capture(capture) as source:
        for record in source.records():
            if record[0] not in wanted:
                continue
            frame = record_to_frame(record)
            if frame.interface not in interfaces:
                known = source.interfaces.get(frame.interface)
                name = (known.name if known else None) or f"interface {frame.interface}"
                interfaces[frame.interface] = InterfaceSpec(name, frame.linktype)
            index = list(interfaces).index(frame.interface)
            blocks.append(enhanced_packet(index, round(frame.time * 1e9), frame.data,
                                          original_length=frame.wire_length))
            numbers.append(frame.number)
            packet = with_dialect(decode_frame(frame, options), per_frame.get(frame.number, dialect))
            if packet.mobility is not None:
                messages[frame.number] = packet.mobility
    with into.open("wb") as out:
        out.write(section_header("mcoaviz check --wireshark"))
        for spec in interfaces.values():
            out.write(interface_description(spec))
        for block in blocks:
            out.write(block)
    return numbers, messages


def _finding(rule: str, severity: str, frame: int, message: str, section: str) -> dict[str, Any]:
    return {"rule": rule, "section": section, "severity": severity, "frame": frame, "message": message,
            "rfc_section": None, "time": None, "hoa": None, "bid": None, "name": RULES[rule][0],
            "summary": RULES[rule][1], "source": "wireshark"}


def second_opinion(capture: str | PathLike[str], frames: Iterable[int], dialect: Dialect,
                   bid_type: int = 35, per_frame: Mapping[int, Dialect] | None = None,
                   ) -> list[dict[str, Any]]:
    """Wireshark's Expert Infos and decoding differences for the Mobility Header ``frames``
    (read in ``per_frame``'s dialect where given, else ``dialect``)."""
    per_frame = per_frame or {}
    if str(capture) == "-" or not Path(capture).is_file():
        raise WiresharkUnavailable("--wireshark needs a capture file (tshark reads it again), not a pipe")
    with tempfile.TemporaryDirectory(prefix="mcoaviz-wireshark-") as folder:
        subset = Path(folder) / "signalling.pcapng"
        numbers, ours = extract_frames(capture, frames, subset, dialect, bid_type, per_frame)
        by_position = read_wireshark(subset) if numbers else {}
    theirs = {numbers[position - 1]: view for position, view in by_position.items()}
    findings: list[dict[str, Any]] = []
    for number in numbers:
        view = theirs.get(number, WiresharkFrame(number))
        for severity, group, text in view.experts:  # Wireshark's text can quote the capture
            section = printable(group, 32) or "Wireshark"
            findings.append(_finding("WS-EXPERT", severity, number, f"Wireshark: {printable(text)}", section))
        message = ours.get(number)
        if message is None:
            continue
        read_as = per_frame.get(number, dialect)
        for difference in compare_message(message, view.fields, read_as, cut_short=view.cut_short):
            rule = "WS-KNOWN" if difference.known else "WS-DIFF"
            text = printable(difference.describe(), 512)
            findings.append(_finding(rule, "info", number, text, "Wireshark"))
    return findings


def analysis_second_opinion(capture: str | PathLike[str], analysis: Analysis,
                            bid_type: int = 35) -> list[dict[str, Any]]:
    """``second_opinion`` on the frames where ``analysis`` (a pipeline Analysis) found a Mobility
    Header, each in the dialect of its (MN, peer) pair (``analysis.dialects``), else the capture's."""
    tshark_path()  # fail with the install hint before copying frames
    frames = [row["frame"] for row in analysis.messages]
    dialect = Dialect(analysis.capture.get("dialect") or Dialect.RFC5648.value)
    return second_opinion(capture, frames, dialect, bid_type, frame_dialects(analysis))


def frame_dialects(analysis: Analysis) -> dict[int, Dialect]:
    """Message frame -> the dialect of its (MN, peer) pair, from the export's tables: the pair is
    (home address, destination) of what the MN sends, (home address, source) of what it gets;
    a CoTI / CoT is joined to its MN through the care-of addresses of that MN's BUs."""
    pairs = {(d["hoa"], d["peer"]): Dialect(d["dialect"]) for d in analysis.dialects if d.get("dialect")}
    home_of: dict[str, str] = {}
    for row in analysis.messages:
        if row.get("type") == "BU" and row.get("hoa"):
            for coa in [row.get("src")] + [b.get("coa") for b in row.get("bids") or ()]:
                if coa and coa != row["hoa"]:
                    home_of[coa] = row["hoa"]
    out: dict[int, Dialect] = {}
    for row in analysis.messages:
        sent = row.get("type") in ("BU", "HoTI", "CoTI")
        mn = row.get("hoa") or (row.get("src") if sent else row.get("dst"))
        peer = row.get("dst") if sent else row.get("src")
        found = pairs.get((home_of.get(mn, mn), peer)) if mn and peer else None
        if found is not None:
            out[row["frame"]] = found
    return out
