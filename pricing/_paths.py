"""Where llmcost keeps its files.

One environment variable, ``LLMCOST_HOME``, moves everything (logs, catalog versions, overrides, config); without it
the XDG data directory is used. Both the recorder and the monitor resolve paths here, so they agree with no flags.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "catalog_dir",
    "config_file",
    "llmcost_home",
    "log_dir",
    "project_override_file",
    "user_override_file",
]


def llmcost_home() -> Path:
    """The directory for logs, catalog versions and configuration."""
    explicit = os.environ.get("LLMCOST_HOME")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "llmcost"


def log_dir() -> Path:
    """The default log directory shared by the recorder and the monitor (``LLMCOST_LOG_DIR`` overrides it)."""
    explicit = os.environ.get("LLMCOST_LOG_DIR")
    return Path(explicit).expanduser() if explicit else llmcost_home() / "logs"


def catalog_dir() -> Path:
    """Versions written by ``pricing update`` (``current.toml`` is the active one)."""
    return llmcost_home() / "catalog"


def user_override_file() -> Path:
    return llmcost_home() / "pricing.toml"


def project_override_file() -> Path:
    return Path.cwd() / ".llmcost" / "pricing.toml"


def config_file() -> Path:
    return llmcost_home() / "config.toml"
