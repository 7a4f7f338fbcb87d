"""``llmcost report``: totals per group over the logs, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from llmcost.cli._common import Bar, period, printable, resolve_paths, say_skipped
from llmcost.engine import ReportRow, report_files

__all__ = ["run_report"]


def run_report(args: argparse.Namespace) -> int:
    paths = resolve_paths(args.paths)
    since, until = period(args)
    bar = Bar("reading")
    try:
        scan = report_files(paths, args.by, since=since, until=until, reprice=args.reprice, progress=bar)
    finally:
        bar.close()
    data = [row.as_dict() for row in scan.rows]
    if args.json:
        print(json.dumps(data, indent=2))
    elif args.csv:
        _print_csv(data)
    else:
        _print_table(data, args.by)
    sys.stdout.flush()
    say_skipped(scan.malformed, scan.duplicates)
    if scan.folded:
        kept = len(scan.rows) - 1
        print(
            f"llmcost: {scan.folded} more groups added up in the (other) row (the {kept} costliest shown)",
            file=sys.stderr,
        )
    return 0


def _print_csv(data: list[dict[str, object]]) -> None:
    columns = list(ReportRow("").as_dict())
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(data)


def _print_table(data: list[dict[str, object]], by: str) -> None:
    if not data:
        print("no calls")
        return
    heads = (by, "calls", "errors", "input", "output", "cost_usd", "$/1k tok", "p50 ms", "p95 ms", "ttft p50")
    keys = (
        "key",
        "calls",
        "errors",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "cost_per_1k_tokens",
        "latency_p50_ms",
        "latency_p95_ms",
        "ttft_p50_ms",
    )
    table = [heads, *[_cells(row, keys) for row in data]]
    widths = [max(len(line[i]) for line in table) for i in range(len(heads))]
    for line in table:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
    unpriced = sum(int(str(row["unpriced_calls"])) for row in data)
    if unpriced:
        s = "s have" if unpriced != 1 else " has"
        print(f"? {unpriced} call{s} no price (unknown model or no usage): the sums leave them out")


def _cells(row: dict[str, object], keys: tuple[str, ...]) -> tuple[str, ...]:
    """One table row. An unpriced call is never shown as free: a group with no priced call says ``unpriced``, one
    with some shows their sum marked ``?`` (a lower bound), as the monitor does."""
    cells = {k: "-" if row[k] is None else str(row[k]) for k in keys}
    cells["key"] = printable(cells["key"])  # a name from the logs: never raw control characters on a terminal
    unpriced, calls = int(str(row["unpriced_calls"])), int(str(row["calls"]))
    if unpriced and unpriced >= calls:
        cells["cost_usd"], cells["cost_per_1k_tokens"] = "unpriced", "-"
    elif unpriced:
        cells["cost_usd"] += "?"
        cells["cost_per_1k_tokens"] += "?"
    return tuple(cells[k] for k in keys)
