"""Sans-IO binding state engine: records in, binding caches / BULs / traffic over time out."""
