# ruff: noqa: E501  (the catalogue is a table: one rule per line)
"""The rule catalogue: ONE table, one entry per rule. Codes are stable and never reused.

Families: 1xx BID option format, 2xx bulk registration, 3xx acknowledgement / status and the
mobile node's reactions, 4xx returning home, 5xx return routability / BRR, 6xx data plane /
security, 7xx DSMIPv6 / NEMO, 9xx generic Mobile IPv6, 10xx IKEv2 / IPsec.

Severity: error = a MUST / MUST NOT, warning = a SHOULD (or a MUST the capture can only suggest),
info = noteworthy. ``severity_rfc`` overrides it for RFC 5648 captures where the RFC's keyword
differs. ``section`` is the draft-05 section; ``rfc_section`` the RFC 5648 one when it differs
("-" = not in the RFC). ``dialects`` says which dialects a rule applies to. What/Why/Example
live in each rule function's docstring (shown by ``mcoaviz rules`` and docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mcoaviz.checker.finding import ERROR, INFO, WARNING
from mcoaviz.checker.intervals import IntervalsRead
from mcoaviz.checker.rules import (
    acknowledgement as ack,
)
from mcoaviz.checker.rules import (
    bid_flags_rfc,
    bid_state,
    bulk,
    data_plane,
    dsmip,
    generic,
    home_link,
    ike,
    ipsec_messages,
    return_home,
    return_routability,
    route_tokens,
)
from mcoaviz.checker.rules import (
    bid_option as bid,
)
from mcoaviz.checker.rules import (
    first_registration as first,
)
from mcoaviz.engine import events as ev

BOTH = ("draft05", "rfc5648")
DRAFT = ("draft05",)
RFC = ("rfc5648",)
PACKET = "packet"  # stateless: runs on each decoded packet
HISTORY = "history"  # stateful: runs once at the end on the engine's events
# Mobility Header types a packet rule can report on (``Rule.messages``): the checker runs on each
# message only the rules for its type (``runner.PacketRuleIndex``); None = every packet.
BU = frozenset({"BU"})
BA = frozenset({"BA"})
COTI = frozenset({"CoTI"})
BU_COTI = frozenset({"BU", "CoTI"})
SENT_BID = frozenset({"BU", "CoTI", "BRR"})  # BID options the mobile node sends
REPLIES = frozenset({"BA", "CoT", "BRR"})  # BID options copied from the mobile node's
NOT_BU_CARRIERS = frozenset({"CoTI", "CoT", "BRR"})
# Engine event kinds a history rule reads (``Rule.reads``; a kind covers its subclasses): the
# checker asks the engine to keep only the union of the selected rules' (``kept_kinds``), and
# tests/checker/test_rule_reads.py runs each rule on a context that refuses every other kind.
# Helpers of ``HistoryContext`` read: answered / processed_by_ba -> BUP; bu_seen / next_bu ->
# SEEN; held_at / held_before / held_since / covering / binding_intervals / ends_of /
# first_started_frame / pre_existing_intervals -> INTERVALS (or STARTED | ENDED); data_run_ends ->
# DWBE; nd_owners_by_hoa -> NDOWN. capture_end and the first event's time need no kind.
NONE: frozenset[type] = frozenset()
# The message kinds of the ``MessageSeen`` events the rules read (bu_seen / next_bu: BU;
# MCOA509: HoT, CoT; MCOA510: CoTI, CoT; MCOA621: BE): with the history narrowed, the engine keeps
# no other sightings (``EngineConfig.keep_seen``; test_rule_reads runs every rule without them).
SEEN_KINDS = frozenset({"BU", "BE", "CoTI", "CoT", "HoT"})
BUP = frozenset({ev.BindingUpdateProcessed})
SEEN = frozenset({ev.MessageSeen})
STARTED = frozenset({ev.BindingStarted})
ENDED = frozenset({ev.BindingEnded})
# the binding intervals, read only through the helpers (held_at, held_before, held_since, covering,
# binding_intervals, ends_of, first_started_frame, pre_existing_intervals): the batch checker keeps
# STARTED and ENDED for them; the streaming one folds them as they come (``checker.intervals``)
# and keeps neither
INTERVALS = frozenset({IntervalsRead})
EXPIRED = frozenset({ev.BindingExpired})
REPLACED = frozenset({ev.BindingReplaced})
DWB = frozenset({ev.DataWithoutBinding})
DWBE = frozenset({ev.DataWithoutBindingEnded})
NDOWN = frozenset({ev.HomeNdOwner})
COT = frozenset({ev.CareOfTestSeen})
BRR = frozenset({ev.BrrSeen})
UNANSWERED = frozenset({ev.UnansweredBU})
UNMATCHED = frozenset({ev.UnmatchedBA})
# Signalling packets a history rule reads (``Rule.packets``, needs named in checker/keep.py): the
# streaming checker keeps only the union of the remaining rules' (a rule that judges one answer,
# ``Rule.unit``, reads its BU and BA as they come); tests/checker/test_rule_reads.py runs each
# rule on a context holding only those. dialect_of, mn_macs, macs_of, carried, visible and
# bu_interfaces read the checker's folds (``context.Folds``), not the packets.
NO_PACKETS: frozenset[str] = frozenset()
ANSWERS = frozenset({"BU", "BA"})  # the batch form of a rule that judges one answer
REJECTED = frozenset({"answer-rejected"})
REJECTING_BA = frozenset({"BA-rejecting"})
AFTER_REJECTED = frozenset({"BU-after-rejected"})
FIRST_OF_HOA = frozenset({"BU-first-of-hoa"})
NO_COA = frozenset({"answer-no-coa"})
LEGACY = frozenset({"answer-legacy"})
HOME = frozenset({"BU-home", "answer-home"})
ND = frozenset({"ND"})
RA = frozenset({"RA"})
HOME_LINK = HOME | ND | RA
FROM_HOME_LINK = frozenset({"BU-from-home-link"})
TO_CN = frozenset({"BU-to-CN"})
COTI = frozenset({"CoTI"})
COT_P = frozenset({"CoT"})
BRR_P = frozenset({"BRR"})
TESTS = frozenset({"HoT", "CoT"})
HOTI = frozenset({"HoTI", "HoT"})
BE = frozenset({"BE"})
SOURCE_NOT_COA = frozenset({"BU-source-not-coa"})
IPV4_BU = frozenset({"BU-ipv4"})
NATTED = frozenset({"answer-nat"})
AFTER_DSMIP = frozenset({"after-dsmip", "BA-dsmip"})
MPD = frozenset({"MPD"})
IKE = frozenset({"IKE"})
K_BU = frozenset({"BU-K"})
AFTER_IKE = frozenset({"after-IKE"})


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: str
    section: str  # draft-05
    rfc_section: str | None  # RFC 5648, where it differs; "-" = not in the RFC
    summary: str  # one line
    kind: str  # PACKET | HISTORY
    check: Callable[..., list]  # (PacketContext | HistoryContext) -> list[Hit]
    dialects: tuple[str, ...] = BOTH
    severity_rfc: str | None = None
    status: str = "stable"
    since: str = "0.1"
    messages: frozenset[str] | None = None  # packet rules: the MH types it can hit; None = any packet
    # history rules: the engine event kinds it reads (see above); None = not declared: then
    # every kind is kept for it (safe, not small; tests/checker/test_rule_reads.py asks for it)
    reads: frozenset[type] | None = None
    # history rules: the signalling packets it reads (checker/keep.py's needs); None = not
    # declared: every packet is kept for it
    packets: frozenset[str] | None = None

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or "").strip()

    @property
    def unit(self) -> str | None:
        """"answer" / "outcome": a history rule that judges one answered BU / one
        ``BindingUpdateProcessed`` at a time (``checker.answers``), which the streaming checker
        runs as each arrives; None: it reads the whole history at the end."""
        return getattr(self.check, "unit", None)

    def severity_for(self, dialect: str) -> str:
        return self.severity_rfc if dialect == "rfc5648" and self.severity_rfc else self.severity


R = Rule
# fmt: off
RULES: tuple[Rule, ...] = (
    # code       name                                   severity draft §         RFC §            summary                                                                kind     check                                   dialects, rfc severity
    R("MCOA101", "ZeroBindingIdentifier",               ERROR,   "§2, §5.1",     "§4.3, §5.1",    "BID 0 used in a BU or CoTI",                                          PACKET,  bid.zero_bid, severity_rfc=WARNING, messages=BU_COTI),
    R("MCOA102", "InvalidBidOptionLength",              ERROR,   "§4.2.1, §6.3", "§4.3, §6.2",    "BID option Length is not 4, 8 or 20",                                 PACKET,  bid.invalid_length),
    R("MCOA103", "CoaFlagWithoutCareOfAddress",         ERROR,   "§4.2.1, §6.3", "-",             "C flag set but no care-of address in the BID option",                 PACKET,  bid.coa_flag_without_coa, DRAFT, messages=BU),
    R("MCOA104", "CareOfAddressWithoutCoaFlag",         ERROR,   "§4.2.1",       "-",             "care-of address in the BID option but C flag clear",                  PACKET,  bid.coa_without_coa_flag, DRAFT, messages=BU),
    R("MCOA105", "Ipv4FlagLengthMismatch",              ERROR,   "§4.2.1",       "-",             "D (IPv4) flag disagrees with the care-of address length",             PACKET,  bid.ipv4_flag_mismatch, DRAFT, messages=BU),
    R("MCOA106", "ReservedBidFlagsSet",                 ERROR,   "§4.2.1",       "§4.3",          "reserved BID flag bits set",                                          PACKET,  bid.reserved_bits, severity_rfc=WARNING, messages=SENT_BID),
    R("MCOA107", "HomeAgentOnlyFlagToCorrespondent",    WARNING, "§4.2.1",       "§4.3",          "C/O/H BID flags in a BU to a correspondent node",                     PACKET,  bid.ha_only_flag_to_correspondent, messages=BU),
    R("MCOA108", "CareOfAddressOutsideBindingUpdate",   ERROR,   "§4.2.1",       "§4.3",          "care-of address field in a BID option of a CoTI or other non-BU",     PACKET,  bid.coa_outside_bu),
    R("MCOA109", "CareOfAddressCopiedIntoReply",        INFO,    "§4.2.1, §6.3", "§4.3, §6.2",    "BA/CoT/BRR BID option still carries a care-of address",               PACKET,  bid.coa_copied_into_reply, messages=REPLIES),
    R("MCOA110", "BidOptionInUnexpectedMessage",        WARNING, "§4.2.1",       "§4.3",          "BID option in a message other than BU, BA, BRR, CoTI, CoT",           PACKET,  bid.bid_in_unexpected_message),
    R("MCOA111", "DuplicateBidInBindingUpdate",         ERROR,   "§5.1",         "§5.1",          "the same BID twice in one Binding Update",                            PACKET,  bid.duplicate_bid, messages=BU),
    R("MCOA112", "AlternateCoaWithBid",                 ERROR,   "§5.3, §5.4",   "§5.2",          "Alternate CoA option beside BID options in a home registration",      PACKET,  bid.alternate_coa_with_bid, messages=BU),
    R("MCOA113", "AuthorizationDataBeforeBid",          ERROR,   "§5.3",         "§5.2",          "Binding Authorization Data not after the BID option",                 PACKET,  bid.auth_data_before_bid, messages=BU),
    R("MCOA114", "HomeRegistrationWithoutCoaInBid",     WARNING, "§4.2.1, §5.3", "-",             "home registration BID option without C and care-of address",          PACKET,  bid.home_registration_without_coa, DRAFT, messages=BU),
    R("MCOA115", "CoaMissingForUnknownBid",             ERROR,   "-",            "§5.1",          "first registration of a BID without its care-of address (167)",       HISTORY, ack.coa_missing_for_unknown_bid, RFC, reads=BUP | INTERVALS, packets=REJECTED),
    R("MCOA116", "Ipv4CoaToCorrespondent",              ERROR,   "-",            "§4.3",          "IPv4 care-of address in a BU to a correspondent node",                PACKET,  bid.ipv4_coa_to_correspondent, RFC, messages=BU),
    R("MCOA117", "OverwriteWithoutBid",                 WARNING, "-",            "§4.2",          "O flag in a BU without BID option",                                   PACKET,  bid.overwrite_without_bid, RFC, messages=BU),
    R("MCOA118", "ReservedBuFlagSetInDraft",            INFO,    "§4.2.1",       "-",             "BU header bit 0x0040 (RFC O) set in a draft-05 BU",                   PACKET,  bid.draft_reserved_bu_flag, DRAFT, messages=BU),
    R("MCOA130", "FirstRegistrationWithoutCoa",          ERROR,   "-",            "§5.1",          "first registration of a BID (prepared in the capture) without its CoA",  HISTORY, first.first_registration_without_coa, RFC, reads=BUP | STARTED, packets=NO_PACKETS),
    R("MCOA119", "RfcBidFlagsOutsideBindingUpdate",     WARNING, "-",            "§4.3",          "H flag in an RFC CoTI/CoT/BRR BID option, or reserved bits in a CoT's", PACKET,  bid_flags_rfc.flags_outside_binding_update, RFC, messages=NOT_BU_CARRIERS),
    R("MCOA120", "RfcAckBidFlagsNotCopied",             WARNING, "-",            "§4.3, §6.2",    "RFC BA BID option sets flag bits its BU's option did not",            HISTORY, bid_flags_rfc.ack_flags_not_copied, RFC, reads=BUP, packets=ANSWERS),
    R("MCOA201", "BulkRegistrationToCorrespondent",     ERROR,   "§2, §5.4",     "§2, §5.3",      "several BID options in a BU to a correspondent node",                 PACKET,  bulk.bulk_to_correspondent, messages=BU),
    R("MCOA202", "MixedCoaFlagsInBulk",                 ERROR,   "§5.7",         "-",             "bulk BU mixes options with and without C",                            PACKET,  bulk.mixed_coa_flags, DRAFT, messages=BU),
    R("MCOA203", "MixedOverwriteFlagsInBulk",           ERROR,   "§5.7",         "-",             "bulk BU mixes options with and without O",                            PACKET,  bulk.mixed_overwrite_flags, DRAFT, messages=BU),
    R("MCOA204", "BulkRegistrationWithoutCoa",          ERROR,   "§4.2.1, §5.4", "-",             "bulk registration whose options carry no care-of address",            PACKET,  bulk.bulk_without_coa, DRAFT, messages=BU),
    R("MCOA205", "CareOfAddressInBulkDeregistration",   WARNING, "§5.5",         "-",             "bulk de-registration still carries care-of addresses",                PACKET,  bulk.coa_in_bulk_deregistration, DRAFT, messages=BU),
    R("MCOA206", "BulkSequenceBelowBinding",            WARNING, "§5.4",         "§4.1",          "bulk BU sequence number older than a bulked binding's last",          HISTORY, bulk.bulk_sequence_below_binding, reads=SEEN, packets=NO_PACKETS),
    R("MCOA207", "BulkAfterBulkRefused",                WARNING, "§5.7",         "§5.7",          "bulk BU sent after the peer refused bulk registration (168)",         HISTORY, bulk.bulk_after_refusal, reads=BUP | SEEN, packets=NO_PACKETS),
    R("MCOA208", "CorrespondentAcceptedBulk",           ERROR,   "§6.3",         "§6.2",          "correspondent node accepted a bulk registration",                     HISTORY, bulk.correspondent_accepted_bulk, reads=BUP, packets=ANSWERS),
    R("MCOA209", "BulkRefusedWithWrongStatus",          ERROR,   "§6.3",         "§6.2",          "CN refused a bulk registration with a status other than 168",         HISTORY, bulk.bulk_refused_with_wrong_status, reads=BUP, packets=ANSWERS),
    R("MCOA301", "AckWithoutBidOption",                 WARNING, "§5.7",         "§5.7, §6.2",    "BA to an A-flag BID BU carries no BID option",                        HISTORY, ack.ack_without_bid, reads=BUP, packets=ANSWERS),
    R("MCOA302", "AckMissingBid",                       ERROR,   "§6.3",         "§6.2",          "BA does not copy every BID option of its BU",                         HISTORY, ack.ack_missing_bid, reads=BUP, packets=ANSWERS),
    R("MCOA303", "NotCompleteWithoutBidError",          ERROR,   "§4.3, §6.3",   "§4.4, §6.2",    "MCOA NOTCOMPLETE without any per-BID error status",                   HISTORY, ack.notcomplete_without_bid_error, reads=BUP, packets=ANSWERS),
    R("MCOA304", "BidErrorWithoutNotComplete",          ERROR,   "§6.3",         "§6.2",          "per-BID error status in a bulk BA without MCOA NOTCOMPLETE",          HISTORY, ack.bid_error_without_notcomplete, reads=BUP, packets=ANSWERS),
    R("MCOA305", "CorrespondentBidStatusNonZero",       ERROR,   "§6.3",         "§6.2",          "correspondent node put a non-zero status in a BID option",            HISTORY, ack.correspondent_bid_status, reads=BUP, packets=ANSWERS),
    R("MCOA306", "MalformedBidAccepted",                ERROR,   "§6.3",         "§6.2",          "receiver accepted a BID option it must reject as MALFORMED",          HISTORY, ack.malformed_accepted, reads=BUP, packets=ANSWERS),
    R("MCOA307", "UnknownBidDeregistrationAccepted",    ERROR,   "§6.3",         "§6.2",          "de-registration of an unknown BID accepted",                          HISTORY, ack.unknown_bid_deregistration_accepted, reads=BUP, packets=NO_PACKETS),
    R("MCOA308", "UnknownBidDeregistrationStatus",      WARNING, "§6.3",         "§6.2",          "unknown-BID de-registration rejected with a status other than 133",   HISTORY, ack.unknown_bid_deregistration_status, severity_rfc=ERROR, reads=BUP | INTERVALS, packets=NO_PACKETS),
    R("MCOA309", "BidAfterMcoaProhibited",              ERROR,   "§5.7",         "§5.7",          "MN keeps using BID options after MCOA PROHIBITED",                    HISTORY, ack.bid_after_prohibited, reads=BUP | SEEN, packets=NO_PACKETS),
    R("MCOA310", "BidAfterAckWithoutBid",               WARNING, "§5.7",         "§5.7",          "MN keeps using BID options after a BA without BID option",            HISTORY, ack.bid_after_legacy_ack, reads=BUP | SEEN, packets=NO_PACKETS),
    R("MCOA311", "BidConflictWithoutOverwrite",         WARNING, "§5.7",         "§5.7, §5.9",    "BID BU after BID CONFLICT / 165 without the O flag",                  HISTORY, ack.conflict_not_resolved, severity_rfc=ERROR, reads=BUP | SEEN, packets=AFTER_REJECTED),
    R("MCOA312", "StaleSequenceAfterOutOfWindow",       WARNING, "§5.10",        "-",             "retry after status 135 with a stale sequence number",                 HISTORY, ack.stale_sequence_after_135, reads=BUP | SEEN | UNMATCHED, packets=REJECTING_BA),
    R("MCOA313", "LiteralRetryAfterOutOfWindow",        INFO,    "§5.10",        "-",             "retry after status 135 reuses the BA's sequence number",              HISTORY, ack.literal_retry_after_135, DRAFT, reads=BUP | SEEN | UNMATCHED, packets=REJECTING_BA),
    R("MCOA314", "BootstrapWithoutOverwrite",           WARNING, "§5.10",        "§5.9",          "first multiple-CoA registration without the O flag",                  HISTORY, ack.bootstrap_without_overwrite, reads=SEEN | STARTED, packets=FIRST_OF_HOA),
    R("MCOA315", "RegularBindingConflictNotReported",   ERROR,   "§6.3",         "§6.2",          "BID BU without O accepted over a regular binding (no 165)",           HISTORY, ack.conflict_not_reported, severity_rfc=WARNING, reads=BUP | INTERVALS, packets=NO_PACKETS),
    R("MCOA316", "KnownBidRejected",                    ERROR,   "§3, §6.3",     "§3, §6.2",      "refresh of a BID the receiver still holds answered 133/165/167",      HISTORY, ack.known_bid_rejected, reads=BUP | STARTED | INTERVALS, packets=REJECTED),
    R("MCOA317", "NoCoaAfterUnknownCoa",                WARNING, "-",            "§5.7",          "BID re-sent without its care-of address after MCOA UNKNOWN COA",     HISTORY, bid_state.no_coa_after_unknown_coa, RFC, reads=BUP | SEEN, packets=REJECTED | AFTER_REJECTED),
    R("MCOA318", "UnknownBidWithoutCoaAccepted",        ERROR,   "-",            "§6.2",          "Length-4 BID option for a deleted BID accepted instead of 167",       HISTORY, bid_state.unknown_bid_without_coa_accepted, RFC, reads=BUP | ENDED | INTERVALS, packets=NO_COA),
    R("MCOA319", "NonRoutableCoaAccepted",              ERROR,   "-",            "§6.2",          "BID option with a non-unicast-routable CoA accepted (not 164)",       HISTORY, bid_state.non_routable_coa_accepted, RFC, reads=BUP, packets=ANSWERS),
    R("MCOA320", "SameCoaUnderTwoBids",                 WARNING, "§3, §5.1",     "§5.1",          "two live BIDs of one home address bound to the same CoA",             HISTORY, bid_state.same_coa_under_two_bids, reads=ENDED | STARTED, packets=NO_PACKETS),
    R("MCOA321", "UseAfterDeregistrationWithoutBid",    WARNING, "§5.5",         "§5.4",          "CoAs still used after a Lifetime-0 BU without BID removed them all",  HISTORY, bid_state.use_after_full_deregistration, reads=BUP | DWB | SEEN | INTERVALS, packets=NO_PACKETS),
    R("MCOA322", "ForeignUseAfterHomeAckWithoutBid",    WARNING, "-",            "§6.3",          "foreign CoA still used after a BA without BID to the home registration", HISTORY, bid_state.foreign_use_after_legacy_home_ack, RFC, reads=BUP | DWB | SEEN, packets=LEGACY),
    R("MCOA323", "SeveralCoasWithoutBids",              WARNING, "§5.3",         "§5.1",          "regular binding refreshed while data also comes from another CoA",    HISTORY, bid_state.several_coas_without_bids, reads=BUP | DWB | ENDED | STARTED, packets=NO_PACKETS),
    R("MCOA324", "CoaUsedAfterBidMoved",                WARNING, "§3, §5.1",     "§5.1",          "data still from a CoA after its BID moved to another CoA",           HISTORY, bid_state.use_of_coa_after_bid_moved, reads=DWB | REPLACED | STARTED, packets=NO_PACKETS),
    R("MCOA401", "HomeFlagBuNotFromHomeLink",           WARNING, "§5.6.3",       "§5.6.3",        "H-flag BU not sent from the home link",                               PACKET,  return_home.home_bu_not_from_home_link, messages=BU),
    R("MCOA402", "HomeBindingUnexpectedStatus",         ERROR,   "§5.6.3",       "§6.3",          "HA accepted an H-flag BU with a status other than 0 / RETURNHOME",    HISTORY, return_home.home_unexpected_status, reads=BUP, packets=ANSWERS),
    R("MCOA403", "NdForHomeAddressBeforeAck",           ERROR,   "§5.6.3",       "§5.6.3",        "MN does NDP for its home address before the H-flag BA",               HISTORY, return_home.nd_before_home_ack, reads=BUP, packets=HOME | ND),
    R("MCOA404", "NdForHomeAddressAfterReturnHome",     ERROR,   "§4.3, §5.6.3", "§4.4, §5.6.4",  "MN does NDP for its home address after RETURNHOME WO/NDP",            HISTORY, return_home.nd_after_returnhome, reads=BUP | NDOWN, packets=HOME | ND),
    R("MCOA405", "HomeFlagWithNonZeroLifetime",         WARNING, "§5.6.3",       "-",             "draft H flag in a registration instead of a de-registration",         PACKET,  return_home.draft_home_flag_with_lifetime, DRAFT, messages=BU),
    R("MCOA406", "HomeFlagWithZeroLifetime",            ERROR,   "-",            "§5.6.3",        "RFC H flag in a BU with Lifetime 0",                                  PACKET,  return_home.rfc_home_flag_with_zero_lifetime, RFC, messages=BU),
    R("MCOA407", "HomeBindingCoaNotHomeAddress",        ERROR,   "-",            "§5.6.3",        "RFC H-flag registration whose CoA field is not the home address",     PACKET,  return_home.rfc_home_coa_not_hoa, RFC, messages=BU),
    R("MCOA408", "NotOnlyRouterAllowedNd",              ERROR,   "§5.6.3",       "§6.3",          "HA answered 0 to an H-flag BU while another router serves the home link", HISTORY, return_home.not_only_router_allowed_nd, reads=BUP, packets=HOME | RA),
    R("MCOA409", "HomeDadMissing",                      WARNING, "§6.3",         "6275 §10.3.1",  "HA accepted a first registration without DAD on the home link",      HISTORY, home_link.home_dad_missing, reads=BUP | STARTED, packets=HOME_LINK),
    R("MCOA410", "HomeDadWhileBindingHeld",             ERROR,   "§6.3",         "6275 §10.3.1",  "DAD NS for a home address while its HA holds a binding",              HISTORY, home_link.home_dad_while_bound, reads=STARTED | INTERVALS, packets=HOME_LINK),
    R("MCOA411", "ProxyNdUnansweredAfterReturnHome",    ERROR,   "§5.6.3",       "§5.6.2, §6.3",  "NS for the home address unanswered after RETURNHOME WO/NDP",           HISTORY, home_link.proxy_nd_unanswered, reads=ENDED | NDOWN, packets=HOME_LINK),
    R("MCOA412", "NsFromHomeAddressAfterReturnHome",    WARNING, "§5.6.3",       "§5.6.4",        "MN solicits its router from the home link after RETURNHOME WO/NDP",   HISTORY, home_link.ns_from_home_address_after_returnhome, reads=ENDED | NDOWN, packets=HOME_LINK),
    R("MCOA413", "HomeAddressUsedBeforeHomeAck",        ERROR,   "§5.6.3",       "§5.6.4",        "data from the home address on the home link before the H-flag BA",    HISTORY, home_link.home_address_used_before_ack, severity_rfc=WARNING, reads=BUP, packets=HOME),
    R("MCOA414", "CorrespondentBindingAfterReturnHome", WARNING, "§5.6.1",       "-",             "first BU to a CN for a foreign CoA after de-registering from home",   HISTORY, home_link.correspondent_binding_after_return, DRAFT, reads=SEEN, packets=FROM_HOME_LINK | TO_CN),
    R("MCOA415", "HomeInterfaceNotDeregisteredAbroad",  WARNING, "§5.6.2",       "-",             "home interface's BID de-registered from the home link or expired",    HISTORY, home_link.home_interface_not_deregistered_from_foreign, DRAFT, reads=BUP | EXPIRED | INTERVALS, packets=FROM_HOME_LINK),
    R("MCOA416", "HomeBindingWithoutLinkLayerAddress",  WARNING, "-",            "§5.6.3",        "H-flag BU without MH-LLA option (code 2)",                            PACKET,  home_link.home_binding_without_lla, RFC, messages=BU),
    R("MCOA417", "SecondHomeBinding",                   WARNING, "-",            "§5.6.3",        "second home binding while another BID's is held",                     HISTORY, home_link.second_home_binding, RFC, reads=STARTED | INTERVALS, packets=NO_PACKETS),
    R("MCOA418", "HomeAgentSolicitsDespiteLla",         WARNING, "-",            "§6.3",          "HA sends NS for the home address although the BU gave its MAC",       HISTORY, home_link.ha_solicits_despite_lla, RFC, reads=BUP | ENDED | NDOWN, packets=HOME_LINK),
    R("MCOA419", "NdForHomeAddressWithOtherRouters",    ERROR,   "§5.6.3",       "§5.6.2",        "MN does ND for its home address while other routers serve the link",  HISTORY, home_link.nd_with_other_routers, reads=BUP, packets=HOME_LINK),
    R("MCOA420", "DataNotInterceptedAfterReturnHome",   ERROR,   "§5.6.3",       "§5.6.2",        "router sends home-address data to the MN's MAC after RETURNHOME WO/NDP", HISTORY, home_link.returnhome_not_intercepted, reads=ENDED | NDOWN, packets=HOME_LINK),
    R("MCOA421", "FrameToNonRouterAfterReturnHome",     WARNING, "§5.6.3",       "§5.6.4",        "MN sends off-link data to a MAC no RA identifies as a router after RETURNHOME", HISTORY, home_link.returnhome_frame_to_non_router, reads=ENDED | NDOWN, packets=HOME_LINK),
    R("MCOA501", "CotiWithoutBid",                      ERROR,   "§5.2",         "-",             "CoTI without BID option from a CoA registered under a BID",           HISTORY, return_routability.coti_without_bid, DRAFT, reads=COT | INTERVALS, packets=NO_PACKETS),
    R("MCOA502", "CotiBidFlagsSet",                     ERROR,   "§5.2",         "-",             "CoTI BID option with flags set",                                      PACKET,  return_routability.coti_flags_set, DRAFT, messages=COTI),
    R("MCOA503", "CotDoesNotEchoBid",                   ERROR,   "§6.2",         "-",             "CoT with BID options omits the CoTI's BID",                           HISTORY, return_routability.cot_does_not_echo_bid, DRAFT, reads=COT, packets=COTI),
    R("MCOA504", "CotBidWrongStatus",                   ERROR,   "§6.2",         "-",             "CoT BID status is not MALFORMED for C/O, or not 0 otherwise",         HISTORY, return_routability.cot_wrong_status, DRAFT, reads=COT, packets=COTI),
    R("MCOA505", "BidAfterCotWithoutBid",               ERROR,   "§5.2",         "-",             "BID BU to a CN whose CoT carried no BID option",                      HISTORY, return_routability.bid_after_cot_without_bid, DRAFT, reads=COT | SEEN, packets=COTI),
    R("MCOA506", "BrrAnswerLacksBid",                   ERROR,   "§5.8",         "§5.8",          "BU answering a BRR with BID lacks that BID",                          HISTORY, return_routability.brr_answer_lacks_bid, severity_rfc=WARNING, reads=BRR | SEEN, packets=BRR_P),
    R("MCOA507", "BrrAnswerRefreshesOtherBids",         WARNING, "§5.8",         "-",             "BU answering a BRR with BID also refreshes other BIDs",               HISTORY, return_routability.brr_answer_extra_bids, DRAFT, reads=BRR | SEEN, packets=BRR_P),
    R("MCOA508", "BrrWithoutBid",                       WARNING, "§6.4",         "§6.4",          "BRR for a BID binding carries no BID option",                         HISTORY, return_routability.brr_without_bid, reads=BRR | INTERVALS, packets=NO_PACKETS),
    R("MCOA509", "NonceIndexWithoutTest",               ERROR,   "§3, §5.2, §5.3", "§5.2",        "BU to a CN with a nonce index from no recent CoT/HoT for that address", HISTORY, route_tokens.nonce_index_without_test, reads=SEEN, packets=TESTS | TO_CN),
    R("MCOA510", "CotSentToBidCoa",                     WARNING, "§4.2.1",       "§4.3",          "CoT sent to the CoTI's BID-option CoA instead of the CoTI's source",  HISTORY, route_tokens.cot_to_bid_coa, reads=SEEN, packets=COTI | COT_P),
    R("MCOA511", "FirstBidBuOutOfWindow",               INFO,    "§5.10",        "-",             "first BU to a CN has BIDs and the CN shows older state (135, RH2)",  HISTORY, route_tokens.first_bid_bu_out_of_window, DRAFT, reads=BUP | DWB | SEEN | STARTED, packets=NO_PACKETS),
    R("MCOA512", "TunnelledHotiNotForwarded",           WARNING, "§9.3.1",       "§9.3.1",        "HoTI reverse-tunnelled from a registered CoA not forwarded beyond the HA", HISTORY, ipsec_messages.tunnelled_hoti_not_forwarded, reads=INTERVALS, packets=HOTI),
    R("MCOA601", "HaoFromUnregisteredCoa",              WARNING, "§6.5",         "§6.5",          "data with a Home Address option from an unregistered CoA",            HISTORY, data_plane.hao_from_unregistered_coa, reads=DWB | DWBE | INTERVALS, packets=NO_PACKETS),
    R("MCOA606", "NoBindingErrorForUnboundHao",         WARNING, "§6.5",         "§6.5",          "no Binding Error after data with a HAO from an unregistered CoA",     HISTORY, data_plane.no_binding_error_for_hao, reads=DWB | INTERVALS, packets=BE),
    R("MCOA602", "TunnelFromUnregisteredCoa",           WARNING, "§9.3.2",       "-",             "reverse-tunnelled data from an unregistered CoA",                     HISTORY, data_plane.tunnel_from_unregistered_coa, reads=DWB | DWBE | INTERVALS, packets=NO_PACKETS),
    R("MCOA607", "TrafficToUnregisteredCoa",            WARNING, "§6.3",         "§6.2",          "HA/CN sends the MN's traffic to a CoA it holds no binding for",       HISTORY, data_plane.traffic_to_unregistered_coa, reads=DWB | DWBE | INTERVALS, packets=NO_PACKETS),
    R("MCOA603", "HaoTowardsHomeAgent",                 INFO,    "§5.9",         "-",             "MN uses the Home Address option instead of the tunnel to its HA",     HISTORY, data_plane.hao_towards_home_agent, reads=SEEN, packets=NO_PACKETS),
    R("MCOA604", "CoaSharedByHomeAddresses",            WARNING, "§10",          "§10",           "one CoA bound by several home addresses at once",                     HISTORY, data_plane.coa_shared_by_home_addresses, reads=ENDED | STARTED, packets=NO_PACKETS),
    R("MCOA605", "ManyCoasPerHomeAddress",              INFO,    "§10",          "§10",           "unusually many simultaneous bindings for one home address",           HISTORY, data_plane.many_coas_per_home_address, reads=ENDED | STARTED, packets=NO_PACKETS),
    R("MCOA608", "HaoAtNodeWithoutBinding",              WARNING, "§6.5",         "§6.5",          "route-optimised data at a node holding no binding (another node does)", HISTORY, data_plane.hao_at_node_without_binding, reads=DWB | DWBE | INTERVALS, packets=NO_PACKETS),
    R("MCOA620", "TrafficToBuSourceNotBidCoa",          WARNING, "§6.3",         "§6.2",          "HA/CN sends traffic to a BU's source instead of its BID option's CoA", HISTORY, data_plane.tunnel_to_bu_source, reads=BUP | DWB | INTERVALS, packets=SOURCE_NOT_COA),
    R("MCOA621", "BindingErrorForBindingUpdate",        ERROR,   "§6.5",         "§6.5",          "Binding Error (status 1) in answer to a BU with a Home Address option", HISTORY, data_plane.binding_error_for_binding_update, reads=SEEN, packets=BE),
    R("MCOA701", "Ipv4CoaFirstRegisteredInBulk",        ERROR,   "§8.1",         "§8.1",          "first registration of an IPv4 CoA in a bulk BU",                      HISTORY, dsmip.ipv4_first_registration_in_bulk, reads=SEEN | STARTED, packets=IPV4_BU),
    R("MCOA702", "BulkAfterNatDetected",                ERROR,   "§8.1",         "§8.1",          "IPv4 CoA bulk-registered after NAT detection",                        HISTORY, dsmip.bulk_after_nat, severity_rfc=WARNING, reads=BUP | SEEN, packets=NATTED | IPV4_BU),
    R("MCOA703", "Ipv4AddressAckAfterBid",              ERROR,   "§8.2",         "§8.2",          "IPv4 Address Acknowledgement after a BID option",                     PACKET,  dsmip.ipv4_ack_after_bid, messages=BA),
    R("MCOA704", "Ipv4AddressAckWithoutRequest",        ERROR,   "§8.2",         "§8.2",          "IPv4 Address Acknowledgement without an IPv4 HoA request",            HISTORY, dsmip.ipv4_ack_without_request, reads=BUP, packets=ANSWERS),
    R("MCOA705", "Ipv4AddressAckWhileRejectingCoa",     ERROR,   "§8.1",         "§8.1",          "IPv4 Address Acknowledgement in a BA rejecting an IPv4 CoA",          HISTORY, dsmip.ipv4_ack_while_rejecting_ipv4_coa, severity_rfc=WARNING, reads=BUP, packets=ANSWERS),
    R("MCOA706", "Ipv4CoaOptionWithBid",                WARNING, "§8.1",         "§8.1",          "IPv4 Care-of Address option beside BID options",                      PACKET,  dsmip.ipv4_coa_option_with_bid, severity_rfc=ERROR, messages=BU),
    R("MCOA707", "Ipv4CoaFirstBuNotOverUdp",            ERROR,   "§8.1",         "§8.1",          "first BU for an IPv4 CoA not sent over IPv4/UDP",                     HISTORY, dsmip.ipv4_first_registration_not_udp, reads=SEEN | STARTED, packets=IPV4_BU),
    R("MCOA708", "NatNotReported",                      ERROR,   "§8.1",         "-",             "IPv4 CoA registered from behind a NAT without NAT Detection option",  HISTORY, dsmip.nat_not_reported, severity_rfc=WARNING, reads=BUP, packets=ANSWERS),
    R("MCOA713", "Ipv4AddressAckMissing",               ERROR,   "-",            "§8.2",          "no IPv4 Address Acknowledgement for an IPv4 home address registration", HISTORY, dsmip.ipv4_address_ack_missing, RFC, reads=BUP, packets=ANSWERS),
    R("MCOA714", "Ipv4AddressAckForeignStatus",         ERROR,   "-",            "§8.2",          "IPv4 Address Acknowledgement status not an RFC 5555 code",            HISTORY, dsmip.ipv4_address_ack_foreign_status, RFC, reads=BUP, packets=ANSWERS),
    R("MCOA709", "Ipv4HomeAddressOptionDropped",        ERROR,   "§8.2",         "§8.2",          "BU omits the IPv4 HoA option while the assigned IPv4 HoA is in use",  HISTORY, dsmip.ipv4_hoa_option_dropped, reads=BUP, packets=AFTER_DSMIP),
    R("MCOA901", "BadMobilityChecksum",                 ERROR,   "6275 §6.1.1",  None,            "Mobility Header checksum does not verify",                            PACKET,  generic.bad_checksum),
    R("MCOA902", "AckWithoutBindingUpdate",             WARNING, "6275 §11.7.3", None,            "BA matching no captured BU",                                          HISTORY, generic.ack_without_update, reads=UNMATCHED, packets=NO_PACKETS),
    R("MCOA903", "BindingUpdateNeverAcknowledged",      WARNING, "6275 §9.5.1",  None,            "BU with the A flag never acknowledged",                               HISTORY, generic.update_never_acknowledged, reads=UNANSWERED, packets=NO_PACKETS),
    R("MCOA904", "GrantedLifetimeAboveRequested",       ERROR,   "6275 §9.5.1",  None,            "BA grants a longer lifetime than the BU requested",                   HISTORY, generic.granted_above_requested, reads=BUP, packets=ANSWERS),
    R("MCOA905", "TrafficAfterBindingExpired",          WARNING, "6275 §11.7.1", None,            "data still flows after the binding expired without refresh",          HISTORY, generic.traffic_after_expiry, reads=DWB | EXPIRED, packets=NO_PACKETS),
    R("MCOA906", "MalformedMobilityMessage",            WARNING, "6275 §6.1",    None,            "Mobility Header or option could not be decoded",                      PACKET,  generic.malformed_mobility),
    R("MCOA920", "PrefixSolicitationUnanswered",        WARNING, "§9.2",         "§9.2",          "Mobile Prefix Solicitation from a registered CoA not answered in 3 s", HISTORY, ipsec_messages.prefix_solicitation_unanswered, reads=INTERVALS, packets=MPD),
    R("MCOA1001", "IkeSaFromSeveralCareOfAddresses",   WARNING, "§9.1",         "§9.1",          "one IKE SA used from a second CoA without a K-flag BU",               HISTORY, ike.ike_sa_from_several_coas, reads=BUP | INTERVALS, packets=IKE | K_BU),
    R("MCOA1002", "IkeNotRerunAfterCoaRemoved",        ERROR,   "§9.1",         "§9.1",          "IKE CoA removed without K and no new IKE_SA_INIT while ESP continues", HISTORY, ike.ike_not_rerun_after_coa_removed, reads=BUP | ENDED, packets=IKE | AFTER_IKE),
)
# fmt: on

BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}


assert len(BY_CODE) == len(RULES), "duplicate rule code"


def packets_read(rules: Iterable[Rule]) -> frozenset[str] | None:
    """The union of the rules' packet needs; None when one of them declares none (keep all)."""
    needs: set[str] = set()
    for rule in rules:
        if rule.packets is None:
            return None
        needs |= rule.packets
    return frozenset(needs)


def kinds_read(rules: Iterable[Rule], *, folded: bool = False) -> frozenset[type]:
    """The event classes ``rules`` read, as the exact classes the engine makes (a declared kind
    brings its subclasses: ENDED covers BindingExpired, BindingReplaced, ...). A history rule
    that declares nothing (``reads`` None) reads every kind. INTERVALS reads STARTED and ENDED,
    unless the intervals are ``folded`` as the events come (the streaming checker)."""
    declared: set[type] = set()
    for rule in rules:
        if rule.reads is None:
            if rule.kind == HISTORY:
                return frozenset(ev.EVENT_CLASSES)
            continue
        declared.update(rule.reads)
    if IntervalsRead in declared:
        declared.discard(IntervalsRead)
        if not folded:
            declared |= STARTED | ENDED
    return frozenset(cls for cls in ev.EVENT_CLASSES if issubclass(cls, tuple(declared))) if declared \
        else frozenset()

FAMILIES: dict[str, str] = {
    "1": "BID option format", "2": "Bulk registration", "3": "Acknowledgement and status",
    "4": "Returning home", "5": "Return routability and BRR", "6": "Data plane and security",
    "7": "DSMIPv6 and NEMO", "9": "Generic Mobile IPv6", "10": "IKEv2 and IPsec",
}


def family_of(code: str) -> str:
    # MCOA1xx-9xx: one family digit; MCOA10xx and later: the digits before the last two
    return FAMILIES.get(code[4:-2], "other")
