"""Sans-IO binding state engine: records in, binding caches / BULs / traffic over time out.

See docs/engine.md for the interpretations it takes and docs/architecture.md for the API.
"""

from mcoaviz.engine.engine import BindingEngine, EngineConfig, Snapshot
from mcoaviz.engine.keys import BindingKey, BulKey, ExchangeKey, PeerKey, Role

__all__ = ["BindingEngine", "BindingKey", "BulKey", "EngineConfig", "ExchangeKey", "PeerKey", "Role",
           "Snapshot"]
