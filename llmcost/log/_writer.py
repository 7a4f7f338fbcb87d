"""Append-only JSONL log writer.

Every record is one ``os.write()`` of one complete line to a descriptor opened with ``O_APPEND``: the kernel moves
the offset to the end and writes the line under the inode lock, so lines from many threads and processes never
interleave and none is lost. Nothing is flushed or synced on the hot path (the page cache is shared with readers).

Files are ``<dir>/llm_trace_YYYY-MM-DD.jsonl`` by the UTC date of each record's ``ts``. With ``max_bytes`` set, a
full file is left alone and the writer moves on to ``llm_trace_YYYY-MM-DD.1.jsonl``, ``.2.jsonl`` and so on; nothing
is ever renamed, so a process that still appends to an older file loses nothing and readers keep their offsets.

A line cut short (a short write on a full disk, another writer's partial tail) would glue itself to the next record
and take it down with it: when the writer opens a file that does not end in a newline, or after a short write of its
own, its next write starts with one. The fragment is then a line of its own, which readers skip as malformed. Both
are checked when they can happen (on opening a file, on a short write), so a normal write is still one system call.

The writer never raises: a directory it cannot create, a file it cannot open, a full disk are counted in
``errors`` and reported once with a :class:`RecorderWarning`; the record is dropped and the user's call goes on.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path

from llmcost.log._record import Record, decode_record, encode_record

__all__ = ["FileWriter", "MemoryWriter", "RecorderWarning", "Writer", "log_file_name", "warn_once"]

# Read access too: the last byte of a file is read once when it is opened (see ``_ends_with_newline``).
_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
_RETRY_OPEN_S = 5.0
_write = os.write  # after a failed open, try again at most this often

Opener = Callable[[str], int]


_forks = 0  # bumped in a forked child: writers reopen their file there instead of sharing the parent's


_writers: weakref.WeakSet[FileWriter] = weakref.WeakSet()


def _after_fork() -> None:
    global _forks
    _forks += 1
    for writer in list(_writers):  # a lock held by a thread of the parent would never be released here
        writer._lock = threading.Lock()
        writer._plain_day = ""  # the child opens its own descriptor


os.register_at_fork(after_in_child=_after_fork)


class RecorderWarning(RuntimeWarning):
    """Something went wrong inside the recorder; the user's call was not affected."""


_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_once(key: str, message: str) -> None:
    """Emit a :class:`RecorderWarning` the first time ``key`` is seen in this process."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, RecorderWarning, stacklevel=3)


def reset_warnings() -> None:
    """Forget which warnings were shown (tests)."""
    with _warned_lock:
        _warned.clear()


def log_file_name(day: str, index: int = 0) -> str:
    """``llm_trace_2026-01-31.jsonl`` for index 0, ``llm_trace_2026-01-31.2.jsonl`` for index 2."""
    return f"llm_trace_{day}.jsonl" if index == 0 else f"llm_trace_{day}.{index}.jsonl"


class Writer:
    """Base class: ``write(record)`` never raises; ``errors`` counts records that could not be written.

    ``write_line(day, line)`` gets one complete line, newline included, as ``bytes``; a writer whose
    ``writes_at_once`` is true is done with ``line`` when ``write_line`` returns, and may be handed a ``bytearray``
    that the recorder reuses for its next line (it saves a copy of every line)."""

    errors: int = 0
    written: int = 0
    writes_at_once = False

    def write(self, record: Record) -> None:
        self.write_line(record.ts[:10], encode_record(record))

    def write_line(self, day: str, line: bytes | bytearray) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release resources; later writes reopen as needed."""

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryWriter(Writer):
    """Keeps lines in memory (tests, notebooks). ``records`` decodes them."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self._lock = threading.Lock()

    def write_line(self, day: str, line: bytes | bytearray) -> None:
        with self._lock:
            self.lines.append(bytes(line))
            self.written += 1

    @property
    def records(self) -> list[Record]:
        with self._lock:
            return [decode_record(line) for line in self.lines]

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()


class FileWriter(Writer):
    """Appends lines to the daily files of ``directory`` (created with mode 0700 if missing; files are 0600).

    ``max_bytes`` caps a file's size (checked before each write, so a file ends at most one line over the cap).
    ``opener`` replaces ``os.open`` for a path (fault injection in tests).
    """

    writes_at_once = True  # one os.write, before write_line returns

    def __init__(
        self, directory: str | os.PathLike[str], *, max_bytes: int | None = None, opener: Opener | None = None
    ):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._opener = opener or _open_append
        self._lock = threading.Lock()
        self._day = ""
        self._index = 0
        self._fd = -1
        self._size = 0  # bytes in the current file as last seen (own writes added)
        self._torn = False  # the current file ends without a newline: the next write starts with one
        #: The day whose file is open and needs nothing but a write (this process's descriptor, no size cap, not
        #: torn); "" when the next write must look first.
        self._plain_day = ""
        self._next_open = 0.0
        self._fork = _forks
        _writers.add(self)
        self.errors = 0
        self.written = 0

    @property
    def path(self) -> Path | None:
        """The file currently written to, if one is open."""
        return self.directory / log_file_name(self._day, self._index) if self._fd >= 0 else None

    def write_line(self, day: str, line: bytes | bytearray) -> None:
        lock = self._lock
        lock.acquire()  # (cheaper than `with`, which looks both special methods up on every call)
        try:
            if day == self._plain_day:  # the common case: one system call and nothing else
                try:
                    n = _write(self._fd, line)
                except OSError as exc:
                    self._drop(exc)
                    return
                if n == len(line):
                    self.written += 1
                    return
                self._plain_day = ""
                self._torn = True  # a short write: the disk filled up mid-line
                self._drop(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
                return
            self._write(day, line)
        finally:
            lock.release()

    def _write(self, day: str, line: bytes | bytearray) -> None:
        """A write that first opens, switches, rotates or repairs the file as needed."""
        try:
            fd = self._fd
            if fd < 0 or day != self._day or self._fork != _forks:
                fd = self._switch(day)  # new day, first write, after a fork, or retrying a failed open
                if fd < 0:
                    self._drop("open")
                    return
            if self.max_bytes is not None and self._size + len(line) > self.max_bytes:
                fd = self._rotate(len(line))
            if self._torn:  # the file ends mid-line: end that line first, in the same write
                line = b"\n" + line
                self._torn = False
            n = os.write(fd, line)
            self._size += n
            if n != len(line):  # a short write only happens when the disk fills up mid-line
                self._torn = True
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.written += 1
            if self.max_bytes is None:
                self._plain_day = day
        except OSError as exc:
            self._drop(exc)

    def _drop(self, cause: OSError | str) -> None:
        self.errors += 1
        if isinstance(cause, OSError):
            kind = errno.errorcode.get(cause.errno or 0, type(cause).__name__)
            warn_once(f"write:{self.directory}:{kind}", f"llmcost: cannot write to {self.directory}: {cause}")

    def _switch(self, day: str) -> int:
        """Open the file for ``day`` (new day, first write, after a fork; a failed open is retried every 5 s)."""
        if time.monotonic() < self._next_open and day == self._day and self._fork == _forks:
            return -1
        self._close_fd()
        self._fork = _forks
        self._day = day
        self._index = self._last_index(day) if self.max_bytes is not None else 0
        return self._open_current()

    def _open_current(self) -> int:
        path = self.directory / log_file_name(self._day, self._index)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._fd = self._opener(str(path))
            self._size = os.fstat(self._fd).st_size
            self._torn = self._size > 0 and not _ends_with_newline(self._fd, path, self._size)
        except OSError as exc:
            self._fd = -1
            self._next_open = time.monotonic() + _RETRY_OPEN_S
            warn_once(f"open:{self.directory}", f"llmcost: cannot open log file {path}: {exc}")
        return self._fd

    def _rotate(self, needed: int) -> int:
        """Move to the next numbered file once the current one is full (another process may have moved first)."""
        assert self.max_bytes is not None
        self._size = os.fstat(self._fd).st_size
        while self._size + needed > self.max_bytes and self._size > 0:
            self._close_fd()
            self._index += 1
            if self._open_current() < 0:
                raise OSError(errno.EIO, "cannot open the next log file")
        return self._fd

    def _last_index(self, day: str) -> int:
        best = 0
        try:
            prefix = f"llm_trace_{day}."
            for entry in os.scandir(self.directory):
                middle = entry.name[len(prefix) : -len(".jsonl")]
                if entry.name.startswith(prefix) and entry.name.endswith(".jsonl") and middle.isdigit():
                    best = max(best, int(middle))
        except OSError:
            pass
        return best

    def _close_fd(self) -> None:
        self._plain_day = ""
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1

    def close(self) -> None:
        with self._lock:
            self._close_fd()
            self._day = ""

    def __del__(self) -> None:
        fd = self.__dict__.get("_fd", -1)  # a writer dropped without close() releases its file
        if fd >= 0:
            with contextlib.suppress(Exception):  # at interpreter exit the module may be half torn down
                os.close(fd)


def _open_append(path: str) -> int:
    return os.open(path, _FLAGS, 0o600)


def _ends_with_newline(fd: int, path: Path, size: int) -> bool:
    """Whether the last byte of a file is a newline (read once, when the file is opened)."""
    try:
        return os.pread(fd, 1, size - 1) == b"\n"
    except OSError:  # a descriptor opened for writing only (an opener of a test, an older flag set)
        pass
    try:
        with open(path, "rb") as fh:
            fh.seek(size - 1)
            return fh.read(1) == b"\n"
    except OSError:
        return True  # unreadable: nothing known to repair
