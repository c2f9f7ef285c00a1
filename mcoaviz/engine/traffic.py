"""Per-CoA data traffic: totals and per-second bins per key (interface, node, hoa, coa, bid,
direction, via). Which key a packet counts under (its node, HoA, CoA, direction and the binding
that covered it) is decided in ``engine/attribution.py``; this module only accumulates, spills
and writes what it is given. A whole-file run moves older bins and idle keys to the caller's
scratch files (``engine/traffickeys.py``) and reads them back in row order when writing.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from mcoaviz.engine.scratch import ScratchFile, SpoolError
from mcoaviz.engine.traffickeys import KeyRecord, KeyRuns, merged

TrafficKey = tuple[int, str, str, str, int | None, str, str]
KEY_FIELDS = ("interface", "node", "hoa", "coa", "bid", "direction", "via")


MAX_BIN_POINTS = 2048  # a series never has more bins than this: the width doubles instead
# a whole-file run (``TrafficTable(spill=scratch_file)``) writes the older bins to a temporary file once
# this many are held (~3 MiB of arrays): the 1 M packet capture never gets there (105 000 bins)
SPILL_BINS = 1 << 17
SPILL_LAG = 64  # capture seconds of bins kept in memory behind the newest (rows come nearly in order)
_RECORD = 4  # a spilled bin on file: start, key id, packets, bytes (machine ints)
_READ_RECORDS = 1 << 11  # records read back at once per chunk (64 KiB: one block per chunk is held)
# a whole-file run's table moves a key without data for IDLE_SECONDS (capture seconds) to the file
# (``sweep``, every SWEEP_SECONDS): longer than the data gaps of a key in use (at most ~550 s in the
# home-agent benchmark, whose mobile nodes refresh every 80 s), so a key that comes back is rare
IDLE_SECONDS = 600
SWEEP_SECONDS = 64


class TrafficTable:
    """Totals and time bins; memory grows with keys and bins, not packets.

    Bins start one second wide. When the capture's time span would give a series more than
    ``MAX_BIN_POINTS`` bins, the width doubles and the existing bins merge (bin start =
    ``second // width * width``), so long captures keep bounded series; ``width`` is stated in
    every bin row and in the capture summary.

    Storage is columnar: each key's series is one ``array('q')`` of (start, packets, bytes)
    triples sorted by start (24 bytes a bin instead of a dict entry, a list and its ints, ~150
    bytes). Data arrives in time order, so a bin is nearly always the last one or a new last
    one. Rows (dicts) are made only when asked for, one at a time (``iter_bin_rows``).

    ``spill``: a whole-file run's table keeps only the recent bins in memory. Once it holds
    ``SPILL_BINS`` bins, those older than ``SPILL_LAG`` seconds behind the newest (each series
    keeps at least its newest bin) are written to a temporary file as one chunk of (start, key
    id, packets, bytes) records sorted as the bin rows are (start, then row order); the bins are
    read back in that order by merging the chunks and the memory (``_bin_groups``): a late row or
    a later widening may give a bin in several chunks, which the merge sums. The series' memory
    then follows the keys with recent data, not the capture's duration.

    The keys too (``sweep``): a key without data for ``IDLE_SECONDS`` leaves memory (its totals
    to a run of key records, ``traffickeys.KeyRuns``, its bins to a chunk), and the readers merge
    the runs back in row order, so what memory holds follows the keys with recent data."""

    def __init__(self, spill: ScratchFile | None = None) -> None:
        # [packets, bytes, first, last, id]: id of the key's bins on file (-1: none yet)
        self.totals: dict[TrafficKey, list[Any]] = {}
        self.series: dict[TrafficKey, array[int]] = {}  # key -> start, packets, bytes, start, ...
        self.unattributed_packets = 0
        self.width = 1  # seconds per bin
        self._first_second: int | None = None
        self._last_second = 0
        self._limit = 0  # bin starts at or after this need a wider bin
        # the keys in row order and their JSON heads, kept between the two tables' writes
        self._order_cache: list[TrafficKey] | None = None
        self._heads_cache: tuple[Callable[[Any], str], list[TrafficKey], list[str]] | None = None
        # where old bins go (the caller's scratch files); None: never spilled
        self._scratch = spill
        self._spill_at = SPILL_BINS if spill is not None else 0  # bins held that make a spill (0: never)
        self._held = 0  # bins in memory, counted as they are made (exact after each spill)
        self._file: IO[bytes] | None = None
        self._chunks: list[tuple[int, int]] = []  # (offset, records) of each spilled chunk
        self._next_id = 0  # the next id of a key's bins on file (its totals' last slot)
        # idle keys' totals on file (``sweep``); None until the first sweep that moves a key
        self._keys: KeyRuns | None = None
        self._next_sweep = float("-inf")
        self.evicted = 0  # keys moved to the file so far (a key that came back counts again)
        self._id_cache: tuple[tuple[int, ...], list[TrafficKey]] | None = None  # (``_id_keys``)
        self.spills = 0  # how many spills so far; ``spill_horizon``: bins older went to the file
        self.spill_horizon = 0
        # the busy seconds gathered by the last whole pass of ``iter_bin_json`` over spilled bins,
        # with the table's state then (``busy_seconds`` takes them instead of a second pass)
        self._busy: tuple[tuple[int, ...], dict[tuple[str, str, str], array[int]]] | None = None

    def add(self, key: TrafficKey, packets: int, nbytes: int, first: float, last: float,
            second: int) -> None:
        self.add_to(self.cell(key, second), packets, nbytes, first, last, second)

    def cell(self, key: TrafficKey, second: int) -> tuple[list[Any], array[int]]:
        """(totals, series) of ``key``, made empty when new (``second``: the first row's). Both
        keep their identity for the table's life (widening and folding rewrite a series in
        place), so a caller may hold them and ``add_to`` without looking the key up again."""
        total = self.totals.get(key)
        if total is None:
            total = self.totals[key] = [0, 0, float("inf"), float("-inf"), -1]
            if second >= self._limit or self._first_second is None or second < self._first_second:
                # (``_limit`` is 0 until the first row, so the first row always comes here)
                self._widen(second)  # before the first bin: the new series starts at a bin start
            self.series[key] = array("q", (second - second % self.width, 0, 0))
            self._held += 1
        return total, self.series[key]

    def add_to(self, cell: tuple[list[Any], array[int]], packets: int, nbytes: int, first: float,
               last: float, second: int) -> None:
        """Count a row into a ``cell``: a few list and array writes (the hot path of the rows)."""
        total, series = cell
        total[0] += packets
        total[1] += nbytes
        if first < total[2]:
            total[2] = first
        if last > total[3]:
            total[3] = last
        first_second = self._first_second
        if second >= self._limit or first_second is None or second < first_second:
            self._widen(second)
        width = self.width
        if width > 1:
            second -= second % width
        newest = series[-3]
        if second == newest:
            series[-2] += packets
            series[-1] += nbytes
        elif second > newest:
            series.extend((second, packets, nbytes))
            self._held += 1
            if self._held >= self._spill_at > 0:
                self._spill()
        else:
            self._held += _add_before(series, second, packets, nbytes)

    def _widen(self, second: int) -> None:
        """Make room for ``second``: double the width (merging bins) while the span needs it."""
        if self._first_second is None:
            self._first_second = self._last_second = second
        self._first_second = first = min(self._first_second, second)
        self._last_second = last = max(self._last_second, second)
        width = self.width
        while last // width - first // width >= MAX_BIN_POINTS:
            width *= 2
        if width != self.width:
            self.width = width
            for series in self.series.values():
                series[:] = _merged(series, width)  # in place: callers may hold the series
        self._limit = (first // width + MAX_BIN_POINTS) * width  # first second that needs more

    def fold_before(self, second: int) -> int:
        """Bounded memory for long live runs: the per-second bins of every key older than
        ``second`` become one bin at ``second - 1`` holding their sum (totals are unchanged).
        Returns how many bins were folded away."""
        folded = 0
        target = second - 1
        target -= target % self.width  # a bin start (bins may be wider than a second)
        for series in self.series.values():
            old = 0  # triples before ``target`` (a prefix: the series is sorted)
            while old * 3 < len(series) and series[old * 3] < target:
                old += 1
            if not old:
                continue
            packets = sum(series[1:old * 3:3])
            nbytes = sum(series[2:old * 3:3])
            rest = series[old * 3:]
            if rest and rest[0] == target:
                rest[1] += packets
                rest[2] += nbytes
                series[:] = rest  # in place: callers may hold the series
            else:
                series[:] = array("q", (target, packets, nbytes)) + rest
            folded += old
        return folded

    @property
    def bins(self) -> dict[TrafficKey, dict[int, list[int]]]:
        """The series as {key: {bin start: [packets, bytes]}} (a copy: for tests and tools)."""
        if self._chunks:
            bins: dict[TrafficKey, dict[int, list[int]]] = {}
            for start, rows in self._bin_groups():
                for key, packets, nbytes in rows:
                    bins.setdefault(key, {})[start] = [packets, nbytes]
            return bins
        return {key: {series[i]: [series[i + 1], series[i + 2]] for i in range(0, len(series), 3)}
                for key, series in self.series.items()}

    @property
    def bin_count(self) -> int:
        if self._chunks:  # (a bin may lie in several chunks: count the merged rows)
            return sum(len(rows) for _, rows in self._bin_groups())
        return sum(len(series) for series in self.series.values()) // 3

    def rows(self) -> list[dict[str, Any]]:
        return list(self.iter_rows())

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """The totals rows in row order, made one at a time."""
        for key, (packets, nbytes, first, last, *_) in self._totals():
            row = dict(zip(KEY_FIELDS, key, strict=True))
            row.update(packets=packets, bytes=nbytes, first=first, last=last)
            yield row

    def bin_rows(self) -> list[dict[str, Any]]:
        return list(self.iter_bin_rows())

    def busy_seconds(self) -> dict[tuple[str, str, str], array[int]]:
        """Bin starts with packets, sorted and distinct, per (node, HoA, CoA) over every interface,
        BID, direction and path: what ``mcoaviz.timings`` reads from the bin rows, without making
        them. A series' starts are sorted and distinct (and nearly always all busy): a path with
        one key takes them as they are; only a path with several keys merges and sorts. Machine
        ints (8 bytes a start; a set of Python ints was ~10x that for every bin of a long capture)."""
        busy: dict[tuple[str, str, str], array[int]] = {}
        if self._chunks:  # the merged bins come by start: append each start once per path
            gathered, self._busy = self._busy, None
            if gathered is not None and gathered[0] == self._state():
                return gathered[1]  # (the bins' text was just written: the same pass)
            for start, rows in self._bin_groups():
                _add_busy(busy, start, rows)
            return busy
        merged: set[tuple[str, str, str]] = set()
        for key, series in self.series.items():
            starts = series[0::3]
            counts = series[1::3]
            if 0 in counts:  # (a bin emptied by no row today; kept exact all the same)
                starts = array("q", [start for start, packets in zip(starts, counts, strict=True) if packets])
            if not starts:
                continue
            path = (key[1], key[2], key[3])
            have = busy.get(path)
            if have is None:
                busy[path] = starts
            else:
                have.extend(starts)
                merged.add(path)
        for path in merged:
            busy[path] = array("q", sorted(set(busy[path])))
        return busy

    def iter_bin_rows(self) -> Iterator[dict[str, Any]]:
        """The bin rows by (bin start, row order), made one at a time from the columns
        (``_buckets``: two machine ints per bin, never every row as a dict)."""
        width = self.width
        if self._chunks:
            for start, rows in self._bin_groups():
                for key, packets, nbytes in rows:
                    row = dict(zip(KEY_FIELDS, key, strict=True))
                    row.update(second=start, packets=packets, bytes=nbytes, width=width)
                    yield row
            return
        for key, series, at in self._bins_in_order():
            row = dict(zip(KEY_FIELDS, key, strict=True))
            row.update(second=series[at], packets=series[at + 1], bytes=series[at + 2], width=width)
            yield row

    def iter_bin_json(self, encode: Callable[[Any], str]) -> Iterator[str]:
        """``encode(row)`` of each ``iter_bin_rows`` row, without making the rows: a key's
        part of the text is encoded once per key (the numbers are ints, written as json does).
        The lines come in chunks, one per bin start, joined by ",\n" (as the export joins them)."""
        tail = f', "width": {self.width}}}'
        if self._chunks:
            # each row's key text made as it is written: no text of every key held at once (a
            # long capture's keys ever seen; each string's JSON is made once, ``_KeyHeads``)
            head_of = _KeyHeads(encode)
            busy: dict[tuple[str, str, str], array[int]] = {}
            for start, rows in self._bin_groups():
                _add_busy(busy, start, rows)
                middle = f', "second": {start}, "packets": '
                yield ",\n".join([f'{head_of(key)}{middle}{packets}, "bytes": {nbytes}{tail}'
                                   for key, packets, nbytes in rows])
            self._busy = (self._state(), busy)  # (``gaps`` asks next: one pass for both)
            return
        keys, columns, buckets = self._buckets()
        heads = self._heads(keys, encode)
        for start in sorted(buckets):
            bucket = buckets.pop(start)
            lines = []
            for i in range(0, len(bucket), 2):
                rank, at = bucket[i], bucket[i + 1]
                head = heads[rank]
                series = columns[rank]
                lines.append(f'{head}, "second": {start}, "packets": {series[at + 1]}, '
                             f'"bytes": {series[at + 2]}{tail}')
            yield ",\n".join(lines)

    def iter_json(self, encode: Callable[[Any], str]) -> Iterator[str]:
        """``encode(row)`` of each ``iter_rows`` row, without making the rows."""
        rows: Iterable[tuple[TrafficKey, str, list[Any]]]
        if self._chunks:  # (the bins' text does not reuse the keys' texts then: none is kept)
            head_of = _KeyHeads(encode)
            rows = ((key, head_of(key), total) for key, total in self._totals())
        else:  # (every key in memory: the bins' text reuses the keys' texts)
            keys, totals = self._ordered(), self.totals
            rows = zip(keys, self._heads(keys, encode), (totals[key] for key in keys), strict=True)
        for key, head, (packets, nbytes, first, last, *_) in rows:
            if type(first) is float and type(last) is float and _finite(first) and _finite(last):
                yield (f'{head}, "packets": {packets}, "bytes": {nbytes}, "first": {first!r}, '
                       f'"last": {last!r}}}')
            else:  # (never for times read from a capture; json's own text for anything else)
                row = dict(zip(KEY_FIELDS, key, strict=True))
                row.update(packets=packets, bytes=nbytes, first=first, last=last)
                yield encode(row)

    def data_spans(self) -> dict[tuple[str, str, str], list[tuple[float, float]]]:
        """(first, last) of every key with packets, per (node, HoA, CoA): what
        ``mcoaviz.timings`` reads from the traffic rows, without making them."""
        spans: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
        for key, total in (self.totals.items() if self._keys is None else self._totals()):
            if total[0]:
                spans.setdefault((key[1], key[2], key[3]), []).append((total[2], total[3]))
        return spans

    @property
    def key_count(self) -> int:
        """How many totals rows (a key moved to the file and back is one row): a pass over the
        file's key runs when there are any."""
        if self._keys is None:
            return len(self.totals)
        return sum(1 for _ in self._totals())

    def _totals(self) -> Iterator[tuple[TrafficKey, list[Any]]]:
        """(key, [packets, bytes, first, last, ...]) of every key in row order: the keys in memory,
        merged with the idle keys' runs on file (a key in several places summed)."""
        if self._keys is None:
            totals = self.totals
            for key in self._ordered():
                yield key, totals[key]
            return
        for key, total, _ in self._merged_keys():
            yield key, total

    def _merged_keys(self) -> Iterator[tuple[TrafficKey, list[Any], list[int]]]:
        runs = self._keys
        assert runs is not None
        totals = self.totals
        sources: list[Iterable[KeyRecord]] = [runs.read(run) for run in range(len(runs.runs))]
        sources.append((key, *totals[key]) for key in self._ordered())
        return merged(sources, _key_order)

    def _id_keys(self) -> list[TrafficKey]:
        """The key of each id of the bins on file (one object per key, however many ids it has:
        from one pass over the key runs when there are any; kept while the table is unchanged)."""
        if self._keys is not None:
            cached = self._id_cache
            if cached is None or cached[0] != self._state():
                by_id: list[Any] = [None] * self._next_id
                for key, _, idents in self._merged_keys():
                    for ident in idents:
                        by_id[ident] = key
                cached = self._id_cache = (self._state(), by_id)
            return cached[1]
        keys: list[Any] = [None] * self._next_id
        for key, total in self.totals.items():
            if total[4] >= 0:
                keys[total[4]] = key
        return keys

    def _ordered(self) -> list[TrafficKey]:
        """The keys in memory in row order, sorted once for both tables while no key is added (the export
        writes the totals and then the bins of the same finished table)."""
        cached = self._order_cache
        if cached is None or len(cached) != len(self.totals):
            cached = self._order_cache = sorted(self.totals, key=_key_order)
        return cached

    def _heads(self, keys: list[TrafficKey], encode: Callable[[Any], str]) -> list[str]:
        """``_KeyHeads`` text of each of ``keys`` (``_ordered``), made once per encoder."""
        cached = self._heads_cache
        if cached is None or cached[0] is not encode or cached[1] is not keys:
            head_of = _KeyHeads(encode)
            cached = self._heads_cache = (encode, keys, [head_of(key) for key in keys])
        return cached[2]

    def _bins_in_order(self) -> Iterator[tuple[TrafficKey, array[int], int]]:
        """(key, series, index of a bin in it) by (bin start, row order)."""
        keys, columns, buckets = self._buckets()
        for start in sorted(buckets):
            bucket = buckets.pop(start)
            for i in range(0, len(bucket), 2):
                rank = bucket[i]
                yield keys[rank], columns[rank], bucket[i + 1]

    def _buckets(self) -> tuple[list[TrafficKey], list[array[int]], dict[int, array[int]]]:
        """The keys in row order, their series, and per bin start the (rank, index) of each of
        its bins: keys are taken in row order, so a bucket is already in row order and only the
        distinct starts need sorting (a heap merge of ~20 000 series costs a heap operation per
        bin). Memory: two machine ints per bin."""
        keys = self._ordered()
        columns = [self.series[key] for key in keys]
        buckets: dict[int, array[int]] = {}
        for rank, series in enumerate(columns):
            for at, start in zip(range(0, len(series), 3), series[0::3], strict=True):
                bucket = buckets.get(start)
                if bucket is None:
                    bucket = buckets[start] = array("q")
                bucket.append(rank)
                bucket.append(at)
        return keys, columns, buckets


    # ------------------------------------------------------------ spilled bins (whole-file runs)
    def _state(self) -> tuple[int, ...]:
        """Changes whenever a bin, a key, a spill or the width does (what ``_busy`` depends on)."""
        return (self.spills, self.width, len(self.totals), self._held, self.evicted)

    def _spill(self) -> None:
        """Write the bins older than ``SPILL_LAG`` seconds behind the newest to the file as one
        chunk sorted by (start, row order); each series keeps at least its newest bin."""
        # (``_last_second`` moves only when the width is checked: the series' newest bins tell)
        horizon = max(series[-3] for series in self.series.values()) - SPILL_LAG
        horizon -= horizon % self.width
        cuts: list[tuple[TrafficKey, array[int], int]] = []
        for key, series in self.series.items():
            if series[0] < horizon and len(series) > 3:
                cut = 3
                last = len(series) - 3  # (the newest bin stays)
                while cut < last and series[cut] < horizon:
                    cut += 3
                cuts.append((key, series, cut))
        if cuts:
            self._write_bins(cuts)
        self._held = sum(map(len, self.series.values())) // 3
        self._spill_at = max(SPILL_BINS, 2 * self._held)
        self.spills += 1
        self.spill_horizon = horizon  # each spill moves at least about half

    # ------------------------------------------------------------ idle keys (whole-file runs)
    def sweep(self, now: float) -> int:
        """Move every key without data since ``now - IDLE_SECONDS`` out of memory: its totals
        to the key runs' file (one run per sweep, in row order), its bins in memory to the bins'
        file (one chunk). Looks every ``SWEEP_SECONDS`` of capture time, and only in a table
        given scratch files. Returns how many keys moved.

        A moved key's cell is emptied (its totals list and its series): a caller that holds
        cells (``feed_traffic``'s targets) must drop each one whose totals list is empty before
        it counts into one again. A key that comes back gets a new cell (``cell``); the readers
        sum its places (``traffickeys.merged``, ``_bin_groups``), so every table is the same."""
        if now < self._next_sweep or self._scratch is None:
            return 0
        self._next_sweep = now + SWEEP_SECONDS
        horizon = now - IDLE_SECONDS
        totals, series = self.totals, self.series
        idle = sorted((key for key, total in totals.items() if total[3] < horizon), key=_key_order)
        if not idle:
            return 0
        self._write_bins([(key, series[key], len(series[key])) for key in idle])  # (ids given)
        records: list[KeyRecord] = []
        for key in idle:
            total = totals.pop(key)
            records.append((key, total[0], total[1], total[2], total[3], total[4]))
            total.clear()  # (a cell still held is seen to be gone)
            del series[key]
        if self._keys is None:
            self._keys = KeyRuns(self._scratch)
        self._keys.write(records)
        self.evicted += len(idle)
        self._held = sum(map(len, series.values())) // 3
        self._order_cache = self._heads_cache = None  # (fewer keys: a count no longer tells)
        # a dict keeps the size of its largest moment: copies sized for the keys held now
        self.totals, self.series = dict(totals), dict(series)
        return len(idle)

    def _write_bins(self, cuts: list[tuple[TrafficKey, array[int], int]]) -> None:
        """Write the first ``cut`` ints of each (key, series, cut) as one chunk sorted by (start,
        row order), and drop them from the series; a key gets its id on its first bins written."""
        cuts.sort(key=lambda item: _key_order(item[0]))
        totals = self.totals
        buckets: dict[int, array[int]] = {}
        for key, series, cut in cuts:
            total = totals[key]
            ident = total[4]
            if ident < 0:
                ident = total[4] = self._next_id
                self._next_id += 1
            for at in range(0, cut, 3):
                start = series[at]
                bucket = buckets.get(start)
                if bucket is None:
                    bucket = buckets[start] = array("q")
                bucket.extend((start, ident, series[at + 1], series[at + 2]))
            del series[:cut]  # in place: callers may hold the series
        self._write_chunk([buckets[start] for start in sorted(buckets)])

    def _write_chunk(self, parts: list[array[int]]) -> None:
        try:
            if self._file is None:
                assert self._scratch is not None  # only a table given scratch files spills
                self._file = self._scratch()
            file = self._file
            file.seek(0, 2)
            offset = file.tell()
            for part in parts:
                part.tofile(file)
            file.flush()
        except SpoolError:
            raise
        except OSError as exc:
            raise SpoolError(f"cannot keep traffic bins in a temporary file ({exc.strerror or exc}); "
                             "set TMPDIR to a directory with room") from exc
        self._chunks.append((offset, sum(map(len, parts)) // _RECORD))

    def _read_chunk(self, index: int,
                    keys: list[TrafficKey]) -> Iterator[tuple[int, int, TrafficKey, int, int]]:
        """Chunk ``index``'s records as (start, source, key, packets, bytes), in file order
        (``keys``: the key of each id, ``_id_keys``)."""
        offset, count = self._chunks[index]
        file = self._file
        assert file is not None
        done = 0
        while done < count:
            block = array("q")
            take = min(_READ_RECORDS, count - done)
            file.seek(offset + done * _RECORD * block.itemsize)
            block.fromfile(file, take * _RECORD)
            done += take
            for i in range(0, len(block), _RECORD):
                yield block[i], index, keys[block[i + 1]], block[i + 2], block[i + 3]

    def _memory_records(self) -> Iterator[tuple[int, int, TrafficKey, int, int]]:
        """The bins in memory as (start, source, key, packets, bytes), by (start, row order)."""
        source = len(self._chunks)
        keys, columns, buckets = self._buckets()
        for start in sorted(buckets):
            bucket = buckets.pop(start)
            for i in range(0, len(bucket), 2):
                rank, at = bucket[i], bucket[i + 1]
                series = columns[rank]
                yield start, source, keys[rank], series[at + 1], series[at + 2]

    def _bin_groups(self) -> Iterator[tuple[int, list[tuple[TrafficKey, int, int]]]]:
        """(bin start, [(key, packets, bytes), ...] in row order) for every bin start, from the
        spilled chunks and the memory. Each source is sorted by (start, row order); a group of
        one source and one start is taken as it is, any other is summed per key (a bin spilled
        before a widening, or by a late row, lies in several places) and sorted."""
        keys = self._id_keys()
        sources: list[Iterable[tuple[int, int, TrafficKey, int, int]]] = [
            self._read_chunk(i, keys) for i in range(len(self._chunks))]
        sources.append(self._memory_records())
        width = self.width
        group: list[tuple[int, int, TrafficKey, int, int]] = []
        at = None
        for record in heapq.merge(*sources, key=_start_of):
            start = record[0] - record[0] % width
            if start != at:
                if group:
                    yield at, _summed(group)  # type: ignore[misc]  # (at is set with group)
                group, at = [], start
            group.append(record)
        if group:
            yield at, _summed(group)  # type: ignore[misc]


class _KeyHeads:
    """The JSON text of a key's fields (``{"interface": 0, ... "via": "tunnel"``, no closing
    brace) as ``encode`` writes them: strings, ints and None written directly (each distinct
    string escaped once), anything else through ``encode``."""

    def __init__(self, encode: Callable[[Any], str]) -> None:
        self.encode = encode
        self.texts: dict[str, str] = {}

    def __call__(self, key: TrafficKey) -> str:
        interface, node, hoa, coa, bid, direction, via = key
        if type(interface) is not int or not (bid is None or type(bid) is int):
            return self.encode(dict(zip(KEY_FIELDS, key, strict=True)))[:-1]
        # (a dict look-up per string, the method only for a string not seen yet or None: the
        # bins' text of a long capture makes each row's head this way)
        texts, text = self.texts, self._text
        return (f'{{"interface": {interface}, "node": {texts.get(node) or text(node)}, '
                f'"hoa": {texts.get(hoa) or text(hoa)}, "coa": {texts.get(coa) or text(coa)}, '
                f'"bid": {"null" if bid is None else bid}, '
                f'"direction": {texts.get(direction) or text(direction)}, '
                f'"via": {texts.get(via) or text(via)}')

    def _text(self, value: Any) -> str:
        if value is None:
            return "null"
        found = self.texts.get(value) if type(value) is str else None
        if found is None:
            found = self.encode(value)
            if type(value) is str:
                self.texts[value] = found
        return found


def _finite(value: float) -> bool:
    return value - value == 0.0  # False for inf and NaN


def _add_before(series: array[int], second: int, packets: int, nbytes: int) -> int:
    """A bin older than the newest (rows flushed out of order): find it from the end. Returns
    the bins made (0 or 1)."""
    i = len(series) - 3
    while i >= 0 and series[i] > second:
        i -= 3
    if i >= 0 and series[i] == second:
        series[i + 1] += packets
        series[i + 2] += nbytes
        return 0
    series[i + 3:i + 3] = array("q", (second, packets, nbytes))
    return 1


def _merged(series: array[int], width: int) -> array[int]:
    """The series with its starts rounded down to ``width`` (sorted: equal starts are adjacent)."""
    out = array("q")
    for i in range(0, len(series), 3):
        start = series[i] - series[i] % width
        if out and out[-3] == start:
            out[-2] += series[i + 1]
            out[-1] += series[i + 2]
        else:
            out.extend((start, series[i + 1], series[i + 2]))
    return out


def _add_busy(busy: dict[tuple[str, str, str], array[int]], start: int,
              rows: list[tuple[TrafficKey, int, int]]) -> None:
    """Add one bin start to the busy seconds of each path with packets there (starts come sorted)."""
    for key, packets, _ in rows:
        if packets:
            path = (key[1], key[2], key[3])
            have = busy.get(path)
            if have is None:
                busy[path] = array("q", (start,))
            elif have[-1] != start:
                have.append(start)


def _start_of(record: tuple[int, int, TrafficKey, int, int]) -> int:
    return record[0]


def _summed(group: list[tuple[int, int, TrafficKey, int, int]]) -> list[tuple[TrafficKey, int, int]]:
    """One bin start's rows in row order: as they come when they share one source and start."""
    first = group[0]
    if all(record[0] == first[0] and record[1] == first[1] for record in group):
        return [(key, packets, nbytes) for _, _, key, packets, nbytes in group]
    sums: dict[TrafficKey, list[int]] = {}
    for _, _, key, packets, nbytes in group:
        have = sums.get(key)
        if have is None:
            sums[key] = [packets, nbytes]
        else:
            have[0] += packets
            have[1] += nbytes
    return [(key, *sums[key]) for key in sorted(sums, key=_key_order)]  # type: ignore[misc]


def _key_order(key: TrafficKey) -> tuple[Any, ...]:
    interface, node, hoa, coa, bid, direction, via = key
    return (interface, node, hoa, coa, -1 if bid is None else bid, direction, via)
