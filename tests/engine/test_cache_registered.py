"""BindingCache.ever_registered: every key and (node, CoA) that has had a row, kept compactly."""

from __future__ import annotations

import sys

from mcoaviz.engine.cache import BindingCache
from mcoaviz.engine.events import BindingDeregistered
from mcoaviz.engine.keys import BindingKey

HA, HA2 = "2001:db8:a::1", "2001:db8:b::1"
HOA, HOA2 = "2001:db8:a::100", "2001:db8:a::200"
COA1, COA2, COA3 = "2001:db8:1::100", "2001:db8:2::100", "2001:db8:3::100"


def _start(cache: BindingCache, key: BindingKey, coa: str, t: float) -> None:
    cache.start(key, role="home-agent", coa=coa, time=t, frame=int(t), lifetime=10, expires=t + 10,
                home=False, confirmed=True)


def test_a_key_or_a_coa_at_the_same_node_counts_as_registered_after_its_row_ends() -> None:
    cache = BindingCache()
    k1, regular = BindingKey(HA, HOA, 1), BindingKey(HA, HOA, None)
    assert not cache.ever_registered(k1, COA1)
    _start(cache, k1, COA1, 1.0)
    _start(cache, regular, COA2, 2.0)
    cache.end(k1, time=3.0, frame=3, kind=BindingDeregistered)
    # the key itself (any CoA), the regular key (bid None), or the CoA at the node (any key)
    assert cache.ever_registered(BindingKey(HA, HOA, 1), COA3)
    assert cache.ever_registered(BindingKey(HA, HOA, None), COA3)
    assert cache.ever_registered(BindingKey(HA, HOA2, 7), COA1)
    assert cache.ever_registered(BindingKey(HA, HOA2, 7), COA2)
    # another BID, another HoA, another node: only by the CoA at that same node
    assert not cache.ever_registered(BindingKey(HA, HOA, 2), COA3)
    assert not cache.ever_registered(BindingKey(HA, HOA2, 1), COA3)
    assert not cache.ever_registered(BindingKey(HA2, HOA, 1), COA1)
    assert cache.registered_keys == {k1, regular} and cache.registered_coas == {HA: {COA1, COA2}}


def test_the_registered_addresses_are_one_interned_copy() -> None:
    cache = BindingCache()
    coa = "".join(["2001:db8:1::", "100"])  # equal to COA1, another object
    node = "".join(["2001:db8:a::", "1"])
    _start(cache, BindingKey(node, HOA, 1), coa, 1.0)
    (held,) = cache.registered_coas[HA]
    assert held == COA1 and held is sys.intern(COA1) and held is sys.intern(coa)
    assert next(iter(cache.registered_coas)) is sys.intern(node)
