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
from pathlib import Path
from typing import Any

__all__ = ["config_file", "host_name", "llmcost_home", "log_dir", "read_config"]

_HOST_MAX = 255  # characters of a host name on a record (a DNS name is at most 253)


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

    Raises ``ValueError`` with one line naming the file when it cannot be read, is not a regular file of at most
    1 MiB, or is not valid TOML: the one reader of the config, :func:`pricing.read_config`, shared with ``pricing
    update`` (imported here, when a command reads its config, not with this module)."""
    from pricing import read_config as read

    return read(path if path is not None else config_file())
