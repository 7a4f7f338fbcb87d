"""What ``llmcost report``, ``alarms`` and ``export`` do once their arguments are parsed."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import glob
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, fields
from typing import TYPE_CHECKING

from llmcost._record import Record
from llmcost.engine._alarms import AlarmConfig, load_alarm_config

if TYPE_CHECKING:
    from llmcost.engine._snapshot import IngestStats

__all__ = [
    "REPORT_BY",
    "UsageError",
    "alarm_config",
    "resolve_paths",
    "run_alarms",
    "run_export",
    "run_export_otlp",
    "run_report",
]

REPORT_BY = ("agent", "model", "provider", "user", "session", "workflow", "day")


class UsageError(ValueError):
    """Bad input from the command line: one line on stderr, exit 2."""


def resolve_paths(paths: list[str]) -> list[str]:
    """The PATH arguments, checked (each must exist or match something); the log directory when none is given."""
    if not paths:
        from pricing._paths import log_dir

        return [str(log_dir())]
    for path in paths:
        if glob.has_magic(path):
            if not glob.glob(os.path.expanduser(path), recursive=True):
                raise UsageError(f"no file matches {path}")
        elif not os.path.exists(os.path.expanduser(path)):
            raise UsageError(f"no such file or directory: {path}")
    return paths


def _when(text: str | None, flag: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag}: not a date or time: {text!r}") from None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def alarm_config(args: argparse.Namespace) -> AlarmConfig:
    """The alarm thresholds: defaults < ``[alarms]`` in the config file < ``--budget`` / ``--set NAME=VALUE``."""
    try:
        config = load_alarm_config()
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    types = {f.name: f.type for f in fields(AlarmConfig)}
    changes: dict[str, object] = {}
    for item in getattr(args, "alarm_settings", []):
        name, sep, raw = item.partition("=")
        if not sep or name not in types:
            raise UsageError(f"--set: unknown alarm setting {name!r} (known: {', '.join(sorted(types))})")
        try:
            changes[name] = int(raw) if "int" in str(types[name]) and "float" not in str(types[name]) else float(raw)
        except ValueError:
            raise UsageError(f"--set {name}: not a number: {raw!r}") from None
    if getattr(args, "budget", None) is not None:
        changes["budget_day_usd"] = args.budget
    return config.with_overrides(**changes)


class _Bar:
    """A progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = False
        self.enabled = sys.stderr.isatty()
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < (8 << 20):  # short reads need no bar
            return
        percent = done * 100 // total
        if percent == self._last:
            return
        self._last = percent
        filled = percent * 30 // 100
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{' ' * (30 - filled)}] {percent:3d}%")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * (len(self.label) + 38) + "\r")
            sys.stderr.flush()
            self.shown = False

    def counted(self, stats: IngestStats) -> None:
        """The reading is over: say what it skipped."""
        self.close()
        say_skipped(stats.malformed, stats.duplicates)


def say_skipped(malformed: dict[str, int], duplicates: int) -> None:
    """One line on stderr for malformed lines (per file) and one for duplicate records, when there were any."""
    bad = sum(malformed.values())
    if bad:
        files = ", ".join(f"{os.path.basename(name)}: {n}" for name, n in sorted(malformed.items()))
        print(f"llmcost: skipped {bad} malformed line{'s' * (bad != 1)} ({files})", file=sys.stderr)
    if duplicates:
        s = "s" * (duplicates != 1)
        print(f"llmcost: {duplicates} duplicate record{s} (an id seen before) counted once", file=sys.stderr)


def _batches(args: argparse.Namespace, label: str, batch_lines: int = 50_000) -> tuple[Iterator[list[Record]], _Bar]:
    from llmcost.engine._report import read_history

    paths = resolve_paths(args.paths)
    since, until = _when(args.since, "--since"), _when(args.until, "--until")
    bar = _Bar(label)
    batches = read_history(paths, since=since, until=until, progress=bar, batch_lines=batch_lines, on_stats=bar.counted)
    return batches, bar


def run_report(args: argparse.Namespace) -> int:
    from llmcost.engine._scan import report_files

    paths = resolve_paths(args.paths)
    since, until = _when(args.since, "--since"), _when(args.until, "--until")
    bar = _Bar("reading")
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
    return 0


def _print_csv(data: list[dict[str, object]]) -> None:
    from llmcost.engine._report import ReportRow

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


def run_alarms(args: argparse.Namespace) -> int:
    import time

    from llmcost.engine._report import alarm_history

    config = alarm_config(args)
    batches, bar = _batches(args, "reading")
    try:
        events = alarm_history(batches, config=config, now=time.time())
    finally:
        bar.close()
    if args.json:
        print(json.dumps([asdict(e) for e in events], indent=2))
        return 0
    if not events:
        print("no alarms")
    for e in events:
        end = e.ended_at or "active"
        print(
            f"{e.detected_at}  {e.severity:<8}  {e.kind:<14}  {e.agent or '-':<16}  {e.message}  (from {e.started_at} to {end})"
        )
    return 0


def run_export(args: argparse.Namespace) -> int:
    if getattr(args, "otlp", None) is not None:
        return run_export_otlp(args)
    from llmcost.engine._export import export_csv, export_sqlite

    writer: Callable[..., int] = export_csv if args.csv else export_sqlite
    target = args.csv or args.sqlite
    batches, bar = _batches(args, "exporting")
    try:
        count = writer(batches, target)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        bar.close()
    print(f"{count} calls written to {target}", file=sys.stderr)
    return 0


def _headers(items: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--header: expected NAME=VALUE, got {item!r}")
        headers[name.strip()] = value.strip()
    return headers


def _proxied(url: str) -> bool:
    """Whether requests to ``url`` go through a proxy (then a direct connection test would say nothing)."""
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies()
    return bool(proxies.get(parts.scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(
        parts.hostname or ""
    )


def run_export_otlp(args: argparse.Namespace) -> int:
    """``llmcost export --otlp URL``: every call as a span; exit 1 with one line if the extra is missing or the
    collector cannot be reached or refuses the spans."""
    headers = _headers(args.header)
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout: must be more than 0 seconds, got {args.timeout:g}")
    batches, bar = _batches(args, "exporting", batch_lines=4096)  # sending is slow: small steps move the bar
    try:
        from llmcost import otel
    except ImportError:
        print("llmcost export: error: --otlp needs OpenTelemetry: pip install 'llmcost-top[otel]'", file=sys.stderr)
        return 1
    url = otel.traces_endpoint(args.otlp)
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--otlp: not an http:// or https:// URL: {args.otlp}")
    why = None if _proxied(url) else otel.unreachable(url)
    if why is not None:
        print(f"llmcost export: error: cannot reach the collector at {url}: {why}", file=sys.stderr)
        return 1
    with otel.LogCapture() as log:
        exporter = otel.otlp_exporter(url, headers=headers, timeout=args.timeout)
        try:
            sent, skipped = otel.export_records(batches, exporter)
        except otel.ExportFailed as exc:
            why = otel.unreachable(url) or log.reason() or "the collector did not accept the spans"
            print(f"llmcost export: error: {url}: {why} ({exc.sent} calls sent before)", file=sys.stderr)
            return 1
        finally:
            bar.close()
            exporter.shutdown()
    extra = f" ({skipped} skipped: time unreadable)" if skipped else ""
    print(f"{sent} calls sent as spans to {url}{extra}", file=sys.stderr)
    return 0
