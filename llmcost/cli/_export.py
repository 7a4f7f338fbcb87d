"""``llmcost export``: the calls as CSV, SQLite or OpenTelemetry spans."""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import sys

from llmcost.cli._common import UsageError, batches
from llmcost.engine import export_csv, export_sqlite

__all__ = ["run_export"]


def run_export(args: argparse.Namespace) -> int:
    """``--csv`` and ``--sqlite``: a target that cannot be one is bad input (exit 2, nothing read or written); a
    failure while writing is exit 1 (a database keeps what it had: the rows are added in one transaction)."""
    if getattr(args, "otlp", None) is not None:
        return run_export_otlp(args)
    target = args.csv or args.sqlite
    if target != "-":
        _check_target(target, sqlite=not args.csv)
    elif args.sqlite:
        raise UsageError("--sqlite: a database needs a file, not standard output")
    records, bar = batches(args, "exporting")
    try:
        if args.csv:
            count = export_csv(records, sys.stdout if target == "-" else target)
        else:
            count = export_sqlite(records, target)
    except BrokenPipeError:  # the reader of standard output stopped: the entry point ends the command quietly
        raise
    except (OSError, sqlite3.Error) as exc:
        bar.close()
        print(f"llmcost export: error: {_failure(exc, target)}", file=sys.stderr)
        return 1
    finally:
        bar.close()
    print(f"{count} calls written to {'standard output' if target == '-' else target}", file=sys.stderr)
    return 0


_SQLITE_HEADER = b"SQLite format 3\x00"


def _check_target(target: str, *, sqlite: bool) -> None:
    """Refuse, before reading anything, a target no file can be written to."""
    path = target  # as given: the shell expands ~, and the writer opens exactly this
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"cannot write {target}: no such directory {parent}")
    if os.path.isdir(path):
        raise UsageError(f"cannot write {target}: it is a directory")
    if not sqlite or not os.path.exists(path):
        return  # a CSV may go to a FIFO or a device (/dev/stdout) as well as a file
    if not os.path.isfile(path):
        raise UsageError(f"cannot write {target}: a database must be a regular file")
    try:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise UsageError(f"cannot read {target}: {exc.strerror or exc}") from None
    if head and head != _SQLITE_HEADER:  # sqlite would say "file is not a database" only once the logs are read
        raise UsageError(f"{target} is not a SQLite database (--sqlite adds to a database or creates one)")


def _failure(exc: OSError | sqlite3.Error, target: str) -> str:
    """One line: which file failed (a log being read, or the target) and why."""
    if isinstance(exc, OSError):
        if exc.filename is not None and os.fspath(exc.filename) != target:
            return f"cannot read {os.fsdecode(exc.filename)}: {exc.strerror or exc}"
        return f"cannot write {target}: {exc.strerror or exc}"
    return f"cannot write {target}: {exc}"


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
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError(f"--timeout: must be more than 0 seconds, got {args.timeout:g}")
    records, bar = batches(args, "exporting", batch_lines=4096)  # sending is slow: small steps move the bar
    try:
        from llmcost.integrations import otel
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
            sent, skipped = otel.export_records(records, exporter)
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
