"""Per-chunk handlers for streamed responses: time to first token and usage, overwritten (never added).

TTFT is the time to the first chunk that carries generated output: text, a tool call, reasoning or a refusal.
Usage chunks (OpenAI's final chunk has ``choices: []``) and role-only chunks do not count, and ``choices[0]`` is read
only when ``choices`` is not empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from llmcost.recorder._usage import (
    ReportedUsage,
    extract,
    extract_usage,
    get_field,
    merge_anthropic_delta,
    read_billing,
)

__all__ = ["HANDLERS", "ChunkHandler", "StreamedCall"]


class StreamedCall(Protocol):
    """What a chunk handler reads and sets on the call its stream belongs to (``llmcost.Call`` is one)."""

    usage: ReportedUsage | None
    response_model: str | None
    response_id: str | None
    ttft: float | None

    @property
    def usage_hint(self) -> str | None:
        """The provider whose usage shapes to expect (``anthropic``, ``ollama``, ...), if known."""

    def mark_first_token(self) -> None:
        """Record the time to first token now (once)."""


ChunkHandler = Callable[[StreamedCall, Any], None]


def _first_ids(call: StreamedCall, chunk: Any) -> None:
    if call.response_model is None:
        model = get_field(chunk, "model")
        call.response_model = model if isinstance(model, str) else None
        rid = get_field(chunk, "id")
        call.response_id = rid if isinstance(rid, str) else None


def openai_chat(call: StreamedCall, chunk: Any) -> None:
    if call.ttft is None:
        choices = get_field(chunk, "choices")
        if choices:
            delta = get_field(choices[0], "delta")
            if delta is not None and (
                get_field(delta, "content")
                or get_field(delta, "tool_calls")
                or get_field(delta, "reasoning_content")
                or get_field(delta, "refusal")
                or get_field(delta, "function_call")
            ):
                call.mark_first_token()
                _first_ids(call, chunk)
    usage = get_field(chunk, "usage")
    if usage is not None:  # final chunk, or every chunk with vLLM continuous_usage_stats: cumulative
        call.usage = found = extract_usage(usage)
        read_billing(found, chunk)  # every chunk names the service tier, the usage chunk too
        _first_ids(call, chunk)


def openai_responses(call: StreamedCall, chunk: Any) -> None:
    kind = get_field(chunk, "type")
    if not isinstance(kind, str):
        return
    if call.ttft is None and kind.endswith(".delta"):
        call.mark_first_token()
    elif kind in ("response.created", "response.completed", "response.incomplete", "response.failed"):
        response = get_field(chunk, "response")
        model, rid = get_field(response, "model"), get_field(response, "id")
        call.response_model = model if isinstance(model, str) else call.response_model
        call.response_id = rid if isinstance(rid, str) else call.response_id
        usage = get_field(response, "usage")
        if usage is not None:
            call.usage = found = extract_usage(usage, "openai")
            read_billing(found, response)  # the tier, and the tool calls among the output items


def anthropic(call: StreamedCall, chunk: Any) -> None:
    kind = get_field(chunk, "type")
    if kind == "content_block_delta":
        if call.ttft is None:
            call.mark_first_token()
    elif kind == "message_start":
        message = get_field(chunk, "message")
        _first_ids(call, message)
        usage = get_field(message, "usage")
        if usage is not None:
            call.usage = extract_usage(usage, "anthropic")
    elif kind == "message_delta":
        usage = get_field(chunk, "usage")
        if usage is not None:
            if call.usage is None:
                call.usage = ReportedUsage()
            merge_anthropic_delta(call.usage, usage)


def ollama(call: StreamedCall, chunk: Any) -> None:
    if call.ttft is None:
        message = get_field(chunk, "message")
        if (
            get_field(chunk, "response")
            or get_field(chunk, "thinking")
            or get_field(message, "content")
            or get_field(message, "thinking")
            or get_field(message, "tool_calls")
        ):
            call.mark_first_token()
    if get_field(chunk, "done"):
        usage = extract(chunk, "ollama")
        call.usage = usage
        call.response_model = usage.response_model or call.response_model


def generic(call: StreamedCall, chunk: Any) -> None:
    """Any iterator: the first truthy chunk is the first token; a chunk carrying ``usage`` replaces the usage."""
    if call.ttft is None and chunk:
        call.mark_first_token()
    if isinstance(chunk, (str, bytes)):
        return
    if get_field(chunk, "usage") is not None or get_field(chunk, "done"):
        usage = extract(chunk, call.usage_hint)
        if usage.source != "none":
            call.usage = usage
            call.response_model = usage.response_model or call.response_model


HANDLERS: dict[str, ChunkHandler] = {
    "openai": openai_chat,
    "openai_chat": openai_chat,
    "openai_responses": openai_responses,
    "anthropic": anthropic,
    "ollama": ollama,
    "generic": generic,
}
