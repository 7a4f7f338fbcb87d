"""Recorder overhead: added time per recorded call and per streamed chunk, and the import time of ``llmcost``.

Run: ``python benchmarks/bench_recorder.py`` (``--quick`` for fewer rounds).

- Per call: ``with tracker.trace(...) as call: call.set_usage(...)`` (plain, and with a service tier and a web search
  to price) and ``call.record(<ChatCompletion>)``, everything included (ids, timestamps, pricing with the shipped catalog, the JSON line, one ``write`` to a real file).
  The peer, measured in the same run, is the pattern of the commonly published ~80-line callback handler: build a
  dict, ``json.dumps``, open the file in append mode, write, close — per call.
- Per chunk: a 1,000-chunk OpenAI-shaped stream iterated through the recorder's stream wrapper, minus the same
  stream iterated bare, divided by the chunk count.
- Import: ``python -X importtime -c "import llmcost"``, the cumulative time of the ``llmcost`` line.
- Where the per-call time goes: the system call (one ``os.write`` of the same line to a file of its own) and the
  rest; and the floor of this API in Python: a bare object's with-block and ``set_usage`` call around one
  ``os.write`` of the same line, doing nothing else.
Targets: ≤ 8 µs median per call and at least 2× faster than the peer, ≤ 0.3 µs per chunk, ≤ 50 ms import. The per-call contenders take turns round by
round, so load on a shared machine falls on all of them alike. Figures and their reading: benchmarks/README.md.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import llmcost
import pricing

ROUNDS = 15
PER_ROUND = 2_000


def median_us(fn: Callable[[int], None], n: int, rounds: int) -> float:
    """Median over ``rounds`` of the mean time per iteration of ``fn(n)``, in microseconds."""
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(n)
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


def interleaved_us(fns: Mapping[str, Callable[[int], None]], n: int, rounds: int) -> dict[str, float]:
    """Like :func:`median_us` for several contenders, one round of each in turn, so load on the machine falls on
    all of them alike; the empty loop's median is taken off every other figure."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn(n)
            samples[name].append((time.perf_counter() - t0) / n * 1e6)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians.pop("nothing", 0.0)
    return {name: value - base for name, value in medians.items()}


def response() -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": 2006,
                "completion_tokens": 300,
                "total_tokens": 2306,
                "prompt_tokens_details": {"cached_tokens": 1920},
                "completion_tokens_details": {"reasoning_tokens": 64},
            },
        }
    )


def bench_calls(directory: Path, rounds: int, parts: bool = True) -> dict[str, float]:
    tracker = llmcost.Tracker(directory / "llmcost", catalog=pricing.load_catalog(), agent="bench")
    completion = response()

    def nothing(n: int) -> None:
        for _ in range(n):
            pass

    def set_usage(n: int) -> None:
        trace = tracker.trace
        for _ in range(n):
            with trace("gpt-4o-mini", "openai") as call:
                call.set_usage(2006, 300, cache_read_input_tokens=1920, reasoning_output_tokens=64)

    def billed(n: int) -> None:
        # A call with a service tier and a server-side tool: the path that prices them (the plain call skips it).
        trace = tracker.trace
        for _ in range(n):
            with trace("gpt-4o-mini", "openai") as call:
                call.set_usage(
                    2006,
                    300,
                    cache_read_input_tokens=1920,
                    reasoning_output_tokens=64,
                    service_tier="priority",
                    web_search_requests=2,
                )

    def record_response(n: int) -> None:
        trace = tracker.trace
        for _ in range(n):
            with trace("gpt-4o-mini", "openai") as call:
                call.record(completion)

    peer_path = directory / "peer.jsonl"

    def peer(n: int) -> None:
        # The published handler pattern: a dict per call, json.dumps, open-append-close.
        for i in range(n):
            start = time.time()
            entry = {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)),
                "run_id": f"{i:032x}",
                "model": "gpt-4o-mini",
                "prompt_tokens": 2006,
                "completion_tokens": 300,
                "total_tokens": 2306,
                "cost": (2006 * 0.15 + 300 * 0.6) / 1e6,
                "latency": time.time() - start,
                "agent": "bench",
            }
            with open(peer_path, "a") as fh:
                fh.write(json.dumps(entry) + "\n")

    set_usage(500)  # warm the catalog cache and the file
    billed(500)
    contenders = {
        "nothing": nothing,
        "set_usage": set_usage,
        "billed": billed,
        "record": record_response,
        "peer": peer,
    }
    out = interleaved_us(contenders, PER_ROUND, rounds)
    if parts:
        out.update(breakdown(tracker, directory, rounds))
    tracker.close()
    return out


def breakdown(tracker: llmcost.Tracker, directory: Path, rounds: int) -> dict[str, float]:
    """The system call alone (one ``os.write`` of the same line to a file of its own), and the floor of this API in
    Python."""
    with tracker.trace("gpt-4o-mini", "openai") as sample:
        sample.set_usage(2006, 300, cache_read_input_tokens=1920, reasoning_output_tokens=64)
    assert isinstance(tracker.writer, llmcost.FileWriter)
    assert tracker.writer.path is not None
    line = tracker.writer.path.read_bytes().splitlines()[-1] + b"\n"
    fd = os.open(directory / "raw.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def nothing(n: int) -> None:
        for _ in range(n):
            pass

    def raw_write(n: int) -> None:
        for _ in range(n):
            os.write(fd, line)

    class Bare:
        """The least a recorder with this API can do in Python: a with-block, a set_usage call, one write."""

        __slots__ = ("usage",)

        def __enter__(self) -> Bare:
            return self

        def __exit__(self, *exc: object) -> None:
            os.write(fd, line)

        def set_usage(self, inp: int, out: int, **more: int) -> None:
            self.usage = (inp, out, more)

    def floor(n: int) -> None:
        for _ in range(n):
            with Bare() as call:
                call.set_usage(2006, 300, cache_read_input_tokens=1920, reasoning_output_tokens=64)

    try:
        parts = interleaved_us({"nothing": nothing, "raw_write": raw_write, "floor": floor}, PER_ROUND, rounds)
    finally:
        os.close(fd)
    return {f"part:{name}": value for name, value in parts.items()}


def bench_chunks(rounds: int) -> float:
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=pricing.load_catalog())
    delta = SimpleNamespace(content="tok", tool_calls=None, reasoning_content=None, refusal=None, function_call=None)
    chunk = SimpleNamespace(id="c", model="gpt-4o-mini", choices=[SimpleNamespace(delta=delta)], usage=None)
    usage = SimpleNamespace(prompt_tokens=10, completion_tokens=1000, prompt_tokens_details=None)
    chunks: list[Any] = [chunk] * 999 + [SimpleNamespace(id="c", model="gpt-4o-mini", choices=[], usage=usage)]

    def bare(n: int) -> None:
        for _ in range(n // len(chunks)):
            for _c in chunks:
                pass

    def wrapped(n: int) -> None:
        for _ in range(n // len(chunks)):
            for _c in tracker.stream(chunks, "gpt-4o-mini", "openai", kind="openai_chat"):
                pass

    n = 20 * len(chunks)
    per_call_us = median_us(wrapped, n, rounds) - median_us(bare, n, rounds)
    one_record = 20  # each round records 20 calls: take their cost out, leave the per-chunk part
    call_us = bench_call_only(tracker, rounds)
    return per_call_us - call_us * one_record / n


def bench_call_only(tracker: llmcost.Tracker, rounds: int) -> float:
    def empty_stream(n: int) -> None:
        for _ in range(n):
            for _c in tracker.stream((), "gpt-4o-mini", "openai", kind="openai_chat"):
                pass

    return median_us(empty_stream, 500, rounds)


def import_ms() -> float:
    samples = []
    for _ in range(5):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import llmcost"], capture_output=True, text=True, check=True
        )
        for line in proc.stderr.splitlines():
            m = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s*llmcost$", line)
            if m:
                samples.append(int(m.group(1)) / 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    argv = argv or []
    rounds = 5 if "--quick" in argv else ROUNDS
    for arg in argv:
        if arg.startswith("--rounds="):
            rounds = int(arg.split("=", 1)[1])
    with tempfile.TemporaryDirectory() as tmp:
        calls = bench_calls(Path(tmp), rounds)
    chunk = bench_chunks(rounds)
    imp = import_ms()
    peer = calls["peer"]
    raw = calls["part:raw_write"]
    floor = calls["part:floor"]
    print(f"llmcost recorder benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpus, median of {rounds})")
    print(f"  per call, trace + set_usage (priced, written):  {calls['set_usage']:7.2f} µs   target ≤ 8")
    print(f"  per call, with service tier + tool fee:         {calls['billed']:7.2f} µs   target ≤ 8")
    print(f"  per call, trace + record(ChatCompletion):       {calls['record']:7.2f} µs")
    print(f"  peer: dict + json.dumps + open-append-close:    {peer:7.2f} µs")
    print(f"  ratio peer / llmcost (set_usage):               {peer / calls['set_usage']:7.1f}x   target ≥ 2")
    print(f"  per streamed chunk:                             {chunk:7.3f} µs   target ≤ 0.3")
    print(f"  import llmcost (-X importtime, cumulative):     {imp:7.1f} ms   target ≤ 50")
    print("  where the per-call time goes (µs):")
    print(f"    os.write of one line (O_APPEND system call, timed alone)   {raw:6.2f}")
    print(f"    everything else: call, ids, clocks, price, line, checks    {calls['set_usage'] - raw:6.2f}")
    print(f"  floor in Python: a bare with-block + set_usage + os.write:  {floor:6.2f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
