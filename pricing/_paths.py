"""Where the catalog's files are: versions written by ``pricing update``, the override files, and the config file
whose ``[pricing]`` table ``pricing update`` reads.

They live under the llmcost home directory: ``LLMCOST_HOME``, else ``$XDG_DATA_HOME/llmcost`` (``llmcost.paths``
states the same rule for the logs and the config; this package imports nothing of llmcost, and a test checks that the
two agree).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_CONFIG_BYTES",
    "catalog_dir",
    "config_file",
    "project_override_file",
    "read_config",
    "user_override_file",
]

MAX_CONFIG_BYTES = 1 << 20  # a config file is a few lines; a bigger one is a mistake (or /dev/zero behind a link)


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


def config_file() -> Path:
    """``config.toml`` in the llmcost home directory."""
    return _home() / "config.toml"


def read_config(path: str | os.PathLike[str] | None = None) -> tuple[Path, dict[str, Any]]:
    """The config file (default: :func:`config_file`) and its tables; no file is an empty config.

    The one reader of the config file, for the ``[pricing]`` table here and for the ``[alarms]`` and ``[alerts]``
    tables (``llmcost.paths.read_config``). Raises ``ValueError`` with one line naming the file when it cannot be
    read, is not a regular file of at most 1 MiB, or is not valid TOML.
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
