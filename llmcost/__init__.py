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

from llmcost._budget import Budget, BudgetExceeded, BudgetWarning
from llmcost._call import Call, current_call
from llmcost._demo import demo_traffic
from llmcost._record import WIRE_VERSION, Record, decode_record, encode_record
from llmcost._scope import Scope
from llmcost._tracker import Stats, Tracker, configure, get_tracker, track
from llmcost._usage import Extracted, extract
from llmcost._writer import FileWriter, MemoryWriter, RecorderWarning, Writer, log_file_name

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
