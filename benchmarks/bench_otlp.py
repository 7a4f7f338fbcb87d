"""OTLP receive latency: a span sent by an SDK → the call visible in the engine's aggregates, at 1,000 spans/s.

Run: ``python benchmarks/bench_otlp.py [--seconds S] [--quick]``. A sender process runs the OpenTelemetry SDK as an
instrumented application does (a tracer, the ``BatchSpanProcessor`` with its defaults, ``OTLPSpanExporter``: protobuf
over HTTP) and ends 1,000 GenAI client spans a second; a wrapper around the exporter notes the time each batch is
handed to it (the send). The latency of a span is the moment the batch holding its record has been ingested by an
:class:`Engine` (its snapshot sees it) minus that send time. Contenders, one after the other in the same run:

- ``llmcost serve-otlp`` (its own process) writes the records to a log directory with ``FileWriter``; this process
  follows the directory (``Follower.watch``) into an engine, as ``llmcost-top`` on that directory would;
- the monitor's listener (``llmcost-top --otlp-listen``: ``tui``'s ``OtlpFeed``, receiver and ingest thread) feeds
  its engine directly;
- peer: the same calls appended to a log file by a writer process, a line each as the recorder writes them, each line
  carrying its write time, followed the same way (``Follower.watch``): the latency a local recorder gets.

The batching delay of the SDK (spans wait in its queue until 512 are there, about half a second at this rate) comes
before the send, so it is not counted: it is the sender's choice, and the same with any receiver.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import latency_summary, pct, size_parser

from llmcost.engine import Engine, Follower
from llmcost.log import Record

RATE = 1000.0

SENDER = r"""
import sys, time
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind

url, rate, seconds, stamps = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
sent = []

class Stamped(SpanExporter):
    def __init__(self, inner):
        self.inner = inner
    def export(self, spans):
        now = time.time()
        result = self.inner.export(spans)
        answered = time.time()
        sent.extend((s.context.span_id, now, answered) for s in spans)
        return result
    def shutdown(self):
        self.inner.shutdown()
    def force_flush(self, timeout_millis=30000):
        return True

provider = TracerProvider(resource=Resource.create({"service.name": "bench-sender"}))
provider.add_span_processor(BatchSpanProcessor(Stamped(OTLPSpanExporter(endpoint=url))))
tracer = provider.get_tracer("bench.genai")
attributes = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
}
start = time.time(); i = 0
while time.time() - start < seconds:
    delay = start + i / rate - time.time()
    if delay > 0:
        time.sleep(delay)
    with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attributes) as span:
        span.set_attribute("gen_ai.agent.name", "agent-%d" % (i % 20))
    i += 1
provider.shutdown()
with open(stamps, "w") as f:
    f.writelines("%016x %r %r\n" % row for row in sent)
"""

WRITER = r"""
import os, sys, time
from llmcost.log import FileWriter, Record
directory, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
writer = FileWriter(directory)
start = time.time(); i = 0
while time.time() - start < seconds:
    delay = start + i / rate - time.time()
    if delay > 0:
        time.sleep(delay)
    now = time.time()
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
    writer.write(Record(ts=ts, id="%016x" % (i + 1), agent="agent-%d" % (i % 20), request_model="gpt-4o-mini",
                        input_tokens=1200, output_tokens=300, cost_usd=0.00036, metadata={"wrote": now}))
    i += 1
writer.close()
"""


def send(url: str, seconds: float, stamps: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", SENDER, url, str(RATE), str(seconds), str(stamps)])


def read_stamps(stamps: Path) -> dict[str, tuple[float, float]]:
    """Span id → (handed to the exporter, the receiver's answer back)."""
    out = {}
    for line in stamps.read_text().splitlines():
        span_id, sent, answered = line.split()
        out[span_id] = (float(sent), float(answered))
    return out


def latencies(visible: dict[str, float], stamps: Path) -> tuple[list[float], list[float], int]:
    """Send → visible per span, send → answered per span, and how many sent spans never became visible."""
    sent = read_stamps(stamps)
    found = [visible[i] - t for i, (t, _) in sent.items() if i in visible]
    answered = [a - t for t, a in sent.values()]
    return found, answered, len(sent) - len(found)


async def follow(directory: Path, stop: asyncio.Event, visible: dict[str, float], writer_times: bool = False) -> None:
    """Follow ``directory`` into an engine as the monitor does; note when each record has been ingested."""
    engine = Engine()
    follower = Follower([directory])
    engine.follower = follower
    async for batch in follower.watch(stop, debounce_ms=20, step_ms=5, poll_ms=1000):
        engine.ingest(batch)
        done = time.time()
        for r in batch:
            visible[r.id] = done - (r.metadata["wrote"] if writer_times and r.metadata else 0.0)
    follower.close()


async def through_serve_otlp(tmp: Path, seconds: float) -> tuple[list[float], list[float], int]:
    logs = tmp / "serve-otlp"
    server = subprocess.Popen(
        [sys.executable, "-m", "llmcost", "serve-otlp", "--listen", "127.0.0.1:0", "--dir", str(logs)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert server.stderr is not None
    line = server.stderr.readline()
    url = line.split("listening on ")[1].split(",")[0]
    logs.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    visible: dict[str, float] = {}
    task = asyncio.create_task(follow(logs, stop, visible))
    await asyncio.sleep(0.5)
    sender = send(url, seconds, tmp / "stamps-serve")
    while sender.poll() is None:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # the last batch: written, then followed
    stop.set()
    await task
    server.terminate()
    server.communicate(timeout=30)
    return latencies(visible, tmp / "stamps-serve")


def through_the_monitor(tmp: Path, seconds: float) -> tuple[list[float], list[float], int]:
    from tui._otlp import OtlpFeed  # the monitor's own feed: receiver, pending list, ingest thread

    (tmp / "empty").mkdir()
    engine = Engine()
    visible: dict[str, float] = {}
    ingest = engine.ingest

    def timed(records: list[Record]) -> object:
        out = ingest(records)
        done = time.time()
        for r in records:
            visible[r.id] = done
        return out

    engine.ingest = timed  # type: ignore[method-assign]
    feed = OtlpFeed(engine, Follower([tmp / "empty"]), [str(tmp / "empty")], ("127.0.0.1", 0))
    thread = threading.Thread(target=feed.run, args=(lambda done, total: None, lambda changes: None), daemon=True)
    thread.start()
    while not feed.replayed:
        time.sleep(0.01)
    sender = send(feed.receiver.url, seconds, tmp / "stamps-monitor")
    sender.wait()
    time.sleep(1.0)
    feed.stop()
    thread.join(30)
    return latencies(visible, tmp / "stamps-monitor")


async def appended_to_the_log(tmp: Path, seconds: float) -> tuple[list[float], list[float], int]:
    logs = tmp / "appended"
    logs.mkdir()
    stop = asyncio.Event()
    visible: dict[str, float] = {}
    task = asyncio.create_task(follow(logs, stop, visible, writer_times=True))
    await asyncio.sleep(0.5)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(logs), str(RATE), str(seconds)])
    while writer.poll() is None:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)
    stop.set()
    await task
    return list(visible.values()), [], 0


def main(argv: list[str] | None = None) -> int:
    args = size_parser(__doc__, "seconds", 10.0, "4 seconds per contender").parse_args(argv)
    seconds = 4.0 if args.quick else args.seconds
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        runs = (
            ("serve-otlp → log → follower", lambda: asyncio.run(through_serve_otlp(tmp, seconds))),
            ("monitor's OTLP listener", lambda: through_the_monitor(tmp, seconds)),
            ("peer: appended to the log", lambda: asyncio.run(appended_to_the_log(tmp, seconds))),
        )
        for name, run in runs:
            lat, answered, lost = run()
            results[name] = lat
            request = f"  (request, send → answer: p50 {pct(answered, 0.5):.1f} ms)" if answered else ""
            print(
                f"{name:<30} {len(lat):>6,} calls ({len(lat) / seconds:,.0f}/s, {lost} lost)  {latency_summary(lat)}{request}",
                flush=True,
            )
    worst = max(pct(results[name], 0.99) for name in list(results)[:2])
    peer = pct(results["peer: appended to the log"], 0.99)
    print(f"p99 send → visible, worst OTLP path: {worst:.1f} ms (target ≤ 100 ms); peer p99 {peer:.1f} ms")
    return 0 if worst <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
