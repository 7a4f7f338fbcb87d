"""Recorder overhead: added time per recorded call and per streamed chunk, and the import time of ``llmcost``.

Run: ``python benchmarks/bench_recorder.py`` (``--quick`` for fewer rounds).

- Per call: ``with tracker.trace(...) as call: call.set_usage(...)`` and ``call.record(<ChatCompletion>)``, everything
  included (ids, timestamps, pricing with the shipped catalog, msgspec encoding, one ``os.write`` to a real file).
  The peer, measured in the same run, is the pattern of the commonly published ~80-line callback handler: build a
  dict, ``json.dumps`` it, open the file in append mode, write, close — per call.
- Per chunk: a 1,000-chunk OpenAI-shaped stream iterated through the recorder's stream wrapper, minus the same
  stream iterated bare, divided by the chunk count.
- Import: ``python -X importtime -c "import llmcost"``, the cumulative time of the ``llmcost`` line.
Targets: ≤ 3 µs median per call, ≤ 0.3 µs per chunk, ≤ 50 ms import.
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
from collections.abc import Callable
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


def bench_calls(directory: Path, rounds: int) -> dict[str, float]:
    tracker = llmcost.Tracker(directory / "llmcost", catalog=pricing.load_catalog(), agent="bench")
    from openai.types.chat import ChatCompletion

    response = ChatCompletion.model_validate(
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

    def nothing(n: int) -> None:
        for _ in range(n):
            pass

    def set_usage(n: int) -> None:
        trace = tracker.trace
        for _ in range(n):
            with trace("gpt-4o-mini", "openai") as call:
                call.set_usage(2006, 300, cache_read_input_tokens=1920, reasoning_output_tokens=64)

    def record_response(n: int) -> None:
        trace = tracker.trace
        for _ in range(n):
            with trace("gpt-4o-mini", "openai") as call:
                call.record(response)

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
    base = median_us(nothing, PER_ROUND, rounds)
    out = {
        "set_usage": median_us(set_usage, PER_ROUND, rounds) - base,
        "record": median_us(record_response, PER_ROUND, rounds) - base,
        "peer": median_us(peer, PER_ROUND, rounds) - base,
    }
    tracker.close()
    return out


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
    rounds = 5 if argv and "--quick" in argv else ROUNDS
    with tempfile.TemporaryDirectory() as tmp:
        calls = bench_calls(Path(tmp), rounds)
    chunk = bench_chunks(rounds)
    imp = import_ms()
    peer = calls["peer"]
    print(f"llmcost recorder benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpus, median of {rounds})")
    print(f"  per call, trace + set_usage (priced, written):  {calls['set_usage']:7.2f} µs   target ≤ 3")
    print(f"  per call, trace + record(ChatCompletion):       {calls['record']:7.2f} µs")
    print(f"  peer: dict + json.dumps + open-append-close:    {peer:7.2f} µs")
    print(f"  ratio peer / llmcost (set_usage):               {peer / calls['set_usage']:7.1f}x")
    print(f"  per streamed chunk:                             {chunk:7.3f} µs   target ≤ 0.3")
    print(f"  import llmcost (-X importtime, cumulative):     {imp:7.1f} ms   target ≤ 50")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
