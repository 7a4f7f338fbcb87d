"""``pricing versions``, ``pricing diff A B`` and ``pricing rollback VERSION``: the stored catalog versions."""

from __future__ import annotations

import argparse
from typing import Any

from pricing import _load, _versions
from pricing._commands._common import error, print_json
from pricing._fetch import UpdateError

__all__ = ["register", "run_diff", "run_rollback", "run_versions"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``versions``, ``diff`` and ``rollback`` to the ``pricing`` parser."""
    p = sub.add_parser("versions", help="list the stored catalog versions", description="List the stored versions.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_versions)
    p = sub.add_parser(
        "diff",
        help="compare two catalog versions",
        description="Models added, removed and repriced between A and B (versions, 'current', 'bundled' or files).",
    )
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--all", action="store_true", help="list every change, not the first 25 of each kind")
    p.set_defaults(func=run_diff)
    p = sub.add_parser("rollback", help="make a stored version the active catalog", description="Activate VERSION.")
    p.add_argument("version", metavar="VERSION", help="a version listed by `pricing versions`, or 'bundled'")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_rollback)


def run_versions(args: argparse.Namespace) -> int:
    """The stored versions, ``*`` marking the active one."""
    versions = _versions.list_versions()
    active = _versions.current_path()
    if args.json:
        print_json(
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


def run_diff(args: argparse.Namespace) -> int:
    """Models added, removed and repriced between two catalogs."""
    from pricing._diff import diff_documents

    try:
        docs = [_load.load_document(_versions.resolve_version(name)) for name in (args.a, args.b)]
    except (UpdateError, _load.CatalogError) as exc:
        return error(str(exc), 2)
    diff = diff_documents(docs[0], docs[1])
    if args.json:
        print_json(diff.to_dict())
    else:
        for line in diff.render(limit=0 if args.all else 25):
            print(line)
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    """Make a stored version (or the bundled catalog) the active one, after checking it."""
    from pricing._catalog import Catalog

    try:
        path = _versions.resolve_version(args.version)
        if path.parent != _versions.current_path().parent and args.version != "bundled":
            return error(f"{args.version!r} is not a stored version (see `pricing versions`)", 2)
        data = path.read_bytes()
        doc = _load.parse_document(data.decode("utf-8"), str(path))
        problems = _load.validate_document(doc, strict=True)
        if problems:
            return error(f"{path}: {problems[0]}")
        Catalog(doc, origin=str(path))
        version = _versions.check_version(str(doc.get("catalog_version")))
        _versions.activate(version, data)
    except UpdateError as exc:
        return error(str(exc), 2 if "no stored version" in str(exc) else 1)
    except (OSError, UnicodeDecodeError, _load.CatalogError) as exc:
        return error(str(exc))
    if args.json:
        print_json({"active": version, "file": str(_versions.version_path(version))})
    else:
        print(f"catalog {version} is active")
    return 0
