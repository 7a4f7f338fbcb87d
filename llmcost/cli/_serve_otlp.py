"""``llmcost serve-otlp``: receive OpenTelemetry traces over OTLP/HTTP and write every GenAI call to the log.

The records go through :class:`llmcost.log.FileWriter`, the recorder's own writer, so ``llmcost-top``, ``report``,
``alarms`` and ``export`` see the calls of every machine that sends here as if they had been made on this one.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmcost.cli._common import UsageError
from llmcost.log import FileWriter, Record

__all__ = ["register", "run_serve_otlp"]

PROG = "llmcost serve-otlp"
INSTALL_HINT = "pip install 'llmcost-top[otel]'"


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``serve-otlp`` subcommand to the ``llmcost`` parser (sets ``func``)."""
    parser = sub.add_parser(
        "serve-otlp",
        help="receive OpenTelemetry spans (OTLP/HTTP) and write the LLM calls to the log",
        description="Serve POST /v1/traces (OTLP/HTTP, protobuf or JSON, gzip too) and write every GenAI call span "
        "to the log directory: spans from `llmcost export --otlp`, from other machines' OpenTelemetry Collectors, "
        "and from any instrumentation that follows the GenAI semantic conventions. Needs llmcost-top[otel].",
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:4318",
        metavar="HOST:PORT",
        help="address to listen on (default 127.0.0.1:4318; 0.0.0.0:4318 for every interface; port 0: any free one)",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, metavar="LOGDIR", help="log directory (default: the shared log directory)"
    )
    parser.set_defaults(func=run_serve_otlp)


def run_serve_otlp(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve until ``stop`` is set, SIGTERM or Ctrl-C; exit 1 if the extra is missing or the port cannot be had."""
    try:
        from llmcost.integrations import otel
    except ImportError:
        print(f"{PROG}: error: needs OpenTelemetry: {INSTALL_HINT}", file=sys.stderr)
        return 1
    try:
        host, port = otel.parse_listen(args.listen)
    except ValueError as exc:
        raise UsageError(f"--listen: {exc}") from None
    directory = args.dir
    if directory is None:
        from llmcost.paths import log_dir

        directory = log_dir()
    writer = FileWriter(directory)

    def sink(records: list[Record]) -> None:
        before = writer.errors
        for record in records:
            writer.write(record)
        if writer.errors != before:  # the writer counts and drops what it cannot write; the sender sends it again
            raise otel.ReceiverBusy(f"cannot write to {directory}")

    try:
        receiver = otel.OtlpReceiver(sink, host, port)
    except OSError as exc:
        print(f"{PROG}: error: cannot listen on {args.listen}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stop = stop if stop is not None else threading.Event()
    with writer, receiver, _stop_on_sigterm(stop):  # leaving: stop listening first, then close the files
        print(f"{PROG}: listening on {receiver.url}, writing to {directory}", file=sys.stderr, flush=True)
        try:
            while not stop.wait(0.5):  # a timeout, so Ctrl-C reaches the main thread
                pass
        except KeyboardInterrupt:
            pass
    s = receiver.stats
    print(
        f"{s.records} calls written to {directory} "
        f"({s.ignored} spans ignored: not LLM calls; {s.rejected} rejected; {s.duplicates} duplicates)",
        file=sys.stderr,
    )
    return 0


@contextlib.contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (a service manager stopping us) ends the loop like Ctrl-C: in-flight requests finish, files close."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
