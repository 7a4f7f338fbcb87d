"""``pricing validate FILE``: schema, window and name-conflict checks of a catalog or override file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pricing import _load
from pricing._catalog import Catalog
from pricing._commands._common import Fail, error, guarded

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``validate`` to the ``pricing`` parser."""
    p = sub.add_parser(
        "validate",
        help="check a catalog file: schema, windows, name conflicts",
        description="Check a catalog (or, with --override, an override file). Exit 1 when a problem is found.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--override", action="store_true", help="FILE is an override file (no version, sources optional)")
    p.set_defaults(func=run)


@guarded
def run(args: argparse.Namespace) -> int:
    """Schema, window and name-conflict checks of one file; every problem on its own line."""
    path = Path(args.file)
    if not path.is_file():
        raise Fail(f"no such file: {path}")
    problems, catalog = _problems(path, strict=not args.override)
    if problems:
        for problem in problems:
            print(f"{path}: {problem}")
        return error(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {path}", 1)
    assert catalog is not None
    print(f"ok: {len(catalog.providers)} providers, {len(catalog.models)} models")
    return 0


def _problems(path: Path, *, strict: bool) -> tuple[list[str], Catalog | None]:
    try:
        doc = _load.load_document(path)
    except _load.CatalogError as exc:
        return [str(exc).removeprefix(f"{path}: ")], None
    problems = _load.validate_document(doc, strict=strict)
    if problems:
        return problems, None
    try:
        catalog = Catalog(doc, origin=str(path), check_names=False)
    except (_load.CatalogError, KeyError, TypeError, ValueError) as exc:  # a shape the schema check let through
        return [f"cannot build the catalog: {exc}"], None
    return [f"ambiguous name: {c}" for c in catalog.name_conflicts()], catalog
