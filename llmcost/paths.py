"""Where llmcost keeps its files, and which machine it runs on.

One environment variable, ``LLMCOST_HOME``, moves everything (logs, catalog versions, overrides, config); without it
the XDG data directory is used. The recorder, the monitor and the reports resolve paths here, so they agree with no
flags. (The ``pricing`` package, which imports nothing of llmcost, finds its catalog directory under the same home
by the same rule; a test checks that the two agree.)

``LLMCOST_HOST`` names the machine on every record the recorder and the importers write (``host``), where the
system's host name would be wrong or unwanted: a container's random name, a laptop's private one.
"""

from __future__ import annotations

import functools
import os
import stat
import sys
from pathlib import Path
from typing import Any

__all__ = ["config_file", "host_name", "llmcost_home", "log_dir", "read_config"]

_HOST_MAX = 255  # characters of a host name on a record (a DNS name is at most 253)

MAX_CONFIG_BYTES = 1 << 20  # a config file is a few lines; a bigger one is a mistake (or /dev/zero behind a link)


def llmcost_home() -> Path:
    """The directory for logs, catalog versions and configuration (``LLMCOST_HOME``, else the XDG data directory)."""
    explicit = os.environ.get("LLMCOST_HOME")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "llmcost"


def log_dir() -> Path:
    """The default log directory shared by the recorder and the monitor (``LLMCOST_LOG_DIR`` overrides it)."""
    explicit = os.environ.get("LLMCOST_LOG_DIR")
    return Path(explicit).expanduser() if explicit else llmcost_home() / "logs"


def host_name() -> str | None:
    """The machine's name for the records written here: ``LLMCOST_HOST`` when set, else the system's host name
    (asked once per process), else ``None`` when the system has none. At most 255 characters."""
    explicit = os.environ.get("LLMCOST_HOST")
    if explicit:
        return explicit[:_HOST_MAX]
    return _system_host()


@functools.cache
def _system_host() -> str | None:
    # Asked once: the name does not change under a running process, and the recorder reads it per tracker.
    import socket  # a few milliseconds of import, only for a process that records

    try:
        name = socket.gethostname()
    except OSError:  # pragma: no cover - a system without a host name
        return None
    return name[:_HOST_MAX] or None


def config_file() -> Path:
    """``config.toml`` in the home directory: ``[alarms]`` thresholds and ``[alerts]`` destinations."""
    return llmcost_home() / "config.toml"


def read_config(path: str | os.PathLike[str] | None = None) -> tuple[Path, dict[str, Any]]:
    """The config file (default: :func:`config_file`) and its tables; no file is an empty config.

    Raises ``ValueError`` with one line naming the file when it cannot be read or is not valid TOML.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

    file = Path(path) if path is not None else config_file()
    try:
        data = _read_small_file(file)
    except FileNotFoundError:
        return file, {}
    except OSError as exc:
        raise ValueError(f"{file}: cannot read the configuration: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ValueError(f"{file}: cannot read the configuration: {exc}") from None
    try:
        return file, tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file}: cannot read the configuration: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{file}: cannot read the configuration: not UTF-8 text (byte {exc.start + 1})") from None
    except RecursionError:
        raise ValueError(f"{file}: cannot read the configuration: nested too deeply") from None


def _read_small_file(file: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_CONFIG_BYTES`; ``ValueError`` says what else it is.

    Opened without blocking, then checked: a FIFO put there (or swapped in) is refused instead of waiting for a
    writer, and a directory or a device is a mistake to report, not "no config"."""
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError("not a regular file")
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError("larger than 1 MiB")
    return data
