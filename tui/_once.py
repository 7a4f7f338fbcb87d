"""``llmcost-top --once``: the current aggregates and alarms, printed once (no Textual import on this path).

The exit code is what a cron job or a CI step needs: 0 no active alarm, 1 a warning, 2 a critical alarm.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from llmcost.cli import printable, say_skipped
from llmcost.engine import AlarmEvent, BudgetStatus, Engine, Follower, GroupBy, GroupStats, Snapshot
from llmcost.log import iso
from pricing import format_decimal, format_table
from tui._format import millis, tokens, usd

__all__ = ["exit_code", "run_once", "snapshot_json"]


def run_once(engine: Engine, follower: Follower, group_by: GroupBy, *, as_json: bool) -> int:
    """Read everything there is, print one snapshot, return the exit code."""
    engine.follower = follower
    with follower:
        for batch in follower.replay():
            engine.ingest(batch)
        follower.require_readable()
    snap = engine.snapshot(group_by)
    if as_json:
        print(json.dumps(snapshot_json(snap), indent=2))
    else:
        print("\n".join(_text(snap)))
    sys.stdout.flush()
    say_skipped(snap.ingest.malformed, snap.ingest.duplicates)  # on stderr, as every reader says what it skipped
    return exit_code(snap.alarms)


def exit_code(alarms: tuple[AlarmEvent, ...]) -> int:
    """2 when an active alarm is critical, 1 when one is a warning, else 0."""
    active = {a.severity for a in alarms if a.active}
    return 2 if "critical" in active else 1 if "warning" in active else 0


def snapshot_json(snap: Snapshot) -> dict[str, Any]:
    """The snapshot as JSON-ready data; money as exact decimal strings, times as ISO-8601 UTC."""
    active = [a for a in snap.alarms if a.active]
    totals = asdict(snap.totals)
    del totals["budgets"]  # a list of their own, below
    return {
        "at": iso(snap.at),
        "group_by": snap.group_by,
        "status": ("critical", "warning", "ok")[2 - exit_code(snap.alarms)],
        "catalog_version": snap.catalog_version,
        "totals": _money(totals),
        "budgets": [_budget(b) for b in snap.totals.budgets],
        "rows": [_row(r) for r in snap.rows],
        "alarms": [asdict(a) | {"active": a.active} for a in snap.alarms],
        "active_alarms": len(active),
        "ingest": asdict(snap.ingest),
    }


def _budget(b: BudgetStatus) -> dict[str, Any]:
    """A budget: ``eta`` is when it is reached at its burn rate (``usd_per_min``, the last five minutes)."""
    return {
        "name": b.name,
        "scope": b.scope,
        "key": b.key,
        "limit_usd": format_decimal(b.limit_usd),
        "spent_usd": format_decimal(b.spent_usd),
        "usd_per_min": format_decimal(b.usd_per_min),
        "reached": b.reached,
        "eta": None if b.eta is None else iso(b.eta),
    }


def _row(row: GroupStats) -> dict[str, Any]:
    data: dict[str, Any] = _money(row.as_dict())
    for name in ("ttft_ms", "latency_ms"):
        data[name] = {k: (None if v is None else round(v, 1)) for k, v in data[name].items()}
    return data


def _money(value: Any) -> Any:
    """Decimals (also inside tuples and dicts) as plain strings."""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dict):
        return {k: _money(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_money(v) for v in value]
    return value


def _cost(row: GroupStats) -> str:
    """A group's cost, never an unpriced call shown as free: ``unpriced`` when none of its calls has a price, the
    priced sum marked ``?`` (a lower bound, as on the live screen) when some have none."""
    if row.unpriced_calls and row.unpriced_calls >= row.calls:
        return "unpriced"
    return f"{usd(row.cost_usd)}?" if row.unpriced_calls else usd(row.cost_usd)


def _text(snap: Snapshot) -> list[str]:
    t = snap.totals
    lines = [
        f"today {usd(t.cost_today)}  $/min {usd(t.cost_per_min)}  projected {usd(t.projected_per_hour)}/h  "
        f"calls {t.calls}  errors {t.errors}  unpriced {t.unpriced_calls}",
        "",
    ]
    headers = [snap.group_by, "calls", "input", "output", "cost", "lat p95", "errors", "alarm"]
    rows = [
        [
            printable(r.key),  # names from the logs: never raw control characters on a terminal
            str(r.calls),
            tokens(r.input_tokens),
            tokens(r.output_tokens),
            _cost(r),
            millis(r.latency_ms.p95),
            str(r.errors),
            r.alarm or "",
        ]
        for r in snap.rows
    ]
    lines += format_table(headers, rows, [False, True, True, True, True, True, True, False])
    for a in snap.alarms:
        if a.active:
            lines.append(f"{a.severity.upper():8} {a.kind:14} {printable(a.agent or '-'):16} {printable(a.message)}")
    return lines
