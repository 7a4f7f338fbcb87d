"""Loopback HTTP servers speaking the OpenAI, Anthropic and Ollama wire formats (stdlib only).

One ``FakeLLMServer`` answers all three APIs on 127.0.0.1 with a random port:

- OpenAI ``POST /v1/chat/completions`` and ``/v1/responses`` — JSON, or SSE when ``stream`` is true; the chat stream
  ends with a usage chunk whose ``choices`` is ``[]`` when ``stream_options.include_usage`` is asked for;
- Anthropic ``POST /v1/messages`` — JSON, or SSE with ``message_start`` / ``message_delta`` cumulative usage;
- Ollama ``POST /api/chat`` and ``/api/generate`` — JSON, or NDJSON with metrics on the final ``done`` object.

Behaviour is scripted per test: ``errors`` (status codes answered first, one per request), ``cut_after`` (send that
many stream events then drop the connection mid-body), ``first_token_delay`` (seconds before the first content),
``omit_prompt_eval`` (old Ollama with a cached prompt); ``service_tier`` (the tier the OpenAI bodies and chunks, and
Anthropic's ``usage``, report), ``server_tool_use`` (Anthropic's server tool counts, in ``usage``) and
``output_items`` (OpenAI Responses output items added after the message: tool calls). Every request body is kept in
``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar

from llmcost.log import Record
from tests._loopback import LoopbackServer

_C = TypeVar("_C")
_OPENED: list[Any] = []


def opened(client: _C) -> _C:
    """``client``, closed when the test ends (a pooled keep-alive socket left to gc warns in whichever test collects
    it)."""
    _OPENED.append(client)
    return client


def close_opened() -> None:
    """Close the clients of :func:`opened` (the ``_close_clients`` fixture does it after every test)."""
    while _OPENED:
        _OPENED.pop().close()


CHAT_USAGE = {
    "prompt_tokens": 2006,
    "completion_tokens": 300,
    "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 64, "audio_tokens": 0},
}
RESPONSES_USAGE = {
    "input_tokens": 328,
    "input_tokens_details": {"cached_tokens": 128, "cache_write_tokens": 0},
    "output_tokens": 52,
    "output_tokens_details": {"reasoning_tokens": 20},
    "total_tokens": 380,
}
ANTHROPIC_USAGE = {
    "input_tokens": 3,
    "cache_creation_input_tokens": 12304,
    "cache_read_input_tokens": 100,
    "cache_creation": {"ephemeral_5m_input_tokens": 12000, "ephemeral_1h_input_tokens": 304},
    "output_tokens": 550,
}
OLLAMA_METRICS = {
    "total_duration": 174560334,
    "load_duration": 101397084,
    "prompt_eval_count": 11,
    "prompt_eval_duration": 13074791,
    "eval_count": 18,
    "eval_duration": 52479709,
}


def assert_chat_recorded(rec: Record, source: str) -> None:
    """``rec`` is the record of this server's chat completion (its model, id and usage), made by ``source``."""
    assert (rec.source, rec.operation, rec.provider, rec.status) == (source, "chat", "openai", "ok")
    assert (rec.request_model, rec.response_model, rec.response_id) == (
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
        "chatcmpl-abc123",
    )
    assert (rec.input_tokens, rec.output_tokens) == (CHAT_USAGE["prompt_tokens"], CHAT_USAGE["completion_tokens"])
    assert (rec.cache_read_input_tokens, rec.reasoning_output_tokens) == (1920, 64)


class FakeLLMServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler, poll=0.01)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[int] = []
        self.cut_after: int | None = None
        self.first_token_delay = 0.0
        self.omit_prompt_eval = False
        self.service_tier: str | None = None
        self.server_tool_use: dict[str, Any] | None = None
        self.output_items: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.base_url

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hang up on purpose

    def next_error(self) -> int | None:
        with self.lock:
            return self.errors.pop(0) if self.errors else None

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: FakeLLMServer
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeLLMServer:
        return self.server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        path = self.path.split("?")[0]
        with self.fake.lock:
            self.fake.requests.append((path, body))
        status = self.fake.next_error()
        if status is not None:
            return self._error(status, path)
        route = {
            "/v1/chat/completions": (_chat, _chat_stream),
            "/v1/responses": (_responses, _responses_stream),
            "/v1/messages": (_message, _message_stream),
            "/api/chat": (_ollama_chat, _ollama_stream),
            "/api/generate": (_ollama_generate, _ollama_stream),
        }.get(path)
        if route is None:
            return self._json(404, {"error": "not found"})
        stream = body.get("stream", path.startswith("/api/"))  # Ollama streams by default
        if stream:
            return self._stream(route[1](self.fake, path, body), ndjson=path.startswith("/api/"))
        return self._json(200, route[0](self.fake, body))

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, path: str) -> None:
        headers = {"retry-after-ms": "1", "x-should-retry": "true" if status in (429, 500) else "false"}
        if path.startswith("/api/"):
            return self._json(status, {"error": f"status {status}"}, headers)
        if path == "/v1/messages":
            kind = "rate_limit_error" if status == 429 else "api_error"
            return self._json(
                status, {"type": "error", "error": {"type": kind, "message": f"status {status}"}}, headers
            )
        return self._json(
            status, {"error": {"message": f"status {status}", "type": "server_error", "code": None}}, headers
        )

    def _stream(self, events: Iterator[bytes], ndjson: bool) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/x-ndjson" if ndjson else "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for i, event in enumerate(events):
            if self.fake.cut_after is not None and i >= self.fake.cut_after:
                self.wfile.write(b"ff\r\npartial")  # a chunk that never completes
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    text = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {text}\n\n".encode()


# -- OpenAI --------------------------------------------------------------------------------------------------------


def _chat(fake: FakeLLMServer, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1718450000,
        "model": _dated(body.get("model", "gpt-4o-mini")),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
        "usage": CHAT_USAGE,
        **_tier(fake),
    }


def _tier(fake: FakeLLMServer) -> dict[str, Any]:
    return {} if fake.service_tier is None else {"service_tier": fake.service_tier}


def _dated(model: str) -> str:
    return model + "-2024-07-18" if model == "gpt-4o-mini" else model


def _chat_stream(fake: FakeLLMServer, path: str, body: dict[str, Any]) -> Iterator[bytes]:
    base = {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "created": 1718450000,
        "model": _dated(body["model"]),
        **_tier(fake),
    }
    yield _sse(
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    )
    time.sleep(fake.first_token_delay)
    for piece in ("Hel", "lo", "!"):
        yield _sse(
            {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}], "usage": None}
        )
    yield _sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": None})
    if (body.get("stream_options") or {}).get("include_usage"):
        yield _sse({**base, "choices": [], "usage": CHAT_USAGE})
    yield _sse("[DONE]")


def _response_body(
    body: dict[str, Any], status: str = "completed", fake: FakeLLMServer | None = None
) -> dict[str, Any]:
    return {
        "id": "resp_123",
        "object": "response",
        "created_at": 1718450000,
        "status": status,
        "model": body.get("model", "o3"),
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hi there", "annotations": []}],
            },
            *(fake.output_items if fake is not None and status == "completed" else []),
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": RESPONSES_USAGE if status == "completed" else None,
        **({} if fake is None else _tier(fake)),
    }


def _responses(fake: FakeLLMServer, body: dict[str, Any]) -> dict[str, Any]:
    return _response_body(body, fake=fake)


def _responses_stream(fake: FakeLLMServer, path: str, body: dict[str, Any]) -> Iterator[bytes]:
    seq = iter(range(100))
    created = _response_body(body, "in_progress", fake)
    yield _sse({"type": "response.created", "sequence_number": next(seq), "response": created}, "response.created")
    time.sleep(fake.first_token_delay)
    for piece in ("Hi", " there"):
        delta = {
            "type": "response.output_text.delta",
            "sequence_number": next(seq),
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": piece,
            "logprobs": [],
        }
        yield _sse(delta, "response.output_text.delta")
    done = {"type": "response.completed", "sequence_number": next(seq), "response": _response_body(body, fake=fake)}
    yield _sse(done, "response.completed")


# -- Anthropic -----------------------------------------------------------------------------------------------------


def _message(fake: FakeLLMServer, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_01abc",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-sonnet-4-5"),
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {**ANTHROPIC_USAGE, **_anthropic_extras(fake)},
    }


def _anthropic_extras(fake: FakeLLMServer) -> dict[str, Any]:
    extras: dict[str, Any] = {} if fake.service_tier is None else {"service_tier": fake.service_tier}
    if fake.server_tool_use is not None:
        extras["server_tool_use"] = fake.server_tool_use
    return extras


def _message_stream(fake: FakeLLMServer, path: str, body: dict[str, Any]) -> Iterator[bytes]:
    start_usage = {
        "input_tokens": 27,
        "cache_creation_input_tokens": 50,
        "cache_read_input_tokens": 100,
        "output_tokens": 1,
        **({} if fake.service_tier is None else {"service_tier": fake.service_tier}),
    }
    message = {**_message(fake, body), "content": [], "stop_reason": None, "usage": start_usage}
    yield _sse({"type": "message_start", "message": message}, "message_start")
    yield _sse(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        "content_block_start",
    )
    time.sleep(fake.first_token_delay)
    for piece in ("Hel", "lo"):
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
        yield _sse(delta, "content_block_delta")
    yield _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    final_usage = {k: v for k, v in start_usage.items() if k != "service_tier"} | {"output_tokens": 47}
    if fake.server_tool_use is not None:  # cumulative, in the delta (server tools run after message_start)
        final_usage["server_tool_use"] = fake.server_tool_use
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": final_usage}
    yield _sse(delta, "message_delta")
    yield _sse({"type": "message_stop"}, "message_stop")


# -- Ollama --------------------------------------------------------------------------------------------------------


def _metrics(fake: FakeLLMServer) -> dict[str, Any]:
    metrics = dict(OLLAMA_METRICS)
    if fake.omit_prompt_eval:
        del metrics["prompt_eval_count"]
    return metrics


def _ollama_base(body: dict[str, Any]) -> dict[str, Any]:
    return {"model": body.get("model", "llama3.2"), "created_at": "2025-10-17T23:14:07.414671Z"}


def _ollama_chat(fake: FakeLLMServer, body: dict[str, Any]) -> dict[str, Any]:
    message = {"role": "assistant", "content": "Hello!"}
    return {**_ollama_base(body), "message": message, "done": True, "done_reason": "stop", **_metrics(fake)}


def _ollama_generate(fake: FakeLLMServer, body: dict[str, Any]) -> dict[str, Any]:
    return {**_ollama_base(body), "response": "Hello!", "done": True, "done_reason": "stop", **_metrics(fake)}


def _ollama_stream(fake: FakeLLMServer, path: str, body: dict[str, Any]) -> Iterator[bytes]:
    chat = path == "/api/chat"
    time.sleep(fake.first_token_delay)
    for piece in ("Hel", "lo", ""):
        part: dict[str, Any] = {"message": {"role": "assistant", "content": piece}} if chat else {"response": piece}
        done = piece == ""
        if done:
            part.update(done=True, done_reason="stop", **_metrics(fake))
        else:
            part["done"] = False
        yield (json.dumps({**_ollama_base(body), **part}) + "\n").encode()
