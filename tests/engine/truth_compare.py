"""Compare an analysis with a simulator truth file (bindings, BUL, traffic; times within 1 ms)."""

from __future__ import annotations

from typing import Any

TOLERANCE = 1e-3
BINDING_KEYS = ("node", "role", "hoa", "bid", "coa", "start", "end", "end_reason", "home", "lifetime",
                "confirmed", "pre_existing", "start_frame", "end_frame")
BUL_KEYS = ("hoa", "peer", "peer_role", "bid", "coa", "start", "end", "end_reason", "acknowledged",
            "status", "last_seq", "lifetime")
TRAFFIC_KEYS = ("interface", "node", "hoa", "coa", "bid", "direction", "via", "packets", "bytes",
                "first", "last")
TIME_KEYS = {"start", "end", "first", "last"}


def _norm(row: dict[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row.get(key) for key in keys)


def _close(a: tuple[Any, ...], b: tuple[Any, ...], keys: tuple[str, ...]) -> bool:
    for key, x, y in zip(keys, a, b, strict=True):
        if key in TIME_KEYS and x is not None and y is not None:
            if abs(x - y) > TOLERANCE:
                return False
        elif x != y:
            return False
    return True


def diff_table(got: list[dict[str, Any]], want: list[dict[str, Any]], keys: tuple[str, ...]) -> list[str]:
    """Rows missing from ``got`` and rows ``got`` has in excess (order-insensitive)."""
    left = [_norm(r, keys) for r in got]
    right = [_norm(r, keys) for r in want]
    problems = []
    unmatched = list(left)
    for row in right:
        match = next((g for g in unmatched if _close(g, row, keys)), None)
        if match is None:
            problems.append(f"missing {dict(zip(keys, row, strict=True))}")
        else:
            unmatched.remove(match)
    problems += [f"extra   {dict(zip(keys, row, strict=True))}" for row in unmatched]
    return problems


def traffic_with_ids(truth: dict[str, Any]) -> list[dict[str, Any]]:
    """The truth names traffic interfaces by link name; the export uses interface ids."""
    ids = {i["name"]: i["id"] for i in truth.get("capture", {}).get("interfaces", [])}
    return [dict(row, interface=ids.get(row["interface"], row["interface"])) for row in truth["traffic"]]


def compare(analysis: Any, truth: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "bindings": diff_table(analysis.bindings, truth["bindings"], BINDING_KEYS),
        "bul": diff_table(analysis.bul, truth["bul"], BUL_KEYS),
        "traffic": diff_table(analysis.traffic, traffic_with_ids(truth), TRAFFIC_KEYS),
    }
