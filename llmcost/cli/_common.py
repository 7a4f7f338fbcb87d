"""What the ``llmcost`` commands share (and ``llmcost-top`` with them): bad input as one line, the PATH arguments,
periods, alarm thresholds from the config and the command line, a progress bar, what a reading skipped."""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NoReturn

from llmcost.engine import AlarmConfig, AlarmConfigError, load_alarm_config, parse_setting, read_history
from llmcost.log import Record

if TYPE_CHECKING:
    from llmcost.engine import IngestStats

__all__ = [
    "Bar",
    "UsageError",
    "alarm_config",
    "batches",
    "exit_with",
    "os_error",
    "period",
    "printable",
    "resolve_paths",
    "say_skipped",
]


class UsageError(ValueError):
    """Bad input from the command line: one line on stderr, exit 2."""


EXIT_BROKEN_PIPE = 141


def exit_with(main: Callable[[], int]) -> NoReturn:
    """Run a command's ``main()`` and exit with its code: what ``llmcost`` and ``llmcost-top`` do when run.

    A reader that stops early (``llmcost report | head -1``) ends the command quietly with exit 141 (128 + SIGPIPE,
    what a shell reports for a writer the pipe stopped), as the ``pricing`` command does: no traceback, and a script
    under ``set -o pipefail`` still sees that the output was cut. Ctrl-C ends it with 130 (the shell's code for
    SIGINT), without a traceback."""
    try:
        code = main()
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush (which prints a warning)
    except BrokenPipeError:
        _silence_stdout()
        code = EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        _silence_stdout()
        code = 130
    sys.exit(code)


# C0 controls, DEL and C1 controls (terminal escape sequences start with ESC or CSI), line and paragraph separators,
# and the bidi controls (marks, embeddings, overrides, isolates) that make text read in another order than it is.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters as visible escapes (``\\x1b``, ``\\u202e``).

    Names come from the logs, and whoever writes a log line chooses them: printed raw, ``\\x1b]0;...\\x07`` retitles
    the reader's terminal and ``\\x1b[2J`` clears it. Only text outputs use this; JSON and CSV keep exact values."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def os_error(exc: OSError) -> str:
    """An error of the system as one line: the file when it is known (a log may fail to read: EIO, EACCES)."""
    reason = exc.strerror or str(exc)
    return f"cannot read {os.fsdecode(exc.filename)}: {reason}" if exc.filename else f"cannot read the logs: {reason}"


def _silence_stdout() -> None:
    """Point stdout at /dev/null: what is left in its buffer then goes nowhere, quietly, when Python exits."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (closed, or replaced by an object without a descriptor)
        pass


def resolve_paths(paths: list[str]) -> list[str]:
    """The PATH arguments, checked (each must exist or match something); the log directory when none is given."""
    if not paths:
        from llmcost.paths import log_dir

        return [str(log_dir())]
    for path in paths:
        if glob.has_magic(path):
            if not glob.glob(os.path.expanduser(path), recursive=True):
                raise UsageError(f"no file matches {path}")
        elif not os.path.exists(os.path.expanduser(path)):
            raise UsageError(f"no such file or directory: {path}")
        elif not (os.path.isfile(os.path.expanduser(path)) or os.path.isdir(os.path.expanduser(path))):
            # a FIFO or a device: logs are read by offset, and a FIFO with no writer would hang the read
            raise UsageError(f"not a file or directory: {path}")
    return paths


def when(text: str | None, flag: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag}: not a date or time: {text!r}") from None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def alarm_config(args: argparse.Namespace) -> AlarmConfig:
    """The alarm thresholds: defaults < ``[alarms]`` in the config file < ``--budget`` / ``--set NAME=VALUE``.

    Every value, wherever it comes from, is checked by :class:`AlarmConfig` (one rule for each threshold)."""
    try:
        config = load_alarm_config()
    except AlarmConfigError as exc:
        raise UsageError(str(exc)) from None
    changes: dict[str, object] = {}
    for item in getattr(args, "alarm_settings", []):
        name, sep, raw = item.partition("=")
        if not sep:
            raise UsageError(f"--set: expected NAME=VALUE, e.g. --set burst_calls=30, not {item!r}")
        try:
            changes[name] = parse_setting(name, raw)
        except AlarmConfigError as exc:
            raise UsageError(f"--set: {exc}") from None
    try:
        config = config.with_overrides(**changes)
    except AlarmConfigError as exc:
        raise UsageError(f"--set: {exc}") from None
    budget = getattr(args, "budget", None)
    if budget is None:
        return config
    try:
        return config.with_overrides(budget_day_usd=budget)
    except AlarmConfigError as exc:
        raise UsageError(f"--budget: {exc}") from None


class Bar:
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
        files = ", ".join(f"{printable(os.path.basename(name))}: {n}" for name, n in sorted(malformed.items()))
        print(f"llmcost: skipped {bad} malformed line{'s' * (bad != 1)} ({files})", file=sys.stderr)
    if duplicates:
        s = "s" * (duplicates != 1)
        print(f"llmcost: {duplicates} duplicate record{s} (an id seen before) counted once", file=sys.stderr)


def batches(args: argparse.Namespace, label: str, batch_lines: int = 50_000) -> tuple[Iterator[list[Record]], Bar]:
    paths = resolve_paths(args.paths)
    since, until = when(args.since, "--since"), when(args.until, "--until")
    bar = Bar(label)
    batches = read_history(paths, since=since, until=until, progress=bar, batch_lines=batch_lines, on_stats=bar.counted)
    return batches, bar


def period(args: argparse.Namespace) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``--since`` and ``--until`` as UTC datetimes."""
    return when(args.since, "--since"), when(args.until, "--until")
