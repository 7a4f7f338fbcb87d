"""Record, price and watch every LLM call.

The recorder writes one JSON line per call (wire format v1) to daily logs; the engine follows those logs,
aggregates them and raises runaway-loop alarms.

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

from llmcost._budget import Budget, BudgetExceeded, BudgetWarning
from llmcost._call import Call, current_call
from llmcost._emit import Stats
from llmcost._record import WIRE_VERSION, Record, decode_record, encode_record
from llmcost._scope import Scope
from llmcost._tracker import Tracker, configure, get_tracker, track
from llmcost._usage import Extracted, extract
from llmcost._writer import FileWriter, MemoryWriter, RecorderWarning, Writer, log_file_name

if TYPE_CHECKING:
    from llmcost._demo import DemoTraffic

__all__ = [
    "WIRE_VERSION",
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "Call",
    "Extracted",
    "FileWriter",
    "MemoryWriter",
    "Record",
    "RecorderWarning",
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
    ``speed`` compresses time. Stop it with ``.stop()`` or by leaving its ``with`` block. See ``llmcost._demo``.
    """
    from llmcost._demo import demo_traffic as start

    return start(os.fspath(directory), rate=rate, seed=seed, speed=speed)
