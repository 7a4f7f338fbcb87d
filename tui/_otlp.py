"""Spans received over OTLP/HTTP as a source of the monitor, beside the followed logs (``--otlp-listen``).

No Textual here. The receiver's threads hand records to a bounded list and wake the ingest thread, which takes them
with the logs' new lines on its next step: the engine is still fed from one thread, and a record is in the
aggregates a few milliseconds after its request is answered (not at the next quarter-second poll). When the
monitor falls behind, the list is full and senders are told to retry (HTTP 503) instead of memory growing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from llmcost.engine import Engine, Follower
from llmcost.integrations.otel import OtlpReceiver, ReceiverBusy
from llmcost.log import Record
from tui._source import Feed

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["MAX_PENDING", "OtlpFeed"]

MAX_PENDING = 50_000  # records received and not yet aggregated: some 20 MB, a minute of a busy fleet


class OtlpFeed(Feed):
    """Follows ``paths`` and listens for OTLP/HTTP traces on ``listen`` (``(host, port)``).

    The port is bound here, so a port in use fails (``OSError``) before the screen opens; requests are served from
    the start of the ingest thread until the feed finishes.
    """

    def __init__(
        self,
        engine: Engine,
        follower: Follower,
        paths: Sequence[str],
        listen: tuple[str, int],
        clock: Callable[[], float] = time.time,
        *,
        catalog: Catalog | None = None,
        max_pending: int = MAX_PENDING,
    ) -> None:
        super().__init__(engine, follower, paths, clock)
        self.max_pending = max_pending
        self._pending: list[Record] = []
        self._pending_lock = threading.Lock()
        self.receiver = OtlpReceiver(self._receive, *listen, catalog=catalog)
        host, port = self.receiver.address
        self.label = f"live + OTLP {host}:{port}"

    def _receive(self, records: list[Record]) -> None:
        """Called on a request's thread: keep the records for the ingest thread, or refuse them when it is behind."""
        with self._pending_lock:
            if len(self._pending) + len(records) > self.max_pending:
                raise ReceiverBusy("the monitor is behind")
            self._pending.extend(records)
        self.wake.set()

    def new_records(self) -> list[Record]:
        batch = super().new_records()
        with self._pending_lock:
            received, self._pending = self._pending, []
        return batch + received if batch else received

    def start(self) -> None:
        self.receiver.start()

    def finish(self) -> None:
        self.receiver.close()
        super().finish()

    def problems(self) -> list[str]:
        out = super().problems()
        stats = self.receiver.stats
        if stats.rejected:
            out.append(f"OTLP: {stats.rejected} spans rejected")
        if stats.refused:
            out.append(f"OTLP: {stats.refused} requests refused ({stats.last_error})")
        return out
