"""Record, price and watch every LLM call.

The recorder writes one JSON line per call (wire format v1) to daily logs; the engine follows those logs,
aggregates them and raises runaway-loop alarms.
"""

from __future__ import annotations

from llmcost._record import WIRE_VERSION, Record, decode_record, encode_record

__all__ = ["WIRE_VERSION", "Record", "decode_record", "encode_record"]
