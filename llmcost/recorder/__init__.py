"""The recorder: a call's with-block, its usage and stream readers, pricing, and one line per call in the log.

Layers, each importing only those before it: ids and usage reading (``_ids``, ``_usage``, ``_chunks``), the call and
its streams (``_call``), scopes and budgets (``_scope``, ``_budget``), the priced line (``_line``), the tracker
(``_tracker``). Client wrappers and framework integrations (``llmcost.integrations``) build on this package; nothing
here imports them.
"""

from __future__ import annotations

from llmcost.recorder._budget import Budget, BudgetExceeded, BudgetWarning
from llmcost.recorder._call import Call, RecordedAsyncStream, RecordedStream, current_call
from llmcost.recorder._chunks import HANDLERS, ChunkHandler
from llmcost.recorder._ids import iso_ms, prompt_hash, restore
from llmcost.recorder._line import Stats
from llmcost.recorder._scope import ATTRIBUTION_KEYS, Scope, active_scopes, fill_from_scopes
from llmcost.recorder._tracker import Tracker, attribution, configure, get_tracker
from llmcost.recorder._usage import Extracted, extract, extract_usage, from_usage_metadata, get_field

__all__ = [
    "ATTRIBUTION_KEYS",
    "HANDLERS",
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "Call",
    "ChunkHandler",
    "Extracted",
    "RecordedAsyncStream",
    "RecordedStream",
    "Scope",
    "Stats",
    "Tracker",
    "active_scopes",
    "attribution",
    "configure",
    "current_call",
    "extract",
    "extract_usage",
    "fill_from_scopes",
    "from_usage_metadata",
    "get_field",
    "get_tracker",
    "iso_ms",
    "prompt_hash",
    "restore",
]
