"""``llmcost import claude-code|codex [DIR ...]``: the calls of coding agents, from their transcripts into the log."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmcost.cli._common import Bar, UsageError

__all__ = ["register"]

_PLACES = {
    "claude-code": "$CLAUDE_CONFIG_DIR, ~/.config/claude/projects or ~/.claude/projects",
    "codex": "$CODEX_HOME/sessions or ~/.codex/sessions",
}
_MAX_FILES_LISTED = 10


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``import`` and its tools to the ``llmcost`` parser (sets ``func``)."""
    parser = sub.add_parser(
        "import",
        help="import the calls of Claude Code or Codex CLI from their transcripts",
        description="Turn the transcripts of a coding agent into priced records in the log directory, so llmcost-top "
        "and llmcost report show them. Importing again adds only what is new.",
    )
    tools = parser.add_subparsers(dest="tool", metavar="TOOL", parser_class=type(parser), required=True)
    helps = {
        "claude-code": "Claude Code project transcripts (~/.claude/projects/<project>/<session>.jsonl)",
        "codex": "Codex CLI session logs (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)",
    }
    for tool, text in helps.items():
        p = tools.add_parser(tool, help=text, description=f"Import {text}.")
        p.add_argument("dirs", nargs="*", metavar="DIR", help=f"where the transcripts are (default: {_PLACES[tool]})")
        p.add_argument(
            "--dir", dest="log_dir", type=Path, default=None, help="log directory (default: the shared log directory)"
        )
        p.add_argument("--follow", action="store_true", help="keep importing as the tool writes (Ctrl-C stops)")
        p.add_argument("--json", action="store_true", help="print the summary as JSON")
        p.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from llmcost.importers import SOURCES, ImportBusy, Importer, ImportFailed, follow  # only when the command runs

    source = SOURCES[args.tool]()
    roots = _roots(source, args.tool, args.dirs)
    log_dir = _log_dir(args.log_dir)
    stop = threading.Event()
    try:
        with _stop_on_interrupt(stop), Importer(source, roots, log_dir) as importer:
            bar = Bar("importing")
            try:
                importer.scan(progress=bar, stop=stop.is_set)
            finally:
                bar.close()
            if args.follow and not stop.is_set():
                if not args.json:
                    print(_summary_line(importer.summary) + f"; following {', '.join(map(str, roots))} (Ctrl-C stops)")
                    sys.stdout.flush()
                follow(importer, stop, on_records=None if args.json else _announce(importer))
    except (ImportBusy, ImportFailed) as exc:
        print(f"llmcost import: error: {exc}", file=sys.stderr)
        return 1
    summary = importer.summary
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    elif not args.follow:
        print(_summary_line(summary))
    sys.stdout.flush()
    _warn(summary)
    if stop.is_set() and not args.follow:
        print("llmcost import: interrupted; run it again to import the rest", file=sys.stderr)
        return 130
    return 0


def _roots(source: Any, tool: str, dirs: list[str]) -> list[Path]:
    """The transcript directories: the DIR arguments, checked, else the tool's own."""
    if not dirs:
        found: list[Path] = source.default_roots()
        if not found:
            raise UsageError(f"no {tool} transcripts found (looked in {_PLACES[tool]}); pass DIR")
        return found
    roots = []
    for given in dirs:
        path = Path(os.path.expanduser(given))
        if not path.exists():
            raise UsageError(f"no such directory: {given}")
        if not path.is_dir():
            raise UsageError(f"not a directory: {given}")
        roots.append(source.root_of(path))
    return roots


def _log_dir(given: Path | None) -> Path:
    if given is None:
        from llmcost.paths import log_dir

        return log_dir()
    path = given.expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"--dir: not a directory: {given}")
    return path


@contextlib.contextmanager
def _stop_on_interrupt(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) sets ``stop``: the file being read is finished and the state saved (a second one aborts)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _announce(importer: Any) -> Any:
    def say(n: int) -> None:
        cost = importer.summary.cost_usd
        print(f"{time.strftime('%H:%M:%S')} +{n} call{'s' * (n != 1)} (total {_usd(cost)})", flush=True)

    return say


def _usd(value: Any) -> str:
    from pricing import format_usd

    return format_usd(value)


def _summary_line(s: Any) -> str:
    calls = f"{s.records} call{'s' * (s.records != 1)}"
    line = f"imported {calls} ({_usd(s.cost_usd)}) from {s.files} file{'s' * (s.files != 1)} into {s.log_dir}"
    if s.already_imported:
        line += f"; {s.already_imported} already imported"
    if s.in_progress:
        line += f"; {s.in_progress} message{'s' * (s.in_progress != 1)} still streaming (imported once complete)"
    return line


def _warn(s: Any) -> None:
    """What was skipped or could not be priced, on stderr; a directory without transcripts."""
    if not s.files:
        print(f"llmcost import: no transcripts (*.jsonl) in {', '.join(s.sources)}", file=sys.stderr)
    for name, why in sorted(s.unreadable.items()):
        print(f"llmcost import: cannot read {name}: {why}", file=sys.stderr)
    items = sorted(s.skipped_lines.items())
    for name, n in items[:_MAX_FILES_LISTED]:
        print(f"llmcost import: skipped {n} line{'s' * (n != 1)} in {name}", file=sys.stderr)
    if len(items) > _MAX_FILES_LISTED:
        rest = sum(n for _, n in items[_MAX_FILES_LISTED:])
        print(f"llmcost import: skipped {rest} more lines in {len(items) - _MAX_FILES_LISTED} files", file=sys.stderr)
    if s.unknown_models:
        n = sum(s.unknown_models.values())
        names = ", ".join(f"{name} ({k})" for name, k in sorted(s.unknown_models.items()))
        print(
            f"llmcost import: {n} call{'s' * (n != 1)} of models the catalog does not know (cost unknown): {names}",
            file=sys.stderr,
        )
