"""Live latency: a line appended to a log → visible in the engine's aggregates, while writers add 2,000 records/s.

Run: ``python benchmarks/bench_live.py [--seconds S] [--quick]``. Two writer processes append 1,000 records/s each
(one ``write()`` per line, like the recorder); this process follows the directory with ``Follower.watch``
(watchfiles notifications) and ingests into an :class:`Engine`. Each record carries its write time (``time.time()``
in ``metadata``); latency = the moment the batch holding it has been ingested minus that time. The peer figure is the
same measurement with the periodic poll alone (no notifications, 250 ms period), the safety net's worst case.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import latency_summary, pct, size_parser

from llmcost.engine import Engine, Follower

WRITER = r"""
import os, sys, time
from llmcost.log._record import Record, encode_record
directory, rate, seconds, wid = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
start = time.time(); i = 0
fd = None; day = None
while time.time() - start < seconds:
    due = start + i / rate
    delay = due - time.time()
    if delay > 0:
        time.sleep(delay)
    now = time.time()
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
    if ts[:10] != day:
        day = ts[:10]
        fd = os.open("%s/llm_trace_%s.jsonl" % (directory, day), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    r = Record(ts=ts, id="%02x%014x" % (wid, i), agent="w%d" % wid, cost_usd=0.0001, input_tokens=100, metadata={"wrote": now})
    os.write(fd, encode_record(r))
    i += 1
"""


async def measure(directory: Path, seconds: float, poll_only: bool) -> list[float]:
    engine = Engine()
    follower = Follower([directory])
    engine.follower = follower
    stop = asyncio.Event()
    latencies: list[float] = []
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(directory), "1000", str(seconds), str(w)]) for w in range(2)
    ]

    async def stopper() -> None:
        await asyncio.sleep(seconds + 1.0)
        stop.set()

    task = asyncio.create_task(stopper())
    if poll_only:
        while not stop.is_set():
            batch = follower.poll()
            _ingest(engine, batch, latencies)
            await asyncio.sleep(0.25)
    else:
        async for batch in follower.watch(stop, debounce_ms=20, step_ms=5, poll_ms=1000):
            _ingest(engine, batch, latencies)
    await task
    for w in writers:
        w.wait()
    follower.close()
    return latencies


def _ingest(engine: Engine, batch: list, latencies: list[float]) -> None:  # type: ignore[type-arg]
    engine.ingest(batch)
    done = time.time()
    latencies.extend(done - r.metadata["wrote"] for r in batch if r.metadata)


def main(argv: list[str] | None = None) -> int:
    args = size_parser(__doc__, "seconds", 10.0, "4 seconds").parse_args(argv)
    seconds = 4.0 if args.quick else args.seconds
    results = {}
    for name, poll_only in (("watch (notifications)", False), ("poll every 250 ms", True)):
        with tempfile.TemporaryDirectory() as tmp:
            lat = asyncio.run(measure(Path(tmp), seconds, poll_only))
        results[name] = lat
        print(f"{name:<22} {len(lat):>7,} records ({len(lat) / seconds:,.0f}/s)  {latency_summary(lat)}")
    p99 = pct(results["watch (notifications)"], 0.99)
    print(
        f"p99 append → visible: {p99:.1f} ms (target ≤ 100 ms); ratio to the poll-only peer: {p99 / pct(results['poll every 250 ms'], 0.99):.2f}"
    )
    return 0 if p99 <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
