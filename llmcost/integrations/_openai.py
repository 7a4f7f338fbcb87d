"""``openai.OpenAI`` / ``AsyncOpenAI`` (and Azure) wrappers: chat completions, responses, completions, embeddings.

Chat streams get ``stream_options={"include_usage": True}`` unless the caller set ``stream_options`` (without it the
server sends no usage at all). The SDK's own retries become the record's ``attempt``: requests go through
``with_raw_response`` (``retries_taken``), and a call that fails after its retries is read from the error's request
(the ``x-stainless-retry-count`` header the SDK numbers its requests with).

The service tier is the one the response (or, streamed, its chunks) names; a ``service_tier`` argument is written and
priced only when the response names none.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from llmcost.integrations._clients import Proxy, WrapContext, client_context, given

if TYPE_CHECKING:
    from llmcost.recorder import Tracker

__all__ = ["wrap_openai"]


def wrap_openai(tracker: Tracker, client: Any, given: dict[str, Any], is_async: bool) -> Any:
    return (AsyncOpenAIProxy if is_async else OpenAIProxy)(client, client_context(tracker, client, given, "openai"))


class _Resource(Proxy):
    """One ``create`` endpoint."""

    operation = "chat"
    keys: tuple[str, ...] = ("messages",)
    kind = "openai_chat"
    usage_option = True

    def _prepare(self, kwargs: dict[str, Any]) -> tuple[Any, bool]:
        stream = kwargs.get("stream") is True
        if stream and self.usage_option and not given(kwargs.get("stream_options")):
            kwargs["stream_options"] = {"include_usage": True}
        call = self._ctx.start(kwargs.get("model"), self.operation, stream, *(kwargs.get(k) for k in self.keys))
        if call is not None:
            if call.request_model and call.request_model != kwargs.get("model"):
                kwargs["model"] = call.request_model  # a budget downgraded the call
            tier = kwargs.get("service_tier")
            if tier is not None and given(tier):  # priced with it when the response names no tier
                call.set_request(service_tier=tier)
        return call, stream


class _SyncResource(_Resource):
    def create(self, *args: Any, **kwargs: Any) -> Any:
        call, stream = self._prepare(kwargs)
        try:
            raw_api = getattr(self._inner, "with_raw_response", None)
            if raw_api is None:
                result, retries = self._inner.create(*args, **kwargs), 0
            else:
                raw = raw_api.create(*args, **kwargs)
                result, retries = raw.parse(), getattr(raw, "retries_taken", 0)
        except BaseException as exc:
            WrapContext.failed(call, exc)
            raise
        return WrapContext.finished(call, result, self.kind if stream else None, retries)


class _AsyncResource(_Resource):
    async def create(self, *args: Any, **kwargs: Any) -> Any:
        call, stream = self._prepare(kwargs)
        try:
            raw_api = getattr(self._inner, "with_raw_response", None)
            if raw_api is None:
                result, retries = await self._inner.create(*args, **kwargs), 0
            else:
                raw = await raw_api.create(*args, **kwargs)
                result, retries = raw.parse(), getattr(raw, "retries_taken", 0)
                if inspect.isawaitable(result):  # the async raw response's parse() is a coroutine in some versions
                    result = await result
        except BaseException as exc:
            WrapContext.failed(call, exc)
            raise
        return WrapContext.finished(call, result, self.kind if stream else None, retries)


class _ChatCompletions(_SyncResource):
    pass


class _AsyncChatCompletions(_AsyncResource):
    pass


class _Responses(_SyncResource):
    operation, keys, kind, usage_option = "responses", ("instructions", "input"), "openai_responses", False


class _AsyncResponses(_AsyncResource):
    operation, keys, kind, usage_option = "responses", ("instructions", "input"), "openai_responses", False


class _Completions(_SyncResource):
    operation, keys = "text_completion", ("prompt",)


class _AsyncCompletions(_AsyncResource):
    operation, keys = "text_completion", ("prompt",)


class _Embeddings(_SyncResource):
    operation, keys, usage_option = "embeddings", ("input",), False


class _AsyncEmbeddings(_AsyncResource):
    operation, keys, usage_option = "embeddings", ("input",), False


class _Chat(Proxy):
    def __init__(self, target: Any, ctx: WrapContext, completions: type[_Resource]) -> None:
        super().__init__(target, ctx)
        self.completions = completions(target.completions, ctx)


class OpenAIProxy(Proxy):
    """A recorded ``openai.OpenAI``: use it exactly like the client."""

    _chat, _responses, _completions, _embeddings = _ChatCompletions, _Responses, _Completions, _Embeddings

    def __init__(self, target: Any, ctx: WrapContext) -> None:
        super().__init__(target, ctx)
        self.chat = _Chat(target.chat, ctx, self._chat)
        self.responses = self._responses(target.responses, ctx)
        self.completions = self._completions(target.completions, ctx)
        self.embeddings = self._embeddings(target.embeddings, ctx)

    def with_options(self, **options: Any) -> Any:
        """``client.with_options(...)`` keeps recording."""
        return type(self)(self._inner.with_options(**options), self._ctx)

    copy = with_options


class AsyncOpenAIProxy(OpenAIProxy):
    """A recorded ``openai.AsyncOpenAI``."""

    _chat, _responses = _AsyncChatCompletions, _AsyncResponses  # type: ignore[assignment]
    _completions, _embeddings = _AsyncCompletions, _AsyncEmbeddings  # type: ignore[assignment]
