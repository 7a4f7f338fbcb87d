"""The follower on real files: partial lines, rotations of every kind, bad lines, history selection, dedupe."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

from llmcost.engine import Follower
from llmcost.log._record import encode_record
from tests._traces import T0, day_file, rec, write

CLOCK = lambda: T0 + 3600  # noqa: E731 - the same UTC day as the traces


def ids(records: list) -> list[str]:
    return [r.id for r in records]


def test_poll_reads_new_records_and_keeps_the_partial_line(tmp_path: Path) -> None:
    path = day_file(tmp_path, T0)
    first, second = rec(), rec()
    write(path, [first])
    line = encode_record(second)
    with Follower([tmp_path], clock=CLOCK) as f:
        assert ids(f.poll()) == [first.id]
        with open(path, "ab") as out:
            out.write(line[:25])
        assert f.poll() == []
        with open(path, "ab") as out:
            out.write(line[25:])
        assert ids(f.poll()) == [second.id]
        assert f.poll() == []
        assert f.stats().records == 2


def test_malformed_non_utf8_and_over_long_lines_are_counted_per_file(tmp_path: Path) -> None:
    path = day_file(tmp_path, T0)
    good = [rec(), rec()]
    with open(path, "wb") as out:
        out.write(encode_record(good[0]))
        out.write(b"{broken\n")
        out.write(b'{"ts":"2026-03-02T12:00:00.000Z","id":"\xc3\x28"}\n')
        out.write(b"x" * (3 << 20) + b"\n")
        out.write(encode_record(good[1]))
    with Follower([tmp_path], clock=CLOCK) as f:
        assert ids(f.poll()) == ids(good)
        assert f.stats().malformed == {path.name: 3}


def test_rename_rotation_and_a_late_write_to_the_renamed_file(tmp_path: Path) -> None:
    path = day_file(tmp_path, T0)
    a, b, c, d = rec(), rec(), rec(), rec()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)  # a writer that keeps its descriptor
    os.write(fd, encode_record(a))
    with Follower([tmp_path], clock=CLOCK) as f:
        assert ids(f.poll()) == [a.id]
        os.rename(path, tmp_path / "archived-old.log")  # a name the follower would not list
        os.write(fd, encode_record(b))  # late write to the renamed file
        write(path, [c])  # a new file under the old name
        assert sorted(ids(f.poll())) == sorted([b.id, c.id])
        os.write(fd, encode_record(d))
        assert ids(f.poll()) == [d.id]
    os.close(fd)


def test_copy_truncate_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    path = day_file(tmp_path, T0)
    before = [rec() for _ in range(5)]
    write(path, before[:3])
    with Follower([tmp_path], clock=CLOCK) as f:
        assert len(f.poll()) == 3
        write(path, before[3:])  # written, not yet read when the rotation happens
        shutil.copyfile(path, str(path) + ".1")
        with open(path, "r+b") as out:
            out.truncate(0)
        after = [rec() for _ in range(4)]
        write(path, after)  # the truncated file grows past the old offset before the next poll
        got = f.poll()
        assert sorted(ids(got)) == sorted(ids(before[3:] + after))
        assert f.poll() == []


def test_delete_and_recreate(tmp_path: Path) -> None:
    path = day_file(tmp_path, T0)
    a, b = rec(), rec()
    write(path, [a])
    with Follower([tmp_path], clock=CLOCK) as f:
        assert ids(f.poll()) == [a.id]
        path.unlink()
        write(path, [b])
        assert ids(f.poll()) == [b.id]


def test_day_rollover_new_directories_and_globs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"  # does not exist yet
    with Follower([logs, tmp_path / "hosts" / "*" / "*.jsonl"], clock=CLOCK) as f:
        assert f.poll() == []
        today, tomorrow = rec(), rec(T0 + 86400)
        write(day_file(logs, T0), [today])
        write(day_file(logs, T0 + 86400), [tomorrow])
        remote = rec(agent="remote")
        write(day_file(tmp_path / "hosts" / "b", T0), [remote])
        assert sorted(ids(f.poll())) == sorted([today.id, tomorrow.id, remote.id])
        sub = rec()
        write(day_file(logs / "host-a", T0), [sub])  # a new subdirectory of a followed directory
        assert ids(f.poll()) == [sub.id]


def test_history_selection_by_file_date(tmp_path: Path) -> None:
    old, mid, today = rec(T0 - 2 * 86400), rec(T0 - 86400), rec(T0)
    write(day_file(tmp_path, T0 - 2 * 86400), [old])
    write(day_file(tmp_path, T0 - 86400), [mid])
    write(day_file(tmp_path, T0), [today])
    with Follower([tmp_path], clock=CLOCK) as f:
        assert ids(f.poll()) == [today.id]
        late = rec(T0 - 86400)
        write(day_file(tmp_path, T0 - 86400), [late])  # older files are followed from their end
        assert ids(f.poll()) == [late.id]
    since = dt.datetime.fromtimestamp(T0 - 86400, dt.timezone.utc).date()
    with Follower([tmp_path], since=since, clock=CLOCK) as f:
        assert ids(f.poll()) == [mid.id, late.id, today.id]
    with Follower([tmp_path], all=True, clock=CLOCK) as f:
        assert ids(f.poll()) == [old.id, mid.id, late.id, today.id]


def test_the_same_record_in_two_files_is_counted_once(tmp_path: Path) -> None:
    shared = rec()
    write(day_file(tmp_path, T0), [shared, rec()])
    write(day_file(tmp_path, T0, 1), [shared])
    with Follower([tmp_path], clock=CLOCK) as f:
        assert len(f.poll()) == 2
        assert f.stats().duplicates == 1


def test_replay_in_batches_with_progress(tmp_path: Path) -> None:
    records = [rec(T0 + i) for i in range(5000)]
    write(day_file(tmp_path, T0), records)
    seen: list[tuple[int, int]] = []
    with Follower([tmp_path], clock=CLOCK) as f:
        batches = list(f.replay(batch_lines=1000, progress=lambda d, t: seen.append((d, t))))
        assert [r.id for b in batches for r in b] == ids(records)
        assert len(batches) >= 2
        assert f.stats().replaying is False
    size = day_file(tmp_path, T0).stat().st_size
    assert seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_live_watch_with_real_notifications(tmp_path: Path) -> None:
    import asyncio

    async def scenario() -> list[str]:
        stop = asyncio.Event()
        follower = Follower([tmp_path], clock=time.time)
        got: list[str] = []
        expected = [rec(time.time()) for _ in range(3)]

        async def produce() -> None:
            await asyncio.sleep(0.2)
            for r in expected:
                write(day_file(tmp_path, time.time()), [r])
                await asyncio.sleep(0.05)

        async def consume() -> None:
            async for batch in follower.watch(stop, poll_ms=5000):
                got.extend(ids(batch))
                if len(got) >= len(expected):
                    stop.set()

        task = asyncio.create_task(produce())
        await asyncio.wait_for(consume(), timeout=20)
        await task
        follower.close()
        assert got == ids(expected)
        return got

    assert len(asyncio.run(scenario())) == 3
