"""What the engine hands to its readers (the monitor, ``llmcost report``, ``--once --json``).

Plain frozen dataclasses: a snapshot is computed by the engine and only read by the views, so a view never touches
the engine's mutable state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = [
    "GROUP_KEYS",
    "AlarmEvent",
    "GroupBy",
    "GroupStats",
    "IngestStats",
    "Percentiles",
    "Severity",
    "Snapshot",
    "Totals",
]

GroupBy = Literal["agent", "model", "provider", "session", "user", "workflow"]
GROUP_KEYS: tuple[GroupBy, ...] = ("agent", "model", "provider", "session", "user", "workflow")
Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Milliseconds over the sliding window; ``None`` when there is no sample."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    count: int = 0


@dataclass(frozen=True, slots=True)
class GroupStats:
    """One row: totals of a group (an agent, a model, ...) since the engine started reading."""

    key: str
    calls: int = 0
    errors: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    unpriced_calls: int = 0
    unknown_models: tuple[str, ...] = ()
    cost_per_min: tuple[Decimal, Decimal, Decimal] = (Decimal(0), Decimal(0), Decimal(0))  # over 1, 5, 15 min
    calls_per_min: tuple[float, float, float] = (0.0, 0.0, 0.0)  # over 1, 5, 15 min
    ttft_ms: Percentiles = field(default_factory=Percentiles)
    latency_ms: Percentiles = field(default_factory=Percentiles)
    first_seen: float | None = None  # epoch seconds
    last_seen: float | None = None
    alarm: Severity | None = None  # the highest severity among this group's active alarms


@dataclass(frozen=True, slots=True)
class Totals:
    calls: int = 0
    errors: int = 0
    unpriced_calls: int = 0
    cost_today: Decimal = Decimal(0)
    cost_session: Decimal = Decimal(0)  # since this engine started (history replay excluded)
    cost_per_min: Decimal = Decimal(0)  # over the last minute
    projected_per_hour: Decimal = Decimal(0)
    calls_per_sec: float = 0.0
    spend_per_minute: tuple[Decimal, ...] = ()  # the last minutes, oldest first (sparkline)
    budgets: tuple[tuple[str, Decimal, Decimal], ...] = ()  # (name, spent, limit)


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One alarm episode. ``ended_at`` is ``None`` while it is active. Times are ISO-8601 UTC strings."""

    id: str
    kind: str  # burst | repeat | error_streak | spend_rate | call_cost | budget | context_growth
    severity: Severity
    agent: str | None
    started_at: str
    detected_at: str
    ended_at: str | None = None
    message: str = ""
    peak: dict[str, float] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class IngestStats:
    files: int = 0
    records: int = 0
    duplicates: int = 0
    malformed: dict[str, int] = field(default_factory=dict)  # per file
    bytes_read: int = 0
    replaying: bool = False
    replay_progress: float = 1.0  # 0..1 while replaying history


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: float  # epoch seconds of the engine clock
    group_by: GroupBy
    rows: tuple[GroupStats, ...]
    totals: Totals
    alarms: tuple[AlarmEvent, ...]  # active first, then ended, newest first
    ingest: IngestStats
    catalog_version: str = ""
