"""Which MCoA text a capture follows: draft-ietf-monami6-multiplecoa-05 or RFC 5648.

Pure: ``DialectDetector.observe(packet)`` collects the evidence of draft05-vs-rfc5648.md §1.8 from
BID-bearing messages; ``decision()`` answers once a decisive observation exists. Weak evidence
only counts at the end of input (``final()``). ``with_dialect`` re-reads the BID flag bytes and BU
header flags of an already decoded packet, so the pipeline can hold records until it knows.

One detector judges one body of evidence: ``dissector.dialect_pairs.PairDialects`` keeps one per
(mobile node, peer) pair and one for the whole capture (interpretation I-1).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dissector.codepoints import BU_FLAG_O, BU_FLAG_P, DEFAULT_BID_OPTION_TYPE, Dialect, OptionType
from dissector.mobility import bu_flag_letters
from dissector.records import (
    BindingAck,
    BindingIdentifier,
    BindingUpdate,
    CareOfTest,
    LinkLayerAddress,
    Packet,
)

# Statuses with no draft-05 counterpart. 165 is left out: our draft table maps MCOA BID CONFLICT
# to 165 (interpretation I-2), so seeing it proves nothing.
RFC_ONLY_STATUSES = frozenset({167, 169})


@dataclass(frozen=True, slots=True)
class Evidence:
    frame: int
    dialect: Dialect
    decisive: bool
    reason: str
    counts: bool = True  # False: ambiguous, kept only to explain (never tips a decision)


class DialectDetector:
    def __init__(self, bid_type: int = DEFAULT_BID_OPTION_TYPE) -> None:
        self.bid_type = bid_type
        self.evidence: list[Evidence] = []

    # ------------------------------------------------------------------ observation
    def observe(self, packet: Packet) -> None:
        m = packet.mobility
        if m is None or m.body is None:
            return
        bids = m.bids
        body = m.body
        if isinstance(body, BindingAck) or any(b.status for b in bids):
            self._statuses(packet.frame, m.type_name, body, bids)
        if not bids:
            return
        frame, name = packet.frame, m.type_name
        if self.bid_type != DEFAULT_BID_OPTION_TYPE:
            self._add(frame, Dialect.DRAFT05, True, f"{name} frame {frame} carries a Binding Identifier "
                      f"under the configured pre-standard option type {self.bid_type}")
        for option in bids:
            self._flags_byte(frame, name, option)
        if isinstance(body, BindingUpdate):
            self._binding_update(packet, body, bids)
        if isinstance(body, CareOfTest) and any(b.status for b in bids):
            self._add(frame, Dialect.DRAFT05, False, f"CoT frame {frame} has a BID option with non-zero "
                      "status (only the draft defines CoT BID processing)")

    def _statuses(self, frame: int, name: str, body: object, bids: tuple[BindingIdentifier, ...]) -> None:
        statuses = [b.status for b in bids]
        if isinstance(body, BindingAck):
            statuses.append(body.status)
        for status in statuses:
            if status in RFC_ONLY_STATUSES:
                self._add(frame, Dialect.RFC5648, True, f"{name} frame {frame} has status {status}, "
                          "which only RFC 5648 defines")
                return

    def _flags_byte(self, frame: int, name: str, option: BindingIdentifier) -> None:
        byte = option.flags_byte
        if option.length == 8 and byte & 0x90 == 0x90:
            self._add(frame, Dialect.DRAFT05, True, f"{name} frame {frame} BID {option.bid} has Length 8 "
                      f"with flags 0x{byte:02x} (draft C+D; an RFC H binding needs an IPv6 CoA)")
        if option.type == OptionType.BINDING_IDENTIFIER and byte & 0x0F:
            self._add(frame, Dialect.RFC5648, True, f"{name} frame {frame} BID {option.bid} has low flag "
                      f"bits 0x{byte & 0x0F:x} set (RFC 6089 BID-PRI; draft reserved bits must be 0)")
        elif byte & 0x70 and not byte & 0x0F:
            # Ambiguous under type 35: I-27 reads it as RFC 6089 BID-PRI, so it is recorded for the
            # explanation but never tips the decision.
            self._add(frame, Dialect.DRAFT05, False, f"{name} frame {frame} BID {option.bid} flags "
                      f"0x{byte:02x} (draft O/H/D, or an RFC 6089 BID-PRI)",
                      counts=option.type != OptionType.BINDING_IDENTIFIER)

    def _binding_update(self, packet: Packet, body: BindingUpdate,
                        bids: tuple[BindingIdentifier, ...]) -> None:
        frame = packet.frame
        if body.flags_word & BU_FLAG_O and not body.flags_word & BU_FLAG_P:
            self._add(frame, Dialect.RFC5648, True, f"BU frame {frame} has BU flag 0x0040 with a BID option "
                      "(RFC 5648 O flag)")
        for option in bids:
            if option.coa is not None and not option.flags_byte & 0x80:
                self._add(frame, Dialect.RFC5648, True, f"BU frame {frame} BID {option.bid} carries a CoA "
                          "with flag 0x80 clear (the draft requires C with a CoA)")
        with_coa = {b.coa is not None for b in bids}
        if len(bids) > 1 and len(with_coa) == 2:
            self._add(frame, Dialect.RFC5648, True, f"bulk BU frame {frame} mixes BID options with and "
                      "without a CoA (draft §5.7 requires all or none)")
        hoa = packet.path.home_address_option or packet.path.src
        for option in bids:
            if not option.flags_byte & 0x80:
                continue
            if option.length == 20 and option.coa != hoa and body.lifetime > 0:
                self._add(frame, Dialect.DRAFT05, True, f"BU frame {frame} BID {option.bid} has flag 0x80 "
                          "with an IPv6 CoA other than the home address (draft C; an RFC H binding "
                          "registers the HoA)")
            if body.lifetime == 0:
                self._add(frame, Dialect.DRAFT05, False, f"BU frame {frame} BID {option.bid} has flag 0x80 "
                          "on a de-registration (draft C; RFC H needs a lifetime)")
        options = packet.mobility.options if packet.mobility else ()
        if any(isinstance(o, LinkLayerAddress) for o in options):
            self._add(frame, Dialect.RFC5648, False, f"BU frame {frame} carries an MH-LLA option beside a "
                      "BID (only RFC 5648 §5.6.3 uses it)")

    def _add(self, frame: int, dialect: Dialect, decisive: bool, reason: str, counts: bool = True) -> None:
        self.evidence.append(Evidence(frame, dialect, decisive, reason, counts))

    # ------------------------------------------------------------------ answers
    def decision(self) -> tuple[Dialect | None, str]:
        """The dialect once decisive evidence exists, else (None, what is known so far)."""
        decisive = [e for e in self.evidence if e.decisive]
        if decisive:
            return _weigh(decisive)
        weak = sum(1 for e in self.evidence if e.counts)
        return None, f"no decisive evidence yet ({weak} weak observation{'s' if weak != 1 else ''})"

    def final(self) -> tuple[Dialect, str]:
        """End of input: decisive evidence, else weak evidence, else RFC 5648 by default."""
        dialect, reason = self.decision()
        if dialect is not None:
            return dialect, reason
        counted = [e for e in self.evidence if e.counts]
        if counted:
            chosen, why = _weigh(counted)
            return chosen, f"weak evidence only: {why}"
        return Dialect.RFC5648, "no decisive evidence; RFC 5648 assumed"


_DIALECTS = tuple(Dialect)  # in definition order (ties below go to the first); iterating the Enum is slow


def _weigh(evidence: list[Evidence]) -> tuple[Dialect, str]:
    counts = dict.fromkeys(_DIALECTS, 0)
    for e in evidence:
        counts[e.dialect] += 1
    first = evidence[0]
    best = max(_DIALECTS, key=lambda d: (counts[d], d is first.dialect))
    lead = next(e for e in evidence if e.dialect is best)
    against = counts[Dialect.DRAFT05 if best is Dialect.RFC5648 else Dialect.RFC5648]
    note = f" ({against} observation{'s' if against != 1 else ''} point the other way)" if against else ""
    return best, lead.reason + note


def with_dialect(packet: Packet, dialect: Dialect) -> Packet:
    """The same packet with BID flag bytes and BU header flags read in ``dialect``."""
    m = packet.mobility
    if m is None:
        return packet
    body = m.body
    if isinstance(body, BindingUpdate):
        body = dataclasses.replace(body, flags=bu_flag_letters(body.flags_word, dialect))
    options = tuple(dataclasses.replace(o, dialect=dialect) if isinstance(o, BindingIdentifier) else o
                    for o in m.options)
    if body is m.body and options == m.options:
        return packet
    return dataclasses.replace(packet, mobility=dataclasses.replace(m, body=body, options=options))
