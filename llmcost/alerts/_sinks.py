"""Destinations of alerts. Each slow one (a command, a webhook) has a worker thread and a bounded queue of its own,
so the monitor only ever appends to a list: a hung webhook delays nothing else, and a full queue drops (and counts)
alerts instead of growing without end. Nothing here raises into the caller; failures are counted in
:class:`AlertStats`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llmcost.alerts._message import Alert, event_env, event_fields, event_json

__all__ = ["BELL_INTERVAL_S", "AlertStats", "BellSink", "CommandSink", "Sink", "Worker", "escaped", "terminal_bell"]

BELL_INTERVAL_S = 3.0  # a loop opening many episodes at once rings once, not a carillon
QUEUE_BATCHES = 100  # batches of alerts waiting per destination before new ones are dropped
MAX_VALUE_CHARS = 4096  # per argument or variable: ten of them, four bytes a character at worst, stay far below limits


@dataclass(frozen=True, slots=True)
class AlertStats:
    """What one destination did since the monitor started."""

    destination: str
    sent: int = 0  # messages delivered, commands that exited 0, bells rung
    failed: int = 0  # messages given up after their retries, commands that failed or timed out
    retries: int = 0
    dropped: int = 0  # alerts never tried: the queue was full or the monitor stopped first
    coalesced: int = 0  # alerts delivered inside a summary message (rate limit), or bells not rung (too soon)
    last_error: str = ""


class Sink:
    """A destination: ``submit()`` never blocks and never raises."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._counts = {"sent": 0, "failed": 0, "retries": 0, "dropped": 0, "coalesced": 0}
        self._last_error = ""

    def submit(self, alerts: list[Alert]) -> None:
        raise NotImplementedError

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted has been tried; ``False`` at the deadline."""
        return True

    def close(self, timeout: float) -> None:
        """Stop: what is queued is tried once more (no retry waits) for up to ``timeout`` seconds."""

    def count(self, name: str, n: int = 1, error: str | None = None) -> None:
        with self._lock:
            self._counts[name] += n
            if error is not None:
                self._last_error = escaped(error)

    def stats(self) -> AlertStats:
        with self._lock:
            return AlertStats(self.name, last_error=self._last_error, **self._counts)


# Control characters (terminal escapes start with ESC or CSI) and bidi controls, as in llmcost.cli.printable.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escaped(error: str) -> str:
    """An error as shown on the monitor's notice line and by ``llmcost alerts --test``: it may quote a webhook's
    answer or a command's stderr, someone else's text, so its control characters become visible escapes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), error)


def terminal_bell() -> bool:
    """Write BEL to the terminal on stderr; ``False`` when stderr is not a terminal (nothing to ring)."""
    stream = sys.__stderr__
    if stream is None or not stream.isatty():
        return False
    stream.write("\a")
    stream.flush()
    return True


class BellSink(Sink):
    """The terminal bell, at most once every :data:`BELL_INTERVAL_S` seconds. ``ring()`` returns whether it rang."""

    def __init__(self, ring: Callable[[], bool | None] | None = None, interval_s: float = BELL_INTERVAL_S) -> None:
        super().__init__("bell")
        self.ring = ring or terminal_bell
        self.interval_s = interval_s
        self._last = float("-inf")

    def submit(self, alerts: list[Alert]) -> None:
        now = time.monotonic()
        if now - self._last < self.interval_s:
            self.count("coalesced", len(alerts))
            return
        try:
            rang = self.ring()
        except Exception as exc:  # a bell must never stop the monitor
            self.count("failed", error=f"{type(exc).__name__}: {exc}")
            return
        if rang is False:
            self.count("dropped", len(alerts), error="no terminal to ring")
            return
        self._last = now
        self.count("sent")
        self.count("coalesced", len(alerts) - 1)


class Worker(Sink):
    """A sink whose work runs on its own daemon thread (started on the first alert), fed by a bounded queue."""

    def __init__(self, name: str, queue_batches: int = QUEUE_BATCHES) -> None:
        super().__init__(name)
        self.queue_batches = queue_batches
        self._queue: deque[list[Alert]] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._busy = 0  # alerts submitted and not finished

    def submit(self, alerts: list[Alert]) -> None:
        with self._cond:
            if self._stopping or len(self._queue) >= self.queue_batches:
                self.count("dropped", len(alerts), error="queue full" if not self._stopping else None)
                return
            self._queue.append(alerts)
            self._busy += len(alerts)
            if self._thread is None:
                self._thread = threading.Thread(target=self._main, name=f"llmcost-alerts {self.name}", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0, timeout)

    def close(self, timeout: float) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def next_batch(self, timeout: float | None) -> list[Alert] | None:
        """The queued alerts (all batches), ``[]`` after ``timeout`` seconds, ``None`` once stopped and empty."""
        with self._cond:
            if not self._queue and not self._stopping:
                self._cond.wait(timeout)
            if self._queue:
                out = [a for batch in self._queue for a in batch]
                self._queue.clear()
                return out
            return None if self._stopping else []

    def done(self, n: int) -> None:
        with self._cond:
            self._busy -= n
            self._cond.notify_all()

    def pause(self, seconds: float) -> bool:
        """Sleep unless stopped meanwhile; ``False`` when the sink is stopping (give up waiting)."""
        with self._cond:
            return not self._cond.wait_for(lambda: self._stopping, seconds)

    def _main(self) -> None:
        try:
            self.run()
        except Exception as exc:  # pragma: no cover - a bug here must not kill the monitor: drop the rest
            self.count("failed", error=f"{type(exc).__name__}: {exc}")
            with self._cond:
                self._stopping = True
                dropped = sum(len(b) for b in self._queue)
                self._queue.clear()
                self._busy = 0
                self._cond.notify_all()
            self.count("dropped", dropped)

    def run(self) -> None:
        raise NotImplementedError


class CommandSink(Worker):
    """Runs ``argv`` (no shell) once per alert: the event as JSON on stdin and in ``LLMCOST_ALERT_*`` variables.

    Arguments may name fields in braces (``"{text}"``, ``"{severity}"``). A command that exits non-zero or outlives
    ``timeout_s`` (it is killed, with its process group) counts as failed."""

    def __init__(self, argv: Sequence[str], timeout_s: float = 10.0, queue_batches: int = QUEUE_BATCHES) -> None:
        super().__init__(f"command {os.path.basename(argv[0])}", queue_batches)
        self.argv = tuple(argv)
        self.timeout_s = timeout_s

    def run(self) -> None:
        while (batch := self.next_batch(None)) is not None:
            for alert in batch:
                try:
                    error = self._run_one(alert)
                except Exception as exc:  # one alert no command can take must not stop the ones after it
                    error = f"{type(exc).__name__}: {exc}"
                if error is None:
                    self.count("sent")
                else:
                    self.count("failed", error=error)
                self.done(1)

    def _run_one(self, alert: Alert) -> str | None:
        data = event_json(alert)
        fields = {name: _plain(value) for name, value in event_fields(data).items()}
        try:
            argv = [arg.format_map(fields) for arg in self.argv]
        except (KeyError, ValueError, IndexError, AttributeError) as exc:  # checked when read from the config file
            return f"bad placeholder in the command: {exc} (write {{{{ and }}}} for literal braces)"
        env = {**os.environ, **event_env(fields)}
        payload = (json.dumps(data) + "\n").encode()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,  # a timeout kills the command and whatever it started
            )
        except FileNotFoundError:
            return f"{argv[0]}: command not found"
        except OSError as exc:
            return f"{argv[0]}: {exc.strerror or exc}"
        with proc:
            try:
                _, err = proc.communicate(payload, timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                _kill(proc)
                proc.communicate()
                return f"timed out after {self.timeout_s:g} s"
        if proc.returncode == 0:
            return None
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        return f"exit {proc.returncode}" + (f": {lines[-1].strip()[:200]}" if lines else "")


def _plain(value: str) -> str:
    """``value`` as an argument or an environment variable can hold it: a NUL (neither can) shows as U+2400 (the
    symbol for NUL), a lone surrogate (no encoding has it) as ``?``, and past :data:`MAX_VALUE_CHARS` it is cut with
    ``…`` (the system refuses one past 128 KiB). Standard input gets the exact value, in JSON."""
    if len(value) > MAX_VALUE_CHARS:
        value = value[: MAX_VALUE_CHARS - 1] + "…"
    return value.replace("\0", "\u2400").encode("utf-8", "replace").decode("utf-8")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        with contextlib.suppress(OSError):
            killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
