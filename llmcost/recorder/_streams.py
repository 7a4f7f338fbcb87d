"""The stream wrappers that finish a call: chunks pass through unchanged while usage and TTFT are read.

A stream is recorded once: when it ends, is closed, raises, or is dropped before its end (status ``cancelled``).
Imported on a call's first stream (``Call.stream``): ``import llmcost`` does not need it. A wrapper knows its call
as a :class:`StreamOwner` (``llmcost.Call`` is one), so this module imports nothing of ``_call``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Generator
from typing import Any, Protocol

from llmcost.recorder._chunks import ChunkHandler, StreamedCall
from llmcost.recorder._plumbing import Wrapper

__all__ = ["RecordedAsyncStream", "RecordedStream", "StreamOwner"]


class _Counter(Protocol):
    def count_fault(self, counter: str, message: str, n: int = 1) -> None:
        """Count a fault and warn once."""


class StreamOwner(StreamedCall, Protocol):
    """What a stream wrapper needs from its call: the chunk readers' view, and finishing it."""

    done: bool

    @property
    def tracker(self) -> _Counter:
        """Where faults are counted."""

    def set_error(self, exc: BaseException) -> None:
        """Mark the call failed."""

    def finish(self, status: str | None = None) -> None:
        """Write the record (once)."""


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


def _relay(inner: Any, call: StreamOwner, handler: ChunkHandler) -> Generator[Any, None, None]:
    """The chunks of ``inner``, unchanged, each read on the way; the call is finished when they end.

    The wrapper advances it once, to the bare ``yield``, before handing it out: from then on closing or dropping the
    generator runs its ``GeneratorExit`` branch, also when no chunk was ever asked for (a generator that never
    started runs no code when it is closed)."""
    try:
        yield
        for chunk in inner:
            try:  # _read(), inlined: a call per chunk would add a sixth to the wrapper's time
                handler(call, chunk)
            except Exception:
                _odd_chunk(call)
            yield chunk
    except BaseException as exc:
        _end(call, exc)
        if isinstance(exc, GeneratorExit):
            _close_inner(inner)
        raise
    call.finish()


async def _arelay(inner: Any, call: StreamOwner, handler: ChunkHandler) -> AsyncGenerator[Any, None]:
    """The async form of :func:`_relay` (not primed: its wrapper records a dropped stream)."""
    try:
        async for chunk in inner:
            _read(call, handler, chunk)
            yield chunk
    except BaseException as exc:
        _end(call, exc)
        raise
    call.finish()


def _read(call: StreamOwner, handler: ChunkHandler, chunk: Any) -> None:
    """Read one chunk (a chunk it cannot read is counted, and passed on all the same)."""
    try:
        handler(call, chunk)
    except Exception:
        _odd_chunk(call)


def _odd_chunk(call: StreamOwner) -> None:
    call.tracker.count_fault("odd_chunk", "llmcost: could not read a streamed chunk")


def _end(call: StreamOwner, exc: BaseException) -> None:
    """Finish the call of a stream that ended by ``exc``: dropped or closed early (``GeneratorExit``), or failed."""
    if isinstance(exc, GeneratorExit):
        call.finish("cancelled")
    else:
        call.set_error(exc)
        call.finish()


class RecordedStream(Wrapper):
    """A stream whose chunks pass through unchanged while usage and TTFT are read."""

    def __init__(self, inner: Any, call: StreamOwner, handler: ChunkHandler) -> None:
        super().__init__(inner)
        self._call = call
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


class RecordedAsyncStream(Wrapper):
    """The async form of :class:`RecordedStream`.

    An async generator dropped unfinished is closed later, by the event loop; so the wrapper itself is what ``async
    for`` iterates, and when it is dropped it records the call at once (its ``__del__``)."""

    def __init__(self, inner: Any, call: StreamOwner, handler: ChunkHandler) -> None:
        super().__init__(inner)
        self._call = call
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
