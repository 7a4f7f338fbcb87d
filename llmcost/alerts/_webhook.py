"""A webhook: Slack-compatible JSON posted by a worker thread, with retries and a rate limit.

Connection errors, timeouts, 5xx and 429 are retried with exponential backoff (a 429's ``Retry-After`` is honoured
up to :data:`MAX_RETRY_AFTER_S`; asked to wait longer, the message is given up). Any other status fails at once:
a wrong URL does not get better by asking again. At most ``max_per_minute`` messages go out in any 60 seconds; what
comes beyond waits for the next free slot and leaves as one summary message, so a storm of alarms costs one post.

httpx is imported on the worker thread, when the first alert comes (about 60 ms), never by ``import llmcost``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmcost.alerts._config import WebhookConfig
from llmcost.alerts._message import Alert, slack_body, summary_body
from llmcost.alerts._sinks import QUEUE_BATCHES, Worker

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_RETRY_AFTER_S", "RateLimit", "WebhookSink", "make_client"]

MAX_RETRY_AFTER_S = 60.0
MAX_BACKOFF_S = 30.0
CONNECT_TIMEOUT_S = 5.0
WINDOW_S = 60.0


class RateLimit:
    """At most ``limit`` takes in any ``window_s`` seconds (a sliding window of the times of the last takes)."""

    def __init__(self, limit: int, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._times: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window_s:
            self._times.popleft()

    def free(self) -> int:
        self._trim(self.clock())
        return self.limit - len(self._times)

    def wait(self) -> float:
        """Seconds until a take is allowed (0 when one is)."""
        now = self.clock()
        self._trim(now)
        if len(self._times) < self.limit:
            return 0.0
        return max(0.0, self._times[0] + self.window_s - now)

    def take(self) -> None:
        self._times.append(self.clock())


def make_client(timeout_s: float) -> httpx.Client:
    """Timeouts on every step, no redirects (a webhook that redirects a POST is misconfigured), proxies from the
    environment, TLS verified."""
    import httpx

    from pricing import package_version

    return httpx.Client(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S)),
        follow_redirects=False,
        trust_env=True,
        headers={"User-Agent": f"llmcost-top/{package_version()} (alerts)"},
    )


class WebhookSink(Worker):
    """Posts alerts to one webhook. ``backoff_s`` is the first retry delay (doubled each time, up to 30 s)."""

    def __init__(
        self,
        config: WebhookConfig,
        name: str | None = None,
        *,
        backoff_s: float = 1.0,
        queue_batches: int = QUEUE_BATCHES,
        client_factory: Callable[[float], httpx.Client] = make_client,
    ) -> None:
        super().__init__(name or f"webhook {config.host}", queue_batches)
        self.config = config
        self.backoff_s = backoff_s
        self.limit = RateLimit(config.max_per_minute)
        self._client_factory = client_factory

    def run(self) -> None:
        client = self._client_factory(self.config.timeout_s)
        with client:
            pending: list[Alert] = []
            while True:
                wait = self.limit.wait() if pending else None
                if pending and wait == 0:
                    self._deliver(client, pending)
                    continue
                batch = self.next_batch(wait)
                if batch is None:
                    break
                pending.extend(batch)
            # Stopping: what the rate limit lets through is tried once; the rest is dropped.
            while pending and self.limit.free() > 0:
                self._deliver(client, pending)
            if pending:
                self.count("dropped", len(pending))
                self.done(len(pending))

    def _deliver(self, client: httpx.Client, pending: list[Alert]) -> None:
        """One message: the oldest pending alert, or all of them in a summary when only one slot is left."""
        if self.limit.free() == 1 and len(pending) > 1:
            batch = pending[:]
            pending.clear()
        else:
            batch = [pending.pop(0)]
        try:
            body = summary_body(batch, self.config.max_per_minute) if len(batch) > 1 else slack_body(batch[0])
        except Exception as exc:  # one alert that cannot be written must not stop the ones after it
            self.count("failed", error=f"{type(exc).__name__}: {exc}")
            self.done(len(batch))
            return
        self.limit.take()
        error = self._post(client, body)
        if error is None:
            self.count("sent")
            if len(batch) > 1:
                self.count("coalesced", len(batch))
        else:
            self.count("failed", error=error)
        self.done(len(batch))

    def _post(self, client: httpx.Client, body: dict[str, Any]) -> str | None:
        """Send with retries; ``None`` when delivered, else the last error in a few words."""
        import httpx

        attempt = 0
        while True:
            delay: float | None = None
            try:
                response = client.post(self.config.url, json=body, headers=dict(self.config.headers))
            except httpx.TimeoutException:
                error = "timed out"
                delay = self._backoff(attempt)
            except httpx.TransportError as exc:
                error = f"connection failed: {exc}" if str(exc) else f"connection failed: {type(exc).__name__}"
                delay = self._backoff(attempt)
            except Exception as exc:  # an invalid URL or header: asking again will not help
                error = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return None
                error = _status_error(response)
                if response.status_code == 429 or response.status_code >= 500:
                    after = _retry_after(response.headers.get("Retry-After"))
                    delay = self._backoff(attempt) if after is None else after
            if delay is None or attempt >= self.config.retries or self.stopping:
                return error
            if delay > MAX_RETRY_AFTER_S:
                return f"{error}, asked to retry after {delay:g} s"
            attempt += 1
            self.count("retries")
            if not self.pause(delay):
                return error

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_s * 2.0**attempt, MAX_BACKOFF_S)


def _status_error(response: httpx.Response) -> str:
    """``HTTP 404: no_service``: the status and the first line of a short body (Slack says what is wrong there)."""
    text = response.text.strip().splitlines()[0][:120] if response.text.strip() else ""
    return f"HTTP {response.status_code}" + (f": {text}" if text and len(response.text) < 2000 else "")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # rare (servers send seconds): not paid at every start

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
