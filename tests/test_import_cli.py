"""``llmcost import claude-code|codex``: the real command in-process (``llmcost.cli.main``) and as a subprocess, and
``--follow`` with real file-system notifications (watchfiles) while files grow and new sessions appear."""

from __future__ import annotations

import json
import os
import pty
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from llmcost.cli import main
from llmcost.importers import ClaudeCode, Importer, follow
from tests._agents import CATALOG, age, catalog, copy_tree, records, records_by

ROOT = Path(__file__).resolve().parents[1]
CODEX_MAIN = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(autouse=True)
def pinned_prices() -> None:
    """The fixture catalog as the user's override file: costs that do not move with the shipped catalog."""
    home = Path(os.environ["LLMCOST_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(CATALOG, home / "pricing.toml")


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def claude_line(message: str, ts: str, output: int, stop: str | None, cwd: str = "/home/dev/shop-api") -> str:
    usage = {
        "input_tokens": 2,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1000,
        "output_tokens": output,
    }
    msg: dict[str, object] = {
        "model": "claude-sonnet-4-5-20250929",
        "id": message,
        "type": "message",
        "role": "assistant",
    }
    msg.update({"content": [{"type": "text", "text": "SECRET"}], "stop_reason": stop, "usage": usage})
    line = {"isSidechain": False, "cwd": cwd, "sessionId": "live-1", "message": msg, "requestId": f"req-{message}"}
    line.update({"type": "assistant", "uuid": f"{message}-{output}", "timestamp": ts})
    return json.dumps(line, separators=(",", ":")) + "\n"


def codex_count(ts: str, total: tuple[int, int, int, int], last: tuple[int, int, int, int]) -> str:
    def usage(v: tuple[int, int, int, int]) -> dict[str, int]:
        names = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
        return {**dict(zip(names, v)), "total_tokens": v[0] + v[2]}

    info = {"total_token_usage": usage(total), "last_token_usage": usage(last), "model_context_window": 272000}
    payload = {"type": "token_count", "info": info, "rate_limits": None}
    return json.dumps({"timestamp": ts, "type": "event_msg", "payload": payload}, separators=(",", ":")) + "\n"


# -- one-shot --------------------------------------------------------------------------------------------------------


def test_import_then_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    claude, codex, logs = copy_tree("claude", tmp_path), copy_tree("codex", tmp_path), tmp_path / "logs"
    assert main(["import", "claude-code", str(claude), "--dir", str(logs)]) == 0  # ~/.claude given: its projects
    out, err = capsys.readouterr()
    assert out.startswith("imported 9 calls ($0.0")
    assert out.rstrip().endswith(f"from 4 files into {logs}; 1 already imported")
    assert f"llmcost import: skipped 2 lines in {claude / 'projects' / '-home-dev-shop-api'}" in err
    assert "claude-nonexistent-9 (1)" in err
    assert main(["import", "codex", str(codex), "--dir", str(logs), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["tool"], summary["records"], summary["unknown_models"]) == ("codex", 6, {"o9-imaginary": 1})
    assert summary["days"] == ["2026-01-15", "2026-01-16"]
    assert summary["cost_usd"] == pytest.approx(sum(r.cost_usd or 0 for r in records(logs) if r.agent == "codex"))

    assert main(["report", str(logs), "--by", "agent", "--json"]) == 0
    rows = {row["key"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows["claude-code"]["calls"], rows["codex"]["calls"]) == (9, 6)
    mine = [r for r in records(logs) if r.agent == "claude-code" and r.cost_usd is not None]
    assert Decimal(rows["claude-code"]["cost_usd"]) == sum(Decimal(str(r.cost_usd)) for r in mine)
    assert main(["report", str(logs), "--by", "workflow", "--json"]) == 0
    assert "/home/dev/shop-api" in {row["key"] for row in json.loads(capsys.readouterr().out)}


def test_importing_twice_adds_nothing(codex: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = tmp_path / "logs"
    for expected in (6, 0):
        assert main(["import", "codex", str(codex), "--dir", str(logs), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["records"] == expected
    assert len(records(logs)) == 6


def test_default_directories_and_log_directory(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No DIR: the tools' own places under HOME (and their variables); no --dir: the shared log directory."""
    copy_tree("claude", isolated_home)
    (isolated_home / "claude").rename(isolated_home / ".claude")
    assert main(["import", "claude-code", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sources"] == [str(isolated_home / ".claude" / "projects")]
    assert summary["log_dir"] == str(isolated_home / ".llmcost" / "logs")
    assert len(records(isolated_home / ".llmcost" / "logs")) == 9

    codex_home = copy_tree("codex", isolated_home)
    os.environ["CODEX_HOME"] = str(codex_home)
    try:
        assert main(["import", "codex", "--json"]) == 0
    finally:
        del os.environ["CODEX_HOME"]
    assert json.loads(capsys.readouterr().out)["sources"] == [str(codex_home / "sessions")]


def test_claude_config_dir_holds_several_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = copy_tree("claude", tmp_path / "a"), tmp_path / "b"
    shutil.copytree(first, second)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{first}, {second},{tmp_path / 'missing'}")
    assert main(["import", "claude-code", "--dir", str(tmp_path / "logs"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sources"] == [str(first / "projects"), str(second / "projects")]
    # the second place holds a copy: its 10 calls (msg_01A twice) carry the ids written from the first one
    assert (summary["records"], summary["already_imported"]) == (9, 1 + 10)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["import", "claude-code", "/no/such/dir"], "llmcost import: error: no such directory: /no/such/dir\n"),
        (["import", "codex", "{file}"], "llmcost import: error: not a directory: {file}\n"),
        (["import", "codex", "{tmp}", "--dir", "{file}"], "llmcost import: error: --dir: not a directory: {file}\n"),
        (["import", "claude-code"], "llmcost import: error: no claude-code transcripts found (looked in "),
        (["import", "codex"], "llmcost import: error: no codex transcripts found (looked in "),
        (["import"], "llmcost: error: the following arguments are required: TOOL"),
        (["import", "cursor"], "llmcost: error: argument TOOL: invalid choice: 'cursor'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "a-file"
    file.write_text("")
    argv = [a.format(file=file, tmp=tmp_path) for a in argv]
    if argv[-1] in ("import", "cursor"):  # the parser's own checks exit, with the same one-line form
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
    else:
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(file=file))
    assert err.count("\n") == 1


def test_errors_while_importing_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    claude = copy_tree("claude", tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["import", "claude-code", str(claude), "--dir", str(blocker / "logs")]) == 1
    assert capsys.readouterr().err == f"llmcost import: error: cannot write to the log directory {blocker / 'logs'}\n"
    with Importer(ClaudeCode(), [claude / "projects"], tmp_path / "logs"):  # another import holds the lock
        assert main(["import", "claude-code", str(claude), "--dir", str(tmp_path / "logs")]) == 1
    assert "is running" in capsys.readouterr().err


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """A bar on stderr when it is a terminal (and the read is long enough to need one), as ``llmcost report``."""
    project = tmp_path / "projects" / "-big"
    project.mkdir(parents=True)
    filler = json.dumps({"type": "user", "message": {"role": "user", "content": "x" * 4000}}) + "\n"
    with open(project / "s.jsonl", "w") as f:
        for i in range(2300):  # ~9 MB: above the bar's threshold
            f.write(filler)
            f.write(claude_line(f"msg_{i:05d}", "2026-02-01T10:00:00.000Z", 10, "end_turn"))
    age(project)
    code, err = _run_on_a_terminal(
        ["import", "claude-code", str(tmp_path / "projects"), "--dir", str(tmp_path / "logs")]
    )
    assert code == 0
    assert "importing [" in err
    assert "100%" in err
    assert len(records(tmp_path / "logs")) == 2300


def _run_on_a_terminal(argv: list[str]) -> tuple[int, str]:
    parent, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmcost", *argv],
        stdout=subprocess.DEVNULL,
        stderr=child,
        cwd=ROOT,
        env=dict(os.environ),
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(parent, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(parent)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


# -- following -------------------------------------------------------------------------------------------------------


def test_follow_imports_messages_as_they_complete(claude: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    stop = threading.Event()
    batches: list[int] = []
    with Importer(ClaudeCode(), [claude], logs, catalog=catalog()) as importer:
        assert importer.scan() == 9
        worker = threading.Thread(
            target=follow, args=(importer, stop), kwargs={"on_records": batches.append, "tick_s": 0.2}
        )
        worker.start()
        try:
            live = claude / "-home-dev-shop-api" / "live-1.jsonl"
            with open(live, "a") as f:  # a message starts streaming: not a call yet
                f.write(claude_line("msg_L1", "2026-02-01T10:00:00.000Z", 1, None))
            time.sleep(1.0)
            assert "msg_L1" not in records_by(logs)
            with open(live, "a") as f:  # its last chunk
                f.write(claude_line("msg_L1", "2026-02-01T10:00:04.000Z", 420, "end_turn"))
            assert wait_for(lambda: "msg_L1" in records_by(logs))
            assert records_by(logs)["msg_L1"].output_tokens == 420
            new_project = claude / "-home-dev-new-app"  # a session in a project that did not exist before
            new_project.mkdir()
            (new_project / "s-2.jsonl").write_text(
                claude_line("msg_L2", "2026-02-01T11:00:00.000Z", 7, "end_turn", "/x")
            )
            assert wait_for(lambda: "msg_L2" in records_by(logs))
        finally:
            stop.set()
            worker.join(10)
        assert not worker.is_alive()
    assert sum(batches) == 2
    assert len(records(logs)) == 11


def test_follow_from_the_command_line_stops_on_ctrl_c(codex: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    argv = [sys.executable, "-m", "llmcost", "import", "codex", str(codex), "--dir", str(logs), "--follow"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = proc.stdout

        def pump() -> None:  # the lines the command prints, as they come
            for line in stdout:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        try:
            first = lines.get(timeout=30)
            assert first.startswith("imported 6 calls")
            assert "following" in first
            rollout = next(codex.rglob(f"*{CODEX_MAIN}.jsonl"))
            with open(rollout, "a") as f:  # end the half-written line as garbage, then one more request
                f.write("\n")
                f.write(codex_count("2026-01-16T00:02:00.000Z", (27000, 15500, 1100, 300), (1000, 500, 100, 0)))
            assert "+1 call" in lines.get(timeout=20)
            new_day = codex / "2026" / "01" / "16"  # a new day's folder, and a session in it
            new_day.mkdir()
            with open(new_day / "rollout-2026-01-16T08-00-00-0199bbbb-0000-7000-8000-000000000001.jsonl", "w") as f:
                f.write(codex_count("2026-01-16T08:00:05.000Z", (900, 0, 50, 0), (900, 0, 50, 0)))
            assert "+1 call" in lines.get(timeout=20)
        finally:
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=20)
        err = proc.stderr.read()
    assert code == 0, err
    assert "Traceback" not in err
    assert "skipped 3 lines" in err  # the two of the fixture and the line cut short
    inputs = sorted(r.input_tokens or 0 for r in records(logs))
    assert inputs == sorted([5000, 7000, 8000, 6000, 3000, 2000, 1000, 900])
    # and a later import has nothing left to do: the state was saved when following stopped
    out = subprocess.run(
        [sys.executable, "-m", "llmcost", "import", "codex", str(codex), "--dir", str(logs), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        check=True,
    )
    assert json.loads(out.stdout)["records"] == 0


def test_a_directory_without_transcripts_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["import", "codex", str(tmp_path / "empty"), "--dir", str(tmp_path / "logs")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("imported 0 calls ($0.00) from 0 files")
    assert err == f"llmcost import: no transcripts (*.jsonl) in {tmp_path / 'empty'}\n"
