"""``ollama.Client`` / ``AsyncClient`` wrappers: ``chat`` and ``generate`` (streaming by NDJSON or not).

Usage comes from the final object (``done: true``); ``total_duration`` (nanoseconds) becomes ``gpu_seconds``, so a
deployment priced by GPU time in the catalog is priced, and a plain local Ollama is free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.integrations._clients import Proxy, WrapContext, detect_provider

if TYPE_CHECKING:
    from llmcost.recorder import Call, Tracker

__all__ = ["wrap_ollama"]


def wrap_ollama(tracker: Tracker, client: Any, given: dict[str, Any], is_async: bool) -> Any:
    provider = given.pop("provider", None)
    base = getattr(getattr(client, "_client", None), "base_url", None)
    _, server = detect_provider(tracker, base, "ollama")
    # The native API is Ollama's wherever it runs, unless the catalog declares the host (a priced deployment).
    catalog = tracker.catalog()
    mapped = catalog.provider_for_host(str(base)) if catalog is not None and base is not None else None
    ctx = WrapContext(tracker, provider or mapped or "ollama", server, "ollama", given)
    return (AsyncOllamaProxy if is_async else OllamaProxy)(client, ctx)


class OllamaProxy(Proxy):
    """A recorded ``ollama.Client``."""

    def _start(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any], key: str) -> Call | None:
        """Start the call; positional arguments are moved into ``kwargs`` (a budget may change the model)."""
        for name, value in zip(("model", key, "suffix"), args):
            kwargs[name] = value
        stream = kwargs.get("stream") is True
        call = self._ctx.start(kwargs.get("model"), operation, stream, kwargs.get(key), kwargs.get("system"))
        if call is not None and call.request_model and call.request_model != kwargs.get("model"):
            kwargs["model"] = call.request_model
        return call

    def _run(self, method: str, operation: str, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = self._start(operation, args, kwargs, key)
        try:
            result = getattr(self._inner, method)(**kwargs)
        except BaseException as exc:
            WrapContext.failed(call, exc)
            raise
        return WrapContext.finished(call, result, "ollama" if kwargs.get("stream") is True else None)

    def chat(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("chat", "chat", "messages", args, kwargs)

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("generate", "text_completion", "prompt", args, kwargs)


class AsyncOllamaProxy(OllamaProxy):
    """A recorded ``ollama.AsyncClient``."""

    async def _arun(self, method: str, operation: str, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = self._start(operation, args, kwargs, key)
        try:
            result = await getattr(self._inner, method)(**kwargs)
        except BaseException as exc:
            WrapContext.failed(call, exc)
            raise
        return WrapContext.finished(call, result, "ollama" if kwargs.get("stream") is True else None)

    async def chat(self, *args: Any, **kwargs: Any) -> Any:
        return await self._arun("chat", "chat", "messages", args, kwargs)

    async def generate(self, *args: Any, **kwargs: Any) -> Any:
        return await self._arun("generate", "text_completion", "prompt", args, kwargs)
