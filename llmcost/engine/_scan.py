"""One-shot reports over log files, fast: ``llmcost report`` reads millions of records in a second or two.

What makes it fast, and what keeps it equal to :func:`report` over the follower's batches:

- lines are decoded a megabyte at a time (``decode_lines``) into :data:`~llmcost.log.RecordFields`: every field of
  :class:`~llmcost.log.Record`, with its type and constraints, so a line is valid here exactly when the follower keeps
  it. The times of a whole block are checked at once (:func:`~llmcost.log.times_checked`, one pass over the joined
  stamps) instead of one Python call per line. A block with a bad line, with a time not in the recorder's form, or
  with a record that has usage but no cost, is decoded again by the follower's own :func:`decode_block` into full
  records, which are priced (when they have no cost) and added one by one, as ``report`` does; so is every block
  with ``reprice``. A record with neither usage nor cost (a request refused with a 429 or 500) needs no pricing: it
  costs 0 when refused, else it is unpriced, as in the engine.
- the few fields the report sums are taken from each record in one C call (``attrgetter``) and the records grouped
  with C-level ``map``; each group is then summed column by column with ``sum``/``count``/``map`` over thousands of
  records at a time, percentile sketches included (:meth:`Sketch.add_many`). Costs are summed as whole
  pico-dollars, ``round(cost_usd * 1e12)`` per record, exactly like the live engine;
- the garbage collector is paused: the structs hold no references, so there is nothing for it to find;
- a large history is cut into byte ranges at line ends, one per core; the other processes are forked and send back
  their group totals, which add up exactly. Each range drops duplicate ids the way the follower does; the first ids
  of each range are checked against the ids the previous ranges remembered at their end, and any id seen on both
  sides of a cut sends the whole history through one process.

Files are opened one at a time, only while they are read, so a history of any number of files needs a few
descriptors.

Memory stays bounded with the number of groups, as the live engine's does: past ``max_rows`` groups (many sessions
or users) the reading keeps only the exact totals of each group and drops the percentile sketches; a second reading
then gives the ``max_rows`` costliest groups their rows with sketches and adds every other group into one
``(other)`` row (``Scan.folded`` says how many). Every total stays exact.

Malformed and over-long lines are counted per file, never fatal (the same :class:`LineSplitter` rule and
:func:`decode_block` as the follower).
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import multiprocessing
import os
import sys
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import repeat
from operator import attrgetter, is_not, mul
from typing import TYPE_CHECKING, Any

import msgspec

from llmcost.engine._aggregate import NONE, OTHER, _no_usage, _no_usage_pico
from llmcost.engine._follow import _ID, Follower, Piece, Progress, _Seen, open_piece
from llmcost.engine._groupings import ScanBy, keys_of
from llmcost.engine._report import ReportRow, _Rows, _within
from llmcost.engine._sums import ranked
from llmcost.log import (
    BAD_LINE,
    MAX_LINE,
    RecordFields,
    canonical,
    decode_block,
    iso,
    record_decoder,
    times_exist,
    too_deep,
)

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["MAX_ROWS", "Scan", "report_files"]

MAX_ROWS = 5_000  # groups a report keeps as rows with percentiles; the others add into one "(other)" row
_PARALLEL_BYTES = 32 << 20  # below this a second process costs more than it saves
_BULK = 8  # smaller groups are added record by record
_FLUSH_MAX = 1 << 15  # bounds the record tuples held (about ten megabytes)
_FLUSH = 8192  # records gathered before the groups are summed (while their tuples are in the CPU cache)
_FOLDED = (OTHER,)  # the key of the "(other)" row: a tuple, so no group (a string or None) can have it
_present = partial(is_not, None)

# What the report sums, in one C call per record.
_COLUMNS = attrgetter(
    "status",
    "attempt",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_output_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
)
_COST = attrgetter("cost_usd")
_TS = attrgetter("ts")
_START_TS = attrgetter("start_ts")


@dataclass(slots=True)
class Scan:
    """Group totals of a history, and how the read went (``records``: read once each, before any period filter).

    ``folded``: how many groups beyond ``max_rows`` were added into the ``(other)`` row, ``other`` (also in
    ``rows``)."""

    rows: list[ReportRow]
    records: int = 0
    duplicates: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    processes: int = 1
    folded: int = 0
    other: ReportRow | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    by: str
    lo: float | None
    hi: float | None
    reprice: bool
    catalog: Catalog | None
    max_rows: int | None  # past this many groups a process keeps no sketches (a second reading folds)
    keep: frozenset[Any] | None = None  # the second reading: the groups kept as rows; the others add into _FOLDED


@dataclass(slots=True)
class _Part:
    """What one process found in its byte ranges."""

    rows: dict[Any, ReportRow]
    records: int = 0
    duplicates: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    head: list[str] = field(default_factory=list)  # the first fresh ids, checked against the previous parts
    seen: _Seen | None = None  # the ids remembered at the end (in this process)
    sent: _Ids = ""  # the ids remembered at the end, packed (from a forked process)
    sketched: bool = True  # whether every row has its sketches (none dropped for want of memory)
    ranks: dict[Any, tuple[int, int]] | None = None  # instead of rows: (pico-dollars, calls) per group, to rank them


class _Tally(_Rows):
    """Groups records (as tuples of the fields the report sums), then sums each group column by column."""

    def __init__(self, job: _Job) -> None:
        super().__init__(job.by, job.catalog, job.reprice, fold=job.keep, folded_key=_FOLDED)
        self.max_rows = None if job.keep is not None else job.max_rows  # a second reading has its rows already
        self.pending: defaultdict[Any, list[tuple[Any, ...]]] = defaultdict(list)
        self.count = 0
        self.limit = _FLUSH

    def add(self, records: list[Any], keys: list[Any], costs: list[float | None]) -> None:
        """Records (their keys and costs alongside) summed in bulk at the next flush. A record without a cost has no
        usage either (else it went the careful way): it costs 0 when refused, else it is unpriced, as in the engine."""
        if self.fold is not None:
            keep = self.fold
            keys = [k if k in keep else _FOLDED for k in keys]
        group = self.pending.__getitem__  # a defaultdict: a new key gets its list in C
        deque(map(list.append, map(group, keys), map(_COLUMNS, records)), maxlen=0)
        if None in costs:
            for i in _nones(costs):
                if _no_usage_pico(records[i]) is None:
                    self.row(keys[i]).unpriced_calls += 1
        self.count += len(records)
        if self.count >= self.limit:
            self.flush()

    def row(self, key: Any) -> ReportRow:
        row = super().row(key)
        if self.sketches and self.max_rows is not None and len(self.rows) > self.max_rows:
            self.drop_sketches()
        return row

    def flush(self) -> None:
        """Sum the pending records group by group, while their tuples are still in the CPU cache."""
        for key, group in self.pending.items():
            row = self.row(key)
            n = len(group)
            if n < _BULK:
                for values in group:
                    _add_values(row, values, self.sketches)
                continue
            status, attempt, inp, out, cache_read, cache_write, reasoning, cost, latency, ttft = zip(*group)
            row.calls += n
            row.errors += status.count("error")
            row.retries += n - attempt.count(0)
            row.input_tokens += sum(filter(None, inp))
            row.output_tokens += sum(filter(None, out))
            row.cache_read_tokens += sum(filter(None, cache_read))
            row.cache_write_tokens += sum(filter(None, cache_write))
            row.reasoning_tokens += sum(filter(None, reasoning))
            row.pico += sum(map(float.__round__, map(mul, filter(None, cost), repeat(1e12))))  # round(), faster
            if self.sketches:
                row.latency.add_many(latency)
                row.ttft.add_many(ttft)
        # many small groups (sessions, users): gather more before the next flush, so the groups are bigger
        self.limit = min(_FLUSH_MAX, max(_FLUSH, len(self.pending) * _BULK * 2))
        self.pending.clear()
        self.count = 0


def _add_values(row: ReportRow, values: tuple[Any, ...], sketches: bool) -> None:
    """One record of a small group, from its tuple of ``_COLUMNS``."""
    status, attempt, inp, out, cache_read, cache_write, reasoning, cost, latency, ttft = values
    row.calls += 1
    if status == "error":
        row.errors += 1
    if attempt:
        row.retries += 1
    row.input_tokens += inp or 0
    row.output_tokens += out or 0
    row.cache_read_tokens += cache_read or 0
    row.cache_write_tokens += cache_write or 0
    row.reasoning_tokens += reasoning or 0
    if cost:
        row.pico += round(cost * 1e12)
    if sketches:
        if latency is not None:
            row.latency.add(latency)
        if ttft is not None:
            row.ttft.add(ttft)


class _Period:
    """``lo <= t < hi`` for blocks of stamps in the recorder's form: whole blocks by their first and last stamp (such
    stamps sort as their times do), with a second to spare; a block across a bound record by record."""

    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo, self.hi = lo, hi
        try:
            self.all_after = None if lo is None else iso(math.ceil(lo) + 1)
            self.all_before = None if hi is None else iso(math.floor(hi) - 1)
            self.none_before = None if lo is None else iso(math.floor(lo) - 1)
            self.none_after = None if hi is None else iso(math.ceil(hi) + 1)
            self.whole = True
        except (ValueError, OverflowError, OSError):  # a bound at the edge of the dates: record by record then
            self.whole = False

    def keep(self, records: list[Any], canonical: bool) -> list[Any]:
        if not records or (self.lo is None and self.hi is None):
            return records
        if canonical and self.whole:
            stamps = list(map(_TS, records))
            first, last = min(stamps), max(stamps)
            if (self.all_after is None or first >= self.all_after) and (
                self.all_before is None or last < self.all_before
            ):
                return records
            if (self.none_before is not None and last < self.none_before) or (
                self.none_after is not None and first >= self.none_after
            ):
                return []
        return [r for r in records if _within(r.ts, self.lo, self.hi)]


def _scan(pieces: Sequence[Piece], job: _Job, progress: Callable[[int], None] | None, head: bool) -> _Part:
    """Read byte ranges in order, as the follower would: same line splitting, malformed lines, duplicate ids."""
    fast: msgspec.json.Decoder[Any] = msgspec.json.Decoder(RecordFields)
    full = record_decoder()
    tally = _Tally(job)
    seen = _Seen()
    want = seen.cap if head else 0
    part = _Part(tally.rows, seen=seen)
    period = _Period(job.lo, job.hi)
    done = 0
    for piece in pieces:
        fd = open_piece(piece)
        if fd is None:  # no longer the file that was listed: the follower would not read it either
            done += piece.end - piece.start
            continue
        try:
            for block, over, consumed in _blocks(fd, piece.start, piece.end):
                records = None if job.reprice else _decode_fast(fast, block)
                costs: list[Any] = []
                if records is not None:
                    costs = list(map(_COST, records))
                    if None in costs and not all(map(_no_usage, map(records.__getitem__, _nones(costs)))):
                        records = None  # usage without a cost: priced record by record, as report() does
                careful = records is None
                bad = 0
                if records is None:  # (or a bad line)
                    records, bad = decode_block(full, block)
                if over + bad:
                    part.malformed[piece.name] = part.malformed.get(piece.name, 0) + over + bad
                decoded = records
                records, dupes = seen.fresh(records)  # before the period filter, as the follower's batches are
                part.records += len(records)
                part.duplicates += dupes
                if len(part.head) < want:
                    part.head += map(_ID, records[: want - len(part.head)])
                records = period.keep(records, not careful)
                if careful:
                    tally.add_priced(records)
                else:
                    if records is not decoded:
                        costs = list(map(_COST, records))
                    tally.add(records, keys_of(job.by, records, True), costs)
                done += consumed
                if progress is not None:
                    progress(done)
        finally:
            os.close(fd)
    tally.flush()
    part.sketched = tally.sketches
    return part


def _nones(values: list[Any]) -> Iterator[int]:
    """The indexes of ``None`` in ``values`` (few: refused calls), found at C speed."""
    i = -1
    while True:
        try:
            i = values.index(None, i + 1)
        except ValueError:
            return
        yield i


def _decode_fast(decoder: msgspec.json.Decoder[Any], block: memoryview) -> list[Any] | None:
    """The block's records when every line is valid and every ``ts`` in the recorder's form, else ``None``."""
    if too_deep(block):
        return None
    try:
        records: list[Any] = decoder.decode_lines(block)
    except BAD_LINE:  # a bad line: the block goes the careful way (its good lines are kept, the bad ones counted)
        return None
    stamps = list(map(_TS, records))
    if not canonical(stamps):
        return None  # a time that does not exist, or another form of it (its day is computed, not read)
    starts = list(map(_START_TS, records))
    if starts != stamps and not times_exist(list(filter(_present, starts))):  # often the same: checked just now
        return None
    return records


def _read_into(fd: int, view: memoryview, pos: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], pos)
    data = os.pread(fd, len(view), pos)  # Windows
    view[: len(data)] = data
    return len(data)


def _blocks(fd: int, start: int, end: int) -> Iterator[tuple[memoryview, int, int]]:
    """Blocks of complete lines between two line starts, the number of over-long lines, the bytes consumed.

    The lines the follower's :class:`LineSplitter` keeps (``MAX_LINE`` bytes or shorter) and drops. Each read starts
    at a line start, into one reused buffer (it stays in the CPU cache); a block is a view of it up to its last
    newline, valid until the next block is read."""
    buffer = bytearray(MAX_LINE + 1)
    view = memoryview(buffer)
    pos = start
    while pos < end:
        size = _read_into(fd, view[: min(MAX_LINE + 1, end - pos)], pos)
        if not size:
            return
        last = buffer.rfind(b"\n", 0, size)
        if last >= 0:
            pos += last + 1
            yield view[: last + 1], 0, last + 1
        elif size > MAX_LINE:  # over-long: dropped up to its newline (or the end), counted once
            skip = _line_end(fd, pos + size, end)
            yield view[:0], 1, skip - pos
            pos = skip
        else:
            return  # the unfinished last line: a writer is still at it


def report_files(
    paths: Iterable[str | os.PathLike[str]],
    by: ScanBy = "agent",
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    reprice: bool = False,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
    processes: int | None = None,
    max_rows: int | None = MAX_ROWS,
) -> Scan:
    """Totals per group of the records in the files (``since <= ts < until``), highest cost first.

    The same rows as ``report(read_history(...))``, faster. ``by``: a report grouping, or ``day_model`` (see
    ``SCAN_KEYS``). ``processes``: how many to read with (default: one per core for histories over 32 MB; more than
    one needs Linux and no other running thread, else one is used). ``max_rows``: past this many groups, the
    costliest keep their rows and the others add into one ``(other)`` row (``None``: every group, unbounded memory).
    """
    lo, hi = since.timestamp() if since else None, until.timestamp() if until else None
    job = _Job(by, lo, hi, reprice, catalog, max_rows)
    with Follower(paths, since=since.date() if since else None, all=since is None) as follower:
        pieces = follower.history()
        follower.require_readable()
    total = sum(p.end - p.start for p in pieces)
    n = _processes(processes, total)
    paused = gc.isenabled()
    gc.disable()
    try:
        results = _read(pieces, n, job, progress, total)
        if max_rows is not None and _too_many(results, max_rows):
            ranking = _ranking(results)
            del results  # the first reading's rows: freed before the second
            keep = frozenset(key for key, _ in ranking[:max_rows])
            scan = _merge(_read(pieces, n, replace(job, keep=keep), progress, total))
            scan.folded = len(ranking) - len(keep)
        else:
            scan = _merge(results)
    finally:
        if paused:
            gc.enable()
    return scan


def _too_many(parts: list[_Part], max_rows: int) -> bool:
    """Whether the parts found more than ``max_rows`` groups between them."""
    if not all(part.sketched for part in parts):
        return True  # one of them alone did
    return len(set().union(*(part.rows for part in parts))) > max_rows


def _ranking(parts: list[_Part]) -> list[tuple[Any, tuple[int, int]]]:
    """Every group's key with its (pico-dollars, calls) over all parts, in report order; the parts' rows are freed
    on the way."""
    totals: dict[Any, tuple[int, int]] = {}
    for part in parts:
        ranks = part.ranks if part.ranks is not None else {key: (r.pico, r.calls) for key, r in part.rows.items()}
        part.rows, part.ranks = {}, None
        for key, (more_pico, more_calls) in ranks.items():
            pico, calls = totals.get(key, (0, 0))
            totals[key] = (pico + more_pico, calls + more_calls)
        del ranks
    return sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], NONE if kv[0] is None else kv[0]))


def _read(pieces: list[Piece], n: int, job: _Job, progress: Progress | None, total: int) -> list[_Part]:
    parts = _split(pieces, n) if n > 1 else [pieces]
    results = _run(parts, job, progress, total)
    if not _distinct(results):
        results = _run([pieces], job, progress, total)
    return results


def _processes(wanted: int | None, total: int) -> int:
    if wanted is None:
        wanted = (os.cpu_count() or 1) if total >= _PARALLEL_BYTES else 1
    if wanted > 1 and (not sys.platform.startswith("linux") or threading.active_count() > 1):
        # fork is safe on Linux in a process without other threads (macOS system libraries are not fork-safe, and
        # a thread holding a lock at the fork deadlocks the child)
        return 1
    return max(1, wanted)


def _split(pieces: Sequence[Piece], n: int) -> list[list[Piece]]:
    """``n`` runs of consecutive byte ranges of about equal size, cut right after a newline."""
    total = sum(p.end - p.start for p in pieces)
    parts: list[list[Piece]] = [[]]
    target = total / n
    used = 0
    for piece in pieces:
        start, end = piece.start, piece.end
        while len(parts) < n and used + (end - start) > target * len(parts):
            ahead = int(target * len(parts) - used)
            cut = start if ahead <= 0 else _cut(piece, start + ahead)
            if cut >= end:
                break
            if cut > start:
                parts[-1].append(replace(piece, start=start, end=cut))
                used += cut - start
                start = cut
            parts.append([])
        parts[-1].append(replace(piece, start=start))
        used += end - start
    return [p for p in parts if p]


def _cut(piece: Piece, pos: int) -> int:
    """The offset just past the first newline at or after ``pos`` in the piece's file (its end when there is none)."""
    fd = open_piece(piece)
    if fd is None:
        return piece.end
    try:
        return _line_end(fd, pos, piece.end)
    finally:
        os.close(fd)


def _line_end(fd: int, pos: int, end: int) -> int:
    """The offset just past the first newline at or after ``pos`` (``end`` when there is none before it)."""
    while pos < end:
        chunk = os.pread(fd, min(65_536, end - pos), pos)
        if not chunk:
            return end
        nl = chunk.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += len(chunk)
    return end


# The job of the forked processes: set before forking, so nothing but the part index crosses the pipe going out.
_forked: tuple[list[list[Piece]], _Job] | None = None
_kept: list[_Part] = []  # a forked process exits without freeing what it built: that would only cost time


def _run_forked(
    index: int,
) -> tuple[dict[Any, ReportRow], int, int, dict[str, int], _Ids, _Ids, dict[Any, tuple[int, int]] | None]:
    assert _forked is not None
    parts, job = _forked
    part = _scan(parts[index], job, None, head=True)
    _kept.append(part)
    remembered: _Ids = ""
    if index < len(parts) - 1 and part.seen is not None:
        remembered = _pack([*part.seen.current, *part.seen.previous])
    rows, ranks = part.rows, None
    if not part.sketched:  # too many groups: only what ranks them crosses the pipe (a second reading follows)
        rows, ranks = {}, {key: (row.pico, row.calls) for key, row in part.rows.items()}
    return rows, part.records, part.duplicates, part.malformed, _pack(part.head), remembered, ranks


_Ids = str | list[str]


def _pack(ids: list[str]) -> _Ids:
    """Ids as one string (a single copy through the pipe), or as they are when one holds the separator."""
    packed = "\n".join(ids)
    return packed if packed.count("\n") == max(0, len(ids) - 1) else ids


def _unpack(ids: _Ids) -> list[str]:
    if isinstance(ids, list):
        return ids
    return ids.split("\n") if ids else []


def _run(parts: list[list[Piece]], job: _Job, progress: Progress | None, total: int) -> list[_Part]:
    def report(done: int) -> None:
        if progress is not None:
            progress(min(total, done * len(parts)), total)

    if len(parts) == 1:
        return [_scan(parts[0], job, report, head=False)]
    global _forked
    _forked = (parts, job)
    pool = multiprocessing.get_context("fork").Pool(len(parts) - 1)
    try:
        pending = [pool.apply_async(_run_forked, (i,)) for i in range(1, len(parts))]
        results = [_scan(parts[0], job, report, head=False)]
        for p in pending:
            rows, records, duplicates, malformed, head, remembered, ranks = p.get()
            part = _Part(rows, records, duplicates, malformed, _unpack(head), sent=remembered, ranks=ranks)
            part.sketched = ranks is None
            results.append(part)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        _forked = None
    if progress is not None:
        progress(total, total)
    return results


def _distinct(parts: list[_Part]) -> bool:
    """Whether no part starts with an id that a part before it still remembered at its end."""
    for k in range(1, len(parts)):
        head = parts[k].head
        if head and any(_knows_any(earlier, head) for earlier in parts[:k]):
            return False
    return True


def _knows_any(part: _Part, ids: list[str]) -> bool:
    """Whether the part remembered any of the ids at its end."""
    if part.seen is not None:
        return not (part.seen.current.isdisjoint(ids) and part.seen.previous.isdisjoint(ids))
    return not set(_unpack(part.sent)).isdisjoint(ids)


def _merge(parts: list[_Part]) -> Scan:
    rows = parts[0].rows
    scan = Scan([], processes=len(parts))
    for part in parts:
        for key, row in part.rows.items():
            mine = rows.get(key)
            if mine is None:
                rows[key] = row
            elif mine is not row:
                mine.merge(row)
        scan.records += part.records
        scan.duplicates += part.duplicates
        for name, n in part.malformed.items():
            scan.malformed[name] = scan.malformed.get(name, 0) + n
    scan.rows = ranked(rows.values())
    scan.other = rows.get(_FOLDED)
    return scan
