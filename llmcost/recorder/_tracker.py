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
from llmcost.recorder._attribution import NO_ATTRIBUTION, Attribution, AttributionArgs, attribution_from
from llmcost.recorder._budget import Budget, BudgetExceeded, BudgetWarning, SpendLedger
from llmcost.recorder._call import Call
from llmcost.recorder._ids import iso_ms, prompt_hash
from llmcost.recorder._line import CallWriter, Stats
from llmcost.recorder._scope import Scope, _scopes, scoped
from llmcost.recorder._wire import wire_amount

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from pricing import Catalog

__all__ = ["TraceOptions", "Tracker", "configure", "get_tracker"]


class TraceOptions(AttributionArgs, total=False):
    """The keyword options of :meth:`Tracker.trace` (all optional): the call's attribution, and these."""

    messages: Any
    operation: str
    source: str
    server_address: str | None
    stream: bool
    attempt: int
    fallback_from: str | None
    gpus: float | None
    service_tier: str | None
    batch: bool
    attribution: Attribution | None


class Tracker(CallWriter):
    """Records LLM calls to ``log_dir`` (default: the directory the monitor reads, see ``llmcost.paths.log_dir()``).

    Attribution given here (``attribution=``, and :class:`~llmcost.Attribution`'s fields as keywords over it) is the
    default of every call, kept as :attr:`attribution`; wrappers, scopes and single calls add to it (see
    :class:`~llmcost.Attribution`). ``budgets`` are checked before each call; ``downgrade`` maps a model to a cheaper
    one for budgets with ``action="downgrade"``. ``call_cost_usd`` with ``on_call_cost`` calls a hook with the record
    of any call costing more. ``gpus`` is the GPU count used to turn a self-hosted (vLLM) call's wall time into
    ``gpu_seconds``. ``capture_content=True`` adds request messages and response text to ``metadata["content"]``
    (off by default: prompts and responses are never logged). ``host`` names the machine on every record (default:
    ``LLMCOST_HOST``, else the system's host name, see ``llmcost.paths.host_name()``; ``""`` writes none).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        *,
        catalog: Catalog | str | os.PathLike[str] | None = None,
        writer: Writer | None = None,
        attribution: Attribution | None = None,
        capture_content: bool = False,
        budgets: Sequence[Budget] = (),
        downgrade: Mapping[str, str] | None = None,
        call_cost_usd: float | Decimal | None = None,
        on_call_cost: Callable[[Record], object] | None = None,
        max_bytes: int | None = None,
        gpus: float | None = None,
        host: str | None = None,
        **attrs: Unpack[AttributionArgs],
    ) -> None:
        if writer is None:
            if log_dir is None:
                from llmcost.paths import log_dir as default_log_dir

                log_dir = default_log_dir()
            writer = FileWriter(log_dir, max_bytes=max_bytes)
        self.writer = writer
        self.log_dir: Path | None = writer.directory if isinstance(writer, FileWriter) else None
        self.stats = Stats()
        if host is None:
            from llmcost.paths import host_name

            host = host_name()
        self.host = host
        #: What every call's attribution starts from (replace it to change the defaults of later calls).
        self.attribution: Attribution = self.adopt(attribution_from(attribution, attrs, "Tracker()"))
        self.capture_content = capture_content
        self.budgets = tuple(budgets)
        self.downgrade = dict(downgrade or {})
        self.call_cost_usd = None if call_cost_usd is None else Decimal(str(call_cost_usd))
        self.on_call_cost = on_call_cost
        self.gpus = wire_amount(gpus)[0]
        self.sinks: tuple[Callable[[bytes], object], ...] = ()
        self._buffers: list[bytearray] = []
        self._sinks_lock = threading.Lock()
        self._catalog_arg = catalog
        self._catalog: Catalog | None = None
        self._catalog_next = 0.0
        self._ledger = SpendLedger(self.log_dir) if self.budgets else None
        self._warned_budgets: set[tuple[int, str | None, str]] = set()

    # -- public API ---------------------------------------------------------------------------------------------

    def trace(self, model: str | None = None, provider: str | None = None, **options: Unpack[TraceOptions]) -> Call:
        """A call to record: ``with tracker.trace(model=..., provider=...) as call: call.record(resp)``.

        Works as ``async with`` too. Keyword options (:class:`TraceOptions`): ``messages`` (never logged; gives
        the call its ``prompt_hash``), ``operation`` (``chat``), ``source`` (``sdk``), ``server_address``,
        ``stream``, ``attempt`` and ``fallback_from`` (your own retries and fallbacks), ``gpus`` (for GPU-time
        pricing), ``service_tier`` (the tier asked for: priced when the response names none) and ``batch=True`` (a
        call billed through a batch API), and the call's own attribution (``attribution=``, and :class:`~llmcost.Attribution`'s fields as
        keywords over it).

        Raises :class:`BudgetExceeded` here, before the call is sent, when a ``block`` budget is reached; never
        anything else for odd values: what the wire format would refuse is written in a form it takes and counted in
        ``stats``.
        """
        # The options arrive as **options rather than keyword-only parameters: a call that gives none (the common
        # case) then skips looking up fifteen keyword defaults by name, and goes straight to its Call.
        if options:
            return self._trace(model, provider, **options)
        if self.budgets or _scopes.get():
            return self.begin(model, provider)
        return Call(self, model, provider, self.attribution)

    def _trace(
        self,
        model: str | None,
        provider: str | None,
        *,
        messages: Any = None,
        operation: str | None = None,
        source: str | None = None,
        server_address: str | None = None,
        stream: bool | None = None,
        attempt: int | None = None,
        fallback_from: str | None = None,
        gpus: float | None = None,
        service_tier: str | None = None,
        batch: bool | None = None,
        attribution: Attribution | None = None,
        **attrs: Unpack[AttributionArgs],
    ) -> Call:
        """:meth:`trace` with options."""
        own = attribution_from(attribution, attrs, "trace()")
        call = self.begin(model, provider, None if own is NO_ATTRIBUTION else self.adopt(own))
        call.set_request(
            operation=operation,
            source=source,
            server_address=server_address,
            stream=stream,
            attempt=attempt,
            fallback_from=fallback_from if call.fallback_from is None else None,  # a downgrade says it first
            gpus=gpus,
            service_tier=service_tier,
            batch=batch,
        )
        if messages is not None:
            call.prompt_hash = prompt_hash(messages)
            if self.capture_content:
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
        """A block whose calls are summed: ``with tracker.scope("request") as s: ...; s.cost_usd``.

        Takes :class:`Scope`'s arguments (a budget, attribution for the calls inside)."""
        scope = Scope(name, **kwargs)
        self.adopt(scope.attribution)
        return scope

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

    def begin(
        self,
        model: str | None,
        provider: str | None,
        own: Attribution | None = None,
        under: Attribution | None = None,
    ) -> Call:
        """Start a call (budgets checked first). Integrations use this with :meth:`Call.finish`.

        The call's attribution is ``own`` over the open scopes' over ``under`` (default: the tracker's own
        :attr:`attribution`; a wrapped client or an integration passes its own there)."""
        scopes = _scopes.get()  # active_scopes(), inlined
        attribution = self.attribution if under is None else under
        if scopes:
            attribution = scoped(attribution, scopes)
        if own is not None:
            attribution = own.over(attribution)
        cheaper = None
        if self.budgets or scopes:
            cheaper = self._check_budgets(model, attribution, scopes)
        if cheaper is None or cheaper == model:
            return Call(self, model, provider, attribution, scopes)
        call = Call(self, cheaper, provider, attribution, scopes)
        call.set_request(fallback_from=model)
        return call

    # -- budgets ------------------------------------------------------------------------------------------------

    def _check_budgets(self, model: str | None, attribution: Attribution, scopes: tuple[Scope, ...]) -> str | None:
        day = iso_ms(time.time())[:10]
        cheaper = None
        for i, b in enumerate(self.budgets):
            key, spent = self._spent(b, attribution, scopes, day)
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
        self, b: Budget, attribution: Attribution, scopes: tuple[Scope, ...], day: str
    ) -> tuple[str | None, Decimal | None]:
        if b.per == "scope":
            named = [s for s in scopes if b.key is None or s.name == b.key]
            return (named[-1].name, named[-1].cost_usd) if named else (None, None)
        assert self._ledger is not None
        if b.per == "day":
            return None, self._ledger.spent("day", None, day)
        key = {"agent": attribution.agent, "session": attribution.session_id, "user": attribution.user_id}[b.per]
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
