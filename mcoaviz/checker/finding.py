"""The checker's output record: one violation (or noteworthy fact) at one frame.

Shaped like a Zeek notice / Wireshark Expert Info entry. Rules do not build ``Finding`` objects
themselves: they return ``Hit`` records (where and what), and the runner completes them from the
rule's registry line (code, severity, sections), so the metadata lives in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dissector.codepoints import Dialect

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES: tuple[str, ...] = (ERROR, WARNING, INFO)  # most severe first
SEVERITY_RANK: dict[str, int] = {ERROR: 2, WARNING: 1, INFO: 0}


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule reports: a partial finding without the rule's registry metadata."""

    message: str  # one clear sentence
    frame: int | None
    time: float | None
    hoa: str | None = None
    bid: int | None = None
    dialect: Dialect | None = None  # selects the dialect's severity/section; None = capture's
    key: str = ""  # extra de-duplication key when one frame can violate a rule twice
    # hits of one rule with the same episode (e.g. "node|HoA|CoA") close together in time are one
    # finding with a count (Expert Info style); "" = every hit is its own finding
    episode: str = ""
    # a hit that is already a run (e.g. data packets of one flow): how many, and the last one
    count: int = 1
    last_frame: int | None = None
    last_time: float | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding, in the export shape of docs/architecture.md (`findings` table)."""

    rule: str  # stable code, e.g. "MCOA101"
    name: str  # the violation, e.g. "ZeroBindingIdentifier"
    severity: str  # "error" | "warning" | "info"
    section: str  # draft-05 section, e.g. "5.1"
    rfc_section: str | None  # RFC 5648 section where it differs (None: same or not in the RFC)
    frame: int | None  # 1-based; None for capture-wide findings
    time: float | None
    message: str
    hoa: str | None = None
    bid: int | None = None
    identifier: str = ""  # de-duplication key: the same identifier is reported once
    episode: str = ""  # see Hit.episode
    count: int = 1  # hits merged into this finding (an episode); frame/time are the first's
    last_frame: int | None = None  # the episode's last hit (None: same as ``frame``)
    last_time: float | None = None

    def sort_key(self) -> tuple[int, int, str, str]:
        frame = self.frame if self.frame is not None else 1 << 62
        return (frame, -SEVERITY_RANK[self.severity], self.rule, self.identifier)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "section": self.section,
            "severity": self.severity,
            "frame": self.frame,
            "message": self.message,
            "rfc_section": self.rfc_section,
            "time": self.time,
            "hoa": self.hoa,
            "bid": self.bid,
            "name": self.name,
            "count": self.count,
            "first_frame": self.frame,
            "last_frame": self.frame if self.count == 1 else self.last_frame,
            "first_time": self.time,
            "last_time": self.time if self.count == 1 else self.last_time,
        }
