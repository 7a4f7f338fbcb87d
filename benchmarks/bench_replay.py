"""Replay: records in wire format aggregated by agent, beside DuckDB ``read_json`` on the same file and query.

Run: ``python benchmarks/bench_replay.py [--records N] [--quick] [--repeat K]``. Prints records/s of
``llmcost report --by agent`` (``report_files``: every core), of DuckDB (plain ``GROUP BY``; with duplicate ids
dropped first, as our report does; and computing everything the report prints), of the former report path
(follower batches of full records + ``report()``), of the live engine's ``ingest``, and of stdlib ``json`` and
``orjson`` decode loops for context; checks that the per-agent totals (calls, tokens, cost in pico-dollars) equal
DuckDB's. The report and DuckDB run ``K`` times, alternating, and the best run of each counts (other jobs on the
machine slow some runs down).
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import size_parser

from llmcost.engine import Engine, Follower
from llmcost.engine._report import read_history, report
from llmcost.engine._scan import report_files
from llmcost.log._record import Record, encode_record

START = 1772409600.0  # 2026-03-02T00:00:00Z
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", "o3")


def generate(path: Path, n: int, groups: int = 24) -> None:
    rng = random.Random(42)
    agents = [f"agent-{i:02d}" for i in range(groups)]
    with open(path, "wb") as f:
        lines = []
        for i in range(n):
            t = START + i * 0.05
            ms = int(t * 1000) % 1000
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"
            inp = rng.randint(50, 20_000)
            refused = rng.random() < 0.02  # a 429 / 500 before any output: no usage, no cost (as the recorder writes)
            record = Record(
                ts=ts,
                start_ts=ts,
                id=f"{rng.getrandbits(64):016x}",
                trace_id=f"{rng.getrandbits(128):032x}",
                provider="openai",
                request_model=rng.choice(MODELS),
                input_tokens=None if refused else inp,
                output_tokens=None if refused else rng.randint(1, 2000),
                cache_read_input_tokens=None if refused else rng.randint(0, inp),
                usage_source="none" if refused else "provider",
                cost_usd=None if refused else round(rng.random() / 50, 12),
                cost_status="no_usage" if refused else "priced",
                price_ref=None if refused else "2026.03.01:openai/gpt-4o@2024-08-06",
                latency_ms=rng.uniform(80, 9000),
                ttft_ms=None if refused or rng.random() < 0.5 else rng.uniform(20, 900),
                status="error" if refused else "ok",
                http_status=rng.choice((429, 500)) if refused else None,
                agent=rng.choice(agents),
                session_id=f"s{rng.randrange(5000)}",
                user_id=f"u{rng.randrange(300)}",
                prompt_hash=f"{rng.getrandbits(64):016x}",
            )
            lines.append(encode_record(record))
            if len(lines) == 10_000:
                f.write(b"".join(lines))
                lines.clear()
        f.write(b"".join(lines))


def ours(path: Path) -> dict[str, tuple[int, int, int, int]]:
    scan = report_files([path], "agent")
    return {r.key: (r.calls, r.input_tokens, r.output_tokens, r.pico) for r in scan.rows}


def before(path: Path) -> dict[str, tuple[int, int, int, int]]:
    rows = report(read_history([path]), "agent")
    return {r.key: (r.calls, r.input_tokens, r.output_tokens, r.pico) for r in rows}


def engine(path: Path, n: int) -> int:
    # the clock at the last record, as when the monitor starts: only the last 15 minutes fill the live windows
    eng = Engine(clock=lambda: START + n * 0.05)
    with Follower([path], all=True) as follower:
        for batch in follower.replay(batch_lines=50_000):
            eng.ingest(batch)
    return sum(g.calls for g in eng.snapshot("agent").rows)


def duck(path: Path, distinct: bool = False) -> dict[str, tuple[int, int, int, int]]:
    import duckdb

    source = f"read_json('{path}', format = 'newline_delimited')"
    if distinct:  # every id once, as our report reads it
        source = f"(SELECT * FROM {source} QUALIFY row_number() OVER (PARTITION BY id) = 1)"
    query = f"""
        SELECT agent, count(*), sum(input_tokens), sum(output_tokens), sum(round(cost_usd * 1e12)::HUGEINT)
        FROM {source} GROUP BY agent
    """
    con = duckdb.connect()
    try:
        return {a: (int(c), int(i), int(o), int(p)) for a, c, i, o, p in con.execute(query).fetchall()}
    finally:
        con.close()


def duck_report(path: Path) -> int:
    """DuckDB doing all the report does: every id once, calls, errors, retries, five token sums, cost, and latency
    and TTFT percentiles (``approx_quantile``) per agent."""
    import duckdb

    query = f"""
        SELECT agent, count(*), count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE attempt > 0),
            sum(input_tokens), sum(output_tokens), sum(cache_read_input_tokens), sum(cache_creation_input_tokens),
            sum(reasoning_output_tokens), sum(round(cost_usd * 1e12)::HUGEINT),
            approx_quantile(latency_ms, [0.5, 0.95, 0.99]), approx_quantile(ttft_ms, [0.5, 0.95, 0.99])
        FROM (SELECT * FROM read_json('{path}', format = 'newline_delimited')
              QUALIFY row_number() OVER (PARTITION BY id) = 1)
        GROUP BY agent
    """
    con = duckdb.connect()
    try:
        return sum(int(row[1]) for row in con.execute(query).fetchall())
    finally:
        con.close()


def loads_loop(path: Path, loads: Callable[[bytes], object]) -> int:
    """Every line decoded with ``loads`` and nothing else (the decode-only peers); how many there were."""
    n = 0
    with open(path, "rb") as f:
        for line in f:
            loads(line)
            n += 1
    return n


def _cpu() -> float:
    """CPU seconds of this process (every thread) and of its children that have ended."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: object, *args: object) -> tuple[object, float, float]:
    """The result, wall seconds and CPU seconds of ``fn(*args)``."""
    cpu, start = _cpu(), time.perf_counter()
    result = fn(*args)  # type: ignore[operator]
    return result, time.perf_counter() - start, _cpu() - cpu


def peak_memory(groups: int) -> int:
    """Peak resident size (bytes) of ``llmcost report --by agent --json`` over ``groups`` agents of ten calls each."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "llm_trace_2026-03-02.jsonl"
        generate(path, groups * 10, groups)
        code = "import resource, sys; from llmcost.cli import main; main(sys.argv[1:]); " + (
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, "report", str(path), "--by", "agent", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
        me, children = done.stderr.strip().splitlines()[-1].split()
        return max(int(me), int(children)) * 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> int:
    parser = size_parser(__doc__, "records", 1_000_000, "200,000 records, best of 2")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the report and of DuckDB (best counts)")
    parser.add_argument("--groups", type=int, help="measure the peak memory of a report over this many agents")
    args = parser.parse_args(argv)
    if args.groups:
        peak = peak_memory(args.groups)
        print(f"llmcost report --by agent over {args.groups:,} agents (10 calls each): peak RSS {peak / 1e6:,.0f} MB")
        return 0
    n = 200_000 if args.quick else args.records
    repeat = 2 if args.quick else max(1, args.repeat)
    times: dict[str, float] = {}
    cpus: dict[str, float] = {}

    def best(name: str, fn: object, *fargs: object) -> object:
        result, seconds, cpu = timed(fn, *fargs)
        times[name] = min(seconds, times.get(name, seconds))
        cpus[name] = min(cpu, cpus.get(name, cpu))
        return result

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "llm_trace_2026-03-02.jsonl"
        generate(path, n)
        size = path.stat().st_size
        print(f"{n:,} records, {size / 1e6:.0f} MB ({size / n:.0f} bytes a line), {os.cpu_count()} cores")
        for _ in range(repeat):
            mine = best("ours", ours, path)
            theirs = best("duck", duck, path)
            distinct = best("duck_distinct", duck, path, True)
            full = best("duck_report", duck_report, path)
        former = best("before", before, path)
        calls = best("engine", engine, path, n)
        import orjson

        best("json", loads_loop, path, json.loads)
        best("orjson", loads_loop, path, orjson.loads)
    assert isinstance(mine, dict)
    assert isinstance(theirs, dict)
    total_mine = tuple(sum(v[i] for v in mine.values()) for i in range(4))
    total_duck = tuple(sum(v[i] for v in theirs.values()) for i in range(4))
    print(f"totals (calls, input, output, pico-USD): llmcost {total_mine}")
    print(f"                                         duckdb  {total_duck}")
    same = mine == theirs == distinct == former and calls == full == n
    print(f"per-agent totals equal (report, DuckDB, DuckDB distinct ids, former report, engine calls): {same}")
    rate = {k: n / t for k, t in times.items()}
    print(f"llmcost report --by agent (report_files):      {rate['ours']:>12,.0f} records/s")
    print(f"DuckDB read_json + GROUP BY agent:             {rate['duck']:>12,.0f} records/s")
    print(f"ratio llmcost / DuckDB:                        {rate['ours'] / rate['duck']:>12.2f}")
    print(f"DuckDB, duplicate ids dropped first:           {rate['duck_distinct']:>12,.0f} records/s")
    print(f"ratio llmcost / DuckDB (same duplicate rule):  {rate['ours'] / rate['duck_distinct']:>12.2f}")
    print(f"DuckDB, everything the report computes:        {rate['duck_report']:>12,.0f} records/s")
    print(f"ratio llmcost / DuckDB (the report's work):    {rate['ours'] / rate['duck_report']:>12.2f}")
    print(f"former report (follower + report()):           {rate['before']:>12,.0f} records/s")
    print(f"live Engine.ingest (follower + engine):        {rate['engine']:>12,.0f} records/s")
    print(f"stdlib json.loads loop (decode only):          {rate['json']:>12,.0f} records/s")
    print(f"orjson.loads loop (decode only):               {rate['orjson']:>12,.0f} records/s")
    per = {k: c / n * 1e6 for k, c in cpus.items()}
    print("CPU time per record (every thread and process; best run):")
    for key, label in (
        ("ours", "llmcost report --by agent"),
        ("duck", "DuckDB GROUP BY agent"),
        ("duck_distinct", "DuckDB, duplicate ids dropped first"),
        ("duck_report", "DuckDB, everything the report computes"),
    ):
        print(f"  {label:<44} {per[key]:>6.2f} µs   (ours / it: {per[key] / per['ours']:.2f})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
