"""What feeds the monitor: a follower (or a replayed trace, or the demo) into the engine, on a thread of its own.

No Textual here. The ingest thread and the paint tick share one :class:`Feed`; a lock guards the engine. The paint
tick only *tries* the lock: while a large history batch is being aggregated it skips a frame instead of freezing
the screen, so start-up stays responsive.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llmcost.alerts import Notifier
from llmcost.engine import AlarmEvent, BudgetStatus, Engine, Follower, GroupBy, GroupStats, Snapshot
from llmcost.log import Record, epoch

__all__ = ["Detail", "Feed", "ReplayFeed", "demo_feed"]

POLL_S = 0.25  # new lines are read four times a second: faster than the paint, cheap when idle

ProgressCallback = Callable[[int, int], None]
AlarmCallback = Callable[[list[AlarmEvent]], None]


@dataclass(frozen=True, slots=True)
class Detail:
    """One group, for the detail screen."""

    row: GroupStats | None
    models: tuple[GroupStats, ...]
    calls: tuple[Record, ...]  # newest first
    alarms: tuple[AlarmEvent, ...]
    budgets: tuple[BudgetStatus, ...] = ()  # the day's, and the group's own (an agent's, user's or session's)
    at: float = 0.0  # the engine's time of these figures


class Feed:
    """Follows ``paths`` into an :class:`Engine`: history first (with progress), then new lines as they come."""

    label = "live"

    def __init__(
        self, engine: Engine, follower: Follower, paths: Sequence[str], clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.follower = follower
        self.paths = list(paths)
        engine.follower = follower
        self.lock = threading.Lock()
        self.replayed = False
        self.progress = (0, 1)  # (done, total) bytes of the start-up history
        self.alarm_changes = 0  # counts alarm changes, so the screen knows when to repaint
        self.stop_event = threading.Event()
        self.wake = threading.Event()  # set by a source that pushes records (the OTLP listener): read them now
        self.notifier: Notifier | None = None  # alerts (webhooks, command, bell), sent from the ingest thread
        self._announce_current = True  # the first step tells the notifier what is going on at start

    def now(self) -> float:
        """The engine's clock (a replay runs on record time)."""
        return self.clock()

    # -- the ingest thread --------------------------------------------------------------------------------------------

    def run(self, progress: ProgressCallback, alarms: AlarmCallback) -> None:
        """Replay the history, then follow until :meth:`stop`. Alarms from the history are not reported as new."""
        progress = self._tracked(progress)
        try:
            self.start()
            self._load_catalog()
            for batch in self.follower.replay(progress=progress):
                with self.lock:
                    self.engine.ingest(batch)
                if self.stop_event.is_set():
                    return
            with self.lock:
                self.engine.start_session()
            progress(1, 1)
            self.replayed = True
            while not self._sleep():
                self.step(alarms)
        finally:
            self.finish()

    def _sleep(self) -> bool:
        """Wait for the next step (``POLL_S``, or less when woken); ``True`` once the feed is stopped."""
        self.wake.wait(POLL_S)
        self.wake.clear()
        return self.stop_event.is_set()

    def _load_catalog(self) -> None:
        """Load the price catalog here, off the screen's thread (its version is shown in the header)."""
        try:
            with self.lock:
                self.engine.catalog  # noqa: B018 - the property loads it
        except Exception:  # a broken catalog leaves records unpriced; it must not stop the monitor
            pass

    def _tracked(self, progress: ProgressCallback) -> ProgressCallback:
        """Keep the latest progress on the feed too: the screen may mount after a short replay is over."""

        def report(done: int, total: int) -> None:
            self.progress = (done, total)
            progress(done, total)

        return report

    def step(self, alarms: AlarmCallback) -> None:
        """Read what is new and aggregate it; end quiet alarm episodes."""
        batch = self.new_records()
        with self.lock:
            changes = self.engine.ingest(batch) if batch else self.engine.tick(self.now())
            current = self._current_alarms()
        if current:
            self.notify(current)
        if changes:
            self.alarm_changes += 1
            self.notify(changes)
            alarms(changes)

    def new_records(self) -> list[Record]:
        """The records that arrived since the last step (the follower's new lines)."""
        return self.follower.poll()

    def _current_alarms(self) -> list[AlarmEvent]:
        """Once, on the first step after the history (its stale episodes have just ended): the active episodes.

        They are announced as opened; an episode that was over before the monitor started is never sent."""
        if not self._announce_current or self.notifier is None:
            return []
        self._announce_current = False
        return [e for e in self.engine.alarms.events() if e.active]

    def notify(self, changes: list[AlarmEvent]) -> None:
        """Alerts for these changes: queued only (the webhooks and the command have threads of their own)."""
        if self.notifier is not None:
            self.notifier.handle(changes)

    def start(self) -> None:
        """Hook run on the ingest thread before the history is read."""

    def finish(self) -> None:
        self.follower.close()
        if self.notifier is not None:
            self.notifier.close()

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()

    # -- reads from the paint tick and the screens ---------------------------------------------------------------

    def snapshot(self, group_by: GroupBy, filter: str | None = None, wait: bool = False) -> Snapshot | None:
        """The current state, or ``None`` when the ingest thread holds the engine (skip this frame).

        ``wait``: a frame someone asked for (a key, the end of the replay) waits for the engine instead."""
        if not self.lock.acquire(blocking=wait, timeout=2.0 if wait else -1):
            return None
        try:
            return self.engine.snapshot(group_by, filter=filter or None)
        finally:
            self.lock.release()

    def detail(self, group_by: GroupBy, key: str, limit: int = 50) -> Detail:
        """Recent calls, split per model and alarms of one group."""
        with self.lock:
            snap = self.engine.snapshot(group_by)
            rows = [r for r in snap.rows if r.key == key]
            models = self.engine.group_split(group_by, key, "model")
            calls = self.engine.recent_calls(group_by, key, limit)
            alarms = self.engine.alarms_for(key) if group_by == "agent" else []
        budgets = tuple(b for b in snap.totals.budgets if b.scope == "day" or (b.scope == group_by and b.key == key))
        return Detail(rows[0] if rows else None, tuple(models), tuple(reversed(calls)), tuple(alarms), budgets, snap.at)

    def problems(self) -> list[str]:
        """What stops the monitor from seeing logs, in plain words (checked on the paint tick, so it keeps watching)."""
        out: list[str] = []
        for path in self.paths:
            shown = _home(path)
            if any(c in path for c in "*?["):
                continue
            if not os.path.exists(path):
                out.append(f"{shown} does not exist yet: waiting for it")
            elif not os.access(path, os.R_OK | (os.X_OK if os.path.isdir(path) else 0)):
                out.append(f"cannot read {shown}: permission denied")
        return out + self.alert_problems()

    def alert_problems(self) -> list[str]:
        """Webhooks or the command failing (the monitor goes on; it says so on its notice line)."""
        return self.notifier.problems() if self.notifier is not None else []


def _home(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if home != "/" and path.startswith(home) else path


class ReplayFeed(Feed):
    """A recorded trace played back on its own clock, ``speed`` times faster than it happened."""

    def __init__(
        self, engine: Engine, follower: Follower, paths: Sequence[str], speed: float, wall: Callable[[], float]
    ) -> None:
        super().__init__(engine, follower, paths, wall)
        self.speed = speed
        self.wall = wall
        self.records: list[Record] = []
        self.position = 0
        self._origin: tuple[float, float] | None = None  # (record time, wall time) at the start
        self.label = f"replay ×{speed:g}"

    def now(self) -> float:
        if self._origin is None:
            return self.wall()
        first, started = self._origin
        return first + (self.wall() - started) * self.speed

    def run(self, progress: ProgressCallback, alarms: AlarmCallback) -> None:
        progress = self._tracked(progress)
        try:
            self._load_catalog()
            loaded: list[tuple[float, Record]] = []
            for batch in self.follower.replay(progress=progress):
                loaded.extend((t, r) for r in batch if (t := _epoch(r)) is not None)
            loaded.sort(key=lambda pair: pair[0])
            self.records = [r for _, r in loaded]
            times = [t for t, _ in loaded]
            self._origin = (times[0] if times else self.wall(), self.wall())
            with self.lock:
                self.engine.start_session()
            progress(1, 1)
            self.replayed = True
            while not self.stop_event.wait(POLL_S):
                self._release(times, alarms)
        finally:
            self.finish()

    def _release(self, times: list[float], alarms: AlarmCallback) -> None:
        now = self.now()
        end = self.position
        while end < len(times) and times[end] <= now:
            end += 1
        if end == self.position:
            return
        batch, self.position = self.records[self.position : end], end
        with self.lock:
            changes = self.engine.ingest(batch)
        if changes:
            self.alarm_changes += 1
            self.notify(changes)
            alarms(changes)

    @property
    def fraction(self) -> float:
        return self.position / len(self.records) if self.records else 0.0


def _epoch(r: Record) -> float | None:
    try:
        return epoch(r.ts)
    except (TypeError, ValueError):
        return None


class _DemoFeed(Feed):
    """Simulated agents writing to a temporary directory while the monitor follows it."""

    label = "demo"

    def __init__(self, engine: Engine, follower: Follower, directory: str, seed: int) -> None:
        super().__init__(engine, follower, [directory])
        self.directory = directory
        self.seed = seed
        self.traffic: object | None = None

    def start(self) -> None:
        from llmcost.demo import demo_traffic, write_demo, write_history

        # A month of history (about 0.3 s), so the history screen shows trends at once; then a minute of traffic, so
        # the first frames already have rows, a sparkline and an alarm episode.
        now = self.now()
        write_history(self.directory, 30, now=now - 60.0, seed=self.seed)
        write_demo(self.directory, duration=60.0, seed=self.seed + 1)
        self.traffic = demo_traffic(self.directory, seed=self.seed)

    def finish(self) -> None:
        traffic = self.traffic
        if traffic is not None:
            traffic.stop()  # type: ignore[attr-defined]
        super().finish()
        shutil.rmtree(self.directory, ignore_errors=True)

    def problems(self) -> list[str]:
        return self.alert_problems()


def demo_feed(engine_factory: Callable[[], Engine], seed: int = 1) -> Feed:
    """A feed over a fresh temporary directory that the demo traffic writes to (removed when the feed stops)."""
    directory = tempfile.mkdtemp(prefix="llmcost-demo-")
    return _DemoFeed(engine_factory(), Follower([directory]), directory, seed)
