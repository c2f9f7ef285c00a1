"""Wireshark as a second opinion: its dissectors, through pyshark, on the signalling frames only.

``second_opinion(capture, frames, dialect)`` runs tshark (via ``pyshark.FileCapture``) with a
display filter on the given frame numbers, so only those frames are dissected into packet
details and parsed, and returns findings in the export shape with ``"source": "wireshark"``:

* every Expert Info Wireshark raises in those frames (Malformed, invalid option length, bad
  checksums where Wireshark verifies them), severity mapped error/warning/info;
* every field where Wireshark and mcoaviz decode a Mobility Header message differently, as an info
  finding naming both values; the Wireshark limitations of protocol-facts.md §5 are named as such
  (rule ``WS-KNOWN``), anything else is ``WS-DIFF``.

tshark is run as the oracle tests run it: DSMIPv6 UDP 4191 decoded as IPv6 (Wireshark does not
register the port, §5.3), ESP-NULL heuristics on, IPv4/UDP checksum verification on. tshark
still reads every frame to apply the filter, but builds and prints packet details only for the
selected ones, which is where its time and pyshark's goes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from dissector.capture import record_to_frame
from dissector.codepoints import Dialect
from dissector.decode import DecodeOptions, decode_frame
from dissector.dialect import with_dialect
from dissector.records import MobilityMessage
from mcoaviz.safetext import printable
from mcoaviz.sources import open_capture
from mcoaviz.wireshark_compare import Fields, compare_message

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

    @property
    def malformed(self) -> bool:
        return any(group == "Malformed" for _, group, _ in self.experts)


def frame_filter(frames: Iterable[int]) -> str:
    """``frame.number in {1,3..5}``: runs of consecutive numbers as ranges (tshark 4.0 syntax)."""
    numbers = sorted(set(frames))
    parts: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        parts.append(str(numbers[i]) if i == j else f"{numbers[i]}..{numbers[j]}")
        i = j + 1
    return "frame.number in {" + ",".join(parts) + "}"


def tshark_path() -> str:
    path = shutil.which("tshark")
    if path is None:
        raise WiresharkUnavailable(INSTALL_HINT)
    return path


def read_wireshark(capture: str | PathLike[str], frames: Iterable[int]) -> dict[int, WiresharkFrame]:
    """Wireshark's view of ``frames``: their mip6 fields and Expert Infos, by frame number."""
    import pyshark  # imported here: only --wireshark needs it, and it pulls in asyncio machinery

    wanted = sorted(set(frames))
    if not wanted:
        return {}
    found: dict[int, WiresharkFrame] = {}
    capture_obj = pyshark.FileCapture(str(capture), display_filter=frame_filter(wanted), keep_packets=False,
                                      decode_as=DECODE_AS, override_prefs=PREFERENCES,
                                      tshark_path=tshark_path())
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


def our_messages(capture: str | PathLike[str], frames: Iterable[int], dialect: Dialect,
                 bid_type: int = 35) -> dict[int, MobilityMessage]:
    """mcoaviz's decoding of the Mobility Header in each of ``frames`` (BID flags read in ``dialect``)."""
    wanted = set(frames)
    options = DecodeOptions(dialect=dialect, bid_type=bid_type)
    found: dict[int, MobilityMessage] = {}
    with open_capture(capture) as source:
        for record in source.records():
            if record[0] in wanted:
                packet = with_dialect(decode_frame(record_to_frame(record), options), dialect)
                if packet.mobility is not None:
                    found[packet.frame] = packet.mobility
    return found


def _finding(rule: str, severity: str, frame: int, message: str, section: str) -> dict[str, Any]:
    return {"rule": rule, "section": section, "severity": severity, "frame": frame, "message": message,
            "rfc_section": None, "time": None, "hoa": None, "bid": None, "name": RULES[rule][0],
            "summary": RULES[rule][1], "source": "wireshark"}


def second_opinion(capture: str | PathLike[str], frames: Iterable[int], dialect: Dialect,
                   bid_type: int = 35) -> list[dict[str, Any]]:
    """Wireshark's Expert Infos and decoding differences for the Mobility Header ``frames``."""
    if str(capture) == "-" or not Path(capture).is_file():
        raise WiresharkUnavailable("--wireshark needs a capture file (tshark reads it again), not a pipe")
    wanted = sorted(set(frames))
    theirs = read_wireshark(capture, wanted)
    ours = our_messages(capture, wanted, dialect, bid_type)
    findings: list[dict[str, Any]] = []
    for number in wanted:
        view = theirs.get(number, WiresharkFrame(number))
        for severity, group, text in view.experts:  # Wireshark's text can quote the capture
            section = printable(group, 32) or "Wireshark"
            findings.append(_finding("WS-EXPERT", severity, number, f"Wireshark: {printable(text)}", section))
        message = ours.get(number)
        if message is None:
            continue
        for difference in compare_message(message, view.fields, dialect, cut_short=view.malformed):
            rule = "WS-KNOWN" if difference.known else "WS-DIFF"
            text = printable(difference.describe(), 512)
            findings.append(_finding(rule, "info", number, text, "Wireshark"))
    return findings


def analysis_second_opinion(capture: str | PathLike[str], analysis: Any,
                            bid_type: int = 35) -> list[dict[str, Any]]:
    """``second_opinion`` on the frames where ``analysis`` (a pipeline Analysis) found a Mobility
    Header, with the dialect it decided."""
    tshark_path()  # fail with the install hint before any work
    frames = [row["frame"] for row in analysis.messages]
    dialect = Dialect(analysis.capture.get("dialect") or Dialect.RFC5648.value)
    return second_opinion(capture, frames, dialect, bid_type)
