"""The commands given what an attacker (or a bad day) gives them: odd config files, odd paths, numbers out of any
sane range. Each is one line on stderr and a non-zero exit, run as a real process with a deadline: never a
traceback, never a hang."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._traces import day_file, rec, write


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    now = time.time()
    write(day_file(tmp_path / "logs", now), [rec(now - 60 + i, agent="a") for i in range(5)])
    return tmp_path / "logs"


def run(*argv: str, timeout: float = 60) -> tuple[int, str, str]:
    """A real process (the installed entry points' code, ``python -m``), its stdin closed, with a deadline."""
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def one_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err.rstrip("\n")


def config_path(home: Path) -> Path:
    path = home / ".llmcost" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# -- the config file --------------------------------------------------------------------------------------------------


#: Every command that reads the config file: the alarms' and alerts' tables, and ``[pricing] url`` (read by an
#: update given no source). One reader, one rule for what a config file may be. A bad config stops ``llmcost`` and
#: ``llmcost-top`` with status 2 (a usage error); ``pricing update`` exits 1 on any failed update, this one too.
CONFIG_READERS = [
    ["llmcost", "alarms", "{logs}"],
    ["llmcost", "alerts"],
    ["tui", "--once", "{logs}"],
    ["pricing", "update", "--dry-run"],
]


def failed(code: int, command: list[str]) -> bool:
    return code == (1 if command[0] == "pricing" else 2)


def run_reader(command: list[str], logs: Path) -> tuple[int, str, str]:
    # A proxy that refuses: were the config ignored, the update would try its default source and fail at once,
    # never reaching beyond this machine.
    with pytest.MonkeyPatch.context() as env:
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            env.setenv(name, "http://127.0.0.1:9")
        env.delenv("NO_PROXY", raising=False)
        env.delenv("no_proxy", raising=False)
        return run(*(part.format(logs=logs) for part in command), timeout=30)


@pytest.mark.parametrize("command", CONFIG_READERS)
def test_a_config_that_is_a_directory_is_an_error(isolated_home: Path, logs: Path, command: list[str]) -> None:
    config_path(isolated_home).mkdir()
    code, _, err = run_reader(command, logs)
    assert failed(code, command)
    assert one_line(err).endswith(f"{config_path(isolated_home)}: cannot read the configuration: not a regular file")


@pytest.mark.parametrize("command", CONFIG_READERS)
def test_a_fifo_as_config_is_an_error_not_a_hang(isolated_home: Path, logs: Path, command: list[str]) -> None:
    os.mkfifo(config_path(isolated_home))  # nobody writes to it: opening it to read would wait for ever
    code, _, err = run_reader(command, logs)
    assert failed(code, command)
    assert one_line(err).endswith("cannot read the configuration: not a regular file")


@pytest.mark.parametrize("command", CONFIG_READERS)
def test_a_config_that_is_not_utf8_is_an_error(isolated_home: Path, logs: Path, command: list[str]) -> None:
    config_path(isolated_home).write_bytes(b"[alarms]\nburst_calls = 3 # \xff\xfe\n")
    code, _, err = run_reader(command, logs)
    assert failed(code, command)
    assert "cannot read the configuration: not UTF-8 text" in one_line(err)


@pytest.mark.parametrize("command", CONFIG_READERS)
def test_a_deeply_nested_config_is_an_error(isolated_home: Path, logs: Path, command: list[str]) -> None:
    config_path(isolated_home).write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    code, _, err = run_reader(command, logs)
    assert failed(code, command)
    assert "cannot read the configuration: nested too deeply" in one_line(err)


@pytest.mark.parametrize("command", CONFIG_READERS)
def test_a_huge_config_is_refused_unread(isolated_home: Path, logs: Path, command: list[str]) -> None:
    with open(config_path(isolated_home), "wb") as f:
        f.truncate(4 << 30)  # 4 GiB of holes: reading it would take a while and all the memory
    code, _, err = run_reader(command, logs)
    assert failed(code, command)
    assert "cannot read the configuration: larger than 1 MiB" in one_line(err)


_COMMAND = '[alerts]\ncommand = ["true"]\n'
_WEBHOOK = '[[alerts.webhook]]\nurl = "https://x.org/h"\n'


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            _COMMAND + "command_timeout_s = nan",
            "command_timeout_s must be a number more than 0 and at most 3,600, not nan",
        ),
        (
            _COMMAND + "command_timeout_s = inf",
            "command_timeout_s must be a number more than 0 and at most 3,600, not inf",
        ),
        (_COMMAND + "command_timeout_s = 1e300", "command_timeout_s must be a number more than 0 and at most 3,600"),
        (_WEBHOOK + "retries = 1000000000", "retries must be a whole number from 0 to 100, not 1000000000"),
        (_WEBHOOK + "timeout_s = nan", "timeout_s must be a number more than 0 and at most 3,600, not nan"),
        (
            _WEBHOOK + "max_per_minute = 100000000",
            "max_per_minute must be a whole number from 1 to 10,000, not 100000000",
        ),
    ],
)
def test_alert_and_webhook_numbers_out_of_range(isolated_home: Path, config: str, message: str) -> None:
    config_path(isolated_home).write_text(config + "\n")
    code, _, err = run("llmcost", "alerts")
    assert code == 2
    assert message in one_line(err)


# -- paths and flags --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["llmcost", "report"], ["llmcost", "alarms"], ["tui", "--once"]])
def test_a_fifo_as_path_is_an_error_not_a_hang(tmp_path: Path, command: list[str]) -> None:
    fifo = tmp_path / "llm_trace_2026-03-02.jsonl"
    os.mkfifo(fifo)
    code, _, err = run(*command, str(fifo), timeout=30)
    assert code == 2
    assert one_line(err).endswith(f"not a file or directory: {fifo}")


def test_a_fifo_as_replay_is_an_error(tmp_path: Path) -> None:
    fifo = tmp_path / "trace.jsonl"
    os.mkfifo(fifo)
    code, _, err = run("tui", "--replay", str(fifo), "--once", timeout=30)
    assert code == 2
    assert one_line(err) == f"llmcost-top: error: not a file or directory: {fifo}"


def test_a_fifo_named_like_a_log_in_a_directory_is_skipped(logs: Path) -> None:
    os.mkfifo(day_file(logs, time.time(), index=1))  # no writer: opening it to read would wait for ever
    code, out, err = run("llmcost", "report", str(logs), timeout=30)
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split()[:2] == ["a", "5"]


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("command", [["llmcost", "report"], ["llmcost", "alarms"], ["tui", "--once"]])
def test_a_file_that_fails_to_read_is_one_line_exit_1(command: list[str]) -> None:
    code, _, err = run(*command, "/proc/self/mem")  # a regular file by its mode; reading its start is EIO
    assert code == 1
    assert one_line(err).endswith("error: cannot read /proc/self/mem: Input/output error")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["tui", "{logs}", "--once", "--since", "2026-01-01garbage"], "--since: not a date: '2026-01-01garbage'"),
        (["tui", "{logs}", "--speed", "nan"], "--speed must be a number more than 0 and at most 10,000, not nan"),
        (["tui", "{logs}", "--speed", "inf"], "--speed must be a number more than 0 and at most 10,000, not inf"),
        (["llmcost", "alerts", "--test", "--timeout", "nan"], "--timeout must be a number of seconds more than 0"),
        (["llmcost", "alerts", "--test", "--timeout", "-1"], "--timeout must be a number of seconds more than 0"),
        (["llmcost", "export", "{logs}", "--otlp", "http://127.0.0.1:9", "--timeout", "nan"], "--timeout: must be"),
        (["llmcost", "demo", "--duration", "nan"], "--duration must be a number of seconds more than 0"),
        (["llmcost", "demo", "--duration", "inf"], "--duration must be a number of seconds more than 0"),
        (["llmcost", "demo", "--duration", "1e12"], "--duration must be a number of seconds more than 0"),
        (["llmcost", "demo", "--rate", "nan"], "--rate must be a number of calls per second more than 0"),
        (["llmcost", "demo", "--rate", "1e300"], "--rate must be a number of calls per second more than 0"),
        (["llmcost", "demo", "--duration", "86400", "--rate", "1000"], "at most 1,000,000 at once (--live"),
        (["llmcost", "demo", "--dir", "{logs}/llm_trace_x.jsonl"], "--dir: not a directory:"),
    ],
)
def test_odd_flags_are_one_line(logs: Path, argv: list[str], message: str) -> None:
    (logs / "llm_trace_x.jsonl").write_text("")
    code, _, err = run(*(a.format(logs=logs) for a in argv), timeout=30)
    assert code == 2
    assert message in one_line(err)


# -- malformed lines --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["llmcost", "report"], ["llmcost", "alarms"], ["tui", "--once"], ["tui", "--once", "--json"]],
)
def test_malformed_lines_are_said_on_stderr_by_every_one_shot_reader(logs: Path, command: list[str]) -> None:
    log = next(logs.iterdir())
    log.write_bytes(log.read_bytes() + b"not json\n" + b'{"v":1,"ts":"2026-02-30T00:00:00Z","id":"x"}\n')
    code, out, err = run(*command, str(logs))
    assert code == 0
    assert out
    assert one_line(err) == f"llmcost: skipped 2 malformed lines ({log.name}: 2)"
