"""Follow the daily JSONL logs of many writers: every record once, whatever the rotation scheme.

Files are tracked by inode, not by name. Each tracked file keeps its read offset and the partial last line, and an
open descriptor while it is among the ``_MAX_OPEN`` most recently active files: a quiet file beyond those is closed
and opened again (by name, checked to be the same inode) when the listing shows it grew, so any number of files is
read with a bounded number of descriptors. Consequences:

- a file renamed (rotation) keeps its inode, so reading goes on where it stopped, including late writes by a process
  that still holds the old descriptor, even when the new name is not one we would list (while we hold it open);
- a deleted file stays readable through our descriptor until it has been quiet for a grace period, and because we hold
  it open its inode cannot be reused by a re-created file;
- copy-truncate shows as a size below our offset, or as a different first line (truncated and rewritten past our
  offset before we looked): reading restarts at 0. The copy is a new inode whose first line is the one we already
  know, so reading it starts at the offset we had reached in the original.

Duplicates left over by these races are dropped by record ``id`` with bounded memory. ``poll()`` is the synchronous
core (start-up replay, the periodic safety net, offline reports); ``watch()`` adds file-system notifications.

Only regular files are read. A FIFO, a device (``/dev/zero``) or a socket that carries a log name is skipped: reading
one would block or never end. Inside a directory (or a glob) a symbolic link is never followed: a link to a file of
the same tree adds nothing (the file is read under its own name) and a link out of it reads what the tree's owner did
not put there; a glob that leads through a linked directory out of its fixed part is not followed either. A PATH
named explicitly may be a link to a regular file: the user chose it.
"""

from __future__ import annotations

import datetime as dt
import errno
import glob
import os
import re
import stat
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol, TypeVar

from llmcost.engine._snapshot import IngestStats
from llmcost.log import MAX_LINE, LineSplitter, Record, decode_block, record_decoder

__all__ = ["Follower", "Piece", "is_log_name", "open_piece"]

_NAME = re.compile(r"^llm_trace_(\d{4}-\d{2}-\d{2})(?:\.\d+)?\.jsonl(?:\.\d+)?$")
_GLOB_CHARS = re.compile(r"[*?\[]")
_HEAD = 256  # bytes of a file's start that identify it (the first record's id is within them)
_GRACE_S = 10.0  # a file gone from the listing is still read for this long after its last growth
_RECENT_S = 5.0  # files changed this recently are checked for truncation even when their size looks the same
_MAX_OPEN = 256  # descriptors kept open; quiet files beyond this are closed and reopened when they grow
# Never block on open (a FIFO) or follow a link out of the tree; keep descriptors out of child processes.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DEDUPE = 200_000  # ids per generation; two generations are remembered

Progress = Callable[[int, int], None]


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_R = TypeVar("_R", bound=_HasId)
_ID = attrgetter("id")


def is_log_name(name: str) -> bool:
    """``llm_trace_YYYY-MM-DD.jsonl``, its numbered rotations (``.N.jsonl``) and renamed copies (``.jsonl.N``)."""
    return _NAME.match(name) is not None


@dataclass(frozen=True, slots=True)
class Piece:
    """A byte range of one log file to read (see :meth:`Follower.history`): ``start`` and ``end`` are line starts."""

    path: str
    key: tuple[int, int]  # (device, inode) the path had when listed
    follow: bool  # whether the path may be a symbolic link (named explicitly)
    start: int
    end: int

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


#: Why opening a listed file may fail by design: gone since the listing, a link not followed (ELOOP), a directory.
_GONE = frozenset({errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.EISDIR})
_MAX_UNREADABLE = 100  # files whose failure is kept to be said (the count goes on past it)


def open_regular(path: str, key: tuple[int, int] | None = None, *, follow: bool = False) -> int | None:
    """A read-only descriptor of ``path`` when it is a regular file (and the inode ``key``), else ``None``.

    Never blocks (a FIFO), never follows a final symbolic link unless ``follow``; the caller closes the descriptor.
    A file that is gone, a link not followed or not a regular file gives ``None``; a file that is there but cannot be
    read (no permission, an I/O error) raises ``OSError``: it must be said, never skipped in silence.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS | (0 if follow else _NOFOLLOW))
    except OSError as exc:
        if exc.errno in _GONE:
            return None
        raise
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode) or (key is not None and (st.st_dev, st.st_ino) != key):
        os.close(fd)
        return None
    return fd


def open_piece(piece: Piece) -> int | None:
    """A descriptor of the file of ``piece`` (the caller closes it); ``None`` when it is no longer that file."""
    return open_regular(piece.path, piece.key, follow=piece.follow)


def _name_day(path: str) -> dt.date | None:
    m = _NAME.match(os.path.basename(path))
    if m is None:
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


@dataclass(slots=True)
class _Tail:
    """One followed file (an inode)."""

    key: tuple[int, int]
    path: str
    fd: int  # -1 while closed (a quiet file beyond the open limit, or after close())
    follow: bool = False  # named explicitly: the path may be a symbolic link
    listed: int = 0  # the size the last listing saw
    offset: int = 0
    head: bytes = b""
    stamp: tuple[int, int] = (-1, -1)  # size and mtime last seen
    changed: float = field(default_factory=time.monotonic)
    mtime: float = 0.0
    visible: bool = True
    splitter: LineSplitter = field(default_factory=LineSplitter)


class _Seen:
    """Recently seen record ids: two rotating generations, so memory is bounded and recent duplicates are caught."""

    def __init__(self, cap: int = _DEDUPE) -> None:
        self.cap = cap
        self.current: set[str] = set()
        self.previous: set[str] = set()

    def fresh(self, records: list[_R]) -> tuple[list[_R], int]:
        if self.fresh_ids(list(map(_ID, records))):  # the usual case, at C speed
            return records, 0
        cur, prev = self.current, self.previous
        out = []
        for r in records:
            i = r.id
            if i in cur or i in prev:
                continue
            cur.add(i)
            out.append(r)
        self._rotate()
        return out, len(records) - len(out)

    def fresh_ids(self, ids: list[str]) -> bool:
        """Remember ``ids`` when none of them was seen before or comes twice (True); else change nothing (False)."""
        cur, prev = self.current, self.previous
        if not cur.isdisjoint(ids) or (prev and not prev.isdisjoint(ids)):
            return False
        before = len(cur)
        cur.update(ids)
        if len(cur) - before != len(ids):
            cur.difference_update(ids)  # a duplicate among them (none of these ids was known before)
            return False
        self._rotate()
        return True

    def _rotate(self) -> None:
        if len(self.current) >= self.cap:
            self.previous, self.current = self.current, set()


class _Source:
    """One PATH argument: a directory (searched recursively), a glob, or a single file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        text = os.path.expanduser(os.fspath(path))
        self.text = text
        self.is_glob = _GLOB_CHARS.search(text) is not None
        self.is_file = not self.is_glob and (
            os.path.isfile(text) or (text.endswith(".jsonl") and not os.path.isdir(text))
        )

    def files(self) -> Iterator[tuple[str, os.stat_result, bool]]:
        """``(path, stat, follow)`` of every regular file this source matches (see the module docstring on links)."""
        if self.is_file:
            st = _stat(self.text, follow=True)
            if st is not None:
                yield self.text, st, True
        elif self.is_glob:
            root = os.path.realpath(self.watch_root())
            for path in glob.glob(self.text, recursive=True):
                st = _stat(path, follow=False)
                if st is not None and _inside(os.path.realpath(os.path.dirname(path)), root):
                    yield path, st, False
        else:
            for directory, _dirs, names in os.walk(self.text):  # does not descend into linked directories
                for name in names:
                    if _NAME.match(name):
                        path = os.path.join(directory, name)
                        st = _stat(path, follow=False)
                        if st is not None:
                            yield path, st, False

    def watch_root(self) -> str:
        """The nearest existing directory that contains everything this source can match."""
        if self.is_glob:
            parts = Path(self.text).parts
            fixed = next(i for i, p in enumerate(parts) if _GLOB_CHARS.search(p))
            base = Path(*parts[:fixed]) if fixed else Path(".")
        else:
            base = Path(self.text).parent if self.is_file else Path(self.text)
        while not base.is_dir() and base != base.parent:
            base = base.parent
        return str(base)


def _stat(path: str, *, follow: bool) -> os.stat_result | None:
    """The stat of a regular file (a link only when ``follow``), else ``None``."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:  # vanished between listing and stat
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class Follower:
    """Follow log directories, files and globs; ``poll()`` returns the records that are new since the last call.

    ``since`` (a date or ISO date) and ``all`` choose the history read at start-up, by the date in the file name:
    by default today's files (UTC); files outside the selection are followed from their current end.
    """

    def __init__(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        since: dt.date | dt.datetime | str | None = None,
        all: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sources = [_Source(p) for p in paths]
        self.since = _as_date(since)
        self.all = all
        self._clock = clock
        self._tails: dict[tuple[int, int], _Tail] = {}
        self._open: OrderedDict[tuple[int, int], _Tail] = OrderedDict()  # open tails, least recently active first
        self._heads: OrderedDict[bytes, int] = OrderedDict()  # first bytes of truncated files -> offset reached
        self._seen = _Seen()
        self._decoder = record_decoder()
        self._started = False
        self._replaying = False
        self._progress = 1.0
        self.records = 0
        self.duplicates = 0
        self.bytes_read = 0
        self.malformed: dict[str, int] = {}
        self.unreadable: dict[str, str] = {}  # files there but not readable (path -> reason), at most 100

    # -- public ---------------------------------------------------------------------------------------------------

    def poll(self) -> list[Record]:
        """Read everything new in every followed file (the first call also reads the start-up history)."""
        out: list[Record] = []
        for batch in self._read_all():
            out.extend(batch)
        return out

    def replay(self, batch_lines: int = 50_000, progress: Progress | None = None) -> Iterator[list[Record]]:
        """The start-up history in batches of about ``batch_lines`` records; ``progress(done_bytes, total_bytes)``."""
        self._replaying = True
        try:
            pending: list[Record] = []
            for batch in self._read_all(progress):
                pending.extend(batch)
                if len(pending) >= batch_lines:
                    yield pending
                    pending = []
            if pending:
                yield pending
        finally:
            self._replaying = False
            self._progress = 1.0

    async def watch(
        self, stop_event: Any, *, debounce_ms: int = 20, step_ms: int = 5, poll_ms: int = 1000
    ) -> AsyncIterator[list[Record]]:
        """New records as they are appended, until ``stop_event`` (an ``asyncio.Event``) is set.

        Notifications come from watchfiles on the source directories; every ``poll_ms`` a full poll runs anyway, so a
        missed notification delays a record by at most that long. A burst of changes is gathered for up to
        ``debounce_ms`` (each ``step_ms`` without news ends it early).
        """
        from contextlib import aclosing

        from watchfiles import awatch  # ~30 ms import, only for live following

        first = self.poll()
        if first:
            yield first
        while not stop_event.is_set():
            roots = self.watch_roots()
            changes = awatch(
                *roots,
                watch_filter=None,
                debounce=debounce_ms,
                step=step_ms,
                rust_timeout=poll_ms,
                yield_on_timeout=True,
                stop_event=stop_event,
                recursive=True,
            )
            async with aclosing(changes) as stream:
                async for _ in stream:
                    batch = self.poll()
                    if batch:
                        yield batch
                    if stop_event.is_set() or self.watch_roots() != roots:
                        break

    def watch_roots(self) -> list[str]:
        """The directories to watch (nearest existing ones: a directory created later is found by the poll)."""
        return sorted({s.watch_root() for s in self.sources})

    def history(self) -> list[Piece]:
        """The start-up history without reading it: one :class:`Piece` per file with bytes to read, in replay order.

        For one-shot scans that read the bytes themselves (maybe split across processes), each opening a file only
        while it reads it (:func:`open_piece`); the follower's own offsets do not move.
        """
        out = []
        for tail in self._refresh():
            size = self._size(tail) if tail.fd >= 0 else tail.listed  # first: a truncated file restarts at 0
            start = 0 if size < tail.offset else tail.offset
            if size > start:
                out.append(Piece(tail.path, tail.key, tail.follow, start, size))
        return out

    def stats(self) -> IngestStats:
        return IngestStats(
            files=len(self._tails),
            records=self.records,
            duplicates=self.duplicates,
            malformed=dict(self.malformed),
            unreadable=dict(self.unreadable),
            bytes_read=self.bytes_read,
            replaying=self._replaying,
            replay_progress=self._progress,
        )

    def require_readable(self) -> None:
        """For one-shot readers (reports, exports): raise ``OSError`` naming the first file that is there but could
        not be read, so a total is never short in silence. The live monitor shows them instead."""
        for path, reason in self.unreadable.items():
            raise OSError(0, reason, path)

    def close(self) -> None:
        """Close every descriptor (the follower can be polled again: files are reopened from their offsets)."""
        for tail in list(self._open.values()):
            self._close_fd(tail)

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- discovery --------------------------------------------------------------------------------------------------

    def _listing(self) -> dict[tuple[int, int], tuple[str, os.stat_result, bool]]:
        found: dict[tuple[int, int], tuple[str, os.stat_result, bool]] = {}
        for source in self.sources:
            for path, st, follow in source.files():
                found.setdefault((st.st_dev, st.st_ino), (path, st, follow))
        return found

    def _selected(self, path: str) -> bool:
        """Whether a file present at start-up belongs to the history to replay."""
        if self.all:
            return True
        day = _name_day(path)
        if day is None:
            return True  # a file named explicitly, or matched by a glob: read it all
        first = self.since or dt.datetime.fromtimestamp(self._clock(), dt.timezone.utc).date()
        return day >= first

    def _refresh(self) -> list[_Tail]:
        """Match the listing against the tracked files; the tails to read, oldest first."""
        listing = self._listing()
        now = time.monotonic()
        for key, (path, st, follow) in listing.items():
            tail = self._tails.get(key)
            if tail is None:
                self._adopt(key, path, st, follow)
            else:
                tail.path, tail.visible, tail.mtime, tail.listed, tail.follow = (
                    path,
                    True,
                    st.st_mtime,
                    st.st_size,
                    follow,
                )
        for key, tail in list(self._tails.items()):
            if key not in listing:
                tail.visible = False
                if tail.fd < 0 or (now - tail.changed > _GRACE_S and not self._unread(tail)):
                    self._forget(tail)  # closed and gone from the listing: nothing can reach it any more
        self._started = True
        return sorted(self._tails.values(), key=_age)

    def _unread(self, tail: _Tail) -> bool:
        """Whether a file has bytes past our offset (a late write after a long pause): read them before closing."""
        return tail.fd >= 0 and os.fstat(tail.fd).st_size != tail.offset

    def _cannot_read(self, path: str, exc: OSError) -> None:
        """A file that is there but cannot be read: kept to be said (``stats().unreadable``); tried again later."""
        if path in self.unreadable or len(self.unreadable) < _MAX_UNREADABLE:
            self.unreadable[path] = exc.strerror or type(exc).__name__

    def _adopt(self, key: tuple[int, int], path: str, st: os.stat_result, follow: bool) -> None:
        try:
            fd = open_regular(path, key, follow=follow)
        except OSError as exc:
            self._cannot_read(path, exc)
            return
        if fd is None:  # replaced between stat and open: picked up next time
            return
        tail = _Tail(key, path, fd, follow, st.st_size, mtime=st.st_mtime)
        try:
            size = os.fstat(fd).st_size
            tail.head = os.pread(fd, _HEAD, 0)
            if not self._started and not self._selected(path):
                tail.offset = size
                tail.splitter.skipping = not _ends_line(fd, size)
            else:
                tail.offset = self._copy_offset(tail)
        except OSError as exc:
            os.close(fd)
            self._cannot_read(path, exc)
            return
        self.unreadable.pop(path, None)
        self._tails[key] = tail
        self._open[key] = tail
        self._limit_open()

    def _copy_offset(self, tail: _Tail) -> int:
        """Where to start a new file: past what we already read if it is a copy of a file we follow."""
        head = tail.head
        if len(head) < _HEAD and b"\n" not in head:
            return 0
        best = self._heads.get(head, 0)
        for other in self._tails.values():
            if other.head == head and other.key != tail.key:
                best = max(best, _line_start(other))
        return best

    def _reopen(self, tail: _Tail) -> bool:
        """Open a closed tail again (its path must still be its inode)."""
        try:
            fd = open_regular(tail.path, tail.key, follow=tail.follow)
        except OSError as exc:
            self._cannot_read(tail.path, exc)
            return False
        if fd is None:
            return False
        tail.fd = fd
        self._open[tail.key] = tail
        return True

    def _limit_open(self) -> None:
        """Close the least recently active files beyond ``_MAX_OPEN`` (a file gone from the listing stays open: it
        could not be found again; it is forgotten after its grace period)."""
        excess = len(self._open) - _MAX_OPEN
        if excess <= 0:
            return
        for tail in list(self._open.values()):
            if excess <= 0:
                break
            if tail.visible:
                self._close_fd(tail)
                excess -= 1

    def _close_fd(self, tail: _Tail) -> None:
        if tail.fd >= 0:
            os.close(tail.fd)
            tail.fd = -1
            self._open.pop(tail.key, None)

    def _forget(self, tail: _Tail) -> None:
        self._remember(tail.head, _line_start(tail))  # should it come back (renamed back, or a copy), resume there
        self._close_fd(tail)
        del self._tails[tail.key]

    # -- reading ----------------------------------------------------------------------------------------------------

    def _read_all(self, progress: Progress | None = None) -> Iterator[list[Record]]:
        tails = self._refresh()
        sizes = [self._size(t) if t.fd >= 0 else t.listed for t in tails]
        total = sum(max(0, s - t.offset) for t, s in zip(tails, sizes))
        done = 0
        for tail, size in zip(tails, sizes):
            if tail.fd < 0:
                if size == tail.offset or not self._reopen(tail):
                    continue  # quiet (or gone): stays closed
                self._size(tail)  # reopened: a file truncated meanwhile restarts at 0
            for batch, n in self._read(tail):
                done += n
                if total:
                    self._progress = min(1.0, done / total)
                    if progress is not None:
                        progress(min(done, total), total)
                if batch:
                    yield batch
            self._limit_open()

    def _size(self, tail: _Tail) -> int:
        """Current size; restarts the tail when the file was truncated or rewritten (copy-truncate)."""
        if tail.fd < 0:
            return tail.offset
        st = os.fstat(tail.fd)
        size, now = st.st_size, time.monotonic()
        stamp = (size, st.st_mtime_ns)
        # A file truncated and rewritten to the very size it had keeps its size (fixed-length lines make that likely)
        # and, within one clock tick, its mtime: recently active files have their first bytes checked every time.
        if stamp != tail.stamp or now - tail.changed < _RECENT_S:
            if stamp != tail.stamp:
                tail.stamp, tail.changed = stamp, now
            if size < tail.offset or not self._same_head(tail):
                self._restart(tail)
        return size

    def _same_head(self, tail: _Tail) -> bool:
        if len(tail.head) >= _HEAD:
            return os.pread(tail.fd, _HEAD, 0) == tail.head
        head = os.pread(tail.fd, _HEAD, 0)
        if head.startswith(tail.head):
            tail.head = head
            return True
        return False

    def _remember(self, head: bytes, offset: int) -> None:
        """A file with this head was truncated after we had consumed ``offset`` bytes of it."""
        if len(head) >= _HEAD or b"\n" in head:
            self._heads[head] = max(offset, self._heads.get(head, 0))
            while len(self._heads) > 64:
                self._heads.popitem(last=False)

    def _restart(self, tail: _Tail) -> None:
        self._remember(tail.head, _line_start(tail))
        tail.offset = 0
        tail.splitter.reset()
        tail.head = os.pread(tail.fd, _HEAD, 0)

    def _read(self, tail: _Tail) -> Iterator[tuple[list[Record], int]]:
        """Batches of new records of one file, with the number of bytes each consumed."""
        if tail.fd < 0:
            return
        name = os.path.basename(tail.path)
        before, start = _line_start(tail), tail.offset
        while True:
            try:
                chunk = os.pread(tail.fd, MAX_LINE, tail.offset)
            except OSError as exc:  # an I/O error: said, and tried again at the next poll
                self._cannot_read(tail.path, exc)
                return
            if not chunk:
                break
            if tail.offset == 0:  # the head is what we consumed, not what a separate read saw earlier
                tail.head = chunk[:_HEAD]
            tail.offset += len(chunk)
            self.bytes_read += len(chunk)
            self._open.move_to_end(tail.key)  # active: the last to be closed
            block, bad = tail.splitter.feed(chunk)
            records, malformed = decode_block(self._decoder, block)
            if bad + malformed:
                self.malformed[name] = self.malformed.get(name, 0) + bad + malformed
            fresh, dupes = self._seen.fresh(records)
            self.records += len(fresh)
            self.duplicates += dupes
            yield fresh, len(chunk)
            if len(chunk) < MAX_LINE:
                break
        if tail.offset != start and tail.head and os.pread(tail.fd, len(tail.head), 0) != tail.head:
            # Truncated and rewritten while we read: what we consumed may mix two generations. Only the offset
            # from before this read is known good for the old one (a copy of it resumes there); re-read the new.
            self._remember(tail.head, before)
            tail.offset = 0
            tail.splitter.reset()
            tail.head = b""


def _age(tail: _Tail) -> tuple[str, bytes, float]:
    """Oldest first: by the day in the name, then by the first bytes (the recorder's lines start with their time),
    then by last change. Copies of one file (the logs of a machine copied into another directory) have the same
    first bytes: they are read one right after the other, while the ids of the first are still remembered."""
    day = _name_day(tail.path)
    return (day.isoformat() if day else "", tail.head, tail.mtime)


def _line_start(tail: _Tail) -> int:
    """The offset of the first byte not yet consumed as a complete line."""
    return tail.offset - len(tail.splitter.partial)


def _ends_line(fd: int, size: int) -> bool:
    return size == 0 or os.pread(fd, 1, size - 1) == b"\n"


def _as_date(value: dt.date | dt.datetime | str | None) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(value[:10])
