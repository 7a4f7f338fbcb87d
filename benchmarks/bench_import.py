"""Importing Claude Code transcripts: ``llmcost import claude-code`` beside the usual JSON loop, in the same run.

Run: ``python benchmarks/bench_import.py [--quick] [--mb N] [--repeat K]``. Generates about 1 GB (``--quick``: about
100 MB) of transcripts shaped like Claude Code's (projects, sessions of a few MB, user prompts, tool results of
lognormal size with their ``toolUseResult`` copy, assistant messages streamed as 1-3 lines whose output count grows,
thinking blocks, summaries) and times, on the same files:

- ours: ``Importer(ClaudeCode(), ...).scan()``, the whole import: msgspec decodes every line into structs of only the
  fields a call needs, streamed chunks are merged per ``message.id``, each call is priced with the shipped catalog at
  its own time, encoded as a wire-format record and appended to its day file in batches; the state is saved;
- the peer: the loop ccusage-style tools run, in Python: ``for line in f: obj = json.loads(line)``, keep assistant
  lines with usage, de-duplicate by ``message.id`` + ``requestId`` (keeping the highest output count), sum the usage.
  It writes and prices nothing, so it does less than ours.

Both read the same bytes (warm in the page cache: each runs ``K`` times, alternating, and the best run counts); the
totals they find must agree. Prints records/s, MB/s and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

START = 1767225600.0  # 2026-01-01T00:00:00Z
_VOCABULARY = (
    "the of and to in is that for it as with was on be by this are or from at which an have not but had they def "
    "return self import class if else for while try except raise None True False print len range str int dict list"
)
WORDS = tuple(_VOCABULARY.split())


def _text(rng: random.Random, n: int) -> str:
    out: list[str] = []
    size = 0
    while size < n:
        word = rng.choice(WORDS)
        if rng.random() < 0.04:
            word += '\n    "quoted"'  # escapes, as code in tool output has
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def _pool(rng: random.Random, count: int, mu: float, sigma: float) -> list[str]:
    """JSON-escaped texts of lognormal length (escaping once here keeps generation fast)."""
    return [json.dumps(_text(rng, int(rng.lognormvariate(mu, sigma))))[1:-1] for _ in range(count)]


def generate(root: Path, megabytes: int, seed: int = 7) -> int:
    """Transcripts of about ``megabytes`` MB under ``root``; returns the bytes written."""
    rng = random.Random(seed)
    results, halves, answers = _pool(rng, 400, 7.6, 1.3), _pool(rng, 200, 6.5, 1.0), _pool(rng, 200, 6, 1)
    prompts, commands, titles = _pool(rng, 100, 5, 1), _pool(rng, 100, 4, 0.5), _pool(rng, 50, 3.5, 0.3)
    models = ("claude-sonnet-4-5-20250929",) * 6 + ("claude-opus-4-1-20250805", "claude-haiku-4-5-20251001")
    target = megabytes * 1_000_000
    written = 0
    t = START
    session_no = 0
    while written < target:
        session_no += 1
        project = f"-home-dev-project-{session_no % 20:02d}"
        cwd = "/home/dev/project-" + f"{session_no % 20:02d}"
        sid = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}"
        base = f'{{"parentUuid":"{rng.getrandbits(64):016x}","isSidechain":false,"userType":"external","cwd":"{cwd}","sessionId":"{sid}","version":"2.0.31","gitBranch":"main",'
        lines = [f'{{"type":"summary","summary":"{rng.choice(titles)}","leafUuid":"{rng.getrandbits(64):016x}"}}']
        size = rng.randint(1, 8) * 1_000_000
        out = 0
        model = rng.choice(models)
        cached = rng.randint(10_000, 30_000)
        while out < size:
            t += rng.uniform(2, 40)
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
            if rng.random() < 0.15:
                user = f'"type":"user","message":{{"role":"user","content":"{rng.choice(prompts)}"}}'
            else:
                user = (
                    f'"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_01{rng.getrandbits(40):010x}",'
                    f'"type":"tool_result","content":"{rng.choice(results)}"}}]}},'
                    f'"toolUseResult":{{"stdout":"{rng.choice(halves)}","stderr":"","interrupted":false}}'
                )
            lines.append(f'{base}{user},"uuid":"{rng.getrandbits(64):016x}","timestamp":"{ts}"}}')
            mid, rid = f"msg_01{rng.getrandbits(88):022x}", f"req_011{rng.getrandbits(80):020x}"
            write = rng.choice((0, 0, 0, rng.randint(100, 6000)))
            hour = write if rng.random() < 0.5 else 0
            fresh = rng.randint(1, 12)
            final = rng.randint(20, 2500)
            chunks = rng.choice((1, 2, 2, 3))
            for c in range(chunks):
                last = c == chunks - 1
                kind = rng.choice(("thinking", "text", "tool_use")) if not last else rng.choice(("text", "tool_use"))
                if kind == "thinking":
                    content = f'[{{"type":"thinking","thinking":"{rng.choice(answers)}","signature":"{rng.getrandbits(128):032x}"}}]'
                elif kind == "text":
                    content = f'[{{"type":"text","text":"{rng.choice(answers)}"}}]'
                else:
                    content = f'[{{"type":"tool_use","id":"toolu_01{rng.getrandbits(40):010x}","name":"Bash","input":{{"command":"{rng.choice(commands)}"}}}}]'
                usage = (
                    f'{{"input_tokens":{fresh},"cache_creation_input_tokens":{write},"cache_read_input_tokens":{cached},'
                    f'"cache_creation":{{"ephemeral_5m_input_tokens":{write - hour},"ephemeral_1h_input_tokens":{hour}}},'
                    f'"output_tokens":{final if last else rng.randint(1, 9)},"service_tier":"standard"}}'
                )
                stop = f'"{"tool_use" if kind == "tool_use" else "end_turn"}"' if last else "null"
                lines.append(
                    f'{base}"message":{{"model":"{model}","id":"{mid}","type":"message","role":"assistant",'
                    f'"content":{content},"stop_reason":{stop},"stop_sequence":null,"usage":{usage}}},'
                    f'"requestId":"{rid}","type":"assistant","uuid":"{rng.getrandbits(64):016x}","timestamp":"{ts}"}}'
                )
            cached += write + rng.randint(200, 3000)
            out = sum(len(x) + 1 for x in lines)
        folder = root / project
        folder.mkdir(parents=True, exist_ok=True)
        data = ("\n".join(lines) + "\n").encode()
        (folder / f"{sid}.jsonl").write_bytes(data)
        written += len(data)
    old = time.time() - 3600  # settled sessions: every message is complete
    for path in root.rglob("*.jsonl"):
        os.utime(path, (old, old))
    return written


def ours(root: Path, home: Path) -> int:
    """The whole import into a fresh log directory and state (the time measured); the records written."""
    from llmcost.importers import ClaudeCode, Importer

    with Importer(ClaudeCode(), [root], home / "logs", home=home) as importer:
        importer.scan()
    return importer.summary.records


def fresh(home: Path) -> None:
    for path in (home / "logs", home / "imports"):
        shutil.rmtree(path, ignore_errors=True)


def _sums_from_log(logs: Path, decode: object) -> tuple[int, int, int, int]:
    fresh = read = write = output = 0
    for path in logs.iterdir():
        for line in path.read_bytes().splitlines():
            r = decode(line)  # type: ignore[operator]
            fresh += r.input_tokens - r.cache_read_input_tokens - r.cache_creation_input_tokens
            read += r.cache_read_input_tokens
            write += r.cache_creation_input_tokens
            output += r.output_tokens
    return fresh, read, write, output


def peer(root: Path) -> tuple[int, tuple[int, int, int, int]]:
    """``for line in f: json.loads(line)``, keep assistant usage, one entry per message.id + requestId, sum."""
    best: dict[str, dict[str, int]] = {}
    for path in sorted(root.rglob("*.jsonl")):
        with open(path, "rb") as f:
            for line in f:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if obj.get("type") != "assistant":
                    continue
                message = obj.get("message") or {}
                usage = message.get("usage")
                if not usage or message.get("model") == "<synthetic>":
                    continue
                key = f"{message.get('id')}:{obj.get('requestId')}"
                seen = best.get(key)
                if seen is None or usage.get("output_tokens", 0) >= seen.get("output_tokens", 0):
                    best[key] = usage
    fresh = read = write = output = 0
    for u in best.values():
        fresh += u.get("input_tokens", 0)
        read += u.get("cache_read_input_tokens", 0)
        write += u.get("cache_creation_input_tokens", 0)
        output += u.get("output_tokens", 0)
    return len(best), (fresh, read, write, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 100 MB instead of 1 GB")
    parser.add_argument("--mb", type=int, default=None, help="megabytes of transcripts to generate")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each contender (the best counts)")
    args = parser.parse_args(argv)
    megabytes = args.mb or (100 if args.quick else 1000)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        root, home = Path(tmp) / "projects", Path(tmp) / "home"
        t0 = time.perf_counter()
        size = generate(root, megabytes)
        files = sum(1 for _ in root.rglob("*.jsonl"))
        print(f"transcripts: {size / 1e6:.0f} MB in {files} files (generated in {time.perf_counter() - t0:.1f} s)")
        for path in root.rglob("*.jsonl"):  # into the page cache, for both
            path.read_bytes()
        import pricing

        pricing.load_catalog()  # loaded once per process by either path; not what is measured
        best_ours = best_peer = cpu_ours = cpu_peer = float("inf")
        written = 0
        result_peer: tuple[int, tuple[int, int, int, int]] = (0, (0, 0, 0, 0))
        for _ in range(args.repeat):
            fresh(home)
            t, c = time.perf_counter(), time.process_time()
            written = ours(root, home)
            best_ours, cpu_ours = min(best_ours, time.perf_counter() - t), min(cpu_ours, time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            result_peer = peer(root)
            best_peer, cpu_peer = min(best_peer, time.perf_counter() - t), min(cpu_peer, time.process_time() - c)
        from llmcost.log import decode_record

        result_ours = (written, _sums_from_log(home / "logs", decode_record))
        if result_ours != result_peer:
            print(f"MISMATCH: ours {result_ours} != peer {result_peer}", file=sys.stderr)
            return 1
        calls = result_ours[0]
        t = time.perf_counter()
        from llmcost.importers import ClaudeCode, Importer

        with Importer(ClaudeCode(), [root], home / "logs", home=home) as again:
            again.scan()
        nothing_new = time.perf_counter() - t
        assert again.summary.records == 0
    print(f"calls: {calls} (the same {calls} calls and token sums found by both)")
    print(f"{'':<34}{'seconds':>9}{'calls/s':>12}{'MB/s':>9}{'CPU s':>8}")
    for name, secs, cpu in (
        ("ours: llmcost import (all of it)", best_ours, cpu_ours),
        ("peer: json.loads loop, sums only", best_peer, cpu_peer),
    ):
        print(f"{name:<34}{secs:>9.2f}{calls / secs:>12,.0f}{size / 1e6 / secs:>9.0f}{cpu:>8.2f}")
    print(f"ratio: ours is {best_peer / best_ours:.2f}x the peer's speed ({cpu_peer / cpu_ours:.2f}x in CPU time)")
    print(f"import again, nothing new: {nothing_new * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
