"""What an importer remembers between runs: where it stopped in each source file, and the ids it wrote.

One small JSON file per tool and log directory, under ``llmcost_home()/imports/``, so importing the same transcripts
into two log directories keeps two states. It holds, per source file, the inode it had, the offset after the last
line consumed, a hash of the file's first bytes (a file truncated or rewritten in place starts over) and the parser's
own context (the model of the current Codex turn, a Claude Code message still streaming, ...). It also holds the ids
of the records written recently, at most ``MAX_IDS``, oldest dropped first: a resumed Claude Code session copies its
history into a new file, and those copies must not be written twice.

Losing the file is safe: the next import reads everything again and the record ids, derived from the source ids,
are the ones already in the log, which readers de-duplicate. The file is replaced atomically, and an exclusive lock
on a sibling ``.lock`` file keeps two imports of the same tool into the same log directory from running at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["MAX_IDS", "FileState", "ImportBusy", "ImportState", "state_path"]

MAX_IDS = 200_000  # ~3.2 MB on disk; a month of heavy use, far more than a resumed session copies
_ID_LEN = 16
_VERSION = 1


class ImportBusy(RuntimeError):
    """Another import of the same tool into the same log directory holds the lock."""


class FileState(msgspec.Struct, kw_only=True):
    """One source file: identity, how far it was read, and the parser's context at that point."""

    dev: int
    ino: int
    offset: int = 0
    head: str = ""  # blake2b of the first min(offset, 256) bytes: a file rewritten in place no longer matches
    context: dict[str, Any] = msgspec.field(default_factory=dict)


class _Document(msgspec.Struct, kw_only=True):
    version: int = _VERSION
    tool: str
    target: str
    files: dict[str, FileState] = msgspec.field(default_factory=dict)
    ids: str = ""  # the ids written, 16 hex digits each, oldest first, concatenated


def state_path(home: Path, tool: str, target: Path) -> Path:
    """The state file of ``tool`` importing into the log directory ``target``."""
    digest = hashlib.blake2b(str(target).encode("utf-8", "surrogateescape"), digest_size=6).hexdigest()
    return home / "imports" / f"{tool}-{digest}.json"


class ImportState:
    """Per-file offsets and the recently written ids, loaded from and saved to ``path``.

    ``lock()`` takes the exclusive lock (raises :class:`ImportBusy`); ``save()`` writes atomically. A state file that
    cannot be read is treated as empty (everything is read again; ids keep the log free of duplicates).
    """

    def __init__(self, path: Path, tool: str, target: Path) -> None:
        self.path = path
        self.tool = tool
        self.target = str(target)
        self.files: dict[str, FileState] = {}
        self._by_inode: dict[tuple[int, int], str] | None = None
        self._ids: dict[str, None] = {}  # insertion-ordered: the oldest is dropped first
        self._lock_fd = -1
        self.unreadable = False
        self._load()

    # -- ids --------------------------------------------------------------------------------------------------------

    def seen(self, record_id: str) -> bool:
        return record_id in self._ids

    def add(self, record_id: str) -> None:
        ids = self._ids
        ids[record_id] = None
        if len(ids) > MAX_IDS:
            for old in list(ids)[: len(ids) - MAX_IDS]:
                del ids[old]

    @property
    def id_count(self) -> int:
        return len(self._ids)

    # -- files ------------------------------------------------------------------------------------------------------

    def entry(self, path: str, dev: int, ino: int) -> tuple[FileState, bool]:
        """The state of ``path`` and whether it is new. A file moved here from a path that no longer exists keeps its
        state; a new file, or a new file under an old name, starts from its beginning."""
        found = self.files.get(path)
        if found is not None and (found.dev, found.ino) == (dev, ino):
            return found, False
        inodes = self._inodes()
        old_path = inodes.get((dev, ino))
        if old_path is not None and old_path != path and old_path in self.files and not os.path.exists(old_path):
            moved = self.files[path] = self.files.pop(old_path)
            inodes[dev, ino] = path
            return moved, True
        fresh = self.files[path] = FileState(dev=dev, ino=ino)
        inodes[dev, ino] = path
        return fresh, True

    def _inodes(self) -> dict[tuple[int, int], str]:
        """Path by inode, built once (a first import of thousands of files must not compare each with all others)."""
        if self._by_inode is None:
            self._by_inode = {(fs.dev, fs.ino): path for path, fs in self.files.items()}
        return self._by_inode

    def forget_missing(self, keep: set[str]) -> bool:
        """Drop the entries of files that no longer exist (the state stays as small as the sources); any dropped?"""
        gone = [p for p in self.files if p not in keep and not os.path.exists(p)]
        for path in gone:
            fs = self.files.pop(path)
            if self._by_inode is not None and self._by_inode.get((fs.dev, fs.ino)) == path:
                del self._by_inode[fs.dev, fs.ino]
        return bool(gone)

    # -- persistence ------------------------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError:
            self.unreadable = True
            return
        try:
            doc = msgspec.json.decode(data, type=_Document)
        except msgspec.DecodeError:  # ValidationError is a DecodeError too: an older or damaged file
            self.unreadable = True
            return
        if doc.version != _VERSION or doc.tool != self.tool or doc.target != self.target:
            return
        self.files = doc.files
        ids = doc.ids
        self._ids = dict.fromkeys(ids[i : i + _ID_LEN] for i in range(0, len(ids), _ID_LEN))

    def save(self) -> None:
        """Write the state atomically (a temporary file renamed over the old one)."""
        doc = _Document(tool=self.tool, target=self.target, files=self.files, ids="".join(self._ids))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(msgspec.json.encode(doc))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def lock(self) -> None:
        """Take the exclusive lock of this tool and log directory; raises :class:`ImportBusy` when it is held."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks; ids still keep the log clean
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(
            self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ImportBusy(
                f"another `llmcost import {self.tool}` into {self.target} is running (it holds {self.path}.lock)"
            ) from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = -1
