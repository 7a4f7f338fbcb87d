"""Catalog versions on disk: ``catalog-<version>.toml`` files plus ``current.toml``, the active one.

``current.toml`` is a copy, not a symlink, so the layout works the same on Windows. Every write goes through
:func:`atomic_write` (temporary file in the same directory, fsync, rename): a reader sees the old file or the new
one, never half of one, and an interrupted update leaves the previous files as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pricing import _load, _paths
from pricing._fetch import UpdateError, sha256_hex

__all__ = [
    "VERSION_RE",
    "VersionInfo",
    "activate",
    "atomic_write",
    "check_storable",
    "current_path",
    "list_versions",
    "next_version",
    "read_state",
    "resolve_version",
    "version_key",
    "version_path",
    "write_state",
]

VERSION_RE = re.compile(r"^\d{4}\.\d{2}\.\d{2}(?:\.\d+)?$")
_VERSION_LINE = re.compile(rb'^catalog_version\s*=\s*"([^"\n]*)"', re.MULTILINE)


@dataclass(frozen=True)
class VersionInfo:
    version: str
    path: Path
    sha256: str
    size: int
    current: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "file": self.path.name,
            "sha256": self.sha256,
            "size": self.size,
            "current": self.current,
        }


def current_path() -> Path:
    return _paths.catalog_dir() / "current.toml"


def state_path() -> Path:
    return _paths.catalog_dir() / "state.json"


def version_key(version: str) -> tuple[int, ...]:
    """``2026.11.22.3`` -> ``(2026, 11, 22, 3)``; versions sort by this key."""
    return tuple(int(part) for part in version.split("."))


def check_version(version: str) -> str:
    """A version string safe to put in a file name (it comes from downloaded data)."""
    if not VERSION_RE.match(version):
        raise UpdateError(f"catalog_version {version!r} is not of the form YYYY.MM.DD[.N]")
    return version


def version_path(version: str) -> Path:
    return _paths.catalog_dir() / f"catalog-{check_version(version)}.toml"


def version_of(data: bytes) -> str | None:
    """The ``catalog_version`` of a catalog's bytes, read without parsing the whole document."""
    match = _VERSION_LINE.search(data)
    return match.group(1).decode("utf-8", errors="replace") if match else None


def next_version(day: dt.date, taken: set[str], floor: str | None) -> str:
    """The first free version for ``day`` that sorts after ``floor`` (the version being replaced)."""
    base = day.strftime("%Y.%m.%d")
    low = version_key(floor) if floor is not None and VERSION_RE.match(floor) else None
    if low is not None and low[:3] > version_key(base):
        base = ".".join(str(floor).split(".")[:3])  # the catalog is dated ahead of this clock
    candidate, n = base, 0
    while candidate in taken or (low is not None and version_key(candidate) <= low):
        n += 1
        candidate = f"{base}.{n}"
    return candidate


def list_versions(directory: Path | None = None) -> list[VersionInfo]:
    """Stored versions, oldest first; ``current`` marks the one whose bytes ``current.toml`` holds."""
    directory = directory or _paths.catalog_dir()
    if not directory.is_dir():
        return []
    current = _read_bytes(directory / "current.toml")
    current_sha = sha256_hex(current) if current is not None else None
    found: list[VersionInfo] = []
    for path in directory.glob("catalog-*.toml"):
        version = path.name[len("catalog-") : -len(".toml")]
        data = _read_bytes(path)
        if data is None or not VERSION_RE.match(version):
            continue
        digest = sha256_hex(data)
        found.append(VersionInfo(version, path, digest, len(data), digest == current_sha))
    found.sort(key=lambda v: version_key(v.version))
    return found


def resolve_version(name: str) -> Path:
    """A version name (``2026.11.22``), ``current``, ``bundled``, or a path to a catalog file."""
    if name == "current":
        path = current_path()
        return path if path.is_file() else _load.bundled_catalog_path()
    if name == "bundled":
        return _load.bundled_catalog_path()
    if VERSION_RE.match(name):
        path = version_path(name)
        if not path.is_file():
            raise UpdateError(f"no stored version {name} (see `pricing versions`)")
        return path
    path = Path(name)
    if path.is_file():
        return path
    raise UpdateError(f"{name!r} is neither a stored version nor a catalog file")


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: temporary file in the same directory, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file 0600; a catalog is not secret, keep the usual mode (or the replaced file's).
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX; directories cannot be opened this way on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_storable(version: str, data: bytes) -> None:
    """Refuse, before anything is written, a version already stored with other bytes."""
    path = version_path(version)
    existing = _read_bytes(path)
    if existing is not None and existing != data:
        raise UpdateError(f"version {version} is already stored with different content ({path})")


def activate(version: str, data: bytes) -> Path:
    """Store ``data`` as ``version`` (if not stored yet) and make it the current catalog.

    The catalog being replaced is stored first when it is not a stored version yet (a hand-placed ``current.toml``,
    or the bundled catalog on the first update), so ``pricing rollback`` can always return to it. Conflicts are
    found before the first write.
    """
    check_storable(version, data)
    outgoing = _unstored_outgoing()
    if outgoing is not None and outgoing[0] == version and outgoing[1] != data:
        if outgoing[2]:
            outgoing = None  # the bundled catalog stays reachable as ``bundled``
        else:
            raise UpdateError(f"the active catalog is version {version} too, with other content, and is not stored")
    if outgoing is not None:
        atomic_write(version_path(outgoing[0]), outgoing[1])
    path = version_path(version)
    if not path.exists():
        atomic_write(path, data)
    atomic_write(current_path(), data)
    return path


def _unstored_outgoing() -> tuple[str, bytes, bool] | None:
    """(version, bytes, is the bundled catalog) of the active catalog when no version file holds it yet."""
    bundled = not current_path().exists()
    try:
        data = _read_bytes(_load.bundled_catalog_path() if bundled else current_path())
    except _load.CatalogError:
        return None
    version = version_of(data) if data is not None else None
    if data is None or version is None or not VERSION_RE.match(version) or version_path(version).exists():
        return None
    return version, data, bundled


def read_state() -> dict[str, Any]:
    """What earlier updates remembered per source URL (ETag and the catalog it produced)."""
    data = _read_bytes(state_path())
    if data is None:
        return {}
    try:
        state = json.loads(data)
    except (ValueError, RecursionError):
        return {}  # a damaged state file only costs one full download
    return state if isinstance(state, dict) else {}


def write_state(state: dict[str, Any]) -> None:
    atomic_write(state_path(), (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
