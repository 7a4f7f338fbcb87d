"""Memory: resident set size after 5,000,000 records through the engine (target ≤ 150 MB).

Run: ``python benchmarks/bench_memory.py [--records N] [--quick]``. No 5M-line file is written: records are built on
the fly in batches of 10,000, encoded to wire-format lines and decoded back with the follower's decoder (so the engine
sees exactly what a replay gives it), then ingested; each batch is dropped after ingest. Traffic: 2 days, 60 agents,
8 models, 200,000 sessions, 5,000 users, 2 % errors, prompt hashes mostly unique. The peer figure is what the same
records would take if they were kept in memory (measured on one batch, scaled).
"""

from __future__ import annotations

import gc
import random
import sys
import time
import tracemalloc

import psutil
from _common import size_parser

from llmcost.engine import Engine
from llmcost.log._record import Record, encode_record, record_decoder

START = 1772409600.0
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", "o3", "llama3.1:8b", "mistral", "x-new")


def batches(n: int, size: int = 10_000):  # type: ignore[no-untyped-def]
    rng = random.Random(5)
    decoder = record_decoder()
    span = 2 * 86400 / n
    for first in range(0, n, size):
        lines = []
        for i in range(first, min(n, first + size)):
            t = START + i * span
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
            lines.append(
                encode_record(
                    Record(
                        ts=ts,
                        id=f"{i:016x}",
                        provider="openai",
                        request_model=MODELS[i % 8],
                        input_tokens=rng.randint(10, 9000),
                        output_tokens=rng.randint(1, 900),
                        cost_usd=rng.random() / 1000,
                        cost_status="priced",
                        latency_ms=rng.uniform(50, 5000),
                        ttft_ms=rng.uniform(10, 500),
                        status="error" if rng.random() < 0.02 else "ok",
                        agent=f"agent-{rng.randrange(60)}",
                        session_id=f"s{rng.randrange(200_000)}",
                        user_id=f"u{rng.randrange(5000)}",
                        prompt_hash=f"{rng.getrandbits(32):08x}",
                    )
                )
            )
        yield decoder.decode_lines(b"".join(lines))


def main(argv: list[str] | None = None) -> int:
    args = size_parser(__doc__, "records", 5_000_000, "1,000,000 records").parse_args(argv)
    n = 1_000_000 if args.quick else args.records
    proc = psutil.Process()
    base = proc.memory_info().rss
    engine = Engine(clock=lambda: START + 2 * 86400)
    start = time.perf_counter()
    tracemalloc.start()
    first = next(batches(10_000))
    per_record = tracemalloc.get_traced_memory()[0] / len(first)  # what one decoded record holds (the peer)
    tracemalloc.stop()
    del first
    for batch in batches(n):
        engine.ingest(batch)
    elapsed = time.perf_counter() - start
    engine.snapshot("session")
    gc.collect()
    rss = proc.memory_info().rss
    snap = engine.snapshot("agent")
    print(f"{n:,} records ingested in {elapsed:.1f} s ({n / elapsed:,.0f}/s incl. generation)")
    print(f"calls counted: {snap.totals.calls:,}; cells: {len(engine._cells):,} (cap {engine.max_cells:,})")
    print(f"RSS: {rss / 1e6:.0f} MB (interpreter and imports before the first record: {base / 1e6:.0f} MB)")
    print(
        f"peer: keeping the records themselves would take ~{per_record * n / 1e6:,.0f} MB ({per_record:.0f} bytes each)"
    )
    ok = rss <= 150e6 and snap.totals.calls == n
    print(f"target ≤ 150 MB: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
