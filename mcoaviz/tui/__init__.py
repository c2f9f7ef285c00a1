"""The terminal UI (Textual) for offline captures and live capture, and its Textual-free parts:
``model`` (what the screen shows at a time cursor) and ``session`` (the analysis behind a lock)."""
