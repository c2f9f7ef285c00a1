"""The texts that say *why* the engine read a BU as it did (the ``why`` fields of the binding
events, shown by ``mcoaviz explain``, the TUI and the report): the draft/RFC rule that applied
and the interpretation I-n (``draft05-vs-rfc5648.md`` §5) taken where the texts disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dissector.codepoints import Dialect
from dissector.records import AlternateCoA, BindingIdentifier
from mcoaviz.engine.keys import BindingKey, Role

if TYPE_CHECKING:
    from mcoaviz.engine.cache import BindingCache
    from mcoaviz.engine.pairing import PendingBU


def processing(bu: PendingBU) -> str:
    """The section that says how the BU's receiver processes it, in the BU's dialect (a BU
    without BID option has none of its own: both texts say the same about it)."""
    if not bu.bids:
        return "draft-05 §6.3 / RFC 5648 §6.2"
    return "draft-05 §6.3" if bu.dialect is Dialect.DRAFT05 else "RFC 5648 §6.2"


def has_alternate_coa(bu: PendingBU) -> bool:
    return any(isinstance(o, AlternateCoA) for o in bu.message.options)


def coa_reason(bu: PendingBU, option: BindingIdentifier, cache: BindingCache,
               alternate: bool | None = None) -> str:
    """Where the registered CoA of one BID option came from (mirrors ``Registrar.coa_for``);
    ``alternate``: whether the BU has an Alternate CoA option, when the caller knows."""
    if alternate is None:
        alternate = has_alternate_coa(bu)
    source = "the Alternate CoA option" if alternate else "the BU's source address"
    if bu.dialect is Dialect.DRAFT05 and bu.role is Role.CORRESPONDENT:
        return f"draft-05 BU to a CN: C, O and H are ignored, CoA = {source} (I-32)"
    if option.coa is None:
        if bu.dialect is Dialect.RFC5648:
            if cache.get(BindingKey(bu.key.node, bu.key.hoa, option.bid)) is not None:
                return "Length 4 for a known BID: a refresh that keeps the stored CoA (RFC §5.1, I-6)"
            return f"Length 4 for a BID the node did not hold: CoA = {source} (I-6)"
        return f"draft-05 C flag clear: CoA = {source} (I-5)"
    if ":" not in option.coa and bu.outer_ipv4 and bu.outer_ipv4 != option.coa:
        return (f"IPv4 CoA {option.coa} behind a NAT: the node registers the outer IPv4 source "
                f"{bu.outer_ipv4} (I-22)")
    field = "C flag set: the option's CoA field" if bu.dialect is Dialect.DRAFT05 else \
        f"the option's CoA field (Length {option.length})"
    return f"CoA = {field}"
