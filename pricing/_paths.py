"""Where the catalog's files are: versions written by ``pricing update``, the override files, and the config file
whose ``[pricing]`` table ``pricing update`` reads.

They live under the llmcost home directory: ``LLMCOST_HOME``, else ``$XDG_DATA_HOME/llmcost`` (``llmcost.paths``
states the same rule for the logs and the config; this package imports nothing of llmcost, and a test checks that the
two agree).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["catalog_dir", "project_override_file", "read_config", "user_override_file"]


def _home() -> Path:
    explicit = os.environ.get("LLMCOST_HOME")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "llmcost"


def catalog_dir() -> Path:
    """Versions written by ``pricing update`` (``current.toml`` is the active one)."""
    return _home() / "catalog"


def user_override_file() -> Path:
    """Your own rates for every project: ``pricing.toml`` in the llmcost home directory."""
    return _home() / "pricing.toml"


def project_override_file() -> Path:
    """Rates for this project: ``.llmcost/pricing.toml`` in the working directory."""
    return Path.cwd() / ".llmcost" / "pricing.toml"


def read_config() -> tuple[Path, dict[str, Any]]:
    """``config.toml`` in the llmcost home directory and its tables; no file is an empty config.

    Raises ``ValueError`` with one line naming the file when it cannot be read or is not valid TOML.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

    file = _home() / "config.toml"
    if not file.is_file():
        return file, {}
    try:
        return file, tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file}: cannot read the configuration: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{file}: cannot read the configuration: {exc}") from None
