"""Codex CLI session logs: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<session id>.jsonl``.

Each line is ``{"timestamp", "type", "payload"}``. ``session_meta`` (first) carries the session ``id``, ``cwd`` and
``model_provider``; ``turn_context`` the ``model`` of the turns that follow; ``event_msg`` lines whose payload type is
``token_count`` carry ``info.total_token_usage`` (running totals of the session) and ``info.last_token_usage`` (the
last request), each ``{input_tokens, cached_input_tokens, output_tokens, reasoning_output_tokens, total_tokens}``.
OpenAI counts cached tokens inside the input and reasoning inside the output, as the wire format does.

Counting each ``token_count`` event would count too much, in two ways that happen in real logs:

- Codex writes the same event again (a rate-limit refresh) with unchanged running totals: an event whose totals did
  not move is no new request. A call is the step between two running totals (the first one: its ``last`` usage), so
  the calls of a session add up to its final totals exactly, and a lost event only merges two calls into one.
- A forked or subagent session starts by replaying its parent's history, ``token_count`` events included, stamped
  with their original time or with the time of the fork: events of a forked session stamped no later than the
  second after its creation are the parent's calls, already counted from the parent's file.

The record id is a hash of the session id and the running totals, so importing a file twice writes nothing new.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import msgspec

from llmcost.importers._core import Draft, decode_lines, wire_ts
from llmcost.log import Count

__all__ = ["Codex"]

TOOL = "codex"
#: Codex's names of model providers where the catalog's differ: ``codex --oss`` runs local models through Ollama.
_PROVIDERS = {"oss": "ollama"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class _Tokens(msgspec.Struct, gc=False):
    """Counts are checked while decoding (``Count``, as the wire format takes them): a line with another is skipped."""

    input_tokens: Count | None = None
    cached_input_tokens: Count | None = None
    output_tokens: Count | None = None
    reasoning_output_tokens: Count | None = None
    total_tokens: Count | None = None


class _Info(msgspec.Struct, gc=False):
    total_token_usage: _Tokens | None = None
    last_token_usage: _Tokens | None = None


class _Payload(msgspec.Struct, gc=False):
    """The payload fields of the line types a call needs (``session_meta``, ``turn_context``, ``token_count``)."""

    type: str | None = None
    id: str | None = None
    timestamp: str | None = None
    cwd: str | None = None
    model: str | None = None
    model_provider: str | None = None
    info: _Info | None = None
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    # A string ("cli", "exec") or, for a subagent, an object naming its parent: kept raw (``Raw | None`` is no
    # valid annotation for msgspec, an empty Raw stands for a missing field).
    source: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


class _Line(msgspec.Struct, gc=False):
    timestamp: str | None = None
    type: str | None = None
    payload: _Payload | None = None


_decoder = msgspec.json.Decoder(_Line)
Vector = tuple[int, int, int, int, int]


class Codex:
    """Codex CLI: ``$CODEX_HOME`` (default ``~/.codex``), its ``sessions`` and ``archived_sessions`` directories."""

    tool = TOOL

    def default_roots(self) -> list[Path]:
        home = Path(os.path.abspath(os.path.expanduser(os.environ.get("CODEX_HOME") or "~/.codex")))
        return [p for p in (home / "sessions", home / "archived_sessions") if p.is_dir()]

    def root_of(self, path: Path) -> Path:
        sessions = path / "sessions"
        return sessions if sessions.is_dir() else path

    def parser(self, path: Path, root: Path, context: dict[str, Any]) -> _Parser:
        return _Parser(path, context)


class _Parser:
    """One rollout file: the session, project, provider and model so far, and the last running totals."""

    def __init__(self, path: Path, context: dict[str, Any]) -> None:
        stem = path.stem
        match = _UUID.search(stem)
        self.session: str = context.get("session") or (match.group(0) if match else stem)
        self.meta: bool = context.get("meta", False)
        self.cwd: str | None = context.get("cwd")
        self.provider: str = context.get("provider") or "openai"
        self.model: str | None = context.get("model")
        self.fork: float | None = context.get("fork")  # epoch seconds of a fork's creation: replays end by then
        prev = context.get("prev")
        self.prev: Vector | None = (prev[0], prev[1], prev[2], prev[3], prev[4]) if prev else None

    def feed(self, block: bytes, out: list[Draft]) -> int:
        lines, bad = decode_lines(_decoder, block, _is_count)
        for line in lines:
            payload = line.payload
            if payload is None:
                continue
            kind = line.type
            if kind == "event_msg":
                if payload.type == "token_count" and payload.info is not None:
                    bad += self._count(line.timestamp, payload.info, out)
            elif kind == "turn_context":
                self.model = payload.model or self.model
                self.cwd = payload.cwd or self.cwd
            elif kind == "session_meta" and not self.meta:  # a fork embeds its parent's meta after its own
                self._session(line, payload)
        return bad

    def _session(self, line: _Line, payload: _Payload) -> None:
        self.meta = True
        self.session = payload.id or self.session
        self.cwd = payload.cwd or self.cwd
        provider = (payload.model_provider or self.provider).lower()
        self.provider = _PROVIDERS.get(provider, provider)
        if payload.forked_from_id or payload.parent_thread_id or _spawned(payload.source):
            created = wire_ts(payload.timestamp) or wire_ts(line.timestamp)
            self.fork = created[1] if created else None

    def _count(self, timestamp: str | None, info: _Info, out: list[Draft]) -> int:
        """One ``token_count`` event; returns 1 when it is unreadable."""
        when = wire_ts(timestamp)
        if when is None:
            return 1
        ts, at = when
        total = _vector(info.total_token_usage)
        last = _vector(info.last_token_usage)
        prev = self.prev
        if total is not None:
            self.prev = total
        if self.fork is not None and at <= math.floor(self.fork) + 1:
            return 0  # the parent's history, replayed by the fork
        # The step between running totals: an event written again (totals unchanged) is a step of zero, no request.
        if total is not None and prev is not None and all(t >= p for t, p in zip(total, prev)):
            use: Vector | None = (
                total[0] - prev[0],
                total[1] - prev[1],
                total[2] - prev[2],
                total[3] - prev[3],
                total[4] - prev[4],
            )
        else:  # the first event, or running totals that started over (a resumed session): the last request
            use = last if last is not None else total
        if use is None or not any(use):
            return 0
        fresh, cached, output, reasoning = use[0], min(use[1], use[0]), use[2], use[3]
        if reasoning > output:  # older logs counted reasoning apart from the output
            output += reasoning
        where = ",".join(map(str, total)) if total is not None else f"{ts}:{','.join(map(str, use))}"
        out.append(
            Draft(
                key=f"{TOOL}:{self.session}:{where}",
                ts=ts,
                at=at,
                provider=self.provider,
                operation="responses",
                request_model=self.model,
                input_tokens=fresh,
                output_tokens=output,
                cache_read=cached,
                reasoning=reasoning,
                session_id=self.session,
                workflow=self.cwd,
            )
        )
        return 0

    def finish(self, quiet: bool, out: list[Draft]) -> int:
        return 0  # every token_count event is complete in itself

    def context(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "meta": self.meta,
            "cwd": self.cwd,
            "provider": self.provider,
            "model": self.model,
            "fork": self.fork,
            "prev": list(self.prev) if self.prev else None,
        }


def _vector(tokens: _Tokens | None) -> Vector | None:
    """The five counters (missing ones 0), ``None`` without usage."""
    if tokens is None:
        return None
    return (
        tokens.input_tokens or 0,
        tokens.cached_input_tokens or 0,
        tokens.output_tokens or 0,
        tokens.reasoning_output_tokens or 0,
        tokens.total_tokens or 0,
    )


def _spawned(source: msgspec.Raw) -> bool:
    """Whether ``session_meta.source`` names a parent thread (``{"subagent": {"thread_spawn": {...}}}``)."""
    raw = bytes(source)
    return raw.lstrip().startswith(b"{") and (b"parent_thread_id" in raw or b"thread_spawn" in raw)


def _is_count(raw: bytes) -> bool:
    """Whether a line that does not decode counts as skipped: not JSON, or a token count that cannot be read (valid
    JSON of another shape, such as an event of a newer version, is no loss)."""
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return True
    payload = obj.get("payload") if isinstance(obj, dict) else None
    return isinstance(payload, dict) and payload.get("type") == "token_count"
