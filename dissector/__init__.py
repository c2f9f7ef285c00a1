"""Wire decoding only: bytes in, frozen records out. No state, no files, never raises on bad bytes."""
