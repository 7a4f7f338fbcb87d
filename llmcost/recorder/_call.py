"""One recorded call: a context manager (sync and async) and the stream wrappers that finish it.

A call is recorded exactly once: when its block ends, or — if a stream was handed over and is still open — when the
stream ends, is closed, raises, or is garbage-collected unconsumed (status ``cancelled``).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import AsyncGenerator, Awaitable, Generator
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from llmcost.recorder import _ids
from llmcost.recorder._chunks import HANDLERS, ChunkHandler
from llmcost.recorder._ids import describe_error, new_span_id
from llmcost.recorder._scope import Scope
from llmcost.recorder._usage import Extracted, extract

if TYPE_CHECKING:
    from llmcost.recorder._tracker import Tracker

__all__ = ["Call", "RecordedAsyncStream", "RecordedStream", "current_call"]

_CANCELLED = ("CancelledError", "GeneratorExit", "KeyboardInterrupt")
_time = time.time
_new = object.__new__
_perf = time.perf_counter

_span: contextvars.ContextVar[Call | None] = contextvars.ContextVar("llmcost_span", default=None)


def current_call() -> Call | None:
    """The innermost call open in this context (its ids become the parent of nested calls)."""
    return _span.get()


def _to_decimal(cost: Decimal | float | str) -> Decimal:
    return cost if isinstance(cost, Decimal) else Decimal(str(cost))


class Call:
    """A call being recorded. Hand it the response (:meth:`record`), the counts (:meth:`set_usage`) or the stream
    (:meth:`stream`); errors raised inside the ``with`` block are recorded with their type and HTTP status."""

    # What a call starts with, kept on the class: a new call sets only what differs (a hot-path saving).
    usage: Extracted | None = None
    response_model: str | None = None
    response_id: str | None = None
    provider_cost: Decimal | None = None
    ttft: float | None = None
    status = "ok"
    error: tuple[str, str, int | None] | None = None
    content: dict[str, Any] | None = None
    done = False
    _streaming = False
    _token: contextvars.Token[Call | None] | None = None

    def __init__(
        self,
        tracker: Tracker,
        model: str | None,
        provider: str | None,
        attrs: dict[str, Any],
        scopes: tuple[Scope, ...],
    ) -> None:
        parent = _span.get()
        self.tracker = tracker
        self.id: str = new_span_id()
        if parent is None:
            self.trace_id: str = _ids._trace_prefix + self.id  # new_trace_id(), inlined
            self.parent_id: str | None = None
        else:
            self.trace_id = parent.trace_id
            self.parent_id = parent.id
        self.request_model = model
        self.provider = provider
        self.hint: str | None = (attrs.pop("hint", None) or provider) if "hint" in attrs else provider
        self.attrs = attrs
        self.scopes = scopes
        self.wall0 = _time()
        self.t0 = _perf()

    def record(self, response: Any) -> Any:
        """Read usage, model and id from a provider response; returns ``response`` unchanged."""
        usage = extract(response, self.hint)
        if usage.source in ("none", "error"):
            self.tracker._count("odd_response", f"llmcost: no usage found in a {type(response).__name__} response")
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
    ) -> None:
        """Give the counts directly (inclusive, as in the wire format). ``cost_usd`` is a provider-reported cost."""
        u = _new(Extracted)  # every slot is set below: Extracted.__init__ would only set them twice
        u.input_tokens = input_tokens
        u.output_tokens = output_tokens
        u.cache_read = cache_read_input_tokens
        u.cache_write = cache_creation_input_tokens
        u.cache_write_1h = cache_creation_1h_input_tokens
        u.reasoning = reasoning_output_tokens
        u.gpu_seconds = gpu_seconds
        u.response_model = u.response_id = None
        u.source = "estimated" if estimated else "provider"
        self.usage = u
        if response_model:
            self.response_model = response_model
        if cost_usd is not None:
            self.provider_cost = _to_decimal(cost_usd)

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
            self.tracker._emit(self)

    @property
    def model(self) -> str | None:
        """The model asked for (after a budget downgrade, the cheaper one)."""
        return self.request_model

    # -- handing over results ------------------------------------------------------------------------------------

    def set_error(self, exc: BaseException) -> None:
        """Mark the call failed (or cancelled, for cancellation) without leaving the block."""
        info = describe_error(exc)
        self.status = "cancelled" if info[0] in _CANCELLED else "error"
        self.error = info

    def mark_first_token(self) -> None:
        """Record the time to first token now (stream helpers do it for you)."""
        if self.ttft is None:
            self.ttft = _perf() - self.t0

    def stream(self, chunks: Any, kind: str | None = None) -> Any:
        """Wrap an iterator or async iterator of chunks; the call is recorded when the stream ends.

        ``kind`` picks the chunk reader (``openai_chat``, ``openai_responses``, ``anthropic``, ``ollama``); the
        default, ``generic``, takes the first non-empty chunk as the first token and usage from any chunk carrying it.
        """
        handler = HANDLERS.get(kind or "generic", HANDLERS["generic"])
        self._streaming = True
        self.attrs["stream"] = True
        if hasattr(chunks, "__aiter__"):
            return RecordedAsyncStream(chunks, self, handler)
        return RecordedStream(chunks, self, handler)

    # -- finishing ----------------------------------------------------------------------------------------------

    def finish(self, status: str | None = None) -> None:
        """Write the record (once; later calls do nothing)."""
        if self.done:
            return
        self.done = True
        if status is not None and self.status == "ok":
            self.status = status
        self.tracker._emit(self)

    async def __aenter__(self) -> Call:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _close_inner(inner: Any) -> None:
    """Release the connection of an abandoned stream (sync ``close`` only: ``__del__`` cannot await)."""
    import inspect

    close = getattr(inner, "close", None)
    if callable(close) and not inspect.iscoroutinefunction(close):
        with contextlib.suppress(Exception):
            close()


# A stream left with ``break`` (or never iterated) is recorded when it is dropped, by reference counting alone:
# nothing here forms a reference cycle, so the cyclic garbage collector (which may run much later, or never) is not
# needed, and the latency is the time until the stream was dropped. The generators are functions, not methods, so
# they do not hold their wrapper (wrapper -> generator -> frame -> wrapper would be such a cycle).


def _relay(inner: Any, call: Call, handler: ChunkHandler) -> Generator[Any, None, None]:
    """The chunks of ``inner``, unchanged, each read on the way; the call is finished when they end.

    The wrapper advances it once, to the bare ``yield``, before handing it out: from then on closing or dropping the
    generator runs its ``GeneratorExit`` branch, also when no chunk was ever asked for (a generator that never
    started runs no code when it is closed)."""
    try:
        yield
        for chunk in inner:
            try:
                handler(call, chunk)
            except Exception:
                call.tracker._count("odd_chunk", "llmcost: could not read a streamed chunk")
            yield chunk
    except GeneratorExit:
        call.finish("cancelled")
        _close_inner(inner)
        raise
    except BaseException as exc:
        call.set_error(exc)
        call.finish()
        raise
    call.finish()


async def _arelay(inner: Any, call: Call, handler: ChunkHandler) -> AsyncGenerator[Any, None]:
    """The async form of :func:`_relay` (not primed: its wrapper records a dropped stream)."""
    try:
        async for chunk in inner:
            try:
                handler(call, chunk)
            except Exception:
                call.tracker._count("odd_chunk", "llmcost: could not read a streamed chunk")
            yield chunk
    except GeneratorExit:
        call.finish("cancelled")
        raise
    except BaseException as exc:
        call.set_error(exc)
        call.finish()
        raise
    call.finish()


class _StreamBase:
    def __init__(self, inner: Any, call: Call) -> None:
        self._inner = inner
        self._call = call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RecordedStream(_StreamBase):
    """A stream whose chunks pass through unchanged while usage and TTFT are read."""

    def __init__(self, inner: Any, call: Call, handler: ChunkHandler) -> None:
        super().__init__(inner, call)
        self._gen = _relay(inner, call, handler)
        next(self._gen)  # to its first ``yield``: see _relay

    def __iter__(self) -> Generator[Any, None, None]:
        return self._gen  # iterating the generator itself: no Python-level __next__ per chunk

    def __next__(self) -> Any:
        return next(self._gen)

    def close(self) -> None:
        """Stop early: the call is recorded as cancelled and the underlying stream closed."""
        self._gen.close()

    def __enter__(self) -> RecordedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RecordedAsyncStream(_StreamBase):
    """The async form of :class:`RecordedStream`.

    An async generator dropped unfinished is closed later, by the event loop; so the wrapper itself is what ``async
    for`` iterates, and when it is dropped it records the call at once (its ``__del__``)."""

    def __init__(self, inner: Any, call: Call, handler: ChunkHandler) -> None:
        super().__init__(inner, call)
        self._gen = _arelay(inner, call, handler)

    def __aiter__(self) -> RecordedAsyncStream:
        return self

    def __anext__(self) -> Awaitable[Any]:
        return self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop early: the call is recorded as cancelled and the underlying stream closed."""
        await self._gen.aclose()
        self._call.finish("cancelled")
        for name in ("aclose", "close"):
            close = getattr(self._inner, name, None)
            if callable(close):
                result = close()
                if hasattr(result, "__await__"):
                    await result
                break

    close = aclose

    async def __aenter__(self) -> RecordedAsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        call = self.__dict__.get("_call")
        if call is not None and not call.done:
            call.finish("cancelled")
