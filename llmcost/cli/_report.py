"""``llmcost report``: totals per group over the logs, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from decimal import ROUND_HALF_UP, Decimal

from llmcost.cli._common import Bar, period, printable, resolve_paths, say_skipped
from llmcost.engine import ReportRow, report_files, report_total
from pricing import format_decimal, format_table, format_tokens, text_width

__all__ = ["money", "run_report", "seconds_or_ms"]


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
        _print_table(scan.rows, args.by)
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


def _print_table(rows: list[ReportRow], by: str) -> None:
    if not rows:
        print("no calls")
        return
    heads = (by, "calls", "errors", "input", "output", "cost", "$/1k tok", "p50", "p95", "ttft p50")
    body = [_cells(row) for row in [*rows, report_total(rows)]]
    lines = format_table(heads, body, right=[False] + [True] * 9)
    for line in lines[:-1]:
        print(line)
    print("-" * max(text_width(line) for line in lines))  # the rule sets the total apart (a group may be named "total")
    print(lines[-1])
    unpriced = sum(row.unpriced_calls for row in rows)
    if unpriced:
        s = "s have" if unpriced != 1 else " has"
        print(f"? {unpriced} call{s} no price (unknown model or no usage): the sums leave them out")


def _cells(row: ReportRow) -> list[str]:
    """One table row in figures people read. An unpriced call is never shown as free: a group with no priced call
    says ``unpriced``, one with some shows their sum marked ``?`` (a lower bound), as the monitor does."""
    per_1k = row.cost_per_1k_tokens
    cost, rate = money(row.cost_usd), "-" if per_1k is None else money(per_1k)
    if row.unpriced_calls and row.unpriced_calls >= row.calls:
        cost, rate = "unpriced", "-"
    elif row.unpriced_calls:
        cost, rate = cost + "?", rate + "?" if per_1k is not None else rate
    times = row.as_dict()  # the percentiles to the tenth of a millisecond, as --json prints them
    return [
        printable(row.key),  # a name from the logs: never raw control characters on a terminal
        *(format_tokens(n) for n in (row.calls, row.errors, row.input_tokens, row.output_tokens)),
        cost,
        rate,
        *(seconds_or_ms(times[k]) for k in ("latency_p50_ms", "latency_p95_ms", "ttft_p50_ms")),  # type: ignore[arg-type]
    ]


def money(value: Decimal) -> str:
    """Dollars as people read them: to the cent from a dollar up (``$1,234.57``), else to four significant digits
    (``$0.004512``); nothing is ever rounded to ``$0`` but zero itself."""
    if value == 0:
        return "$0"
    if abs(value) < 1:
        small = value.quantize(Decimal(1).scaleb(value.adjusted() - 3), rounding=ROUND_HALF_UP)
        if abs(small) < 1:
            return "$" + format_decimal(small)
    return f"${value.quantize(_CENT, rounding=ROUND_HALF_UP):,}"


def seconds_or_ms(ms: float | None) -> str:
    """``835 ms`` under a second, then seconds to three significant digits: ``1.23 s``, ``10.7 s``; ``-`` for none."""
    if ms is None:
        return "-"
    if round(ms) < 1000:
        return f"{ms:.0f} ms"
    s = ms / 1000
    return f"{s:.2f} s" if s < 9.995 else f"{s:.1f} s"


_CENT = Decimal("0.01")
