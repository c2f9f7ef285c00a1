"""TrafficTable's columnar bins give the rows a plain per-(key, bin) sum gives.

The reference here adds every row into a dict keyed by (key, second) and rounds the seconds down
to the table's final width at the end (rounding to 2, then 4, ... is rounding to the last width
once), then sorts the rows by bin start and key fields as the export contract orders them."""

from __future__ import annotations

import random
from array import array
from collections import defaultdict
from typing import Any

from mcoaviz.engine.traffic import KEY_FIELDS, MAX_BIN_POINTS, TrafficTable

KEYS = [(0, "ha", f"hoa{n}", f"coa{c}", bid, direction, "tunnel")
        for n in range(7) for c in range(2) for bid in (1, None) for direction in ("to-mn", "from-mn")]


def _feed(table: TrafficTable, rows: list[tuple[Any, int, int, int]]) -> None:
    for key, second, packets, nbytes in rows:
        table.add(key, packets, nbytes, second + 0.25, second + 0.75, second)


def _reference(rows: list[tuple[Any, int, int, int]], width: int) -> list[dict[str, Any]]:
    sums: dict[tuple[Any, int], list[int]] = defaultdict(lambda: [0, 0])
    for key, second, packets, nbytes in rows:
        cell = sums[(key, second - second % width)]
        cell[0] += packets
        cell[1] += nbytes
    out = []
    for (key, start), (packets, nbytes) in sums.items():
        row = dict(zip(KEY_FIELDS, key, strict=True))
        row.update(second=start, packets=packets, bytes=nbytes, width=width)
        out.append(row)
    return sorted(out, key=lambda r: (r["second"], r["interface"], r["node"], r["hoa"], r["coa"],
                                      -1 if r["bid"] is None else r["bid"], r["direction"], r["via"]))


def _rows(seed: int, span: int, count: int) -> list[tuple[Any, int, int, int]]:
    rng = random.Random(seed)
    rows = []
    t = 1000
    for _ in range(count):
        t += rng.choice((0, 0, 1, 2))  # mostly in time order, as the fast path flushes them
        second = min(t, 1000 + span) - (rng.randrange(30) if rng.random() < 0.1 else 0)  # some late
        rows.append((rng.choice(KEYS), second, rng.randrange(1, 20), rng.randrange(60, 90_000)))
    return rows


def test_bins_equal_a_plain_sum_in_export_order() -> None:
    rows = _rows(seed=1, span=900, count=4000)
    table = TrafficTable()
    _feed(table, rows)
    assert table.width == 1
    expected = _reference(rows, 1)
    assert table.bin_rows() == expected
    assert list(table.iter_bin_rows()) == expected and table.bin_count == len(expected)


def test_widened_bins_equal_a_plain_sum_rounded_to_the_final_width() -> None:
    rows = _rows(seed=2, span=3 * MAX_BIN_POINTS, count=30_000)
    table = TrafficTable()
    _feed(table, rows)
    assert table.width == 4  # 3 x MAX seconds: width 2 would leave 1.5 x MAX bins
    assert table.bin_rows() == _reference(rows, 4)
    per_key = defaultdict(int)
    for row in table.bin_rows():
        per_key[tuple(row[f] for f in KEY_FIELDS)] += 1
    assert max(per_key.values()) <= MAX_BIN_POINTS


def test_totals_rows_come_in_key_order_with_exact_first_and_last() -> None:
    rows = _rows(seed=3, span=300, count=2000)
    table = TrafficTable()
    _feed(table, rows)
    got = table.rows()
    assert [tuple(r[f] for f in KEY_FIELDS) for r in got] == sorted(
        {key for key, *_ in rows}, key=lambda k: (*k[:4], -1 if k[4] is None else k[4], *k[5:]))
    for row in got:
        mine = [r for r in rows if r[0] == tuple(row[f] for f in KEY_FIELDS)]
        assert row["packets"] == sum(r[2] for r in mine) and row["bytes"] == sum(r[3] for r in mine)
        assert row["first"] == min(r[1] for r in mine) + 0.25
        assert row["last"] == max(r[1] for r in mine) + 0.75


def test_a_late_row_lands_in_its_own_bin_between_others() -> None:
    table = TrafficTable()
    key = KEYS[0]
    for second, packets in ((10, 1), (14, 2), (12, 4), (14, 8), (9, 16), (12, 32)):
        table.add(key, packets, 100 * packets, float(second), float(second), second)
    assert table.bins[key] == {9: [16, 1600], 10: [1, 100], 12: [36, 3600], 14: [10, 1000]}
    assert [r["second"] for r in table.bin_rows()] == [9, 10, 12, 14]


def test_a_bin_costs_a_triple_of_machine_integers() -> None:
    import tracemalloc

    rows = [(KEYS[i % 8], 1000 + i // 8, 3, 4500) for i in range(8 * 2000)]  # 8 series x 2000 bins
    tracemalloc.start()
    try:
        table = TrafficTable()
        before = tracemalloc.get_traced_memory()[0]
        _feed(table, rows)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert table.bin_count == 16_000
    assert held < 16_000 * 24 * 1.5 + 8 * 1024  # 24 bytes a bin (+ array over-allocation, totals)


def test_bin_json_is_the_json_of_each_bin_row_widened_or_not() -> None:
    import json

    for seed, span in ((3, 900), (4, 3 * MAX_BIN_POINTS)):
        rows = _rows(seed=seed, span=span, count=5000)
        table = TrafficTable()
        _feed(table, rows)
        expected = [json.dumps(row) for row in _reference(rows, table.width)]
        chunks = list(table.iter_bin_json(json.JSONEncoder().encode))
        assert ",\n".join(chunks) == ",\n".join(expected)
        assert len(chunks) == len({row["second"] for row in table.iter_bin_rows()})  # one per start


def test_totals_json_is_the_json_of_each_totals_row_whatever_the_values() -> None:
    import json

    from mcoaviz.export import row_encoder

    table = TrafficTable()
    _feed(table, _rows(seed=5, span=300, count=2000))
    odd = [((1, "h\u00e9", 'q"uote', "c\\1", None, "to-mn", "udp"), 1.5, 2.5),  # escaped strings
           ((True, "h", "a", "c", 2, "to-mn", "udp"), 1.0, 2.0),  # not an int interface
           ((2, "h", "a", "c", 3, "from-mn", "tunnel"), float("nan"), float("inf")),  # json's NaN
           ((2, "h", "a", "c", 4, "from-mn", "tunnel"), 7, 9)]  # int times stay ints
    for key, first, last in odd:
        table.add(key, 3, 300, first, last, 10)  # type: ignore[arg-type]
    for encode in (json.JSONEncoder().encode, row_encoder()):
        expected = [json.dumps(row) for row in table.iter_rows()]
        assert list(table.iter_json(encode)) == expected
    assert len(expected) == len(table.totals) > len(odd)
    bins = ",\n".join(table.iter_bin_json(json.JSONEncoder().encode))
    assert bins == ",\n".join(json.dumps(row) for row in table.iter_bin_rows())


def test_data_spans_are_the_first_and_last_of_each_key_with_packets() -> None:
    table = TrafficTable()
    table.add((0, "n", "h", "c", 1, "to-mn", "tunnel"), 2, 20, 5.5, 6.5, 5)
    table.add((1, "n", "h", "c", 1, "from-mn", "tunnel"), 1, 10, 4.0, 4.0, 4)
    table.add((0, "n", "h", "c", 1, "to-mn", "tunnel"), 1, 10, 3.0, 9.0, 3)
    table.add((0, "n", "h", "d", None, "to-mn", "tunnel"), 0, 0, 1.0, 1.0, 1)  # no packets: no span
    assert table.data_spans() == {("n", "h", "c"): [(3.0, 9.0), (4.0, 4.0)]}


def test_busy_seconds_merge_the_keys_of_one_path_and_skip_empty_bins() -> None:
    table = TrafficTable()
    to_mn, from_mn = (0, "n", "h", "c", 1, "to-mn", "tunnel"), (1, "n", "h", "c", 1, "from-mn", "udp")
    table.add(to_mn, 1, 10, 5.5, 5.5, 5)
    table.add(to_mn, 1, 10, 9.5, 9.5, 9)
    table.add(from_mn, 1, 10, 3.5, 3.5, 3)
    table.add(from_mn, 1, 10, 9.2, 9.2, 9)  # the same second as to_mn's: listed once
    table.add((0, "n", "h", "d", None, "to-mn", "tunnel"), 1, 10, 7.5, 7.5, 7)
    table.add((0, "n", "h", "e", None, "to-mn", "tunnel"), 0, 0, 1.0, 1.0, 1)  # no packets
    table.add((0, "n", "h", "d", 2, "from-mn", "tunnel"), 0, 0, 2.0, 2.0, 2)
    table.add((0, "n", "h", "d", 2, "from-mn", "tunnel"), 4, 40, 4.0, 4.0, 4)
    busy = table.busy_seconds()
    assert {path: list(seconds) for path, seconds in busy.items()} == {("n", "h", "c"): [3, 5, 9],
                                                                      ("n", "h", "d"): [4, 7]}
    assert all(type(seconds) is array and seconds.typecode == "q" for seconds in busy.values())


def test_totals_and_bins_json_follow_keys_added_after_a_write() -> None:
    import json

    encode = json.JSONEncoder().encode
    table = TrafficTable()
    _feed(table, _rows(seed=6, span=120, count=500))
    before = list(table.iter_json(encode))
    assert ",\n".join(table.iter_bin_json(encode)) == ",\n".join(json.dumps(r) for r in table.iter_bin_rows())
    table.add((0, "a-first", "h", "c", 1, "to-mn", "tunnel"), 2, 20, 50.5, 50.5, 50)  # sorts first
    after = list(table.iter_json(encode))
    assert after == [json.dumps(row) for row in table.iter_rows()] and len(after) == len(before) + 1
    assert after[0].startswith('{"interface": 0, "node": "a-first"')
    assert ",\n".join(table.iter_bin_json(encode)) == ",\n".join(json.dumps(r) for r in table.iter_bin_rows())
