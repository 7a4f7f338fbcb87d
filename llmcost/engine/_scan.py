"""One-shot reports over log files, fast: ``llmcost report`` reads millions of records in a second or two.

What makes it fast, and what keeps it equal to :func:`report` over the follower's batches:

- lines are decoded a megabyte at a time (``decode_lines``) into a slim struct holding only the fields the report
  uses; msgspec skips the other keys without building them. A block with a bad line, or with a record that has
  usage but no cost, is decoded again as full records, which are priced (when they have no cost) and added one by
  one, as ``report`` does; so is every block with ``reprice``. A record with neither usage nor cost (a request
  refused with a 429 or 500) needs no pricing: it costs 0 when refused, else it is unpriced, as in the engine.
  (Lines whose unused fields have the wrong type, or bytes that are not UTF-8, are read, where the follower would
  count them as malformed.)
- records are grouped in one short loop, then each group is summed with C-level ``map``/``sum``/``count`` over
  tens of thousands of records at a time, percentile sketches included (:meth:`Sketch.add_many`). Costs are summed
  as whole pico-dollars, ``round(cost_usd * 1e12)`` per record, exactly like the live engine;
- the garbage collector is paused: the structs hold no references, so there is nothing for it to find;
- a large history is cut into byte ranges at line ends, one per core; the other processes are forked (they
  inherit the open descriptors) and send back their group totals, which add up exactly. Each range drops duplicate
  ids the way the follower does; the first ids of each range are checked against the ids the previous ranges
  remembered at their end, and any id seen on both sides of a cut sends the whole history through one process.

Malformed and over-long lines are counted per file, never fatal (the same :class:`LineSplitter` and
:func:`decode_block` as the follower).
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter, mul
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from msgspec.structs import astuple

from llmcost.engine._aggregate import _no_usage, _no_usage_pico
from llmcost.engine._follow import _ID, Follower, Progress, _Seen
from llmcost.engine._report import _KEY_FIELDS, ReportRow, ScanBy, _add, _ranked, _Rows, _within
from llmcost.log import MAX_LINE, decode_block, record_decoder

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["Scan", "report_files"]

_Piece = tuple[int, str, int, int]  # descriptor, file name, first byte, end (from Follower.history)
_PARALLEL_BYTES = 32 << 20  # below this a second process costs more than it saves
_BULK = 8  # smaller groups are added record by record
_FLUSH_MAX = 1 << 18  # bounds the records held
_FLUSH = 8192  # records gathered before the groups are summed (while their structs are in the CPU cache)


@dataclass(slots=True)
class Scan:
    """Group totals of a history, and how the read went (``records``: read once each, before any period filter)."""

    rows: list[ReportRow]
    records: int = 0
    duplicates: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    processes: int = 1


_FIELDS: tuple[tuple[str, Any, Any], ...] = (  # in the wire format's order: msgspec matches the keys fastest so
    ("stream", bool, False),
    ("input_tokens", int | None, None),
    ("output_tokens", int | None, None),
    ("cache_read_input_tokens", int | None, None),
    ("cache_creation_input_tokens", int | None, None),
    ("reasoning_output_tokens", int | None, None),
    ("gpu_seconds", float | None, None),
    ("cost_usd", float | None, None),  # None: a refused call (no usage: costs 0) or one to price (the block is redone)
    ("latency_ms", float | None, None),
    ("ttft_ms", float | None, None),
    ("status", Literal["ok", "error", "cancelled"], "ok"),  # the wire format's; another fails the block
    ("attempt", int, 0),
)
(
    _STREAM,
    _IN,
    _OUT,
    _CACHE_READ,
    _CACHE_WRITE,
    _REASONING,
    _GPU,
    _COST_AT,
    _LATENCY_AT,
    _TTFT_AT,
    _STATUS,
    _ATTEMPT,
) = range(2, 14)
_COST = attrgetter("cost_usd")


@functools.cache
def _slim(by: str) -> type[msgspec.Struct]:
    """The fields a report by ``by`` reads, in this order: ``ts``, ``id`` (required, as in :class:`Record`), then
    ``_FIELDS`` (at the indexes above), then the grouping fields."""
    keys = [(name, str | None, None) for name in _KEY_FIELDS[by]]
    return msgspec.defstruct("SlimRecord", [("ts", str), ("id", str), *_FIELDS, *keys], kw_only=True, gc=False)


@dataclass(frozen=True, slots=True)
class _Job:
    by: str
    lo: float | None
    hi: float | None
    reprice: bool
    catalog: Catalog | None


@dataclass(slots=True)
class _Part:
    """What one process found in its byte ranges."""

    rows: dict[str | None, ReportRow]
    records: int = 0
    duplicates: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    head: list[str] = field(default_factory=list)  # the first fresh ids, checked against the previous parts
    seen: _Seen | None = None  # the ids remembered at the end (in this process)
    sent: _Ids = ""  # the ids remembered at the end, packed (from a forked process)


class _Tally(_Rows):
    """Groups records, then sums each group column by column (the columns come from ``astuple`` + ``zip``)."""

    def __init__(self, job: _Job) -> None:
        super().__init__(job.by, job.catalog, job.reprice)
        self.pending: dict[str | None, list[Any]] = {}
        self.count = 0
        self.limit = _FLUSH

    def add(self, records: list[Any]) -> None:
        pending = self.pending
        for key, r in zip(map(self.key_of, records), records):
            try:
                pending[key].append(r)
            except KeyError:
                pending[key] = [r]
        self.count += len(records)
        if self.count >= self.limit:
            self.flush()

    def add_uncosted(self, records: list[Any]) -> None:
        """Slim records without a cost and without usage, at what the engine's pricing says of them."""
        for r in records:
            _add(self.row(self.key_of(r)), r, _no_usage_pico(r))

    def flush(self) -> None:
        """Sum the pending records group by group, while their structs are still in the CPU cache."""
        for key, group in self.pending.items():
            row = self.row(key)
            if len(group) < _BULK:
                for r in group:
                    _add(row, r, round(r.cost_usd * 1e12))
                continue
            cols = list(zip(*map(astuple, group)))
            row.calls += len(group)
            row.errors += cols[_STATUS].count("error")
            row.retries += len(group) - cols[_ATTEMPT].count(0)
            row.input_tokens += sum(filter(None, cols[_IN]))
            row.output_tokens += sum(filter(None, cols[_OUT]))
            row.cache_read_tokens += sum(filter(None, cols[_CACHE_READ]))
            row.cache_write_tokens += sum(filter(None, cols[_CACHE_WRITE]))
            row.reasoning_tokens += sum(filter(None, cols[_REASONING]))
            row.pico += sum(map(float.__round__, map(mul, cols[_COST_AT], repeat(1e12))))  # round(), faster
            row.latency.add_many(cols[_LATENCY_AT])
            row.ttft.add_many(cols[_TTFT_AT])
        # many small groups (sessions, users): gather more before the next flush, so the groups are bigger
        self.limit = min(_FLUSH_MAX, max(_FLUSH, len(self.pending) * _BULK * 2))
        self.pending.clear()
        self.count = 0


def _scan(pieces: Sequence[_Piece], job: _Job, progress: Callable[[int], None] | None, head: bool) -> _Part:
    """Read byte ranges in order, as the follower would: same line splitting, malformed lines, duplicate ids."""
    slim: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_slim(job.by))
    full = record_decoder()
    tally = _Tally(job)
    seen = _Seen()
    want = seen.cap if head else 0
    part = _Part(tally.rows, seen=seen)
    done = 0
    for fd, name, start, end in pieces:
        for block, over, consumed in _blocks(fd, start, end):
            records = None if job.reprice else _decode_slim(slim, block)
            uncosted = False
            if records is not None and None in map(_COST, records):
                uncosted = True
                if not all(map(_no_usage, filter(_no_cost, records))):
                    records = None  # a record with usage and no cost: priced the careful way, with its block
            bad = 0
            priced = records is None
            if records is None:
                records, bad = decode_block(full, block)
            if over + bad:
                part.malformed[name] = part.malformed.get(name, 0) + over + bad
            records, dupes = seen.fresh(records)  # before the period filter, as the follower's batches are
            part.records += len(records)
            part.duplicates += dupes
            if len(part.head) < want:
                part.head += map(_ID, records[: want - len(part.head)])
            if job.lo is not None or job.hi is not None:
                records = [r for r in records if _within(r.ts, job.lo, job.hi)]
            if priced:
                tally.add_priced(records)
            elif uncosted:
                tally.add([r for r in records if r.cost_usd is not None])
                tally.add_uncosted([r for r in records if r.cost_usd is None])
            else:
                tally.add(records)
            done += consumed
            if progress is not None:
                progress(done)
    tally.flush()
    return part


def _no_cost(r: Any) -> bool:
    return r.cost_usd is None


def _decode_slim(decoder: msgspec.json.Decoder[Any], block: memoryview) -> list[Any] | None:
    try:
        return decoder.decode_lines(block)
    except ValueError:  # a bad line: the block goes the careful way (its good lines are kept, the bad ones counted)
        return None


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
) -> Scan:
    """Totals per group of the records in the files (``since <= ts < until``), highest cost first.

    The same rows as ``report(read_history(...))``, faster. ``by``: a report grouping, or ``day_model`` (see
    ``SCAN_KEYS``). ``processes``: how many to read with (default: one per core for histories over 32 MB; more than
    one needs Linux and no other running thread, else one is used).
    """
    job = _Job(by, since.timestamp() if since else None, until.timestamp() if until else None, reprice, catalog)
    with Follower(paths, since=since.date() if since else None, all=since is None) as follower:
        pieces = follower.history()
        total = sum(end - start for _, _, start, end in pieces)
        n = _processes(processes, total)
        parts = _split(pieces, n) if n > 1 else [pieces]
        paused = gc.isenabled()
        gc.disable()
        try:
            results = _run(parts, job, progress, total)
            if not _distinct(results):
                results = _run([pieces], job, progress, total)
        finally:
            if paused:
                gc.enable()
    return _merge(results)


def _processes(wanted: int | None, total: int) -> int:
    if wanted is None:
        wanted = (os.cpu_count() or 1) if total >= _PARALLEL_BYTES else 1
    if wanted > 1 and (not sys.platform.startswith("linux") or threading.active_count() > 1):
        # fork is safe on Linux in a process without other threads (macOS system libraries are not fork-safe, and
        # a thread holding a lock at the fork deadlocks the child)
        return 1
    return max(1, wanted)


def _split(pieces: Sequence[_Piece], n: int) -> list[list[_Piece]]:
    """``n`` runs of consecutive byte ranges of about equal size, cut right after a newline."""
    total = sum(end - start for _, _, start, end in pieces)
    parts: list[list[_Piece]] = [[]]
    target = total / n
    used = 0
    for fd, name, first, end in pieces:
        start = first
        while len(parts) < n and used + (end - start) > target * len(parts):
            ahead = int(target * len(parts) - used)
            cut = start if ahead <= 0 else _line_end(fd, start + ahead, end)
            if cut >= end:
                break
            if cut > start:
                parts[-1].append((fd, name, start, cut))
                used += cut - start
                start = cut
            parts.append([])
        parts[-1].append((fd, name, start, end))
        used += end - start
    return [p for p in parts if p]


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
_forked: tuple[list[list[_Piece]], _Job] | None = None
_kept: list[_Part] = []  # a forked process exits without freeing what it built: that would only cost time


def _run_forked(index: int) -> tuple[dict[str | None, ReportRow], int, int, dict[str, int], _Ids, _Ids]:
    assert _forked is not None
    parts, job = _forked
    part = _scan(parts[index], job, None, head=True)
    _kept.append(part)
    remembered: _Ids = ""
    if index < len(parts) - 1 and part.seen is not None:
        remembered = _pack([*part.seen.current, *part.seen.previous])
    return part.rows, part.records, part.duplicates, part.malformed, _pack(part.head), remembered


_Ids = str | list[str]


def _pack(ids: list[str]) -> _Ids:
    """Ids as one string (a single copy through the pipe), or as they are when one holds the separator."""
    packed = "\n".join(ids)
    return packed if packed.count("\n") == max(0, len(ids) - 1) else ids


def _unpack(ids: _Ids) -> list[str]:
    if isinstance(ids, list):
        return ids
    return ids.split("\n") if ids else []


def _run(parts: list[list[_Piece]], job: _Job, progress: Progress | None, total: int) -> list[_Part]:
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
            rows, records, duplicates, malformed, head, remembered = p.get()
            results.append(_Part(rows, records, duplicates, malformed, _unpack(head), sent=remembered))
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
    scan.rows = _ranked(rows.values())
    return scan
