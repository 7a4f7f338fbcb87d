"""One recorded call: a context manager (sync and async), finished by its block or by its stream (``_streams``).

A call is recorded exactly once: when its block ends, or — if a stream was handed over and is still open — when the
stream ends, is closed, raises, or is dropped unconsumed (status ``cancelled``).

What a call is given is checked as it comes in (see ``_wire``): a model name that is not text, a count that is not a
whole number, a cost that is not a number never reach the line as such, and never raise into the caller's code.
A call knows the recorder above it only as a :class:`CallSink` (the tracker): this module imports nothing above it.
"""

from __future__ import annotations

import contextvars
import time
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from llmcost.log import MAX_AMOUNT, MAX_COUNT
from llmcost.recorder import _ids
from llmcost.recorder._attribution import NO_ATTRIBUTION, Attribution, AttributionArgs, attribution_from
from llmcost.recorder._chunks import HANDLERS
from llmcost.recorder._ids import describe_error, new_span_id
from llmcost.recorder._plumbing import AsyncWith, Forwarded
from llmcost.recorder._scope import Scope
from llmcost.recorder._usage import Billing, ReportedUsage, extract, tier_name
from llmcost.recorder._wire import MESSAGE_MAX, NAME_MAX, wire_amount, wire_count, wire_status, wire_text

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["PLAIN_REQUEST", "Call", "CallSink", "Request", "current_call"]

_CANCELLED = ("CancelledError", "GeneratorExit", "KeyboardInterrupt")
_time = time.time
_perf = time.perf_counter
_NAME_MAX = NAME_MAX
_MAX_COUNT = MAX_COUNT
_MAX_USD = Decimal(int(MAX_AMOUNT))
_COUNTS = ReportedUsage.FIELDS[:6]  # the token counts, in the order set_usage takes them

_span: contextvars.ContextVar[Call | None] = contextvars.ContextVar("llmcost_span", default=None)


def current_call() -> Call | None:
    """The innermost call open in this context (its ids become the parent of nested calls)."""
    return _span.get()


class CallSink(Protocol):
    """What a call needs from the recorder it belongs to (``llmcost.Tracker`` is one)."""

    capture_content: bool

    def write_call(self, call: Call) -> None:
        """Price a finished call and write its line."""

    def count_fault(self, counter: str, message: str, n: int = 1) -> None:
        """Count ``n`` faults in ``stats`` (``counter``) and warn once with ``message``."""


_REQUEST_FIELDS = (
    "operation",
    "source",
    "server_address",
    "attempt",
    "fallback_from",
    "gpus",
    "usage_hint",
    "billing",
)


class Request:
    """What a call's request is beyond its model and provider: the kind of call, who sends it and where, which
    attempt, the model it replaces, its GPUs, whose usage shapes to read, and how it is billed (``billing``: the
    service tier asked for and whether it goes through a batch API, or ``None``). Immutable and shared: every call starts
    from :data:`PLAIN_REQUEST`, and a wrapped client keeps one per operation. Values are checked where they are
    given (:meth:`Call.set_request`)."""

    __slots__ = _REQUEST_FIELDS
    operation: str
    source: str
    server_address: str | None
    attempt: int
    fallback_from: str | None
    gpus: float | None
    usage_hint: str | None
    billing: tuple[str | None, bool] | None

    def __init__(
        self,
        operation: str = "chat",
        source: str = "sdk",
        server_address: str | None = None,
        attempt: int = 0,
        fallback_from: str | None = None,
        gpus: float | None = None,
        usage_hint: str | None = None,
        billing: tuple[str | None, bool] | None = None,
    ) -> None:
        given = (operation, source, server_address, attempt, fallback_from, gpus, usage_hint, billing)
        for name, value in zip(_REQUEST_FIELDS, given):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Request is shared between calls: use .replace({name}=...) or Call.set_request")

    def replace(self, **changes: Any) -> Request:
        """A copy with ``changes`` (values already checked)."""
        fields = {name: getattr(self, name) for name in _REQUEST_FIELDS}
        return Request(**{**fields, **changes})

    def __repr__(self) -> str:
        return "Request(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in _REQUEST_FIELDS) + ")"


#: The request details of a call nobody said anything about.
PLAIN_REQUEST = Request()


class Call(AsyncWith):
    """A call being recorded. Hand it the response (:meth:`record`), the counts (:meth:`set_usage`) or the stream
    (:meth:`stream`); errors raised inside the ``with`` block are recorded with their type and HTTP status.

    Its attributes are read-only for callers: set them through the methods, which check what they are given."""

    # Slots, every one set in __init__: the line reads some thirty of them, and a slot (or an instance attribute)
    # loads several times faster than a default kept on the class (measured: ~5 ns against ~34 ns in 3.11).
    __slots__ = (
        "_streaming",
        "_token",
        "attribution",
        "content",
        "done",
        "error",
        "id",
        "parent_id",
        "prompt_hash",
        "provider",
        "provider_cost",
        "request",
        "request_model",
        "response_id",
        "response_model",
        "scopes",
        "status",
        "streamed",
        "t0",
        "trace_id",
        "tracker",
        "ttft",
        "usage",
        "wall0",
    )

    def __init__(
        self,
        tracker: CallSink,
        model: str | None,
        provider: str | None,
        attribution: Attribution = NO_ATTRIBUTION,
        scopes: tuple[Scope, ...] = (),
    ) -> None:
        parent = _span.get()
        self.tracker = tracker
        self.id: str = next(_ids.span_ids, None) or new_span_id()  # inlined but when the ids run out
        if parent is None:
            self.trace_id: str = _ids._trace_prefix + self.id  # new_trace_id(), inlined
            self.parent_id: str | None = None
        else:
            self.trace_id = parent.trace_id
            self.parent_id = parent.id
        if type(model) is str and type(provider) is str and len(model) + len(provider) <= _NAME_MAX:
            self.request_model: str | None = model
            self.provider: str | None = provider
        else:  # None, not text, or long
            self.request_model, self.provider = self._name(model), self._name(provider)
        self.attribution = attribution
        self.scopes = scopes
        self.usage: ReportedUsage | None = None
        self.response_model: str | None = None
        self.response_id: str | None = None
        self.provider_cost: Decimal | None = None
        self.ttft: float | None = None
        self.status = "ok"
        self.error: tuple[str, str, int | None] | None = None
        self.content: dict[str, Any] | None = None
        self.done = False
        self.request = PLAIN_REQUEST
        self.streamed = False
        self.prompt_hash: str | None = None
        self._streaming = False
        self._token: contextvars.Token[Call | None] | None = None
        self.wall0 = _time()
        self.t0 = _perf()

    def _name(self, value: Any) -> str | None:
        text, changed = wire_text(value)
        if changed:
            self.tracker.count_fault("bad_values", f"llmcost: a name that is not text was written as {text!r:.60}")
        return text

    @property
    def usage_hint(self) -> str | None:
        """Whose usage shapes :meth:`record` and stream chunks are read as (default: the provider)."""
        return self.request.usage_hint or self.provider

    operation: Forwarded[str] = Forwarded(
        "request.operation", "``chat``, ``text_completion``, ``embeddings`` or ``responses``."
    )
    source: Forwarded[str] = Forwarded(
        "request.source", "What recorded the call (``sdk``, ``openai``, ``langchain``, ...)."
    )
    server_address: Forwarded[str | None] = Forwarded(
        "request.server_address", "The host the request went to, if known."
    )
    attempt: Forwarded[int] = Forwarded(
        "request.attempt", "0 for a first try, n for the n-th retry (the caller's own and the SDK's)."
    )
    fallback_from: Forwarded[str | None] = Forwarded("request.fallback_from", "The model this call replaced, if any.")
    gpus: Forwarded[float | None] = Forwarded(
        "request.gpus", "GPUs that turn a self-hosted call's wall time into ``gpu_seconds``."
    )

    def set_request(
        self,
        *,
        operation: Any = None,
        source: Any = None,
        server_address: Any = None,
        stream: Any = None,
        attempt: Any = None,
        fallback_from: Any = None,
        gpus: Any = None,
        usage_hint: Any = None,
        prompt_hash: str | None = None,
        service_tier: Any = None,
        batch: Any = None,
    ) -> None:
        """Details of the request (what is not given keeps its value), written as the wire format takes them.

        ``service_tier`` is the tier asked for (written, and priced, when the response names none); ``batch=True``
        says the call is billed through a batch API."""
        changes = self.checked_request(
            operation=operation,
            source=source,
            server_address=server_address,
            attempt=attempt,
            fallback_from=fallback_from,
            gpus=gpus,
            usage_hint=usage_hint,
        )
        if service_tier is not None or batch is not None:
            changes["billing"] = self._requested_billing(service_tier, batch)
        if changes:
            self.request = self.request.replace(**changes)
        if stream is not None:
            self.streamed = stream is True or (stream is not False and _truthy(stream))
        if prompt_hash is not None:
            self.prompt_hash = prompt_hash

    def _requested_billing(self, service_tier: Any, batch: Any) -> tuple[str | None, bool] | None:
        old = self.request.billing
        tier = old[0] if old is not None else None
        if service_tier is not None:
            tier = self._tier(service_tier)
        flag = old[1] if old is not None else False
        if batch is not None:
            flag = self._flag("batch", batch)
        return None if tier is None and not flag else (tier, flag)

    def _tier(self, value: Any) -> str | None:
        tier = tier_name(value)
        if tier is None:
            self.tracker.count_fault("bad_values", f"llmcost: service_tier={_shown(value)} is not a tier name: ignored")
        return tier

    def _flag(self, name: str, value: Any) -> bool:
        if type(value) is bool:
            return value
        self.tracker.count_fault(
            "bad_values", f"llmcost: {name}={_shown(value)} is not True or False: read as its truth"
        )
        return _truthy(value)

    def checked_request(self, **given: Any) -> dict[str, Any]:
        """The request details given (``None``: not given), as the wire format takes them; faults are counted."""
        out: dict[str, Any] = {}
        for name, value in given.items():
            if value is None:
                continue
            if name == "attempt":
                count, changed = wire_count(value)
                if changed:
                    self.tracker.count_fault(
                        "bad_values", f"llmcost: attempt {_shown(value)} is not a count: written as 0"
                    )
                out[name] = count or 0
            elif name == "gpus":
                amount, changed = wire_amount(value)
                if changed:
                    self.tracker.count_fault("bad_values", f"llmcost: gpus={_shown(value)} is not a number: ignored")
                out[name] = amount
            else:
                out[name] = self._name(value) or _DEFAULTS.get(name)
        return out

    def set_attribution(self, attribution: Attribution | None = None, **attrs: Unpack[AttributionArgs]) -> None:
        """More attribution for this call (``attribution=``, and :class:`~llmcost.Attribution`'s fields as keywords
        over it), over what it has: names replace, tags join, metadata merges."""
        own = attribution_from(attribution, attrs, "set_attribution()")
        if own.fixes:
            message = "llmcost: attribution that is not text was written as text"
            self.tracker.count_fault("bad_values", message, own.fixes)
        if own.metadata_fixed:
            message = "llmcost: metadata is not JSON as given; written as the plain JSON closest to it"
            self.tracker.count_fault("bad_metadata", message)
        self.attribution = own.over(self.attribution)

    def record(self, response: Any) -> Any:
        """Read usage, model and id from a provider response; returns ``response`` unchanged."""
        usage = extract(response, self.usage_hint)
        if usage.source in ("none", "error"):
            self.tracker.count_fault("odd_response", f"llmcost: no usage found in a {type(response).__name__} response")
        self.usage = usage
        self.response_model = usage.response_model or self.response_model
        self.response_id = usage.response_id or self.response_id
        return response

    def set_usage(
        self,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        *,
        cache_read_input_tokens: int | None = None,
        cache_creation_input_tokens: int | None = None,
        cache_creation_1h_input_tokens: int | None = None,
        reasoning_output_tokens: int | None = None,
        gpu_seconds: float | None = None,
        response_model: str | None = None,
        cost_usd: Decimal | float | str | None = None,
        estimated: bool = False,
        service_tier: str | None = None,
        batch: bool = False,
        web_search_requests: int | None = None,
        web_fetch_requests: int | None = None,
        file_search_calls: int | None = None,
        code_interpreter_sessions: int | None = None,
        grounded_prompts: int | None = None,
    ) -> None:
        """Give the counts directly (inclusive, as in the wire format). ``cost_usd`` is a provider-reported cost.

        ``cache_creation_1h_input_tokens`` is the one-hour part of ``cache_creation_input_tokens`` (given alone, or
        with a smaller total, they are taken as all the writes; the latter is counted). How the call is
        billed beyond its tokens: ``service_tier`` as the provider reported it (``flex``, ``priority``, ...),
        ``batch=True`` for a batch API, and the server-side tools used (``web_search_requests`` ...
        ``grounded_prompts``, as in ``pricing.Usage``); each is priced with the catalog's tier, batch and tool fees.

        A count that is not a whole number from 0 to 2**53 is recorded as unknown (a whole float such as ``100.0``
        as its integer); what had to change is counted in ``tracker.stats.bad_values``. Never raises."""
        usage = ReportedUsage(
            input_tokens,
            output_tokens,
            cache_read_input_tokens,
            cache_creation_input_tokens,
            cache_creation_1h_input_tokens,
            reasoning_output_tokens,
            None,
            None,
            None,
            "provider",
        )
        # The common case in one expression: every count None or an int, and the OR of them from 0 to 2**53 (it is
        # negative if one of them is, and passes 2**53 if one of them does). Anything else goes through wire_count.
        if not (
            (type(input_tokens) is int or input_tokens is None)
            and (type(output_tokens) is int or output_tokens is None)
            and (cache_read_input_tokens is None or type(cache_read_input_tokens) is int)
            and (cache_creation_input_tokens is None or type(cache_creation_input_tokens) is int)
            and (cache_creation_1h_input_tokens is None or type(cache_creation_1h_input_tokens) is int)
            and (reasoning_output_tokens is None or type(reasoning_output_tokens) is int)
            and 0
            <= (input_tokens or 0)
            | (output_tokens or 0)
            | (cache_read_input_tokens or 0)
            | (cache_creation_input_tokens or 0)
            | (cache_creation_1h_input_tokens or 0)
            | (reasoning_output_tokens or 0)
            < _MAX_COUNT
            and gpu_seconds is None
            and estimated is False
        ):
            self._check_usage(usage, gpu_seconds, estimated)
        if (
            service_tier is not None
            or batch is not False
            or web_search_requests is not None
            or web_fetch_requests is not None
            or file_search_calls is not None
            or code_interpreter_sessions is not None
            or grounded_prompts is not None
        ):
            tools = (
                web_search_requests,
                web_fetch_requests,
                file_search_calls,
                code_interpreter_sessions,
                grounded_prompts,
            )
            usage.billing = self._billing(usage, service_tier, batch, tools)
        one_hour = usage.cache_write_1h
        if one_hour is not None and (usage.cache_write is None or usage.cache_write < one_hour):
            # a part of all cache writes: given alone, they are the writes; beyond a total given, the total is wrong
            if usage.cache_write is not None:
                message = "llmcost: one-hour cache writes beyond all cache writes were counted as all the writes"
                self.tracker.count_fault("bad_values", message)
            usage.cache_write = one_hour
        self.usage = usage
        if response_model is not None:  # (not its truth value: an odd object's __bool__ may raise)
            self.response_model = self._name(response_model) or self.response_model
        if cost_usd is not None:
            self.provider_cost = self._cost(cost_usd)

    def _billing(self, u: ReportedUsage, service_tier: Any, batch: Any, tools: tuple[Any, ...]) -> Billing | None:
        """:meth:`set_usage`'s tier, batch and tool counts as the wire format takes them (faults counted; a tool
        count refused leaves the call unpriced, as a refused token count does)."""
        tier = None if service_tier is None else self._tier(service_tier)
        flag = self._flag("batch", batch) or (tier is not None and tier.lower() == "batch")
        ws, wf, fs, ci, gp = tools
        if not (  # the common case in one expression, as for the token counts: None or an int from 0 to 2**53
            (ws is None or type(ws) is int)
            and (wf is None or type(wf) is int)
            and (fs is None or type(fs) is int)
            and (ci is None or type(ci) is int)
            and (gp is None or type(gp) is int)
            and 0 <= (ws or 0) | (wf or 0) | (fs or 0) | (ci or 0) | (gp or 0) < _MAX_COUNT
        ):
            checked = [wire_count(value) for value in tools]
            bad = sum(changed for _, changed in checked)
            if bad:
                message = "llmcost: a tool count that is not a whole number from 0 to 2**53 was recorded as unknown"
                self.tracker.count_fault("bad_values", message, bad)
                u.source = "invalid"
            ws, wf, fs, ci, gp = (count for count, _ in checked)
        if tier is None and not flag and ws is None and wf is None and fs is None and ci is None and gp is None:
            return None
        return Billing(tier, flag, ws, wf, fs, ci, gp)

    def _check_usage(self, u: ReportedUsage, gpu_seconds: Any, estimated: Any) -> None:
        """Make :meth:`set_usage`'s counts in ``u`` what the wire format takes (refused ones unknown, and counted)."""
        bad = 0
        for name in _COUNTS:
            value, changed = wire_count(getattr(u, name))
            setattr(u, name, value)
            bad += changed
        if bad:
            message = "llmcost: a token count that is not a whole number from 0 to 2**53 was recorded as unknown"
            self.tracker.count_fault("bad_values", message, bad)
        if gpu_seconds is not None:
            u.gpu_seconds, changed = wire_amount(gpu_seconds)
            if changed:
                self.tracker.count_fault("bad_values", "llmcost: gpu_seconds is not a number from 0 to 1e9: ignored")
        if bad:  # not priced: an unknown count would be priced as zero, and the cost understated
            u.source = "invalid"
        elif estimated is True or (estimated is not False and _truthy(estimated)):
            u.source = "estimated"

    def _cost(self, cost: Any) -> Decimal | None:
        try:
            value = cost if isinstance(cost, Decimal) else Decimal(str(cost))
            if value.is_finite() and 0 <= value <= _MAX_USD:
                return value
        except Exception:  # not a number (InvalidOperation, ValueError...), or an object whose str() raises
            pass
        self.tracker.count_fault(
            "bad_values", f"llmcost: cost_usd={_shown(cost)} is not a cost: priced from the catalog"
        )
        return None

    def __enter__(self) -> Call:
        self._token = _span.set(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token = self._token
        if token is not None:
            self._token = None
            try:  # noqa: SIM105 (contextlib.suppress costs ~0.3 µs per call here)
                _span.reset(token)
            except ValueError:
                pass  # exited in another context (a generator resumed elsewhere)
        if exc is not None:
            self.set_error(exc)
        elif self._streaming:
            return  # the stream records the call when it ends
        if not self.done:  # finish(), inlined
            self.done = True
            self.tracker.write_call(self)

    model: Forwarded[str | None] = Forwarded(
        "request_model", "The model asked for (after a budget downgrade, the cheaper one)."
    )

    # -- handing over results ------------------------------------------------------------------------------------

    def set_error(self, exc: BaseException) -> None:
        """Mark the call failed (or cancelled, for cancellation) without leaving the block."""
        info = describe_error(exc)
        self.status = "cancelled" if info[0] in _CANCELLED else "error"
        self.error = info

    def set_failure(self, error_type: Any, message: Any, http_status: Any = None) -> None:
        """Mark the call failed from a description of the error (when there is no exception object to hand to
        :meth:`set_error`), written as the wire format takes it."""
        name, _ = wire_text(error_type)
        text, _ = wire_text(message, MESSAGE_MAX)
        status, _ = wire_status(http_status)
        self.status = "error"
        self.error = (name or "Error", text or "", status)

    def mark_first_token(self) -> None:
        """Record the time to first token now (stream helpers do it for you)."""
        if self.ttft is None:
            self.ttft = _perf() - self.t0

    def stream(self, chunks: Any, kind: str | None = None) -> Any:
        """Wrap an iterator or async iterator of chunks; the call is recorded when the stream ends.

        ``kind`` picks the chunk reader (``openai_chat``, ``openai_responses``, ``anthropic``, ``ollama``); the
        default, ``generic``, takes the first non-empty chunk as the first token and usage from any chunk carrying it.
        """
        from llmcost.recorder._streams import RecordedAsyncStream, RecordedStream  # on first use: import is lighter

        generic = HANDLERS["generic"]
        handler = HANDLERS.get(kind, generic) if isinstance(kind, str) else generic
        self._streaming = True
        self.streamed = True
        if hasattr(chunks, "__aiter__"):
            return RecordedAsyncStream(chunks, self, handler)
        return RecordedStream(chunks, self, handler)

    # -- finishing ----------------------------------------------------------------------------------------------

    def finish(self, status: str | None = None) -> None:
        """Write the record (once; later calls do nothing). ``status`` (``ok``, ``error``, ``cancelled``) is taken
        when the call has not failed already."""
        if self.done:
            return
        self.done = True
        if status is not None and self.status == "ok":
            self.status = self._name(status) or "ok"
        self.tracker.write_call(self)


_DEFAULTS = {"operation": "chat", "source": "sdk"}


def _shown(value: Any) -> str:
    """``repr(value)`` cut to 40 characters for a warning; the type's name when ``repr`` raises (an odd object)."""
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return text[:40] if isinstance(text, str) else f"<{type(value).__name__}>"


def _truthy(value: Any) -> bool:
    try:
        return bool(value)
    except Exception:
        return False
