"""Record, price and watch every LLM call.

The recorder (``llmcost.recorder``) writes one JSON line per call (wire format v1, ``llmcost.log``) to daily logs;
the engine (``llmcost.engine``) follows those logs, aggregates them and raises runaway-loop alarms; ``llmcost.alerts``
sends them on. Client wrappers and framework integrations are in ``llmcost.integrations``.

>>> import llmcost
>>> tracker = llmcost.Tracker(writer=llmcost.MemoryWriter())
>>> with tracker.trace(model="gpt-4o-mini", provider="openai") as call:
...     call.set_usage(input_tokens=1000, output_tokens=200)
>>> tracker.records[0].cost_usd
0.00027
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from llmcost.integrations import track
from llmcost.log import (
    WIRE_VERSION,
    FileWriter,
    MemoryWriter,
    Record,
    RecorderWarning,
    Writer,
    decode_record,
    encode_record,
    log_file_name,
)
from llmcost.recorder import (
    Attribution,
    Budget,
    BudgetExceeded,
    BudgetWarning,
    Call,
    ReportedUsage,
    Scope,
    Stats,
    Tracker,
    configure,
    current_call,
    extract,
    get_tracker,
)

if TYPE_CHECKING:
    from llmcost.demo import DemoTraffic

__all__ = [
    "WIRE_VERSION",
    "Attribution",
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "Call",
    "FileWriter",
    "MemoryWriter",
    "Record",
    "RecorderWarning",
    "ReportedUsage",
    "Scope",
    "Stats",
    "Tracker",
    "Writer",
    "configure",
    "current_call",
    "decode_record",
    "demo_traffic",
    "encode_record",
    "extract",
    "get_tracker",
    "log_file_name",
    "track",
]


def demo_traffic(
    directory: str | os.PathLike[str], *, rate: float = 3.0, seed: int = 0, speed: float = 1.0
) -> DemoTraffic:
    """Start writing simulated traffic to ``directory`` in real time; returns the running ``DemoTraffic``.

    ``rate`` is the mean number of calls per second (plus retry-loop bursts), ``seed`` makes the sequence repeatable,
    ``speed`` compresses time. Stop it with ``.stop()`` or by leaving its ``with`` block. See ``llmcost.demo``.
    """
    from llmcost.demo import demo_traffic as start

    return start(os.fspath(directory), rate=rate, seed=seed, speed=speed)
