"""``anthropic.Anthropic`` / ``AsyncAnthropic`` wrappers: ``messages.create`` (streaming or not) and
``messages.stream``.

Streamed usage is cumulative: ``message_start`` sets it and each ``message_delta`` overwrites the fields it carries
(never adds), the rule the SDK itself follows. ``messages.stream()`` is finished from the SDK's own accumulated
message when its block ends; a block left before ``message_delta`` arrived is recorded as ``cancelled``. The SDK's
retries count in ``attempt`` as for the OpenAI client, for ``messages.stream()`` too (read from the stream's request).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from llmcost.integrations._clients import Proxy, WrapContext, add_retries, client_context, sdk_retries
from llmcost.recorder import HANDLERS, Wrapper, extract_usage, get_field

if TYPE_CHECKING:
    from llmcost.recorder import Call, Tracker

_anthropic_chunk = HANDLERS["anthropic"]

__all__ = ["wrap_anthropic"]


def wrap_anthropic(tracker: Tracker, client: Any, given: dict[str, Any], is_async: bool) -> Any:
    ctx = client_context(tracker, client, given, "anthropic")
    return (AsyncAnthropicProxy if is_async else AnthropicProxy)(client, ctx)


class _Messages(Proxy):
    def _start(self, kwargs: dict[str, Any], stream: bool) -> Call | None:
        call = self._ctx.start(kwargs.get("model"), "chat", stream, kwargs.get("system"), kwargs.get("messages"))
        if call is not None and call.request_model and call.request_model != kwargs.get("model"):
            kwargs["model"] = call.request_model
        return call

    def create(self, *args: Any, **kwargs: Any) -> Any:
        stream = kwargs.get("stream") is True
        call = self._start(kwargs, stream)
        try:
            raw = self._inner.with_raw_response.create(*args, **kwargs)
            result, retries = raw.parse(), getattr(raw, "retries_taken", 0)
        except BaseException as exc:
            WrapContext.failed(call, exc)
            raise
        return WrapContext.finished(call, result, "anthropic" if stream else None, retries)

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        call = self._start(kwargs, True)
        try:
            manager = self._inner.stream(*args, **kwargs)
        except BaseException as exc:
            WrapContext.failed(call, exc)
            raise
        if call is None:
            return manager
        call.streamed = True
        return _StreamManager(manager, call)


class _AsyncMessages(_Messages):
    async def create(self, *args: Any, **kwargs: Any) -> Any:
        stream = kwargs.get("stream") is True
        call = self._start(kwargs, stream)
        try:
            raw = await self._inner.with_raw_response.create(*args, **kwargs)
            result, retries = raw.parse(), getattr(raw, "retries_taken", 0)
            if inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            WrapContext.failed(call, exc)
            raise
        return WrapContext.finished(call, result, "anthropic" if stream else None, retries)


def _finish_from_snapshot(call: Call, stream: Any, exc: BaseException | None) -> None:
    try:
        message = stream.current_message_snapshot if stream is not None else None
    except Exception:  # no message_start received
        message = None
    if message is not None:
        call.usage = extract_usage(get_field(message, "usage"), "anthropic")
        model, rid = get_field(message, "model"), get_field(message, "id")  # text only, as the raw stream reads them
        call.response_model = model if isinstance(model, str) and model else call.response_model
        call.response_id = rid if isinstance(rid, str) and rid else call.response_id
    if exc is not None:
        call.set_error(exc)
    call.finish(None if get_field(message, "stop_reason") else "cancelled")


class _StreamManager:
    """Wraps ``MessageStreamManager`` (sync and async): the call is recorded when the block ends."""

    def __init__(self, manager: Any, call: Call) -> None:
        self._manager = manager
        self._call = call
        self._stream: Any = None

    def __enter__(self) -> _MessageStream:
        # The request is sent here (with the SDK's retries): a failure never reaches __exit__, so it is recorded here.
        try:
            self._stream = self._manager.__enter__()
        except BaseException as exc:
            WrapContext.failed(self._call, exc)
            raise
        add_retries(self._call, sdk_retries(self._stream))
        return _MessageStream(self._stream, self._call)

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Any:
        try:
            return self._manager.__exit__(exc_type, exc, tb)
        finally:
            _finish_from_snapshot(self._call, self._stream, exc)

    async def __aenter__(self) -> _MessageStream:
        try:
            self._stream = await self._manager.__aenter__()
        except BaseException as exc:
            WrapContext.failed(self._call, exc)
            raise
        add_retries(self._call, sdk_retries(self._stream))
        return _MessageStream(self._stream, self._call)

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Any:
        try:
            return await self._manager.__aexit__(exc_type, exc, tb)
        finally:
            _finish_from_snapshot(self._call, self._stream, exc)

    def __del__(self) -> None:
        if not self._call.done:
            _finish_from_snapshot(self._call, self._stream, None)


def _read_event(call: Call, event: Any) -> None:
    """Read one event of ``messages.stream()``; one it cannot read is counted (``stats.odd_chunk``) and passed on to
    the user's loop all the same, as the stream wrappers do for ``create(stream=True)``."""
    try:
        _anthropic_chunk(call, event)
    except Exception:
        call.tracker.count_fault("odd_chunk", "llmcost: could not read a streamed chunk")


class _MessageStream(Wrapper):
    """The SDK's ``MessageStream``: events and ``text_stream`` pass through; the first text marks TTFT."""

    def __init__(self, stream: Any, call: Call) -> None:
        super().__init__(stream)
        self._call = call

    def __iter__(self) -> Iterator[Any]:
        for event in self._inner:
            _read_event(self._call, event)
            yield event

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for event in self._inner:
            _read_event(self._call, event)
            yield event

    @property
    def text_stream(self) -> Any:
        inner = self._inner.text_stream
        call = self._call
        if hasattr(inner, "__aiter__"):

            async def agen() -> AsyncIterator[Any]:
                async for text in inner:
                    if text:
                        call.mark_first_token()
                    yield text

            return agen()

        def gen() -> Iterator[Any]:
            for text in inner:
                if text:
                    call.mark_first_token()
                yield text

        return gen()


class AnthropicProxy(Proxy):
    """A recorded ``anthropic.Anthropic``."""

    _messages: type[_Messages] = _Messages

    def __init__(self, target: Any, ctx: WrapContext) -> None:
        super().__init__(target, ctx)
        self.messages = self._messages(target.messages, ctx)

    def with_options(self, **options: Any) -> Any:
        return type(self)(self._inner.with_options(**options), self._ctx)

    copy = with_options


class AsyncAnthropicProxy(AnthropicProxy):
    """A recorded ``anthropic.AsyncAnthropic``."""

    _messages = _AsyncMessages
