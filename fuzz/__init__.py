"""Fuzzing harness: one target over the capture reader, IPv6 walk, MH decoder, ESP-NULL and engine."""
