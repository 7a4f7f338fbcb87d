"""``pricing update --every``: update, sleep, repeat; a failure is one line and the next run tries again; SIGTERM and
Ctrl-C stop it cleanly."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import pricing
from pricing._every import interval, run_every
from pricing._fetch import UpdateError
from pricing._update import UpdateResult

LITELLM = json.dumps(
    {
        "gpt-4o": {
            "litellm_provider": "openai",
            "mode": "chat",
            "input_cost_per_token": 2e-06,
            "output_cost_per_token": 8e-06,
        }
    }
)
SOURCE_ROOT = Path(pricing.__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("6h", 21600), ("1d", 86400), (" 1.5 H ", 5400)]
)
def test_interval(text: str, seconds: float) -> None:
    assert interval(text) == seconds


@pytest.mark.parametrize("text", ["", "6x", "-1h", "0s", "0.5", "h", "1e9999d", "999999999999d", "367d"])
def test_bad_interval(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        interval(text)


class _Clock:
    """Minutes that pass only when the loop waits."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


def test_run_every_keeps_going_after_a_failure_and_stops_when_told() -> None:
    clock, stop, out, err = _Clock(), threading.Event(), io.StringIO(), io.StringIO()
    outcomes: list[Any] = [UpdateResult("updated", "litellm", "x", "2026.12.01"), UpdateError("x: cannot connect")]
    outcomes.append(UpdateResult("no_changes", "litellm", "x", "2026.12.01"))
    waits: list[float] = []

    def update() -> Any:
        outcome = outcomes.pop(0)
        if not outcomes:
            stop.set()  # as SIGTERM would, during the last run
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    class _Stop(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0)
            clock.now += dt.timedelta(seconds=timeout or 0)
            return stop.is_set()

        def is_set(self) -> bool:
            return stop.is_set()

    assert run_every(update, 3600, _Stop(), out=out, err=err, now=clock) == 0
    assert out.getvalue().splitlines() == [
        "2026-12-01T00:00:00Z litellm: updated: catalog 2026.12.01 is active; next update 2026-12-01T01:00:00Z",
        "2026-12-01T02:00:00Z litellm: no changes: catalog 2026.12.01 stays active; next update 2026-12-01T03:00:00Z",
    ]
    assert err.getvalue().splitlines() == [
        "pricing: 2026-12-01T01:00:00Z update failed, the catalog stays as it was: x: cannot connect; "
        "next try 2026-12-01T02:00:00Z"
    ]
    assert waits == [3600, 3600]  # the loop ended without waiting after the run that was asked to stop


def test_run_every_ctrl_c_ends_it_cleanly() -> None:
    def update() -> Any:
        raise KeyboardInterrupt

    assert run_every(update, 60, threading.Event(), out=io.StringIO(), err=io.StringIO()) == 0


def _start(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LLMCOST_HOME": str(home), "PYTHONPATH": str(SOURCE_ROOT), "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "pricing", "update", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _lines(stream: Any, count: int, timeout: float = 30) -> list[str]:
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(stream.readline() for _ in range(count)), daemon=True)
    reader.start()
    reader.join(timeout)
    return got


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_sigterm_stops_the_command_cleanly(tmp_path: Path) -> None:
    source = tmp_path / "litellm.json"
    source.write_text(LITELLM, encoding="utf-8")
    home = tmp_path / "home"
    with _start(home, "--from", str(source), "--every", "1s") as proc:
        try:
            first, second = _lines(proc.stdout, 2)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    assert " litellm: updated: catalog " in first
    assert " litellm: no changes: " in second
    assert (proc.returncode, err) == (0, "")
    active = pricing.load_catalog(home / "catalog" / "current.toml", overrides=False)
    assert active.find("gpt-4o").windows[-1].rates.input == 2


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_a_failing_source_keeps_the_catalog_and_tries_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with _start(home, "--from", str(tmp_path / "missing.json"), "--every", "1s", "--json") as proc:
        try:
            lines = _lines(proc.stderr, 2)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        finally:
            proc.kill()
    first, second = (json.loads(line) for line in lines)
    assert (first["status"], second["status"]) == ("failed", "failed")
    assert "cannot read" in first["error"]
    assert (proc.returncode, out) == (0, "")
    assert not (home / "catalog" / "current.toml").exists()  # nothing was written


def test_every_refuses_what_a_repeated_update_cannot_mean(capsys: pytest.CaptureFixture[str]) -> None:
    from pricing._cli import cli_logic

    assert cli_logic(["update", "--every", "6h", "--dry-run"]) == 2
    assert (
        capsys.readouterr().err
        == "pricing: error: --dry-run cannot be used with --every (each run takes effect on its own day)\n"
    )
    assert cli_logic(["update", "--every", "999999999999d"]) == 2  # not an OverflowError traceback at the first run
    assert "--every: must be between 1 second and 366 days: '999999999999d'" in capsys.readouterr().err
    started = time.monotonic()
    assert cli_logic(["update", "--every", "soon"]) == 2
    assert time.monotonic() - started < 5
