"""The JSONL log: file names, modes, rollover, rotation, concurrency and faults that must never reach the user."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

import llmcost
from llmcost.log._writer import reset_warnings


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    reset_warnings()
    yield
    reset_warnings()


def record(ts: str = "2026-03-01T10:00:00.000Z", **kw: object) -> llmcost.Record:
    return llmcost.Record(ts=ts, id=os.urandom(8).hex(), **kw)  # type: ignore[arg-type]


def lines(directory: Path) -> list[llmcost.Record]:
    out = []
    for path in sorted(directory.glob("llm_trace_*.jsonl")):
        # empty lines are skipped, as every reader does (see docs/wire-format.md, "Valid lines")
        out.extend(llmcost.decode_record(line) for line in path.read_bytes().splitlines() if line)
    return out


def test_daily_files_by_utc_date_with_mode_0600(tmp_path: Path) -> None:
    writer = llmcost.FileWriter(tmp_path / "logs")
    writer.write(record("2026-03-01T23:59:59.999Z"))
    writer.write(record("2026-03-02T00:00:00.000Z"))  # rollover while running
    writer.write(record("2026-03-02T00:00:01.000Z"))
    writer.close()
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert names == ["llm_trace_2026-03-01.jsonl", "llm_trace_2026-03-02.jsonl"]
    for name in names:
        assert stat.S_IMODE((tmp_path / "logs" / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "logs").stat().st_mode) == 0o700
    assert [r.ts[:10] for r in lines(tmp_path / "logs")] == ["2026-03-01", "2026-03-02", "2026-03-02"]
    assert (writer.written, writer.errors) == (3, 0)


def test_a_dropped_writer_releases_its_file(tmp_path: Path) -> None:
    import gc

    writer = llmcost.FileWriter(tmp_path / "logs")
    writer.write(record("2026-03-01T10:00:00.000Z"))
    fd = writer._fd
    assert os.fstat(fd).st_size > 0
    tracker = llmcost.Tracker(tmp_path / "calls")  # and a tracker's, after the compiled path wrote to it
    for _ in range(3):
        with tracker.trace("gpt-4o-mini", "openai") as call:
            call.set_usage(1, 1)
    tracker_fd = tracker.writer._fd  # type: ignore[attr-defined]
    assert tracker_fd >= 0
    del writer, tracker, call
    gc.collect()
    for gone in (fd, tracker_fd):
        with pytest.raises(OSError, match="Bad file descriptor"):
            os.fstat(gone)


def test_size_cap_rotates_to_numbered_files(tmp_path: Path) -> None:
    one = len(llmcost.encode_record(record()))
    writer = llmcost.FileWriter(tmp_path, max_bytes=one * 3)
    for _ in range(10):
        writer.write(record())
    writer.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "llm_trace_2026-03-01.1.jsonl",
        "llm_trace_2026-03-01.2.jsonl",
        "llm_trace_2026-03-01.3.jsonl",
        "llm_trace_2026-03-01.jsonl",
    ]
    assert len(lines(tmp_path)) == 10
    assert all(p.stat().st_size <= one * 3 for p in tmp_path.iterdir())
    # A new writer (another process, a restart) continues with the last numbered file.
    again = llmcost.FileWriter(tmp_path, max_bytes=one * 3)
    again.write(record())
    assert again.path is not None
    assert again.path.name == "llm_trace_2026-03-01.3.jsonl"


def test_memory_writer_keeps_records() -> None:
    writer = llmcost.MemoryWriter()
    writer.write(record(agent="a"))
    assert [r.agent for r in writer.records] == ["a"]


def calls(tracker: llmcost.Tracker, n: int) -> None:
    for _ in range(n):
        with tracker.trace(model="gpt-4o", provider="openai") as call:
            call.set_usage(10, 5)


def test_unwritable_directory_is_counted_and_warned_once(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    tracker = llmcost.Tracker(blocker / "logs")
    with pytest.warns(llmcost.RecorderWarning, match="cannot open log file"):
        calls(tracker, 3)
    assert tracker.writer.errors == 3
    assert tracker.stats.calls == 3  # the calls went on


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_disk_full_is_counted_and_warned_once(tmp_path: Path) -> None:
    writer = llmcost.FileWriter(tmp_path, opener=lambda path: os.open("/dev/full", os.O_WRONLY))
    tracker = llmcost.Tracker(writer=writer)
    with pytest.warns(llmcost.RecorderWarning, match="No space left"):
        calls(tracker, 5)
    assert (writer.errors, writer.written) == (5, 0)


def _write_many(directory: str, worker: int, count: int) -> None:
    tracker = llmcost.Tracker(directory, agent=f"proc-{worker}")
    for i in range(count):
        with tracker.trace(model="gpt-4o-mini", provider="openai", metadata={"n": i}) as call:
            call.set_usage(100 + i, 10)
    tracker.close()


def test_threads_tasks_and_processes_share_one_directory(tmp_path: Path) -> None:
    directory = str(tmp_path / "shared")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(directory, w, 150)) for w in range(4)]
    for p in procs:
        p.start()
    tracker = llmcost.Tracker(directory, agent="threads")
    ids: list[str] = []
    ids_lock = threading.Lock()

    def in_thread() -> None:
        for _ in range(50):
            with tracker.trace(model="gpt-4o", provider="openai") as call:
                call.set_usage(1000, 100)
            with ids_lock:
                ids.append(call.id)

    threads = [threading.Thread(target=in_thread) for _ in range(16)]
    for t in threads:
        t.start()

    async def task() -> str:
        async with tracker.trace(model="gpt-4o", provider="openai", agent="tasks") as call:
            await asyncio.sleep(0)
            call.set_usage(500, 50)
        return call.id

    async def all_tasks() -> list[str]:
        return list(await asyncio.gather(*(task() for _ in range(200))))

    task_ids = asyncio.run(all_tasks())
    for t in threads:
        t.join()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    tracker.close()

    records = lines(Path(directory))
    assert len(records) == 4 * 150 + 16 * 50 + 200
    assert len({r.id for r in records}) == len(records)
    mine = {r.id for r in records if r.agent in ("threads", "tasks")}
    assert mine == set(ids) | set(task_ids)
    for w in range(4):
        assert sorted(r.metadata["n"] for r in records if r.agent == f"proc-{w}") == list(range(150))  # type: ignore[index]


# -- torn lines: a line cut short must not swallow the record written after it ---------------------------------


def test_a_file_that_ends_mid_line_gets_a_new_line_before_the_next_record(tmp_path: Path) -> None:
    # Another writer's partial tail (a crash, a full disk): the file ends without a newline.
    torn = b'{"v":1,"ts":"2026-03-01T09:59:59.000Z","id":"00000000000000'
    (tmp_path / "llm_trace_2026-03-01.jsonl").write_bytes(llmcost.encode_record(record()) + torn)
    writer = llmcost.FileWriter(tmp_path)
    writer.write(record(agent="after"))
    writer.write(record(agent="then"))
    writer.close()
    raw = (tmp_path / "llm_trace_2026-03-01.jsonl").read_bytes().splitlines()
    assert raw[1] == torn  # the fragment stays on a line of its own: readers skip it as malformed
    assert [llmcost.decode_record(line).agent for line in raw[2:]] == ["after", "then"]


def test_a_numbered_file_adopted_by_rotation_is_checked_too(tmp_path: Path) -> None:
    one = len(llmcost.encode_record(record()))
    (tmp_path / "llm_trace_2026-03-01.jsonl").write_bytes(b"")
    (tmp_path / "llm_trace_2026-03-01.1.jsonl").write_bytes(b'{"v":1,"ts":')
    writer = llmcost.FileWriter(tmp_path, max_bytes=one * 3)
    writer.write(record(agent="a"))
    writer.close()
    raw = (tmp_path / "llm_trace_2026-03-01.1.jsonl").read_bytes().splitlines()
    assert raw[0] == b'{"v":1,"ts":'
    assert llmcost.decode_record(raw[1]).agent == "a"


_SHORT_WRITE = r"""
import os, resource, signal, sys
from pathlib import Path
import llmcost

directory = Path(sys.argv[1])
# Past the file size limit the kernel writes what fits (a short write) and then fails with EFBIG: a full
# filesystem, reproduced on a real file. The signal it sends would end the process.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
writer = llmcost.FileWriter(directory)

def rec(agent):
    return llmcost.Record(ts="2026-03-01T10:00:00.000Z", id=os.urandom(8).hex(), agent=agent)

writer.write(rec("before"))
size = (directory / "llm_trace_2026-03-01.jsonl").stat().st_size
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, hard))
writer.write(rec("cut"))  # only 40 bytes of it fit
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space again
writer.write(rec("after"))
writer.write(rec("later"))
print(writer.written, writer.errors)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_after_a_short_write_the_next_record_starts_a_new_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SHORT_WRITE, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["3", "1"]  # the cut record is counted as lost
    raw = (tmp_path / "llm_trace_2026-03-01.jsonl").read_bytes().splitlines()
    assert len(raw) == 4
    assert len(raw[1]) == 40
    with pytest.raises(msgspec.DecodeError):
        llmcost.decode_record(raw[1])
    assert [llmcost.decode_record(line).agent for line in (raw[0], *raw[2:])] == ["before", "after", "later"]
