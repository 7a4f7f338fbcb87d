"""What the engine hands to its readers (the monitor, ``llmcost report``, ``--once --json``).

Plain dataclasses, built fresh for every snapshot: a view reads them and never touches the engine's state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

from llmcost.engine._groupings import GroupBy
from llmcost.engine._sums import Sums

__all__ = [
    "AlarmEvent",
    "BudgetStatus",
    "GroupStats",
    "IngestStats",
    "Overall",
    "Percentiles",
    "Severity",
    "Snapshot",
]

Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Milliseconds over the sliding window; ``None`` when there is no sample."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    count: int = 0


@dataclass(slots=True)
class GroupStats(Sums):
    """One row: totals of a group (an agent, a model, ...) since the engine started reading (the counters of
    :class:`Sums`, ``cost_usd`` among them), with its recent rates and percentiles."""

    key: str
    unknown_models: tuple[str, ...] = ()
    cost_per_min: tuple[Decimal, Decimal, Decimal] = (Decimal(0), Decimal(0), Decimal(0))  # over 1, 5, 15 min
    calls_per_min: tuple[float, float, float] = (0.0, 0.0, 0.0)  # over 1, 5, 15 min
    ttft_ms: Percentiles = field(default_factory=Percentiles)
    latency_ms: Percentiles = field(default_factory=Percentiles)
    first_seen: float | None = None  # epoch seconds
    last_seen: float | None = None
    alarm: Severity | None = None  # the highest severity among this group's active alarms

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data (money as ``Decimal``), keys in the order ``llmcost-top --once --json`` prints."""
        return {
            "key": self.key,
            **self.counts(),
            "cost_usd": self.cost_usd,
            "unpriced_calls": self.unpriced_calls,
            "unknown_models": self.unknown_models,
            "cost_per_min": self.cost_per_min,
            "calls_per_min": self.calls_per_min,
            "ttft_ms": asdict(self.ttft_ms),
            "latency_ms": asdict(self.latency_ms),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "alarm": self.alarm,
        }


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """One budget of the alarm settings now: the day's, or one agent's, user's (per UTC day) or session's.

    ``usd_per_min`` is its burn rate, the spend of the last five minutes; ``eta`` (epoch seconds) is when the limit is
    reached at that rate, ``None`` when nothing is being spent, when it is reached already (``reached``), or when
    the rate would not reach it before its day ends."""

    scope: str  # day | agent | user | session
    key: str | None  # the agent, user or session (None for the day budget)
    limit_usd: Decimal
    spent_usd: Decimal
    usd_per_min: Decimal = Decimal(0)
    eta: float | None = None

    @property
    def name(self) -> str:
        """``day``, ``agent planner``, ``session s-42``, ..."""
        return self.scope if self.key is None else f"{self.scope} {self.key}"

    @property
    def fraction(self) -> float:
        """How much of the limit is spent (1.0 and more: reached)."""
        return float(self.spent_usd / self.limit_usd) if self.limit_usd > 0 else 1.0

    @property
    def reached(self) -> bool:
        return self.spent_usd >= self.limit_usd


@dataclass(frozen=True, slots=True)
class Overall:
    """The figures over every group: calls, errors, spend today and this session, the spend rate, budgets.

    (Not :class:`llmcost.langchain.Totals`, which counts the calls of one ``with`` block.)"""

    calls: int = 0
    errors: int = 0
    unpriced_calls: int = 0
    cost_today: Decimal = Decimal(0)
    cost_session: Decimal = Decimal(0)  # since this engine started (history replay excluded)
    cost_per_min: Decimal = Decimal(0)  # over the last minute
    projected_per_hour: Decimal = Decimal(0)
    calls_per_sec: float = 0.0
    spend_per_minute: tuple[Decimal, ...] = ()  # the last minutes, oldest first (sparkline)
    budgets: tuple[BudgetStatus, ...] = ()  # reached first, then the soonest to be reached, then the fullest


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One alarm episode. ``ended_at`` is ``None`` while it is active. Times are ISO-8601 UTC strings."""

    id: str
    kind: str  # burst | repeat | error_streak | spend_rate | call_cost | budget | budget_eta | context_growth
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
    """How the reading goes: files followed, records kept, duplicates dropped, malformed lines per file, files that are
    there but cannot be read (path -> reason)."""

    files: int = 0
    records: int = 0
    duplicates: int = 0
    malformed: dict[str, int] = field(default_factory=dict)  # per file
    unreadable: dict[str, str] = field(default_factory=dict)
    bytes_read: int = 0
    replaying: bool = False
    replay_progress: float = 1.0  # 0..1 while replaying history


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The engine's state at one moment, grouped one way: rows highest cost first, the overall figures, alarms."""

    at: float  # epoch seconds of the engine clock
    group_by: GroupBy
    rows: tuple[GroupStats, ...]
    totals: Overall
    alarms: tuple[AlarmEvent, ...]  # active first, then ended, newest first
    ingest: IngestStats
    catalog_version: str = ""
