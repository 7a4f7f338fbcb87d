"""From alarm changes to alerts: who hears about what, once.

The engine reports an episode every time it changes (opened, a new peak, a higher severity, ended); a loop that goes
on for minutes changes it hundreds of times. Each destination has a :class:`_Gate` that keeps the severity it last
announced per episode, so it hears of an episode once when it opens (or first passes the destination's
``min_severity``), once more if it escalates to a higher severity, and once when it ends (``on_end``; only episodes it
was told about). The monitor hands it the episodes still active when it starts (those of the history that are over
have ended by then): a loop going on now is news; yesterday's is not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from llmcost.alerts._config import SEVERITIES, AlertConfig, WebhookConfig
from llmcost.alerts._message import Alert, State
from llmcost.alerts._sinks import AlertStats, BellSink, CommandSink, Sink, escaped
from llmcost.alerts._webhook import WebhookSink, make_client
from llmcost.engine import AlarmEvent, Severity

__all__ = ["Notifier"]

_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_MAX_TRACKED = 50_000  # episodes remembered per destination (the engine keeps far fewer active)


class _Gate:
    """One destination's filter and memory of what it was told."""

    def __init__(self, min_severity: Severity, kinds: tuple[str, ...], on_end: bool) -> None:
        self.min_rank = _RANK[min_severity]
        self.kinds = frozenset(kinds)
        self.on_end = on_end
        self.announced: dict[str, int] = {}  # episode id -> rank of the severity last announced

    def decide(self, event: AlarmEvent) -> State | None:
        told = self.announced.get(event.id)
        if not event.active:
            if told is None:
                return None
            del self.announced[event.id]
            return "ended" if self.on_end else None
        rank = _RANK[event.severity]
        if rank < self.min_rank or (self.kinds and event.kind not in self.kinds):
            return None
        if told is not None and rank <= told:
            return None
        self.announced[event.id] = rank
        if len(self.announced) > _MAX_TRACKED:
            del self.announced[next(iter(self.announced))]
        return "opened" if told is None else "escalated"


class Notifier:
    """Sends alarm changes to the destinations of an :class:`AlertConfig`; safe to call from the ingest thread.

    ``handle(changes)`` takes what :meth:`Engine.ingest` returns and only queues work: webhooks and the command run on
    threads of their own. ``ring`` rings the bell (default: BEL on the terminal); ``source`` is the monitor's mode,
    named in the messages when it is not ``live``. Nothing raises: see :meth:`stats` and :meth:`problems`.
    """

    def __init__(
        self,
        config: AlertConfig,
        *,
        ring: Callable[[], bool | None] | None = None,
        source: str = "live",
        backoff_s: float = 1.0,
        client_factory: Callable[[float], Any] | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.errors = 0  # alarm changes the notifier itself failed on (counted, never raised)
        self.last_error = ""
        self._routes: list[tuple[_Gate, Sink]] = []
        if config.bell:
            self._routes.append((_Gate(config.min_severity, config.kinds, on_end=False), BellSink(ring)))
        if config.command:
            gate = _Gate(config.min_severity, config.kinds, config.on_end)
            self._routes.append((gate, CommandSink(config.command, config.command_timeout_s)))
        for hook, name in zip(config.webhooks, _webhook_names(config.webhooks)):
            sink = WebhookSink(hook, name, backoff_s=backoff_s, client_factory=client_factory or make_client)
            self._routes.append((_hook_gate(config, hook), sink))

    @property
    def destinations(self) -> list[str]:
        return [sink.name for _, sink in self._routes]

    def handle(self, changes: Iterable[AlarmEvent]) -> int:
        """Queue the alerts these changes call for; returns how many were queued (all destinations together)."""
        batch: list[AlarmEvent] = []
        try:
            batch = list(changes)
            return self._handle(batch)
        except Exception as exc:  # a bug in alerting must never stop the monitor: counted, shown by problems()
            self.errors += max(1, len(batch))
            self.last_error = escaped(f"{type(exc).__name__}: {exc}")  # it may quote a name from the logs
            return 0

    def _handle(self, changes: list[AlarmEvent]) -> int:
        queued = 0
        for gate, sink in self._routes:
            alerts = [Alert.of(state, e, self.source) for e in changes if (state := gate.decide(e)) is not None]
            if alerts:
                sink.submit(alerts)
                queued += len(alerts)
        return queued

    def send_test(self) -> None:
        """A sample alert to every destination, whatever its filters (``llmcost alerts --test``)."""
        now = time.time()
        from llmcost.log import iso

        event = AlarmEvent(
            id="test-1",
            kind="burst",
            severity="warning",
            agent="llmcost-test",
            started_at=iso(now - 12),
            detected_at=iso(now),
            message="a test alert from llmcost alerts --test",
            peak={"calls": 20.0},
        )
        for _, sink in self._routes:
            sink.submit([Alert.of("test", event, self.source)])

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued alert has been tried (delivered, failed or dropped); ``False`` at the deadline."""
        deadline = time.monotonic() + timeout
        return all(sink.flush(max(0.0, deadline - time.monotonic())) for _, sink in self._routes)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the workers: queued alerts get one last try (no retry waits) within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        for _, sink in self._routes:
            sink.close(max(0.0, deadline - time.monotonic()))

    def stats(self) -> tuple[AlertStats, ...]:
        return tuple(sink.stats() for _, sink in self._routes)

    def problems(self) -> list[str]:
        """Failures in plain words, for the monitor's notice line (empty when all is well)."""
        out: list[str] = []
        if self.errors:
            plural = "" if self.errors == 1 else "s"
            out.append(f"{self.errors} alarm change{plural} not turned into alerts ({self.last_error})")
        for s in self.stats():
            if s.destination == "bell":
                continue
            if s.failed:
                out.append(f"alerts to {s.destination} failed {s.failed}× ({s.last_error})")
            if s.dropped:
                out.append(f"{s.dropped} alerts to {s.destination} dropped")
        return out

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hook_gate(config: AlertConfig, hook: WebhookConfig) -> _Gate:
    return _Gate(
        hook.min_severity or config.min_severity,
        config.kinds if hook.kinds is None else hook.kinds,
        config.on_end if hook.on_end is None else hook.on_end,
    )


def _webhook_names(hooks: tuple[WebhookConfig, ...]) -> list[str]:
    """``webhook hooks.slack.com``, numbered when two webhooks share a host."""
    hosts = [h.host for h in hooks]
    return [f"webhook {host}" if hosts.count(host) == 1 else f"webhook #{i} {host}" for i, host in enumerate(hosts, 1)]
