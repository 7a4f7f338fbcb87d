"""Which files the readers read: every log file however many there are (with few descriptors), regular files only,
and no link that leads out of the log tree. Real files, FIFOs and symbolic links in a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmcost.engine import Engine, Follower, report_files
from llmcost.log import encode_record
from tests._traces import T0, day_file, rec, write

DAY = 86400.0
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="descriptor counts and FIFOs of Linux")


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def few_descriptors() -> Iterator[int]:
    """At most 512 descriptors for this process (and the readers it forks), as on many machines."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = min(512, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _many(directory: Path, files: int) -> int:
    """``files`` log files of one record each (numbered rotations of one day); the tokens they hold in all."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        (directory / f"llm_trace_2026-03-02.{i + 1}.jsonl").write_bytes(encode_record(rec(T0 + i, input_tokens=i + 1)))
    return files * (files + 1) // 2


def test_three_hundred_daily_files_are_all_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llmcost.cli import main

    for d in range(300):
        write(day_file(tmp_path, T0 - d * DAY), [rec(T0 - d * DAY)])
    assert main(["report", str(tmp_path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert (sum(row["calls"] for row in json.loads(out)), err) == (300, "")
    with Follower([tmp_path], all=True) as follower:
        assert len(follower.poll()) == 300


@pytest.mark.slow  # about 10 s: `pytest -m ""` runs it (CI does, on the newest Python)
@linux
def test_ten_thousand_files_with_few_descriptors(
    tmp_path: Path, few_descriptors: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmcost.cli import main
    from tui._cli import main as top

    tokens = _many(tmp_path / "logs", 10_000)
    logs = tmp_path / "logs"
    for processes in (1, 2):
        scan = report_files([logs], processes=processes)
        assert (sum(r.calls for r in scan.rows), sum(r.input_tokens for r in scan.rows)) == (10_000, tokens)
    assert main(["report", str(logs), "--json"]) == 0
    assert sum(row["calls"] for row in json.loads(capsys.readouterr().out)) == 10_000
    assert main(["export", str(logs), "--csv", str(tmp_path / "out.csv")]) == 0
    assert "10000 calls written" in capsys.readouterr().err
    assert top([str(logs), "--all", "--once", "--json", "--set", "call_cost_usd=100"]) in (0, 1, 2)
    assert sum(row["calls"] for row in json.loads(capsys.readouterr().out)["rows"]) == 10_000


@linux
def test_the_follower_delivers_every_file_and_keeps_few_open(tmp_path: Path, few_descriptors: int) -> None:
    tokens = _many(tmp_path, 10_000)
    before = _open_descriptors()
    engine = Engine(clock=lambda: T0 + DAY)
    with Follower([tmp_path], all=True, clock=lambda: T0) as follower:
        for batch in follower.replay():
            engine.ingest(batch)
        assert _open_descriptors() - before <= 256
        snap = engine.snapshot("agent")
        assert (sum(r.calls for r in snap.rows), sum(r.input_tokens for r in snap.rows)) == (10_000, tokens)
        # live: a quiet file (its descriptor long closed) grows, and a new file appears
        late, new = rec(T0 + 5), rec(T0 + 6)
        write(tmp_path / "llm_trace_2026-03-02.1.jsonl", [late])
        write(tmp_path / "llm_trace_2026-03-02.10001.jsonl", [new])
        assert sorted(r.id for r in follower.poll()) == sorted([late.id, new.id])
        assert follower.poll() == []
        assert _open_descriptors() - before <= 256


def _reads_within(argv: list[str], seconds: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run a command in a fresh interpreter; a reader that hangs fails the test instead of hanging it."""
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=seconds, check=False)


REPORT = ["-c", "import sys; from llmcost.cli import main; sys.exit(main(['report', *sys.argv[1:], '--json']))"]
ONCE = ["-c", "import sys; from tui._cli import main; sys.exit(main([*sys.argv[1:], '--all', '--once', '--json']))"]
POLL = [
    "-c",
    "import sys; from llmcost.engine import Follower\n"
    "with Follower(sys.argv[1:], all=True) as f: print(sorted(r.agent for r in f.poll()))",
]


def _calls(completed: subprocess.CompletedProcess[str]) -> int:
    assert completed.returncode in (0, 1, 2), completed.stderr
    data = json.loads(completed.stdout)
    rows = data["rows"] if isinstance(data, dict) else data
    return sum(row["calls"] for row in rows)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A log directory with one good file, and an outside directory with a file of its own."""
    logs = tmp_path / "logs"
    write(day_file(logs, T0), [rec(agent="inside")])
    write(tmp_path / "outside" / "llm_trace_2026-03-02.jsonl", [rec(agent="outside")])
    return logs


@linux
def test_a_fifo_with_a_log_name_is_skipped(tree: Path) -> None:
    os.mkfifo(tree / "llm_trace_2026-03-03.jsonl")
    for argv in (REPORT, ONCE):
        assert _calls(_reads_within([*argv, str(tree)])) == 1
    assert _reads_within([*POLL, str(tree)]).stdout.strip() == "['inside']"
    # named explicitly: a one-line error, and no hang
    named = _reads_within([*REPORT, str(tree / "llm_trace_2026-03-03.jsonl")])
    assert (named.returncode, named.stdout) == (2, "")
    assert "not a file or directory" in named.stderr


@linux
def test_a_link_to_dev_zero_is_skipped(tree: Path) -> None:
    os.symlink("/dev/zero", tree / "llm_trace_2026-03-03.jsonl")
    for argv in (REPORT, ONCE):
        assert _calls(_reads_within([*argv, str(tree)])) == 1
    assert _reads_within([*POLL, str(tree)]).stdout.strip() == "['inside']"
    named = _reads_within([*REPORT, str(tree / "llm_trace_2026-03-03.jsonl")])  # named: not read, and said
    assert (named.returncode, named.stdout) == (2, "")
    assert "not a file or directory" in named.stderr


def test_links_out_of_the_tree_are_not_followed(tree: Path) -> None:
    outside = tree.parent / "outside"
    os.symlink(outside / "llm_trace_2026-03-02.jsonl", tree / "llm_trace_2026-03-04.jsonl")  # a file out of the tree
    os.symlink(outside, tree / "elsewhere")  # a directory out of the tree
    with Follower([tree], all=True) as follower:
        assert [r.agent for r in follower.poll()] == ["inside"]
    scan = report_files([tree], processes=1)
    assert [(r.key, r.calls) for r in scan.rows] == [("inside", 1)]
    # a glob through the linked directory leads out of its fixed part: not followed either
    with Follower([str(tree) + "/**/*.jsonl"], all=True) as follower:
        assert [r.agent for r in follower.poll()] == ["inside"]


def test_a_link_inside_the_tree_reads_its_file_once(tree: Path) -> None:
    os.symlink(day_file(tree, T0), tree / "llm_trace_2026-03-05.jsonl")
    with Follower([tree], all=True) as follower:
        assert [r.agent for r in follower.poll()] == ["inside"]
        assert follower.stats().duplicates == 0  # not read twice and dropped: read once
    assert [(r.key, r.calls) for r in report_files([tree], processes=1).rows] == [("inside", 1)]


def test_a_path_named_explicitly_may_be_a_link_to_a_log(tree: Path, tmp_path: Path) -> None:
    link = tmp_path / "current.jsonl"
    os.symlink(tree.parent / "outside" / "llm_trace_2026-03-02.jsonl", link)
    with Follower([link], all=True) as follower:
        assert [r.agent for r in follower.poll()] == ["outside"]
    assert [(r.key, r.calls) for r in report_files([link], processes=1).rows] == [("outside", 1)]


def test_a_file_replaced_by_a_link_between_listing_and_reading_is_not_read(tree: Path) -> None:
    """A race: the one-shot scan lists the file, then someone swaps it for a link to /dev/zero."""
    path = day_file(tree, T0)
    with Follower([tree], all=True) as follower:
        pieces = follower.history()
    os.rename(path, tree / "moved.log")
    os.symlink("/dev/zero", path)
    from llmcost.engine._follow import open_piece

    assert [open_piece(p) for p in pieces] == [None]
    started = time.monotonic()
    assert report_files([tree], processes=1).rows == []
    assert time.monotonic() - started < 30


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_a_file_that_cannot_be_read_is_said_not_skipped_in_silence() -> None:
    """The live follower keeps going and says which file it could not read; one-shot readers refuse to print a total
    that would be short (``require_readable``)."""
    with Follower(["/proc/self/mem"], all=True) as follower:
        assert follower.poll() == []  # reading its start is an I/O error: no records, no exception
        assert follower.stats().unreadable == {"/proc/self/mem": "Input/output error"}
        with pytest.raises(OSError, match="Input/output error") as raised:
            follower.require_readable()
        assert raised.value.filename == "/proc/self/mem"
    with pytest.raises(OSError, match="Input/output error"):
        report_files(["/proc/self/mem"], processes=1)
