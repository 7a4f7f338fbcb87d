"""The live engine: follow the logs, aggregate, raise alarms; the monitor and the reports run on it.

>>> from llmcost.engine import Engine, Follower
>>> engine = Engine()
>>> with Follower([log_dir]) as follower:               # doctest: +SKIP
...     events = engine.ingest(follower.poll())
...     snapshot = engine.snapshot("agent")
"""

from __future__ import annotations

from llmcost.engine._aggregate import NONE, OTHER, Engine
from llmcost.engine._alarms import AlarmConfig, Alarms, load_alarm_config
from llmcost.engine._follow import Follower, is_log_name
from llmcost.engine._snapshot import (
    GROUP_KEYS,
    AlarmEvent,
    GroupBy,
    GroupStats,
    IngestStats,
    Percentiles,
    Severity,
    Snapshot,
    Totals,
)

__all__ = [
    "GROUP_KEYS",
    "NONE",
    "OTHER",
    "AlarmConfig",
    "AlarmEvent",
    "Alarms",
    "Engine",
    "Follower",
    "GroupBy",
    "GroupStats",
    "IngestStats",
    "Percentiles",
    "Severity",
    "Snapshot",
    "Totals",
    "is_log_name",
    "load_alarm_config",
]
