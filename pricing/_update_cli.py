"""Subcommands of ``pricing`` that change or publish the catalog: update, versions, diff, rollback, serve.

Each command function takes the parsed arguments and returns the exit code: 0 done, 1 the operation failed (one
``pricing: error: ...`` line on stderr, nothing changed), 2 bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from pricing import _load, _versions
from pricing._fetch import UpdateError

__all__ = ["register"]

PROG = "pricing"


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to the ``pricing`` parser (each sets ``func``)."""
    _add_update(sub)
    p = sub.add_parser("versions", help="list the stored catalog versions", description="List the stored versions.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_versions)
    p = sub.add_parser(
        "diff",
        help="compare two catalog versions",
        description="Models added, removed and repriced between A and B (versions, 'current', 'bundled' or files).",
    )
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--all", action="store_true", help="list every change, not the first 25 of each kind")
    p.set_defaults(func=cmd_diff)
    p = sub.add_parser("rollback", help="make a stored version the active catalog", description="Activate VERSION.")
    p.add_argument("version", metavar="VERSION", help="a version listed by `pricing versions`, or 'bundled'")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser(
        "serve",
        help="serve the active catalog over HTTP (read-only)",
        description="Serve the active catalog so other machines can `pricing update --from http://HOST:PORT/`.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    p.add_argument("--quiet", action="store_true", help="do not log requests")
    p.set_defaults(func=cmd_serve)


def _add_update(sub: argparse._SubParsersAction[Any]) -> None:
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
    p.add_argument("--force", action="store_true", help="accept an update that removes more than 20%% of the models")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--all", action="store_true", help="list every change and warning")
    p.add_argument("--output", type=Path, metavar="FILE", help="write the result to FILE instead of a new version")
    p.add_argument("--base", type=Path, metavar="FILE", help="catalog to update (default: the active one, or FILE)")
    p.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="effective date of new rates (default: today)")
    p.set_defaults(func=cmd_update)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _error(message: str, code: int = 1) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


# -- update -------------------------------------------------------------------------------------------------------


def cmd_update(args: argparse.Namespace) -> int:
    from pricing._fetch import Progress
    from pricing._update import UpdateOptions, run_update

    opts = UpdateOptions(
        origin=args.origin,
        source=args.source,
        dry_run=args.dry_run,
        force=args.force,
        output=args.output,
        base=args.base,
        day=args.date,
        progress=Progress(),
        client=getattr(args, "client", None),  # tests pass an httpx client with a mock transport
    )
    try:
        result = run_update(opts)
    except UpdateError as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        return _error("interrupted; nothing was changed", 130)
    if args.json:
        _print_json(result.to_dict())
        return 0
    for line in _update_lines(result, every=args.all):
        print(line)
    return 0


def _update_lines(result: Any, *, every: bool) -> list[str]:
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


# -- versions, diff, rollback -------------------------------------------------------------------------------------


def cmd_versions(args: argparse.Namespace) -> int:
    versions = _versions.list_versions()
    active = _versions.current_path()
    if args.json:
        _print_json(
            {
                "directory": str(active.parent),
                "active": str(active if active.is_file() else _load.bundled_catalog_path()),
                "versions": [v.to_dict() for v in versions],
            }
        )
        return 0
    if not versions:
        print(f"no stored versions in {active.parent}; the bundled catalog is active ({_bundled_version()})")
        return 0
    for v in versions:
        print(f"{'*' if v.current else ' '} {v.version:<14} {v.size:>9,} bytes  sha256 {v.sha256[:12]}")
    if not any(v.current for v in versions):
        print(f"  (active: {active if active.is_file() else 'the bundled catalog'}, not a stored version)")
    return 0


def _bundled_version() -> str:
    try:
        return _versions.version_of(_load.bundled_catalog_path().read_bytes()) or "?"
    except (OSError, _load.CatalogError):
        return "?"


def cmd_diff(args: argparse.Namespace) -> int:
    from pricing._diff import diff_documents

    try:
        docs = [_load.load_document(_versions.resolve_version(name)) for name in (args.a, args.b)]
    except (UpdateError, _load.CatalogError) as exc:
        return _error(str(exc), 2)
    diff = diff_documents(docs[0], docs[1])
    if args.json:
        _print_json(diff.to_dict())
    else:
        for line in diff.render(limit=0 if args.all else 25):
            print(line)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from pricing._catalog import Catalog

    try:
        path = _versions.resolve_version(args.version)
        if path.parent != _versions.current_path().parent and args.version != "bundled":
            return _error(f"{args.version!r} is not a stored version (see `pricing versions`)", 2)
        data = path.read_bytes()
        doc = _load.parse_document(data.decode("utf-8"), str(path))
        problems = _load.validate_document(doc, strict=True)
        if problems:
            return _error(f"{path}: {problems[0]}")
        Catalog(doc, origin=str(path))
        version = _versions.check_version(str(doc.get("catalog_version")))
        _versions.activate(version, data)
    except UpdateError as exc:
        return _error(str(exc), 2 if "no stored version" in str(exc) else 1)
    except (OSError, UnicodeDecodeError, _load.CatalogError) as exc:
        return _error(str(exc))
    if args.json:
        _print_json({"active": version, "file": str(_versions.version_path(version))})
    else:
        print(f"catalog {version} is active")
    return 0


# -- serve --------------------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from pricing._serve import make_server

    try:
        server = make_server(args.host, args.port, quiet=args.quiet)
    except OSError as exc:
        return _error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    data, _sha = server.snapshot.get()
    version = _versions.version_of(data)
    print(f"serving catalog {version} from {server.snapshot.path()} at {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
