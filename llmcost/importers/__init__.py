"""Import the usage of coding agents from their own transcripts: Claude Code and Codex CLI.

Each call the tool made becomes one record of the wire format, priced with the catalog at the call's own time and
appended to the day file of that time, so ``llmcost-top`` and ``llmcost report`` show it like any recorded call
(``agent`` is the tool, ``session_id`` its session, ``workflow`` the project directory). Importing again reads only
what is new (offsets and recent record ids are kept under ``llmcost_home()/imports/``), and record ids are derived from
the tools' own ids, so nothing is ever counted twice. Prompts and responses are never read into records.

In Python::

    from llmcost.importers import import_claude_code

    summary = import_claude_code()  # ~/.claude/projects into the log directory
    print(summary.records, summary.cost_usd)

The command line is ``llmcost import claude-code [DIR]`` and ``llmcost import codex [DIR]`` (``--follow``,
``--json``, ``--dir``); see ``docs/coding-agents.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from llmcost.importers._claude_code import ClaudeCode, decode_project
from llmcost.importers._codex import Codex
from llmcost.importers._core import Draft, FileParser, Importer, ImportFailed, ImportSummary, Source
from llmcost.importers._follow import follow
from llmcost.importers._state import ImportBusy

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = [
    "SOURCES",
    "ClaudeCode",
    "Codex",
    "Draft",
    "FileParser",
    "ImportBusy",
    "ImportFailed",
    "ImportSummary",
    "Importer",
    "Source",
    "decode_project",
    "follow",
    "import_claude_code",
    "import_codex",
    "run_import",
]

#: The tools, by the name the command line uses.
SOURCES: dict[str, type[ClaudeCode] | type[Codex]] = {"claude-code": ClaudeCode, "codex": Codex}


def run_import(
    source: Source,
    directories: list[str | os.PathLike[str]] | None = None,
    *,
    log_dir: str | os.PathLike[str] | None = None,
    catalog: Catalog | None = None,
    settle_s: float = 60.0,
) -> ImportSummary:
    """Import what is new in ``directories`` (default: the tool's own) into ``log_dir`` (default: the log directory).

    Raises ``FileNotFoundError`` when a directory does not exist (or the tool has none), :class:`ImportBusy` when
    another import holds the lock, :class:`ImportFailed` when records cannot be written.
    """
    if directories:
        roots = []
        for given in directories:
            path = Path(os.path.expanduser(os.fspath(given)))
            if not path.is_dir():
                raise FileNotFoundError(f"not a directory: {given}")
            roots.append(source.root_of(path))
    else:
        roots = source.default_roots()
        if not roots:
            raise FileNotFoundError(f"no {source.tool} transcripts found on this machine")
    if log_dir is None:
        from llmcost.paths import log_dir as default_log_dir

        log_dir = default_log_dir()
    with Importer(source, roots, Path(log_dir), catalog=catalog, settle_s=settle_s) as importer:
        importer.scan()
    return importer.summary


def import_claude_code(
    directory: str | os.PathLike[str] | None = None,
    *,
    log_dir: str | os.PathLike[str] | None = None,
    catalog: Catalog | None = None,
    settle_s: float = 60.0,
) -> ImportSummary:
    """Import Claude Code transcripts (default: ``~/.claude/projects`` and the other places Claude Code uses)."""
    dirs = None if directory is None else [directory]
    return run_import(ClaudeCode(), dirs, log_dir=log_dir, catalog=catalog, settle_s=settle_s)


def import_codex(
    directory: str | os.PathLike[str] | None = None,
    *,
    log_dir: str | os.PathLike[str] | None = None,
    catalog: Catalog | None = None,
) -> ImportSummary:
    """Import Codex CLI session logs (default: ``$CODEX_HOME/sessions``, ``~/.codex/sessions``)."""
    dirs = None if directory is None else [directory]
    return run_import(Codex(), dirs, log_dir=log_dir, catalog=catalog)
