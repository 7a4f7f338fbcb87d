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
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from llmcost._budget import Budget, BudgetExceeded, BudgetWarning, SpendLedger
from llmcost._call import Call
from llmcost._record import Record
from llmcost._scope import Scope, active_scopes
from llmcost._usage import Extracted
from llmcost._util import iso_ms, prompt_hash, utc_day
from llmcost._writer import FileWriter, MemoryWriter, Writer, warn_once
from pricing import Usage, load_catalog

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["Stats", "Tracker"]

_ATTRS = ("agent", "session_id", "user_id", "workflow")
_CATALOG_RECHECK_S = 30.0
_encoder = msgspec.json.Encoder()
_lenient = msgspec.json.Encoder(enc_hook=lambda obj: repr(obj)[:300])


class Stats:
    """What the recorder counted. Every failure it absorbed has a counter here."""

    __slots__ = (
        "bad_metadata",
        "budget_blocked",
        "budget_warned",
        "calls",
        "hook_errors",
        "internal_errors",
        "odd_chunk",
        "odd_response",
        "pricing_errors",
        "unknown_models",
    )

    def __init__(self) -> None:
        self.calls = 0
        self.bad_metadata = 0
        self.budget_blocked = 0
        self.budget_warned = 0
        self.hook_errors = 0
        self.internal_errors = 0
        self.odd_chunk = 0
        self.odd_response = 0
        self.pricing_errors = 0
        self.unknown_models = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return "Stats(" + ", ".join(f"{k}={v}" for k, v in self.as_dict().items() if v) + ")"


class Tracker:
    """Records LLM calls to ``log_dir`` (default: the directory the monitor reads, see ``pricing.log_dir()``).

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
                from pricing._paths import log_dir as default_log_dir

                log_dir = default_log_dir()
            writer = FileWriter(log_dir, max_bytes=max_bytes)
        self.writer = writer
        self.log_dir: Path | None = writer.directory if isinstance(writer, FileWriter) else None
        self.defaults: dict[str, Any] = {
            "agent": agent,
            "session_id": session_id,
            "user_id": user_id,
            "workflow": workflow,
            "tags": list(tags) if tags else None,
            "metadata": dict(metadata) if metadata else None,
        }
        self.capture_content = capture_content
        self.budgets = tuple(budgets)
        self.downgrade = dict(downgrade or {})
        self.call_cost_usd = None if call_cost_usd is None else Decimal(str(call_cost_usd))
        self.on_call_cost = on_call_cost
        self.gpus = gpus
        self.stats = Stats()
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
        attrs = self.attributes(
            agent=agent, session_id=session_id, user_id=user_id, workflow=workflow, tags=tags, metadata=metadata
        )
        attrs.update(
            operation=operation,
            source=source,
            server_address=server_address,
            stream=stream,
            attempt=attempt,
            fallback_from=fallback_from,
            gpus=gpus,
            prompt_hash=prompt_hash(messages) if messages is not None else None,
        )
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

    def wrap(self, client: Any, **attrs: Any) -> Any:
        """A wrapper around an OpenAI, Anthropic or Ollama client (sync or async) that records every call."""
        from llmcost._wrap import wrap_client

        return wrap_client(self, client, attrs)

    @property
    def records(self) -> list[Record]:
        """Records kept by an in-memory writer (``Tracker(writer=MemoryWriter())``); empty otherwise."""
        return self.writer.records if isinstance(self.writer, MemoryWriter) else []

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
        scopes = active_scopes()
        if scopes:
            for s in reversed(scopes):
                for key in _ATTRS:
                    value = getattr(s, key)
                    if value is not None and attrs.get(key) is None:
                        attrs[key] = value
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

    # -- recording ----------------------------------------------------------------------------------------------

    def _count(self, counter: str, message: str) -> None:
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        warn_once(counter, message)

    def _emit(self, call: Call) -> None:
        try:
            self._write(call)
        except Exception as exc:  # the recorder's own bug must not reach the user
            self._count("internal_errors", f"llmcost: could not record a call: {type(exc).__name__}: {exc}")

    def _write(self, call: Call) -> None:
        elapsed = time.perf_counter() - call.t0
        end = call.wall0 + elapsed
        ts = iso_ms(end)
        a = call.attrs
        u = call.usage
        gpus = a.get("gpus") or self.gpus
        gpu = u.gpu_seconds if u is not None else None
        if gpu is None and u is not None and (gpus or call.provider == "vllm"):
            gpu = elapsed * (gpus or 1)
        cost, status, ref = self._price(call, u, gpu, end)
        err = call.error
        metadata = a.get("metadata")
        if call.content is not None:
            metadata = {**(metadata or {}), "content": call.content}
        rec = Record(
            ts=ts,
            start_ts=iso_ms(call.wall0),
            id=call.id,
            trace_id=call.trace_id,
            parent_id=call.parent_id,
            source=a.get("source") or "sdk",
            operation=a.get("operation") or "chat",
            provider=call.provider,
            server_address=a.get("server_address"),
            request_model=call.request_model,
            response_model=call.response_model,
            response_id=call.response_id,
            stream=bool(a.get("stream")),
            input_tokens=u.input_tokens if u is not None else None,
            output_tokens=u.output_tokens if u is not None else None,
            cache_read_input_tokens=u.cache_read if u is not None else None,
            cache_creation_input_tokens=u.cache_write if u is not None else None,
            reasoning_output_tokens=u.reasoning if u is not None else None,
            usage_source=_source(u),
            gpu_seconds=gpu,
            cost_usd=_float(cost),
            cost_status=status,
            price_ref=ref,
            latency_ms=round(elapsed * 1000, 3),
            ttft_ms=None if call.ttft is None else round(call.ttft * 1000, 3),
            status=call.status,
            error_type=err[0] if err else None,
            error_message=err[1] if err else None,
            http_status=err[2] if err else None,
            attempt=a.get("attempt") or 0,
            fallback_from=a.get("fallback_from"),
            agent=a.get("agent"),
            session_id=a.get("session_id"),
            user_id=a.get("user_id"),
            workflow=a.get("workflow"),
            tags=a.get("tags"),
            metadata=metadata,
            prompt_hash=a.get("prompt_hash"),
        )
        self.writer.write_line(ts[:10], self._encode(rec))
        self.stats.calls += 1
        self._after(rec, cost, call.scopes)

    def _encode(self, rec: Record) -> bytes:
        try:
            return _encoder.encode(rec) + b"\n"
        except (TypeError, ValueError, OverflowError) as exc:
            self._count("bad_metadata", f"llmcost: metadata is not JSON ({exc}); values written as text")
        try:
            return _lenient.encode(rec) + b"\n"
        except (TypeError, ValueError, OverflowError):
            rec.metadata = {"unserializable": repr(rec.metadata)[:300]}
            return _lenient.encode(rec) + b"\n"

    def _after(self, rec: Record, cost: Decimal | None, scopes: Iterable[Scope]) -> None:
        for s in scopes:
            s.add(rec, cost)
        if cost is None:
            return
        if self._ledger is not None:
            self._ledger.add_own(rec.id, rec.ts[:10], cost, rec.agent, rec.session_id, rec.user_id)
        if self.call_cost_usd is not None and cost > self.call_cost_usd:
            if self.on_call_cost is None:
                warn_once("call_cost", f"llmcost: a call cost ${cost} (threshold ${self.call_cost_usd})")
                return
            try:
                self.on_call_cost(rec)
            except Exception as exc:
                self._count("hook_errors", f"llmcost: on_call_cost hook raised {type(exc).__name__}: {exc}")

    # -- pricing ------------------------------------------------------------------------------------------------

    def catalog(self) -> Catalog | None:
        """The catalog used for pricing (reloaded every 30 s when it is the active one, to follow updates)."""
        arg = self._catalog_arg
        if arg is not None and not isinstance(arg, (str, os.PathLike)):
            return arg
        now = time.monotonic()
        if self._catalog is None or now >= self._catalog_next:
            self._catalog_next = now + _CATALOG_RECHECK_S
            try:
                self._catalog = load_catalog(None if arg is None else Path(arg))
            except Exception as exc:
                self._count("pricing_errors", f"llmcost: cannot load the pricing catalog: {exc}")
        return self._catalog

    def _price(
        self, call: Call, u: Extracted | None, gpu: float | None, end: float
    ) -> tuple[Decimal | None, str, str | None]:
        if u is None or u.source in ("none", "error"):
            return None, "no_usage", None
        models = [m for m in (call.response_model, call.request_model) if m]
        catalog = self.catalog()
        if not models or catalog is None:
            return call.provider_cost, "provider_reported" if call.provider_cost is not None else "unknown_model", None
        try:
            write = u.cache_write or 0
            one_hour = min(u.cache_write_1h or 0, write)
            usage = Usage(
                u.input_tokens or 0,
                u.output_tokens or 0,
                u.cache_read or 0,
                write - one_hour,
                one_hour,
                u.reasoning or 0,
                gpu,
            )
            day = utc_day(end)
            for model in dict.fromkeys(models):
                price = catalog.price(usage, model, call.provider, at=day, provider_cost=call.provider_cost)
                if price.status != "unknown_model":
                    break
        except Exception as exc:
            self._count("pricing_errors", f"llmcost: cannot price a call: {exc}")
            return None, "no_usage", None
        if price.status == "unknown_model":
            self.stats.unknown_models += 1
        return price.cost_usd, price.status, price.price_ref


def _source(u: Extracted | None) -> str:
    if u is None or u.source == "error":
        return "none"
    return u.source


def _float(cost: Decimal | None) -> float | None:
    if cost is None:
        return None
    value = float(cost)
    exponent = cost.as_tuple().exponent
    return round(value, 12) if isinstance(exponent, int) and exponent < -12 else value


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


def track(client: Any = None, /, **kwargs: Any) -> Any:
    """One line: ``client = llmcost.track(OpenAI(), agent="planner")`` wraps a client with the default tracker;
    without a client, ``with llmcost.track(model=..., provider=...) as call:`` records any call."""
    if client is not None:
        return get_tracker().wrap(client, **kwargs)
    return get_tracker().trace(**kwargs)
