"""Rotation torture: 4 writer processes, hundreds of rotations of each kind, one follower; every record exactly once.

Writers append with O_APPEND like the recorder and notice a rotation only after their next write (so some lines land
in the rotated file: late writes). Rotations run under an exclusive lock that writers take shared around a write, so
copy-truncate itself loses nothing; everything else is the follower's job. A file is rotated only once the follower
has opened it: a file created and deleted before any reader saw it is lost to every reader.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from llmcost.engine import Follower
from tests._traces import T0

WRITER = r"""
import fcntl, os, sys, time
from llmcost.log._record import Record, encode_record

directory, lock_path, wid, least, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
stop_path = lock_path + ".stop"
lock = os.open(lock_path, os.O_RDWR)
fds = {}
step = 4 * 86400 / least  # the first `least` records cross three UTC midnights: day rollover to new files
i = 0
# Write until the rotator is done (and at least `least` records), so a slow machine gets as many rotations as a fast one.
while i < least or not os.path.exists(stop_path):
    t = start + i * step
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)
    line = encode_record(Record(ts=ts, id="%02x%014x" % (wid, i), agent="w%d" % wid, cost_usd=0.001, input_tokens=10))
    path = "%s/llm_trace_%s.jsonl" % (directory, ts[:10])
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        fd = fds.get(path)
        if fd is None:
            fd = fds[path] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, line)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # rotated under us: the line above was a late write; reopen for the next one
            os.close(fd)
            del fds[path]
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
    if i % 10 == 0:
        time.sleep(0.01)
    i += 1
print(i)
"""

LEAST_PER_WRITER = 3000
ROTATIONS_PER_KIND = 150
ROTATION_DEADLINE_S = 120.0


class Reader(threading.Thread):
    """The follower, polling as fast as it can (as the live monitor's safety net would, only faster)."""

    def __init__(self, follower: Follower) -> None:
        super().__init__(daemon=True)
        self.follower = follower
        self.ids: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                self.ids.extend(r.id for r in self.follower.poll())
            time.sleep(0.001)

    def adopted(self, path: Path) -> bool:
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) in self.follower._tails  # a membership test needs no lock


def rotate(directory: Path, lock_path: Path, reader: Reader, writers: list[subprocess.Popen[bytes]]) -> Counter[str]:
    rng = random.Random(3)
    done: Counter[str] = Counter()
    kinds = ["rename", "copytruncate", "delete"]
    lock = os.open(lock_path, os.O_RDWR)
    serial = 0
    deadline = time.monotonic() + ROTATION_DEADLINE_S
    while min(done[k] for k in kinds) < ROTATIONS_PER_KIND and time.monotonic() < deadline:
        if all(w.poll() is not None for w in writers):
            break
        live = [p for p in directory.glob("llm_trace_*.jsonl") if p.name.count(".") == 1 and reader.adopted(p)]
        if not live:
            time.sleep(0.002)
            continue
        path = rng.choice(live)
        kind = min(kinds, key=lambda k: (done[k], rng.random()))
        serial += 1
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if kind == "rename":  # to a listed name, or out of the listing (followed by inode)
                target = f"{path}.{serial}" if serial % 2 else str(directory / f"old-{serial}.log")
                os.rename(path, target)
            elif kind == "copytruncate":
                shutil.copyfile(path, f"{path}.{serial}")
                os.truncate(path, 0)
            else:
                path.unlink()
        except FileNotFoundError:
            continue
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        done[kind] += 1
        time.sleep(0.002)
    os.close(lock)
    Path(f"{lock_path}.stop").touch()  # writers finish their current record and exit
    return done


@pytest.mark.slow
def test_every_record_exactly_once_through_every_kind_of_rotation(tmp_path: Path) -> None:
    directory = tmp_path / "logs"
    directory.mkdir()
    lock_path = tmp_path / "rotation.lock"
    lock_path.touch()
    reader = Reader(Follower([directory], clock=lambda: T0))
    reader.start()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(directory), str(lock_path), str(w), str(LEAST_PER_WRITER), str(T0)],
            stdout=subprocess.PIPE,
        )
        for w in range(4)
    ]
    try:
        done = rotate(directory, lock_path, reader, writers)
        written = []
        for w in writers:
            out, _ = w.communicate(timeout=120)
            assert w.returncode == 0
            written.append(int(out))
        expected = sum(written)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with reader.lock:
                if len(reader.ids) >= expected:
                    break
            time.sleep(0.05)
        time.sleep(0.2)  # anything extra (a duplicate) would show up now
    finally:
        reader.stop.set()
        reader.join()
        reader.follower.close()
        for w in writers:
            w.kill()
    counts = Counter(reader.ids)
    assert [i for i, n in counts.items() if n > 1] == []
    assert len(reader.ids) == expected
    assert min(written) >= LEAST_PER_WRITER
    assert {i[:2] for i in counts} == {"00", "01", "02", "03"}
    days = {p.name[10:20] for p in directory.iterdir() if p.name.startswith("llm_trace_")}
    assert len(days) >= 3  # the writers crossed midnight: new files appeared
    assert min(done.values()) >= 100, done  # hundreds of rotations of each kind
