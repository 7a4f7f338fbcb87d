"""The monitor under load: CPU of ``llmcost-top`` while writers add 1,000 records/s across 50 agents, idle CPU,
paint rate, and start-up time to the first frame with a large history and with none.

Run: ``python benchmarks/bench_tui.py [--seconds S] [--history N] [--quick]``. The app runs headless
(``App.run_test``) in this process; the writers run in another process, so ``time.process_time()`` here counts the
app alone (its paint loop and its ingest thread). Peer, measured in the same run: the engine alone following the
same files (poll four times a second, ingest, one snapshot per paint) with no screen. Targets: app CPU <= 25 % of
one core under load, <= 2 % idle, paint rate as designed (``tui._app.PAINT_HZ``). The same load grouped by session
(400 rows, most of them out of sight) shows what rows the screen does not show cost. Start-up prints wall time and
CPU time: on a busy machine the wall time mostly measures the other jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmcost.engine import Engine, Follower, GroupBy
from tui import make_app
from tui._app import PAINT_HZ

AGENTS = 50
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", "o3")
LINE = (
    '{{"v":1,"ts":"{ts}","id":"{id:016x}","provider":"openai","request_model":"{model}","response_model":"{model}",'
    '"input_tokens":{inp},"output_tokens":{out},"cache_read_input_tokens":null,"usage_source":"provider",'
    '"cost_usd":{cost},"cost_status":"priced","latency_ms":{lat},"ttft_ms":{ttft},"status":"ok","attempt":0,'
    '"agent":"agent-{agent:02d}","session_id":"s{session}","prompt_hash":"{id:012x}"}}\n'
)

WRITER = """
import sys, time
sys.path.insert(0, {here!r})
from bench_tui import lines
directory, rate, seconds, offset = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
start = time.time(); n = offset
path = directory + "/llm_trace_" + time.strftime("%Y-%m-%d", time.gmtime(start)) + ".jsonl"
with open(path, "ab", buffering=0) as f:
    while time.time() - start < seconds:
        due = int((time.time() - start) * rate) + offset
        if due > n:
            f.write("".join(lines(n, due - n, time.time())).encode())
            n = due
        time.sleep(0.02)
"""


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def lines(first: int, count: int, t: float, step: float = 0.0) -> list[str]:
    """``count`` wire-format lines (ids from ``first``), at ``t`` (plus ``step`` seconds apart)."""
    out = []
    for i in range(first, first + count):
        inp, out_tokens = 500 + i * 7919 % 9000, 50 + i * 104729 % 900
        out.append(
            LINE.format(
                ts=iso(t + (i - first) * step),
                id=i,
                model=MODELS[i % len(MODELS)],
                inp=inp,
                out=out_tokens,
                cost=round(inp * 2.5e-6 + out_tokens * 1e-5, 9),
                lat=200 + i % 5000,
                ttft=50 + i % 700,
                agent=i % AGENTS,
                session=i % 400,
            )
        )
    return out


def start_writers(directory: str, rate: float, seconds: float) -> subprocess.Popen[bytes]:
    script = WRITER.format(here=str(Path(__file__).parent))
    args = [sys.executable, "-c", script, directory, str(rate), str(seconds), "1000000000"]
    return subprocess.Popen(args)


async def app_load(directory: str, seconds: float, rate: float, group: GroupBy = "agent") -> tuple[float, float, int]:
    """(CPU %, paints/s, records ingested) of the app while the writers run (rate 0: idle)."""
    app = make_app([directory], group_by=group)
    async with app.run_test(size=(160, 48)):
        while not app.feed.replayed:
            await asyncio.sleep(0.05)
        writer = start_writers(directory, rate, seconds + 1) if rate else None
        await asyncio.sleep(0.5)
        cpu0, wall0, paints0, records0 = (
            time.process_time(),
            time.perf_counter(),
            app.monitor.paints,
            app.feed.engine.records,
        )
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        paints, records = app.monitor.paints - paints0, app.feed.engine.records - records0
        if writer is not None:
            writer.wait()
    return cpu / wall * 100, paints / wall, records


def engine_load(directory: str, seconds: float, rate: float, group: GroupBy = "agent") -> tuple[float, int]:
    """The peer: the engine alone following the same kind of traffic, snapshot at the paint rate."""
    engine = Engine()
    follower = Follower([directory])
    engine.follower = follower
    for batch in follower.replay():
        engine.ingest(batch)
    writer = start_writers(directory, rate, seconds + 1) if rate else None
    time.sleep(0.5)
    cpu0, wall0, records0 = time.process_time(), time.perf_counter(), engine.records
    next_paint = time.perf_counter()
    while time.perf_counter() - wall0 < seconds:
        engine.ingest(follower.poll())
        if time.perf_counter() >= next_paint:
            engine.snapshot(group)
            next_paint += 1 / PAINT_HZ
        time.sleep(0.25)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if writer is not None:
        writer.wait()
    return cpu / wall * 100, engine.records - records0


def write_history(directory: str, n: int) -> None:
    """``n`` records spread over today up to now, in one day file."""
    now = time.time()
    start = now - min(now % 86400, 3600.0 * 8)
    step = (now - start) / max(n, 1)
    path = Path(directory) / f"llm_trace_{time.strftime('%Y-%m-%d', time.gmtime(now))}.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for first in range(0, n, 50_000):
            f.write("".join(lines(first, min(50_000, n - first), start + first * step, step)))


async def app_startup(directory: str) -> tuple[float, float, float]:
    """(seconds to the first frame, seconds until the history is read and painted, CPU seconds until then)."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    app = make_app([directory])
    async with app.run_test(size=(160, 48)):
        first = time.perf_counter() - t0
        while not app.feed.replayed:
            await asyncio.sleep(0.01)
        app.paint_now()
        ready, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return first, ready, cpu


def engine_startup(directory: str) -> tuple[float, float]:
    """(seconds, CPU seconds) to read the history and take one snapshot."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    engine = Engine()
    with Follower([directory]) as follower:
        for batch in follower.replay():
            engine.ingest(batch)
    engine.snapshot("agent")
    return time.perf_counter() - t0, time.process_time() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load measurement")
    parser.add_argument("--rate", type=float, default=1000.0, help="records per second written")
    parser.add_argument("--history", type=int, default=1_000_000, help="records of history for the start-up case")
    parser.add_argument("--quick", action="store_true", help="3 s loads, 100,000 records of history")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.history = 3.0, 100_000
    print(f"paint rate designed: {PAINT_HZ:g} Hz; load: {args.rate:,.0f} records/s across {AGENTS} agents")
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        cpu, hz, records = asyncio.run(app_load(a, args.seconds, args.rate))
        peer_cpu, peer_records = engine_load(b, args.seconds, args.rate)
        print(
            f"under load   app: {cpu:5.1f} % CPU, {hz:.2f} paints/s, {records / args.seconds:,.0f} records/s ingested"
        )
        print(f"             engine alone (peer): {peer_cpu:5.1f} % CPU, {peer_records / args.seconds:,.0f} records/s")
        print(f"             ratio app/engine: {cpu / max(peer_cpu, 0.01):.1f}x   target app <= 25 %")
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        cpu, hz, records = asyncio.run(app_load(a, args.seconds, args.rate, "session"))
        peer_cpu, peer_records = engine_load(b, args.seconds, args.rate, "session")
        print(
            f"by session   app: {cpu:5.1f} % CPU, {hz:.2f} paints/s (400 rows); engine alone (peer): {peer_cpu:5.1f} %,"
            f" ratio {cpu / max(peer_cpu, 0.01):.1f}x"
        )
    with tempfile.TemporaryDirectory() as c, tempfile.TemporaryDirectory() as d:
        idle, hz, _ = asyncio.run(app_load(c, args.seconds, 0))
        peer_idle, _ = engine_load(d, args.seconds, 0)
        print(
            f"idle         app: {idle:5.2f} % CPU, {hz:.2f} paints/s; engine alone (peer): {peer_idle:5.2f} %"
            "   target app <= 2 %"
        )
    with tempfile.TemporaryDirectory() as empty:
        first, ready, _ = asyncio.run(app_startup(empty))
        print(f"start-up, no history: first frame {first * 1000:.0f} ms, ready {ready * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as big:
        t0 = time.perf_counter()
        write_history(big, args.history)
        made = time.perf_counter() - t0
        first, ready, cpu = asyncio.run(app_startup(big))
        peer, peer_cpu = engine_startup(big)
        print(
            f"start-up, {args.history:,} records (written in {made:.1f} s): first frame {first * 1000:.0f} ms, "
            f"history read and painted {ready:.2f} s ({cpu:.2f} s CPU); engine alone (peer) {peer:.2f} s "
            f"({peer_cpu:.2f} s CPU), CPU ratio {cpu / peer_cpu:.2f}x"
        )


if __name__ == "__main__":
    main()
