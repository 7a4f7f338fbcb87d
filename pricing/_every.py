"""``pricing update --every 6h``: update, sleep, repeat, until stopped.

A failed update is one line on stderr and changes nothing (``pricing update`` never leaves a half-written catalog);
the next run tries again at its time. SIGTERM and Ctrl-C end the loop between runs or during a sleep, cleanly: the
run in progress, if any, finishes or fails as a single update does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from pricing._fetch import UpdateError

__all__ = ["MAX_INTERVAL_S", "MIN_INTERVAL_S", "interval", "run_every", "stop_on_signals"]

#: The shortest interval accepted: sources publish a few times a day at most.
MIN_INTERVAL_S = 1.0
#: The longest: a leap year. Longer means never, and would overflow the date of the next run.
MAX_INTERVAL_S = 366 * 86400.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def interval(text: str) -> float:
    """``90s``, ``30m``, ``6h``, ``1d`` (a bare number is seconds) to seconds."""
    import argparse

    found = _INTERVAL.match(text.lower())
    if found is None:
        raise argparse.ArgumentTypeError(f"not an interval (such as 30m, 6h or 1d): {text!r}")
    seconds = float(found[1]) * _UNITS[found[2] or "s"]
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise argparse.ArgumentTypeError(f"must be between 1 second and 366 days: {text!r}")
    return seconds


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Within the block, SIGTERM (and SIGHUP where there is one) set ``stop``; the previous handlers come back."""
    kinds = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {kind: signal.getsignal(kind) for kind in kinds}

    def handle(signum: int, frame: object) -> None:
        stop.set()

    for kind in kinds:
        signal.signal(kind, handle)
    try:
        yield
    finally:
        for kind, handler in previous.items():
            signal.signal(kind, handler)


def run_every(
    update: Callable[[], Any],
    seconds: float,
    stop: threading.Event,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    as_json: bool = False,
    now: Callable[[], dt.datetime] | None = None,
) -> int:
    """Call ``update()`` (one ``pricing update``, returning its ``UpdateResult``) every ``seconds`` until ``stop``
    is set or Ctrl-C; one line per run. Returns 0: stopping is how this command ends."""
    out = out or sys.stdout
    err = err or sys.stderr
    clock = now or (lambda: dt.datetime.now(dt.timezone.utc))
    try:
        while not stop.is_set():
            started = clock()
            next_run = started + dt.timedelta(seconds=seconds)
            try:
                result = update()
            except UpdateError as exc:
                _report_failure(err, started, next_run, str(exc), as_json)
            else:
                _report(out, started, next_run, result, as_json)
            wait = (next_run - clock()).total_seconds()
            if wait > 0 and not stop.is_set():
                stop.wait(wait)
    except KeyboardInterrupt:
        pass
    return 0


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _report(out: TextIO, started: dt.datetime, next_run: dt.datetime, result: Any, as_json: bool) -> None:
    if as_json:
        line = {"at": _stamp(started), "next": _stamp(next_run), **result.to_dict()}
        print(json.dumps(line, default=str), file=out, flush=True)
        return
    version = result.version
    text = {
        "up_to_date": f"up to date: catalog {version} stays active",
        "no_changes": f"no changes: catalog {version} stays active",
        "updated": f"updated: catalog {version} is active",
        "written": f"wrote catalog {version} to {result.path}",
        "dry_run": f"dry run: would become catalog {version}",
    }[result.status]
    counts = result.diff.counts() if result.diff is not None and result.status in ("updated", "written") else None
    if counts:
        text += f" ({counts['added']} added, {counts['removed']} removed, {counts['changed']} changed)"
    print(f"{_stamp(started)} {result.source}: {text}; next update {_stamp(next_run)}", file=out, flush=True)


def _report_failure(err: TextIO, started: dt.datetime, next_run: dt.datetime, reason: str, as_json: bool) -> None:
    if as_json:
        line = {"at": _stamp(started), "next": _stamp(next_run), "status": "failed", "error": reason}
        print(json.dumps(line), file=err, flush=True)
        return
    print(
        f"pricing: {_stamp(started)} update failed, the catalog stays as it was: {reason}; next try {_stamp(next_run)}",
        file=err,
        flush=True,
    )
