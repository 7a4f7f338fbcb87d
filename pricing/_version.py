"""The installed distribution's version, for ``--version`` and the User-Agent of downloads."""

from __future__ import annotations

__all__ = ["package_version"]


def package_version() -> str:
    """The version of the installed ``llmcost-top`` distribution; ``"unknown"`` in a source tree never installed."""
    # Reading the installed metadata takes tens of milliseconds (about 40 on the development machine): only the
    # commands that print or send the version pay it.
    from importlib import metadata

    try:
        return metadata.version("llmcost-top")
    except metadata.PackageNotFoundError:
        return "unknown"
