"""The engine: follow the logs, aggregate, raise alarms; reports over history. The monitor and the reports run on it.

>>> from llmcost.engine import Engine, Follower
>>> engine = Engine()
>>> with Follower([log_dir]) as follower:               # doctest: +SKIP
...     events = engine.ingest(follower.poll())
...     snapshot = engine.snapshot("agent")
"""

from __future__ import annotations

from llmcost.engine._aggregate import NONE, OTHER, Engine
from llmcost.engine._alarms import (
    BURN_WINDOW_S,
    AlarmConfig,
    AlarmConfigError,
    Alarms,
    budget_eta,
    load_alarm_config,
    parse_setting,
)
from llmcost.engine._export import export_csv, export_sqlite
from llmcost.engine._follow import Follower, Progress, is_log_name
from llmcost.engine._groupings import GROUP_KEYS, REPORT_KEYS, SCAN_KEYS, GroupBy, ReportBy, ScanBy
from llmcost.engine._history import History, history
from llmcost.engine._report import ReportRow, alarm_history, read_history, report, report_total
from llmcost.engine._scan import MAX_ROWS, Scan, report_files
from llmcost.engine._snapshot import (
    AlarmEvent,
    BudgetStatus,
    GroupStats,
    IngestStats,
    Overall,
    Percentiles,
    Severity,
    Snapshot,
)
from llmcost.engine._sums import Sums

__all__ = [
    "BURN_WINDOW_S",
    "GROUP_KEYS",
    "MAX_ROWS",
    "NONE",
    "OTHER",
    "REPORT_KEYS",
    "SCAN_KEYS",
    "AlarmConfig",
    "AlarmConfigError",
    "AlarmEvent",
    "Alarms",
    "BudgetStatus",
    "Engine",
    "Follower",
    "GroupBy",
    "GroupStats",
    "History",
    "IngestStats",
    "Overall",
    "Percentiles",
    "Progress",
    "ReportBy",
    "ReportRow",
    "Scan",
    "ScanBy",
    "Severity",
    "Snapshot",
    "Sums",
    "alarm_history",
    "budget_eta",
    "export_csv",
    "export_sqlite",
    "history",
    "is_log_name",
    "load_alarm_config",
    "parse_setting",
    "read_history",
    "report",
    "report_files",
    "report_total",
]
