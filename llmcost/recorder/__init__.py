"""The recorder: a call's with-block, its usage and stream readers, pricing, and one line per call in the log.

Layers, each importing only those before it (``tests/test_imports.py`` checks there is no cycle, counting imports
made for type checking only):

1. values as the wire format takes them (``_wire``), ids and clocks (``_ids``), usage reading (``_usage``), budgets
   (``_budget``), class plumbing (``_plumbing``);
2. attribution (``_attribution``), stream chunk readers (``_chunks``), scopes (``_scope``);
3. the call (``_call``), which knows the tracker only as a :class:`CallSink`, and its streams (``_streams``, imported
   on first use), which know their call only as a ``StreamOwner``;
4. the priced line (``_line``), then the tracker (``_tracker``).

Client wrappers and framework integrations (``llmcost.integrations``) build on this package; nothing here imports
them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.recorder._attribution import NO_ATTRIBUTION, Attribution, AttributionArgs, attribution_from
from llmcost.recorder._budget import Budget, BudgetExceeded, BudgetWarning
from llmcost.recorder._call import PLAIN_REQUEST, Call, CallSink, Request, current_call
from llmcost.recorder._chunks import HANDLERS, ChunkHandler, StreamedCall
from llmcost.recorder._ids import iso_ms, prompt_hash, restore
from llmcost.recorder._line import Stats
from llmcost.recorder._plumbing import AsyncWith, Forwarded, Wrapper
from llmcost.recorder._scope import Scope, active_scopes, scoped
from llmcost.recorder._tracker import Tracker, configure, get_tracker
from llmcost.recorder._usage import (
    Billing,
    ReportedUsage,
    anthropic_billing,
    extract,
    extract_usage,
    from_usage_metadata,
    get_field,
    output_tools,
    read_billing,
)

if TYPE_CHECKING:
    from llmcost.recorder._streams import RecordedAsyncStream, RecordedStream

__all__ = [
    "HANDLERS",
    "NO_ATTRIBUTION",
    "PLAIN_REQUEST",
    "AsyncWith",
    "Attribution",
    "AttributionArgs",
    "Billing",
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "Call",
    "CallSink",
    "ChunkHandler",
    "Forwarded",
    "RecordedAsyncStream",
    "RecordedStream",
    "ReportedUsage",
    "Request",
    "Scope",
    "Stats",
    "StreamedCall",
    "Tracker",
    "Wrapper",
    "active_scopes",
    "anthropic_billing",
    "attribution_from",
    "configure",
    "current_call",
    "extract",
    "extract_usage",
    "from_usage_metadata",
    "get_field",
    "get_tracker",
    "iso_ms",
    "output_tools",
    "prompt_hash",
    "read_billing",
    "restore",
    "scoped",
]


def __getattr__(name: str) -> Any:
    # The stream wrappers are imported on a call's first stream (``import llmcost`` is lighter without them).
    if name in ("RecordedStream", "RecordedAsyncStream"):
        from llmcost.recorder import _streams

        return getattr(_streams, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
