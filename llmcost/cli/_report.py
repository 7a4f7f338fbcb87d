"""``llmcost report``: totals per group over the logs, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from llmcost.cli._common import Bar, period, resolve_paths, say_skipped
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
    table = [heads, *[tuple("-" if row[k] is None else str(row[k]) for k in keys) for row in data]]
    widths = [max(len(line[i]) for line in table) for i in range(len(heads))]
    for line in table:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
