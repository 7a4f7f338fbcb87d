"""``pricing audit``: cross-check the active catalog against LiteLLM, genai-prices and OpenRouter (``pricing._audit``)."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pricing._commands._args import date, positive_seconds
from pricing._commands._common import catalog_of, error, guarded, print_json
from pricing._fetch import DEADLINE_S, UpdateError

__all__ = ["DEFAULT_THRESHOLD", "register", "run", "threshold"]

#: Disagreements further than this from a ratio of 1 make the audit fail (1 %).
DEFAULT_THRESHOLD = Decimal("0.01")
_SOURCES = ("litellm", "genai-prices", "openrouter")


def threshold(text: str) -> Decimal:
    """A percentage: ``1``, ``1%``, ``0.5 %``."""
    try:
        value = Decimal(text.strip().removesuffix("%").strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a percentage of zero or more: {text!r}")
    return value / 100


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``audit`` to the ``pricing`` parser."""
    p = sub.add_parser(
        "audit",
        help="cross-check the catalog against LiteLLM, genai-prices and OpenRouter",
        description=(
            "Compare every price a source states with the price the active catalog would charge for the same name: "
            "rates, long-context tiers, service tiers, batch and tool fees. Exit 1 when a disagreement goes beyond "
            "the threshold. Default: the three sources, from their public URLs."
        ),
    )
    p.add_argument(
        "--source",
        action="append",
        choices=_SOURCES,
        help="a source to compare with (repeat for more); with --from, the format of the data (default: detected)",
    )
    p.add_argument("--from", dest="origins", action="append", metavar="URL|PATH", help="read a source from here")
    p.add_argument(
        "--threshold",
        type=threshold,
        default=DEFAULT_THRESHOLD,
        metavar="PCT",
        help="report and fail on disagreements beyond this percentage (default 1)",
    )
    p.add_argument(
        "--at", type=date, metavar="YYYY-MM-DD", help="compare the prices in force on this day (default: today)"
    )
    p.add_argument("--all", action="store_true", help="list every disagreement, the ones within the threshold too")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEADLINE_S,
        metavar="S",
        help=f"give up on a source whose download takes longer than S seconds (default {DEADLINE_S:g})",
    )
    p.set_defaults(func=run)


@guarded
def run(args: argparse.Namespace) -> int:
    """Audit the catalog against each source; 1 when a disagreement is beyond the threshold or a source failed."""
    from pricing._audit import AuditResult

    catalog = catalog_of(args)
    at = args.at or dt.datetime.now(dt.timezone.utc).date()
    results: list[AuditResult] = []
    failed = 0
    for origin, kind in _origins(args):
        try:
            results.append(_audit_one(catalog, origin, kind, at, args))
        except UpdateError as exc:
            error(str(exc))
            failed += 1
    exceeding = sum(len(r.exceeding(args.threshold)) for r in results)
    if args.json:
        print_json(
            {
                "catalog_version": catalog.version,
                "at": at.isoformat(),
                "threshold": str(args.threshold),
                "exceeding": exceeding,
                "failed_sources": failed,
                "sources": [r.to_dict(args.threshold) for r in results],
            }
        )
    else:
        for result in results:
            print("\n".join(_lines(result, args.threshold, every=args.all)))
    return 1 if exceeding or failed else 0


def _origins(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """(where to read, source format or None to detect) for each source to audit against."""
    from pricing._update import SOURCE_URLS

    sources = args.source or []
    if args.origins:
        kind = sources[0] if len(sources) == 1 else None
        return [(origin, kind) for origin in args.origins]
    return [(SOURCE_URLS[name], name) for name in dict.fromkeys(sources or _SOURCES)]


def _audit_one(catalog: Any, origin: str, kind: str | None, at: dt.date, args: argparse.Namespace) -> Any:
    from pricing._audit import audit_document
    from pricing._fetch import Deadline, fetch, is_url, make_client, read_path
    from pricing._update import _adapter, _parse

    if is_url(origin):
        client = getattr(args, "client", None) or make_client()  # tests pass a client with a mock transport
        deadline = Deadline(args.timeout, client, owned=getattr(args, "client", None) is None)
        try:
            fetched = fetch(client, origin, deadline=deadline)
        finally:
            deadline.close()
    else:
        fetched = read_path(Path(origin))
    found, data = _parse(fetched, kind)
    if found == "ours":
        raise UpdateError(
            f"{fetched.origin}: a catalog of ours; audit compares with LiteLLM, genai-prices or OpenRouter"
        )
    try:
        doc, warnings = _adapter(found)(data, today=at)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UpdateError(f"{fetched.origin}: not a usable {found} document: {type(exc).__name__}: {exc}") from None
    except RecursionError:
        raise UpdateError(f"{fetched.origin}: not a usable {found} document: nested too deeply") from None
    result = audit_document(catalog, found, fetched.origin, doc, at)
    result.warnings = warnings
    return result


def _lines(result: Any, limit: Decimal, *, every: bool) -> list[str]:
    beyond = result.exceeding(limit)
    shown = result.disagreements if every else beyond
    pct = f"{limit * 100:f}".rstrip("0").rstrip(".")
    head = (
        f"{result.source} ({result.origin}): {result.compared} names compared, "
        f"{len(result.disagreements)} prices differ, {len(beyond)} beyond {pct}%"
    )
    lines = [head, *("  " + d.describe(result.source) for d in shown)]
    if not every and len(result.disagreements) > len(beyond):
        lines.append(f"  … and {len(result.disagreements) - len(beyond)} within {pct}% (--all lists them)")
    return lines
