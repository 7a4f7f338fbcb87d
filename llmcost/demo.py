"""Realistic sample traffic (``llmcost demo``, ``llmcost-top --demo``) written to the log directory through the real recorder.

Simulated agents call several providers and models (Anthropic, OpenAI, Google, a local Ollama model); ``analyst``
streams from a slow reasoning model (long TTFT); ``retry-bot`` regularly falls into a retry loop: the same request
(same ``prompt_hash``) sent again and again within seconds, failing with 429 and 500 and a growing ``attempt``.
Every record goes through :class:`~llmcost.Tracker` (pricing and the JSONL writer), so what the monitor shows is
what real use produces. The same seed gives the same traffic.

``write_history`` adds the month before: a few hundred calls a day by the same agents, busier on weekdays and in
working hours, growing over the period, with ``analyst`` (o3) taken up in the last two weeks, so the history
screen and the reports show trends at once.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from llmcost.recorder import Tracker

__all__ = ["DemoTraffic", "demo_traffic", "write_demo", "write_history"]


class RateLimitError(Exception):
    status_code = 429


class InternalServerError(Exception):
    status_code = 500


@dataclass
class _Event:
    """One simulated call, ``at`` seconds after the start."""

    at: float
    agent: str
    model: str
    provider: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read: int | None = None
    reasoning: int | None = None
    latency: float = 1.0
    ttft: float | None = None
    error: type[Exception] | None = None
    attempt: int = 0
    prompt: str = ""
    session: str | None = None
    user: str | None = None
    gpu_seconds: float | None = None
    tags: list[str] = field(default_factory=list)


# agent -> (weight, provider, model, input range, output range)
_AGENTS: dict[str, tuple[float, str, str, tuple[int, int], tuple[int, int]]] = {
    "planner": (1.6, "anthropic", "claude-sonnet-4-5", (800, 5_000), (100, 700)),
    "researcher": (2.0, "openai", "gpt-4o", (500, 5_000), (100, 600)),
    "support-bot": (2.5, "openai", "gpt-4o-mini", (300, 3_000), (50, 400)),
    "summarizer": (1.3, "google", "gemini-2.5-pro", (1_500, 10_000), (150, 600)),
    "local-coder": (2.0, "ollama", "llama3.2", (200, 4_000), (50, 800)),
    "analyst": (0.8, "openai", "o3", (2_000, 8_000), (300, 1_500)),
}


def _normal_call(rng: random.Random, at: float, agent: str, n: int) -> _Event:
    _, provider, model, (lo_in, hi_in), (lo_out, hi_out) = _AGENTS[agent]
    inp = int(math.exp(rng.uniform(math.log(lo_in), math.log(hi_in))))
    out = rng.randint(lo_out, hi_out)
    ev = _Event(at, agent, model, provider, inp, out, prompt=f"{agent}:{n}")
    ev.latency = 0.3 + out / rng.uniform(40, 120)
    ev.session = f"{agent}-s{rng.randint(1, 6)}"
    ev.user = f"user-{rng.randint(1, 12)}" if agent == "support-bot" else None
    if provider == "anthropic" and rng.random() < 0.7:
        ev.cache_read = int(inp * rng.uniform(0.5, 0.9))
    if provider == "openai" and rng.random() < 0.4:
        ev.cache_read = (int(inp * rng.uniform(0.3, 0.8)) // 128) * 128
    if model == "o3":  # the slow streaming reasoning model
        ev.reasoning = int(out * rng.uniform(0.4, 0.8))
        ev.ttft = rng.uniform(3.0, 8.0)
        ev.latency = ev.ttft + out / rng.uniform(30, 60)
    elif rng.random() < 0.5:
        ev.ttft = rng.uniform(0.2, 0.9)
    if provider == "ollama":
        ev.gpu_seconds = ev.latency * 0.95
    if rng.random() < 0.02:
        ev.error, ev.output_tokens = InternalServerError, 0
    ev.tags = ["demo"]
    return ev


def _retry_loop(rng: random.Random, at: float, episode: int) -> Iterator[_Event]:
    """25-40 identical requests in about 12 seconds, most failing, attempts counting up."""
    prompt = f"retry-bot:stuck:{episode}"
    t = at
    for attempt in range(rng.randint(25, 40)):
        error = rng.choice([RateLimitError, RateLimitError, InternalServerError]) if rng.random() < 0.8 else None
        ev = _Event(t, "retry-bot", "gpt-4o", "openai", 6_000 + rng.randint(0, 50), 0 if error else 120)
        ev.error, ev.attempt, ev.prompt = error, attempt, prompt
        ev.latency = rng.uniform(0.05, 0.3) if error else rng.uniform(0.8, 1.5)
        ev.session, ev.tags = f"retry-bot-s{episode}", ["demo"]
        yield ev
        t += rng.uniform(0.2, 0.5)


def events(seed: int = 0, rate: float = 3.0) -> Iterator[_Event]:
    """The endless, deterministic event stream (``at`` in seconds from the start, non-decreasing)."""
    rng = random.Random(seed)
    names = list(_AGENTS)
    weights = [_AGENTS[a][0] for a in names]
    t, n, episode = 0.0, 0, 0
    next_loop = rng.uniform(5.0, 15.0)
    pending: list[_Event] = []
    while True:
        t += rng.expovariate(rate)
        if t >= next_loop:
            pending.extend(_retry_loop(rng, next_loop, episode))
            episode += 1
            next_loop += rng.uniform(60.0, 120.0)
        while pending and pending[0].at <= t:
            yield pending.pop(0)
        n += 1
        yield _normal_call(rng, t, rng.choices(names, weights)[0], n)


def _record_event(tracker: Tracker, ev: _Event, end: float) -> None:
    """Send one simulated call through the recorder, as if it ended at ``end`` (epoch seconds)."""
    messages = [{"role": "user", "content": ev.prompt}]
    call = tracker.trace(
        ev.model,
        ev.provider,
        messages=messages,
        source=ev.provider if ev.provider in ("openai", "anthropic", "ollama") else "sdk",
        stream=ev.ttft is not None,
        attempt=ev.attempt,
        agent=ev.agent,
        session_id=ev.session,
        user_id=ev.user,
        workflow="demo",
        tags=ev.tags,
    )
    call.wall0 = end - ev.latency
    call.t0 = time.perf_counter() - ev.latency
    call.ttft = ev.ttft
    call.response_model = ev.model
    if ev.error is not None:
        call.set_error(ev.error(f"simulated {ev.error.__name__}"))
    else:
        call.set_usage(
            ev.input_tokens,
            ev.output_tokens,
            cache_read_input_tokens=ev.cache_read,
            reasoning_output_tokens=ev.reasoning,
            gpu_seconds=ev.gpu_seconds,
        )
    call.finish()


def write_demo(directory: str | Path, *, duration: float = 60.0, rate: float = 3.0, seed: int = 0) -> int:
    """Write ``duration`` seconds of traffic ending now, at once (timestamps spread over the window).

    Returns the number of records written.
    """
    tracker = Tracker(directory)
    start = time.time() - duration
    count = 0
    for ev in events(seed, rate):
        if ev.at > duration:
            break
        _record_event(tracker, ev, start + ev.at)
        count += 1
    tracker.close()
    return count


HISTORY_CALLS_PER_DAY = 240  # a weekday at the start of the period; about 9,000 calls over 30 days
_WEEKEND = 0.3  # of a weekday's calls
_GROWTH = 0.8  # more calls a day at the end of the period than at its start
_NEW_AGENT = ("analyst", 14)  # an agent taken up this many days before the end
# Calls per UTC hour of a working day: quiet at night, busy from 8 to 18.
_HOURS = [0.2] * 7 + [0.6] + [1.0] * 10 + [0.6, 0.4, 0.3, 0.2, 0.2, 0.2]


def write_history(directory: str | Path, days: int = 30, *, now: float | None = None, seed: int = 0) -> int:
    """Write ``days`` UTC days of past traffic ending at ``now`` (default: the clock), the day of ``now`` included up
    to that moment, through the recorder into daily log files.

    A day that already has a log file in ``directory`` is left alone, so running it again never counts a day twice
    (and never mixes sample calls into a day of real ones). Returns the number of records written.
    """
    end = time.time() if now is None else now
    today = dt.datetime.fromtimestamp(end, dt.timezone.utc).date()
    tracker = Tracker(directory)
    count = 0
    for back in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=back)
        if any(Path(directory).glob(f"llm_trace_{day.isoformat()}*.jsonl")):
            continue
        for ev, at in _day_of_history(day, 1 - back / max(days - 1, 1), back, seed):
            if at >= end:
                break
            _record_event(tracker, ev, at)
            count += 1
    tracker.close()
    return count


def _day_of_history(day: dt.date, progress: float, back: int, seed: int) -> Iterator[tuple[_Event, float]]:
    """One day's calls in time order, with the epoch second each ends at; ``progress`` runs from 0 (the first day of
    the period) to 1 (today). The same day and seed give the same calls."""
    rng = random.Random(seed * 100_003 + day.toordinal())
    rate = HISTORY_CALLS_PER_DAY * (1 + _GROWTH * progress) * (_WEEKEND if day.weekday() >= 5 else 1.0)
    names = [a for a in _AGENTS if a != _NEW_AGENT[0] or back < _NEW_AGENT[1]]
    weights = [_AGENTS[a][0] for a in names]
    midnight = dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()
    n = max(1, round(rate * rng.uniform(0.85, 1.15)))
    hours = rng.choices(range(24), _HOURS, k=n)
    times = sorted(midnight + 3600 * (h + rng.random()) for h in hours)
    for i, at in enumerate(times):
        ev = _normal_call(rng, 0.0, rng.choices(names, weights)[0], i)
        ev.prompt = f"{ev.agent}:{day.isoformat()}:{i}"  # no two alike: history is no retry loop
        if ev.error is None and rng.random() < 0.02:  # rate limited now and then, and tried again
            ev.error, ev.output_tokens = RateLimitError, 0
        elif rng.random() < 0.02:
            ev.attempt = 1
        yield ev, at


class DemoTraffic:
    """Simulated traffic written in real time by a background thread until :meth:`stop`.

    >>> traffic = demo_traffic("/tmp/llmcost-demo", rate=3, seed=1)        # doctest: +SKIP
    >>> ...                                                               # the monitor follows the directory
    >>> traffic.stop()                                                    # doctest: +SKIP

    Also a context manager (``with demo_traffic(path):``). ``written`` counts the records so far. ``speed`` > 1
    compresses simulated time (2.0: twice as many calls per wall-clock second, same sequence).
    """

    def __init__(self, directory: str | Path, *, rate: float = 3.0, seed: int = 0, speed: float = 1.0) -> None:
        self.directory = Path(directory)
        self.tracker = Tracker(self.directory)
        self.rate, self.seed, self.speed = rate, seed, speed
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="llmcost-demo", daemon=True)

    def start(self) -> DemoTraffic:
        self._thread.start()
        return self

    def _run(self) -> None:
        origin = time.time()
        for ev in events(self.seed, self.rate):
            due = origin + ev.at / self.speed
            if self._stop.wait(max(0.0, due - time.time())):
                break
            _record_event(self.tracker, ev, time.time())
            self.written += 1
        self.tracker.close()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop writing and wait for the thread to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> DemoTraffic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def demo_traffic(directory: str | Path, *, rate: float = 3.0, seed: int = 0, speed: float = 1.0) -> DemoTraffic:
    """Start writing simulated traffic to ``directory`` in real time; returns the running :class:`DemoTraffic`.

    ``rate`` is the mean number of calls per second (plus the retry-loop bursts), ``seed`` makes the sequence
    repeatable, ``speed`` compresses time. Call ``.stop()`` (or leave its ``with`` block) to end it; the thread is a
    daemon, so it never keeps the process alive.
    """
    return DemoTraffic(directory, rate=rate, seed=seed, speed=speed).start()
