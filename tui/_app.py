"""The Textual app and the factory that builds it (the CLI and the tests build the same app).

The app owns two loops: the ingest thread (a worker running :meth:`Feed.run`) and the paint tick, at a fixed
rate, which asks the engine for a snapshot and updates keyed rows in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, SystemCommand
from textual.screen import Screen

from llmcost.alerts import AlertConfig, Notifier
from llmcost.engine import AlarmConfig, AlarmEvent, Engine, Follower, GroupBy
from tui._help import HelpScreen
from tui._keys import APP_KEYS
from tui._messages import AlarmsChanged, BellRequested, HistoryProgressed
from tui._monitor import GROUPS, MonitorScreen
from tui._source import Feed, ReplayFeed, demo_feed

if TYPE_CHECKING:
    import datetime as dt

    from pricing import Catalog

__all__ = ["PAINT_HZ", "LlmcostTop", "make_app"]

PAINT_HZ = 2.0  # fixed paint rate: rows change at most this often, whatever the ingest rate


class LlmcostTop(App[int]):
    """``llmcost-top``: build it with :func:`make_app`."""

    CSS_PATH = "llmcost_top.tcss"
    TITLE = "llmcost-top"
    BINDINGS = APP_KEYS

    def __init__(
        self,
        feed: Feed,
        *,
        group_by: GroupBy = "agent",
        alerts: AlertConfig | None = None,
        paint_hz: float = PAINT_HZ,
    ):
        super().__init__()
        self.feed = feed
        self.group_by: GroupBy = group_by
        self.paint_hz = paint_hz
        self._progress_step = -1
        self._ingest_started = False
        if alerts is not None and alerts.enabled:
            feed.notifier = Notifier(alerts, ring=self._request_bell, source=feed.label)

    def _request_bell(self) -> bool:
        """The notifier's bell (called on the ingest thread): rung by the app, on its own thread."""
        self.post_message(BellRequested())
        return True

    @property
    def monitor(self) -> MonitorScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MonitorScreen)
        return screen

    @property
    def paused(self) -> bool:
        return self.monitor.paused

    def _live_monitor(self) -> MonitorScreen | None:
        """The main screen, unless the app is shutting down (timers and messages may still arrive then)."""
        if self.return_code is not None or not self.screen_stack:
            return None
        screen = self.screen_stack[0]
        return screen if isinstance(screen, MonitorScreen) and screen.is_mounted else None

    def get_default_screen(self) -> Screen[Any]:
        return MonitorScreen(self.feed, self.group_by)

    def on_mount(self) -> None:
        # Reading a large history holds the interpreter: the first frame is drawn before it starts.
        self.call_after_refresh(self._start_ingest)
        self.set_interval(1 / self.paint_hz, self._tick)

    def _start_ingest(self) -> None:
        if not self._ingest_started:
            self._ingest_started = True
            self.run_worker(self._ingest, thread=True, exclusive=True, name="ingest")

    def _ingest(self) -> None:
        self.feed.run(self._report_progress, self._report_alarms)

    def _report_alarms(self, changes: list[AlarmEvent]) -> None:
        self.post_message(AlarmsChanged(changes))

    def _report_progress(self, done: int, total: int) -> None:
        step = 100 if total <= 0 else done * 100 // total
        if step != self._progress_step:  # one message per percent, not per batch
            self._progress_step = step
            self.post_message(HistoryProgressed(done, total))

    def _tick(self) -> None:
        monitor = self._live_monitor()
        if monitor is not None and self.screen is monitor:
            monitor.paint()

    def paint_now(self) -> None:
        """Paint at once (tests and ``space``)."""
        self.monitor.paint(force=True)

    @on(HistoryProgressed)
    def _progressed(self, message: HistoryProgressed) -> None:
        monitor = self._live_monitor()
        if monitor is None:
            return
        if message.done >= message.total:
            monitor.show_progress(message.done, message.total)
            monitor.paint(force=True)  # the first full frame as soon as the history is in
        elif message.done == 0:  # the bar at once; then the paint tick moves it (a redraw per percent is too many)
            monitor.show_progress(message.done, message.total)

    @on(AlarmsChanged)
    def _alarms(self, message: AlarmsChanged) -> None:
        monitor = self._live_monitor()
        if monitor is None:
            return
        monitor.alarms_changed(message.events)

    @on(BellRequested)
    def _ring(self) -> None:
        self.bell()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        monitor = self.monitor
        for group in GROUPS:
            yield SystemCommand(f"Group by {group}", f"One row per {group}", lambda g=group: monitor.set_group(g))
        yield SystemCommand("History", "Daily cost of the last 30 days per model", monitor.action_history)
        yield SystemCommand("Pause or resume painting", "Ingest goes on while paused", monitor.action_pause)
        yield SystemCommand("Keys", "All key bindings", self.action_help)

    def on_unmount(self) -> None:
        self.feed.stop()
        if not self._ingest_started:  # closed before the first frame: the feed never ran, release it here
            self._ingest_started = True
            self.feed.finish()

    async def action_quit(self) -> None:
        self.feed.stop()
        await super().action_quit()


def make_app(
    paths: Sequence[str] = (),
    *,
    catalog: Catalog | None = None,
    clock: Callable[[], float] = time.time,
    config: AlarmConfig | None = None,
    since: str | dt.date | None = None,
    all: bool = False,
    demo: bool = False,
    replay: str | None = None,
    speed: float = 1.0,
    group_by: GroupBy = "agent",
    alerts: AlertConfig | None = None,
    bell: bool = False,
    paint_hz: float = PAINT_HZ,
    otlp_listen: tuple[str, int] | None = None,
) -> LlmcostTop:
    """The monitor over ``paths`` (default: the log directory), a replayed trace, or the demo traffic.

    ``alerts``: where new alarm episodes are sent (``None``: nowhere); ``bell`` adds the terminal bell to them.
    ``otlp_listen``: ``(host, port)`` to receive OTLP/HTTP traces on as well (bound here: ``OSError`` if taken)."""
    feed = _feed(
        paths, catalog=catalog, clock=clock, config=config, since=since, all=all, demo=demo, replay=replay, speed=speed
    )
    if otlp_listen is not None:
        feed = _otlp_feed(feed, otlp_listen, catalog)
    if bell:
        alerts = replace(alerts or AlertConfig(), bell=True)
    return LlmcostTop(feed, group_by=group_by, alerts=alerts, paint_hz=paint_hz)


def _otlp_feed(feed: Feed, listen: tuple[str, int], catalog: Catalog | None) -> Feed:
    """The live feed, listening for OTLP/HTTP traces too (OpenTelemetry is imported only for this)."""
    from tui._otlp import OtlpFeed

    if type(feed) is not Feed:
        raise ValueError("OTLP listening goes with the live monitor, not with a replay or the demo")
    return OtlpFeed(feed.engine, feed.follower, feed.paths, listen, feed.clock, catalog=catalog)


def _feed(
    paths: Sequence[str],
    *,
    catalog: Catalog | None,
    clock: Callable[[], float],
    config: AlarmConfig | None,
    since: str | dt.date | None,
    all: bool,
    demo: bool,
    replay: str | None,
    speed: float,
) -> Feed:
    if demo:
        return demo_feed(lambda: Engine(catalog=catalog, config=config, clock=clock))
    if replay is not None:
        feed: ReplayFeed | None = None

        def record_time() -> float:  # the engine runs on the replay's clock
            return feed.now() if feed is not None else clock()

        engine = Engine(catalog=catalog, config=config, clock=record_time)
        feed = ReplayFeed(engine, Follower([replay], all=True, clock=clock), [replay], speed, clock)
        return feed
    if not paths:
        from llmcost.paths import log_dir

        paths = [str(log_dir())]
    engine = Engine(catalog=catalog, config=config, clock=clock)
    return Feed(engine, Follower(paths, since=since, all=all, clock=clock), paths, clock)
