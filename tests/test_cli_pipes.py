"""The commands as a shell runs them: real processes writing into real pipes that the reader closes early
(``| head -1``), and interrupted. They stop quietly: no traceback, no "Exception ignored" at exit, and the exit code a
shell gives a writer the pipe stopped (141), as every command of the package does."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._traces import day_file, rec, write

AGENTS = 4000  # rows enough to overflow a pipe's buffer (64 KiB on Linux), so the writer meets the closed end


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pipes") / "logs"
    now = time.time()  # today, so that llmcost-top --once reads it without --all
    write(day_file(directory, now), [rec(now - 300 + i * 0.05, agent=f"agent-{i:05d}") for i in range(AGENTS)])
    return directory


def first_line_then_close(argv: list[str]) -> tuple[bytes, int, bytes]:
    """Run ``argv``, read one line of its output and close the pipe, as ``| head -1`` does."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        line = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        return line, proc.wait(timeout=120), err


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (["-m", "llmcost", "report", "{logs}"], b"agent "),
        (["-m", "llmcost", "report", "{logs}", "--json"], b"["),
        (["-m", "llmcost", "report", "{logs}", "--csv"], b"key,calls,"),
        (["-m", "llmcost", "alarms", "{logs}", "--set", "burst_calls=1"], b"20"),
        (["-m", "llmcost", "alarms", "{logs}", "--set", "burst_calls=1", "--json"], b"["),
        (["-m", "llmcost", "export", "{logs}", "--csv", "-"], b"v,ts,"),
        (["-m", "tui", "{logs}", "--once"], b"today "),
        (["-m", "tui", "{logs}", "--once", "--json"], b"{"),
    ],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(logs: Path, argv: list[str], first: bytes) -> None:
    line, code, err = first_line_then_close([sys.executable, *(a.format(logs=logs) for a in argv)])
    assert line.startswith(first)
    assert err == b""
    assert code == 141  # 128 + SIGPIPE, as the pricing command and a writer killed by the pipe


def test_ctrl_c_ends_a_command_without_a_traceback(isolated_home: Path) -> None:
    config = isolated_home / ".llmcost" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[alerts]\ncommand = ["sleep", "2"]\ncommand_timeout_s = 30\n')  # --test waits for it
    argv = [sys.executable, "-m", "llmcost", "alerts", "--test"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        time.sleep(1.0)  # started, waiting for the command
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (130, b"", b"")
