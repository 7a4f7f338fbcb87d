"""``pricing update``: fetch a source, check it, fold it into the catalog as a new version (see ``pricing._update``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricing._commands._args import date, positive_seconds
from pricing._commands._common import error, print_json
from pricing._every import interval
from pricing._fetch import DEADLINE_S, Progress, UpdateError

if TYPE_CHECKING:
    from pricing._update import UpdateOptions

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``update`` to the ``pricing`` parser."""
    from pricing._update import SOURCES

    p = sub.add_parser(
        "update",
        help="refresh rates from a source (validated, versioned, never rewriting the past)",
        description=(
            "Fetch prices, check them, fold them into the catalog as a new version. "
            "Default source: the project's published catalog ([pricing] url in config.toml overrides it)."
        ),
    )
    p.add_argument("--from", dest="origin", metavar="URL|PATH", help="where to read the source")
    p.add_argument(
        "--source",
        choices=SOURCES,
        help="source format, and its public URL when --from is not given (default: detected from the content)",
    )
    p.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    p.add_argument(
        "--force",
        action="store_true",
        help="accept an update that removes more than 20%% of the models or moves a rate more than ten-fold or to zero",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--all", action="store_true", help="list every change and warning")
    p.add_argument("--output", type=Path, metavar="FILE", help="write the result to FILE instead of a new version")
    p.add_argument("--base", type=Path, metavar="FILE", help="catalog to update (default: the active one, or FILE)")
    p.add_argument("--date", type=date, metavar="YYYY-MM-DD", help="effective date of new rates (default: today)")
    p.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEADLINE_S,
        metavar="S",
        help=f"give up when the download takes longer than S seconds in all (default {DEADLINE_S:g})",
    )
    p.add_argument(
        "--every",
        type=interval,
        metavar="INTERVAL",
        help="keep running: update now, then every INTERVAL (30m, 6h, 1d) until stopped (SIGTERM, Ctrl-C); "
        "a failed update is one line on stderr and the next one tries again",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Do one update and print its summary; exit 1 with a one-line reason when it cannot go ahead. With ``--every``,
    keep updating until stopped."""
    if args.every is not None:
        return _run_every(args)
    from pricing._update import run_update

    try:
        result = run_update(_options(args, Progress()))
    except UpdateError as exc:
        return error(str(exc))
    except KeyboardInterrupt:
        return error("interrupted; nothing was changed", 130)
    if args.json:
        print_json(result.to_dict())
        return 0
    for line in _summary_lines(result, every=args.all):
        print(line)
    return 0


def _run_every(args: argparse.Namespace) -> int:
    """``--every``: one update per interval, each a fresh one (today's date, the catalog then active)."""
    import threading

    from pricing._every import run_every, stop_on_signals
    from pricing._update import run_update

    for flag, given in (("--date", args.date), ("--dry-run", args.dry_run)):
        if given:
            return error(f"{flag} cannot be used with --every (each run takes effect on its own day)", 2)

    def once() -> Any:
        # a long-running process writes one line per run, no progress bar
        return run_update(_options(args, Progress(enabled=False)))

    stop = getattr(args, "stop", None) or threading.Event()  # tests pass their own
    with stop_on_signals(stop):
        return run_every(once, args.every, stop, as_json=args.json)


def _options(args: argparse.Namespace, progress: Progress) -> UpdateOptions:
    """The options of one update, as the flags give them."""
    from pricing._update import UpdateOptions

    return UpdateOptions(
        origin=args.origin,
        source=args.source,
        dry_run=args.dry_run,
        force=args.force,
        output=args.output,
        base=args.base,
        day=args.date,
        timeout_s=args.timeout,
        progress=progress,
        client=getattr(args, "client", None),  # tests pass an httpx client with a mock transport
    )


def _summary_lines(result: Any, *, every: bool) -> list[str]:
    lines = [f"source: {result.source} ({result.origin})"]
    if result.status == "up_to_date":
        return [*lines, f"up to date: the source has not changed; catalog {result.version} stays active"]
    if result.diff is not None:
        lines.extend(result.diff.render(limit=0 if every else 25))
    if result.warnings:
        shown = result.warnings if every else result.warnings[:10]
        lines.append(f"{len(result.warnings)} warning(s) (entries that could not be mapped or added):")
        lines.extend(f"  {w}" for w in shown)
        if len(shown) < len(result.warnings):
            lines.append(f"  … and {len(result.warnings) - len(shown)} more (--all or --json lists them)")
    final = {
        "no_changes": f"no changes: catalog {result.version} stays active",
        "dry_run": f"dry run: nothing written (would become catalog {result.version})",
        "written": f"wrote catalog {result.version} to {result.path}",
        "updated": f"updated: catalog {result.version} is active ({result.path})",
    }
    return [*lines, final[result.status]]
