"""``llmcost export``: the calls as CSV, SQLite or OpenTelemetry spans."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from llmcost.cli._common import UsageError, batches
from llmcost.engine import export_csv, export_sqlite

__all__ = ["run_export"]


def run_export(args: argparse.Namespace) -> int:
    if getattr(args, "otlp", None) is not None:
        return run_export_otlp(args)
    writer: Callable[..., int] = export_csv if args.csv else export_sqlite
    target = args.csv or args.sqlite
    if target == "-" and args.sqlite:
        raise UsageError("--sqlite: a database needs a file, not standard output")
    records, bar = batches(args, "exporting")
    try:
        count = writer(records, sys.stdout if target == "-" else target)
    except BrokenPipeError:  # the reader of standard output stopped: the entry point ends the command quietly
        raise
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        bar.close()
    print(f"{count} calls written to {'standard output' if target == '-' else target}", file=sys.stderr)
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
