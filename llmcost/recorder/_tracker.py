"""The tracker: turns finished calls into priced wire-format records and appends them to the log.

Everything here runs on the user's call path, so two rules hold: it is cheap (one pricing lookup, one msgspec
encode, one ``os.write``), and it never raises into the user's code — a problem is counted in ``tracker.stats``
and reported once as a :class:`RecorderWarning`. The one deliberate exception is :class:`BudgetExceeded`, raised
before a call is sent when a ``block`` budget is reached.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmcost.log import FileWriter, MemoryWriter, Record, Writer
from llmcost.recorder._budget import Budget, BudgetExceeded, BudgetWarning, SpendLedger
from llmcost.recorder._call import Call
from llmcost.recorder._ids import iso_ms, prompt_hash
from llmcost.recorder._line import Recorder, Stats
from llmcost.recorder._scope import Scope, _scopes, fill_from_scopes

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["Tracker", "attribution", "configure", "get_tracker"]


#: Every key a call's ``attrs`` holds (integrations may pass fewer: readers use ``.get``).
_CALL_KEYS = ("operation", "source", "server_address", "stream", "attempt", "fallback_from", "gpus", "prompt_hash")


def attribution(
    agent: str | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    workflow: str | None = None,
    tags: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The attribution fields (``None`` where not given), with private copies of ``tags`` and ``metadata``: the
    defaults of a tracker, or of an integration for :meth:`Tracker.attributes`."""
    return {
        "agent": agent,
        "session_id": session_id,
        "user_id": user_id,
        "workflow": workflow,
        "tags": list(tags) if tags else None,
        "metadata": dict(metadata) if metadata else None,
    }


class Tracker(Recorder):
    """Records LLM calls to ``log_dir`` (default: the directory the monitor reads, see ``llmcost.paths.log_dir()``).

    Attribution given here (``agent``, ``session_id``, ``user_id``, ``workflow``, ``tags``, ``metadata``) is the
    default of every call; wrappers, scopes and single calls override it. ``budgets`` are checked before each call;
    ``downgrade`` maps a model to a cheaper one for budgets with ``action="downgrade"``. ``call_cost_usd`` with
    ``on_call_cost`` calls a hook with the record of any call costing more. ``gpus`` is the GPU count used to turn a
    self-hosted (vLLM) call's wall time into ``gpu_seconds``. ``capture_content=True`` adds request messages and
    response text to ``metadata["content"]`` (off by default: prompts and responses are never logged).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        *,
        catalog: Catalog | str | os.PathLike[str] | None = None,
        writer: Writer | None = None,
        agent: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        workflow: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        capture_content: bool = False,
        budgets: Sequence[Budget] = (),
        downgrade: Mapping[str, str] | None = None,
        call_cost_usd: float | Decimal | None = None,
        on_call_cost: Callable[[Record], object] | None = None,
        max_bytes: int | None = None,
        gpus: float | None = None,
    ) -> None:
        if writer is None:
            if log_dir is None:
                from llmcost.paths import log_dir as default_log_dir

                log_dir = default_log_dir()
            writer = FileWriter(log_dir, max_bytes=max_bytes)
        self.writer = writer
        self.log_dir: Path | None = writer.directory if isinstance(writer, FileWriter) else None
        #: What every call starts from: attribution and call details (a call copies it when it starts).
        self.defaults: dict[str, Any] = {
            **attribution(agent, session_id, user_id, workflow, tags, metadata),
            **dict.fromkeys(_CALL_KEYS),
        }
        self.capture_content = capture_content
        self.budgets = tuple(budgets)
        self.downgrade = dict(downgrade or {})
        self.call_cost_usd = None if call_cost_usd is None else Decimal(str(call_cost_usd))
        self.on_call_cost = on_call_cost
        self.gpus = gpus
        self.stats = Stats()
        self.sinks: tuple[Callable[[bytes], object], ...] = ()
        self._sinks_lock = threading.Lock()
        self._catalog_arg = catalog
        self._catalog: Catalog | None = None
        self._catalog_next = 0.0
        self._ledger = SpendLedger(self.log_dir) if self.budgets else None
        self._warned_budgets: set[tuple[int, str | None, str]] = set()

    # -- public API ---------------------------------------------------------------------------------------------

    def trace(
        self,
        model: str | None = None,
        provider: str | None = None,
        *,
        messages: Any = None,
        operation: str = "chat",
        source: str = "sdk",
        server_address: str | None = None,
        stream: bool = False,
        attempt: int = 0,
        fallback_from: str | None = None,
        agent: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        workflow: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        gpus: float | None = None,
    ) -> Call:
        """A call to record: ``with tracker.trace(model=..., provider=...) as call: call.record(resp)``.

        Works as ``async with`` too. ``messages`` (never logged) gives the call its ``prompt_hash``. Raises
        :class:`BudgetExceeded` here, before the call is sent, when a ``block`` budget is reached.
        """
        if agent is None and session_id is None and user_id is None and workflow is None and not tags and not metadata:
            attrs = self.defaults.copy()  # the common case, kept cheap
        else:
            attrs = self.attributes(
                agent=agent, session_id=session_id, user_id=user_id, workflow=workflow, tags=tags, metadata=metadata
            )
        attrs["operation"] = operation
        attrs["source"] = source
        attrs["server_address"] = server_address
        attrs["stream"] = stream
        attrs["attempt"] = attempt
        attrs["fallback_from"] = fallback_from
        attrs["gpus"] = gpus
        if messages is not None:
            attrs["prompt_hash"] = prompt_hash(messages)
        call = self.begin(model, provider, attrs)
        if self.capture_content and messages is not None:
            call.content = {"input": messages}
        return call

    def stream(self, chunks: Any, model: str | None = None, provider: str | None = None, **kwargs: Any) -> Any:
        """Record a stream in one line: ``for chunk in tracker.stream(chunks, model=..., provider=...)``."""
        kind = kwargs.pop("kind", None)
        return self.trace(model, provider, stream=True, **kwargs).stream(chunks, kind)

    def record(self, response: Any, model: str | None = None, provider: str | None = None, **kwargs: Any) -> Any:
        """Record a response received already (latency unknown); returns ``response``."""
        call = self.trace(model, provider, **kwargs)
        call.record(response)
        call.finish()
        return response

    def scope(self, name: str | None = None, **kwargs: Any) -> Scope:
        """A block whose calls are summed: ``with tracker.scope("request") as s: ...; s.cost_usd``."""
        return Scope(name, **kwargs)

    @property
    def records(self) -> list[Record]:
        """Records kept by an in-memory writer (``Tracker(writer=MemoryWriter())``); empty otherwise."""
        return self.writer.records if isinstance(self.writer, MemoryWriter) else []

    def add_sink(self, sink: Callable[[bytes], object]) -> None:
        """Also hand every record to ``sink``, as its JSON line (newline included), right after it is written.

        Exporters use this (``llmcost.otel.export_to``). A sink runs on the user's call path: it must be quick (queue
        the line, do the work elsewhere); what it raises is counted in ``stats.hook_errors``, never passed on.
        """
        with self._sinks_lock:
            self.sinks = (*self.sinks, sink)

    def remove_sink(self, sink: Callable[[bytes], object]) -> None:
        """Stop handing records to ``sink`` (no error if it was not added)."""
        with self._sinks_lock:
            self.sinks = tuple(s for s in self.sinks if s != sink)

    def close(self) -> None:
        self.writer.close()

    # -- building calls -------------------------------------------------------------------------------------------

    def attributes(self, base: Mapping[str, Any] | None = None, **given: Any) -> dict[str, Any]:
        """Attribution for a call: ``given`` over ``base`` over the tracker's defaults; tags and metadata merge."""
        out = dict(base if base is not None else self.defaults)
        for key, value in given.items():
            if value is None:
                continue
            if key == "tags":
                out["tags"] = list(dict.fromkeys([*(out.get("tags") or ()), *value]))
            elif key == "metadata":
                out["metadata"] = {**(out.get("metadata") or {}), **value}
            else:
                out[key] = value
        return out

    def begin(self, model: str | None, provider: str | None, attrs: dict[str, Any]) -> Call:
        """Start a call (budgets checked first). Integrations use this with :meth:`Call.finish`."""
        scopes = _scopes.get()  # active_scopes(), inlined
        if scopes:
            fill_from_scopes(attrs, scopes)
        if self.budgets or scopes:
            cheaper = self._check_budgets(model, attrs, scopes)
            if cheaper is not None and cheaper != model:
                attrs["fallback_from"], model = model, cheaper
        return Call(self, model, provider, attrs, scopes)

    # -- budgets ------------------------------------------------------------------------------------------------

    def _check_budgets(self, model: str | None, attrs: dict[str, Any], scopes: tuple[Scope, ...]) -> str | None:
        day = iso_ms(time.time())[:10]
        cheaper = None
        for i, b in enumerate(self.budgets):
            key, spent = self._spent(b, attrs, scopes, day)
            if spent is None or spent < b.limit:
                continue
            if b.action == "block":
                self.stats.budget_blocked += 1
                raise BudgetExceeded(b, spent, key)
            if b.action == "downgrade" and model is not None:
                cheaper = b.downgrade_to or self.downgrade.get(model) or cheaper
            self._warn_budget(i, key, day, f"llmcost: {b.per} budget {key or ''} reached: ${spent:.6f} of ${b.limit}")
        for s in scopes:
            if s.budget_usd is not None and s.cost_usd >= s.budget_usd:
                if s.action == "block":
                    self.stats.budget_blocked += 1
                    raise BudgetExceeded(None, s.cost_usd, s.name, s.budget_usd)
                self._warn_budget(-1 - id(s), s.name, day, f"llmcost: scope {s.name!r} budget reached")
        return cheaper

    def _spent(
        self, b: Budget, attrs: dict[str, Any], scopes: tuple[Scope, ...], day: str
    ) -> tuple[str | None, Decimal | None]:
        if b.per == "scope":
            named = [s for s in scopes if b.key is None or s.name == b.key]
            return (named[-1].name, named[-1].cost_usd) if named else (None, None)
        assert self._ledger is not None
        if b.per == "day":
            return None, self._ledger.spent("day", None, day)
        key = attrs.get({"agent": "agent", "session": "session_id", "user": "user_id"}[b.per])
        if not key or (b.key is not None and key != b.key):
            return key, None
        return key, self._ledger.spent(b.per, key, day)

    def _warn_budget(self, index: int, key: str | None, day: str, message: str) -> None:
        mark = (index, key, day)
        if mark not in self._warned_budgets:
            self._warned_budgets.add(mark)
            self.stats.budget_warned += 1
            import warnings

            warnings.warn(message, BudgetWarning, stacklevel=4)


_default: Tracker | None = None
_default_lock = threading.Lock()


def get_tracker() -> Tracker:
    """The process-wide tracker (created on first use with the defaults, or by :func:`configure`)."""
    global _default
    tracker = _default
    if tracker is None:
        with _default_lock:
            if _default is None:
                _default = Tracker()
            tracker = _default
    return tracker


def configure(log_dir: str | os.PathLike[str] | None = None, **kwargs: Any) -> Tracker:
    """Replace the process-wide tracker; takes :class:`Tracker`'s arguments and returns it."""
    global _default
    with _default_lock:
        old, _default = _default, Tracker(log_dir, **kwargs)
    if old is not None:
        old.close()
    return _default
