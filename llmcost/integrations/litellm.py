"""LiteLLM integration: a ``CustomLogger`` that records every call LiteLLM makes, once.

``import llmcost.litellm`` (needs ``litellm``; ``pip install 'llmcost-top[litellm]'``), then either
``llmcost.litellm.install(agent="planner")`` or ``litellm.callbacks.append(llmcost.litellm.LlmcostLogger())``.
``completion``/``acompletion`` (streamed or not), ``text_completion``, ``embedding``, ``responses`` and every attempt
the ``Router`` makes are recorded with ``source: "litellm"``.

What a record is made of, from what LiteLLM hands its callbacks:

- **Once per call.** LiteLLM may report one call twice (its sync and async hooks, stream success events, several
  code paths): records are keyed by ``litellm_call_id`` and a repeat is dropped (counted in ``logger.duplicates``).
- **Usage** from the response (``ModelResponse.usage``; LiteLLM's ``prompt_tokens`` already includes cache reads and
  writes for every provider). A stream from an OpenAI-compatible server that was not asked for usage
  (``stream_options={"include_usage": True}``) sends none, so LiteLLM counts the tokens itself: such a record says
  ``usage_source: "estimated"``. Our catalog prices the call; LiteLLM's own figure (``response_cost``) is kept
  beside it as ``metadata["litellm_cost_usd"]``, never used as ours.
- **Provider** from ``custom_llm_provider`` mapped to our ids (``hosted_vllm`` → ``vllm``, ``ollama_chat`` →
  ``ollama``, ``gemini``/``vertex_ai`` → ``google``, ...). A generic OpenAI-compatible model (``openai/...``) whose
  ``api_base`` is a local or private host is what the client wrappers say it is (``ollama`` on port 11434, a
  catalog-declared host, else ``vllm``): a local server is not billed by OpenAI. ``LlmcostLogger(provider=...)``
  says it explicitly.
- **Times.** ``start_ts``/``ts`` and ``latency_ms`` from the call's start and end time as LiteLLM took them;
  ``ttft_ms`` (streams only) from ``completion_start_time``, when LiteLLM received the first chunk (OpenAI-compatible
  servers often send a role-only chunk just before the first text).
- **Retries and fallbacks** (the Router). Every attempt is its own record, failed ones included. The ``trace_id`` is
  ``litellm_trace_id`` (the same for every attempt of one Router request; a UUID becomes its 32 hex digits, any other
  id is hashed), unless the call was made inside an llmcost ``trace()``, whose trace it joins as a child. ``attempt``
  counts the request's earlier attempts across retries and fallbacks (0 for the first): the logger follows the
  attempts of each trace, never fewer than the Router's ``attempted_retries`` + ``attempted_fallbacks``, and a first
  attempt (no retries, no fallbacks, no ``previous_models``) starts the count again. ``fallback_from`` is set on an
  attempt in a fallback model group: the model of the latest earlier attempt in another group (from the Router's
  ``previous_models``, else the attempts seen), else the ``original_model_group``. ``metadata["litellm_model_group"]``
  names the Router group. Retries made inside the provider SDK (``num_retries`` on a plain ``completion``) are not
  reported by LiteLLM and stay invisible.
- **Attribution** from the ``metadata`` given to the call: ``agent``, ``session_id``, ``user_id``, ``workflow`` and
  ``tags`` (else the OpenAI ``user`` argument as ``user_id``), over the scopes open when the call started, over the
  logger's and the tracker's defaults (the merge rule of ``llmcost.Attribution``). No other metadata key is copied
  (LiteLLM adds its own there).
- **Errors** carry the exception type and HTTP status (``RateLimitError``, 429).

Budgets count LiteLLM's spend and are checked before each request is sent: a ``warn`` budget warns as usual, but
LiteLLM swallows what a callback raises, so a ``block`` budget cannot stop the call: it warns (``BudgetWarning``)
and the call goes on; ``downgrade`` does not apply. LiteLLM reports nothing for a stream dropped before its end, so
such a call is not recorded.

LiteLLM reports a sync call from its logging thread, and an async one from the event loop, shortly after the call
returned: ``logger.flush()`` (``await logger.aflush()`` in async code) waits for the calls started so far. The
logger does O(1) work per call and never raises: its own faults are counted in ``tracker.stats``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import litellm
from litellm.integrations.custom_logger import CustomLogger

from llmcost.integrations._clients import _is_private, detect_provider, response_text
from llmcost.log import MAX_COUNT
from llmcost.recorder import (
    Attribution,
    AttributionArgs,
    BudgetExceeded,
    Call,
    Scope,
    Tracker,
    active_scopes,
    anthropic_billing,
    attribution_from,
    current_call,
    get_field,
    get_tracker,
    iso_ms,
    prompt_hash,
    scoped,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["LlmcostLogger", "install", "uninstall"]

#: LiteLLM's ``custom_llm_provider`` values that differ from our provider ids.
_PROVIDERS = {
    "hosted_vllm": "vllm",
    "ollama_chat": "ollama",
    "lm_studio": "lmstudio",
    "gemini": "google",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "bedrock_converse": "bedrock",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "text-completion-openai": "openai",
    "azure_ai": "azure",
    "azure_text": "azure",
}
#: Generic OpenAI-compatible providers: the host decides whether a local server answers.
_GENERIC = frozenset({"openai", "openai_like", "custom_openai", "text-completion-openai"})
#: Providers whose streams carry usage without being asked (others send none unless ``include_usage`` is set).
_STREAM_USAGE_ALWAYS = frozenset(
    {
        "anthropic",
        "bedrock",
        "bedrock_converse",
        "vertex_ai",
        "vertex_ai_beta",
        "gemini",
        "ollama",
        "ollama_chat",
        "cohere",
        "cohere_chat",
        "fireworks_ai",
    }
)
_OPERATIONS = {
    "completion": "chat",
    "acompletion": "chat",
    "anthropic_messages": "chat",
    "text_completion": "text_completion",
    "atext_completion": "text_completion",
    "embedding": "embeddings",
    "aembedding": "embeddings",
    "responses": "responses",
    "aresponses": "responses",
}
#: Lists LiteLLM copies a callback into (``litellm.callbacks`` is spread over the others at the next call).
_CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "_async_success_callback",
    "_async_failure_callback",
)
_MAX_IDS = 10_000  # call ids remembered for de-duplication
_HEX32 = re.compile(r"[0-9a-f]{32}")
_MAX_WALKS = 4_096  # Router requests followed for attempt numbers


class _Walk:
    """The attempts seen so far of one Router request (one ``litellm_trace_id``)."""

    __slots__ = ("count", "models")

    def __init__(self) -> None:
        self.count = 0
        self.models: list[tuple[Any, str | None]] = []  # (model group, model) of each attempt, latest last


class LlmcostLogger(CustomLogger):
    """Records every LiteLLM call to ``tracker`` (default: the process-wide tracker, looked up at each call).

    Attribution given here (``attribution=``, and :class:`~llmcost.Attribution`'s fields as keywords over it) is the
    default of every call (a call's own ``metadata={"agent": ...}`` wins). ``provider`` overrides the provider LiteLLM
    names.
    """

    def __init__(
        self,
        tracker: Tracker | None = None,
        *,
        provider: str | None = None,
        attribution: Attribution | None = None,
        **attrs: Unpack[AttributionArgs],
    ) -> None:
        super().__init__()
        self._tracker = tracker
        self.provider = provider
        self._given = attribution_from(attribution, attrs, "LlmcostLogger()")
        # (tracker, its attribution, the logger's over it): worked out again when either changes
        self._base: tuple[Tracker, Attribution, Attribution] | None = None
        self.duplicates = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._done: OrderedDict[str, None] = OrderedDict()  # oldest first, dropped in O(1)
        self._pending: dict[str, tuple[tuple[Scope, ...], Call | None]] = {}
        self._walks: dict[str, _Walk] = {}
        self._providers: dict[tuple[Any, Any, int], tuple[str | None, str | None]] = {}

    @property
    def tracker(self) -> Tracker:
        return self._tracker if self._tracker is not None else get_tracker()

    def __repr__(self) -> str:
        return f"<LlmcostLogger tracker={self._tracker!r} pending={len(self._pending)}>"

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every call LiteLLM started so far is recorded; ``False`` if some are still out at ``timeout``.

        LiteLLM reports a sync call from a background thread after ``completion()`` returned, and an abandoned
        stream never: ``flush`` is for scripts and tests that read the records right away.
        """
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    async def aflush(self, timeout: float = 5.0) -> bool:
        """:meth:`flush` for async code: LiteLLM reports async calls from the running event loop, so this waits
        without blocking it (a sync ``flush()`` there would wait for nothing until its timeout)."""
        deadline = time.monotonic() + timeout
        while self._pending:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    @property
    def pending(self) -> int:
        """Calls started and not reported yet (an abandoned stream stays here)."""
        return len(self._pending)

    # -- LiteLLM's hooks ----------------------------------------------------------------------------------------

    def log_pre_api_call(self, model: Any, messages: Any, kwargs: Any) -> None:
        """Runs in the caller's context before the request is sent: keep its scopes and enclosing llmcost call."""
        try:
            call_id = kwargs.get("litellm_call_id")
            if not isinstance(call_id, str):
                return
            scopes = active_scopes()
            with self._lock:
                if call_id in self._done:
                    return
                if len(self._pending) >= _MAX_IDS:
                    self._pending.pop(next(iter(self._pending)))
                self._pending[call_id] = (scopes, current_call())
            tracker = self.tracker
            if tracker.budgets or any(s.budget_usd is not None for s in scopes):
                self._check_budgets(tracker, kwargs, scopes)
        except Exception as exc:
            self._fault(exc)

    def _check_budgets(self, tracker: Tracker, kwargs: dict[str, Any], scopes: tuple[Scope, ...]) -> None:
        """Budgets warn as usual; one that would block warns too: LiteLLM swallows what a callback raises."""
        attribution = self._attribution(
            tracker, _metadata(kwargs.get("litellm_params") or {}), kwargs.get("user"), scopes
        )
        model = kwargs.get("model")
        try:
            tracker._check_budgets(model if isinstance(model, str) else None, attribution, scopes)
        except BudgetExceeded as exc:
            tracker.stats.budget_blocked -= 1  # counted as blocked by the tracker, but the call goes on
            message = f"llmcost: {exc}; a LiteLLM call cannot be stopped from a callback, so it goes on"
            tracker._warn_budget(-2, exc.key, iso_ms(time.time())[:10], message)

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj, start_time, end_time, failed=False)

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj, start_time, end_time, failed=True)

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj, start_time, end_time, failed=False)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj, start_time, end_time, failed=True)

    # -- one record -----------------------------------------------------------------------------------------------

    def _claim(self, call_id: Any) -> tuple[bool, tuple[tuple[Scope, ...], Call | None] | None]:
        """(first report of this call?, the context kept at its start)."""
        if not isinstance(call_id, str):
            return True, None
        with self._lock:
            if call_id in self._done:
                self.duplicates += 1
                return False, None
            if len(self._done) >= _MAX_IDS:
                self._done.popitem(last=False)
            self._done[call_id] = None
            return True, self._pending.get(call_id)

    def _settle(self, call_id: Any) -> None:
        """The call is written: :meth:`flush` stops waiting for it."""
        with self._lock:
            if self._pending.pop(call_id, None) is not None and not self._pending:
                self._idle.notify_all()

    def _record(self, kwargs: Any, response: Any, start_time: Any, end_time: Any, failed: bool) -> None:
        if not isinstance(kwargs, dict):
            return
        call_id = kwargs.get("litellm_call_id")
        try:
            first, context = self._claim(call_id)
            if not first:
                return
            call: Call | None = None
            try:
                call = self._build(kwargs, context)
                if failed:
                    self._failed(call, kwargs)
                else:
                    self._succeeded(call, kwargs, response)
                self._times(call, kwargs, start_time, end_time)
            except Exception as exc:
                self._fault(exc, call)
                return
            call.finish()
        finally:
            self._settle(call_id)

    def _build(self, kwargs: dict[str, Any], context: tuple[tuple[Scope, ...], Call | None] | None) -> Call:
        tracker = self.tracker
        params = kwargs.get("litellm_params") or {}
        meta = _metadata(params)
        scopes, parent = context if context is not None else ((), None)
        attribution = self._attribution(tracker, meta, kwargs.get("user"), scopes)
        llm_provider = kwargs.get("custom_llm_provider") or params.get("custom_llm_provider")
        provider, server = self._provider(tracker, llm_provider, params.get("api_base"))
        messages = kwargs.get("messages")
        if messages is None:
            messages = kwargs.get("input")
        call_type = kwargs.get("call_type")
        trace = kwargs.get("litellm_trace_id") or params.get("litellm_trace_id")
        model = kwargs.get("model")
        model = model if isinstance(model, str) else None
        attempt, fallback_from, extra = self._walk(trace, meta, model)
        extra["litellm_call_id"] = kwargs.get("litellm_call_id")
        call = Call(tracker, model, provider, attribution.with_metadata(**extra), scopes)
        call.set_request(
            operation=_OPERATIONS.get(call_type, "chat") if isinstance(call_type, str) else "chat",
            source="litellm",
            server_address=server,
            stream=kwargs.get("stream") is True,
            attempt=attempt,
            fallback_from=fallback_from,
            usage_hint=llm_provider if isinstance(llm_provider, str) else provider,
            prompt_hash=prompt_hash(messages),
        )
        if parent is not None:
            call.trace_id, call.parent_id = parent.trace_id, parent.id
        else:
            call.parent_id = None
            if isinstance(trace, str) and trace:
                call.trace_id = _trace_id(trace)
        if tracker.capture_content and messages is not None:
            call.content = {"input": messages}
        return call

    def _attribution(
        self, tracker: Tracker, meta: Mapping[str, Any], user: Any, scopes: tuple[Scope, ...]
    ) -> Attribution:
        """The call's own attribution (its metadata keys) over the open scopes' over the logger's and the tracker's."""
        base = self._base
        if base is None or base[0] is not tracker or base[1] is not tracker.attribution:
            base = self._base = (tracker, tracker.attribution, tracker.adopt(self._given).over(tracker.attribution))
        tags = meta.get("tags")
        given = {
            key: meta.get(key)
            for key in ("agent", "session_id", "user_id", "workflow")
            if isinstance(meta.get(key), str)
        }
        if "user_id" not in given and isinstance(user, str) and user:
            given["user_id"] = user
        if isinstance(tags, str):
            given["tags"] = [tags]
        elif isinstance(tags, (list, tuple)):
            given["tags"] = [str(t) for t in tags]
        under = scoped(base[2], scopes)
        return tracker.adopt(Attribution(**given)).over(under) if given else under

    def _provider(self, tracker: Tracker, llm_provider: Any, api_base: Any) -> tuple[str | None, str | None]:
        key = (llm_provider, api_base, id(tracker))
        found = self._providers.get(key)
        if found is not None:
            return found
        url = str(api_base) if api_base else ""
        host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower() or None
        name = _PROVIDERS.get(llm_provider, llm_provider) if isinstance(llm_provider, str) else None
        if self.provider is not None:
            found = (self.provider, host)
        elif host and (name is None or llm_provider in _GENERIC) and _is_private(host):
            found = detect_provider(tracker, url, name or "openai")
        else:
            catalog = tracker.catalog()
            known = catalog.provider_id(name) if catalog is not None and name else None
            found = (known or name, host)
        if len(self._providers) > 256:
            self._providers.clear()
        self._providers[key] = found
        return found

    def _walk(
        self, trace: Any, meta: Mapping[str, Any], model: str | None
    ) -> tuple[int | None, str | None, dict[str, Any]]:
        """(attempt, fallback_from) of a Router attempt (``None``: not a Router call), and the facts kept in
        metadata."""
        retries, fallbacks = _int(meta.get("attempted_retries")), _int(meta.get("attempted_fallbacks"))
        group = meta.get("model_group")
        extra: dict[str, Any] = {"litellm_model_group": group} if isinstance(group, str) and group else {}
        if retries is None and fallbacks is None:
            return None, None, extra
        crumbs = meta.get("previous_models")
        crumbs = list(crumbs) if isinstance(crumbs, (list, tuple)) else []
        first = not retries and not fallbacks and not crumbs
        key = trace if isinstance(trace, str) else None
        with self._lock:
            walk = self._walks.pop(key, None) if key is not None else None
            if first or walk is None:
                walk = _Walk()
            attempt = max(walk.count, (retries or 0) + (fallbacks or 0))
            earlier = list(walk.models)
            walk.count = attempt + 1
            walk.models = [*walk.models[-7:], (group, model)]
            if key is not None:
                if len(self._walks) >= _MAX_WALKS:
                    self._walks.pop(next(iter(self._walks)))
                self._walks[key] = walk
        fallback_from = None
        original = meta.get("original_model_group")
        if fallbacks or (isinstance(original, str) and isinstance(group, str) and group != original):
            fallback_from = _fallback_from(group, crumbs, earlier) or (original if isinstance(original, str) else None)
        return attempt, fallback_from, extra

    def _succeeded(self, call: Call, kwargs: dict[str, Any], response: Any) -> None:
        call.record(response)
        usage = call.usage
        params = kwargs.get("optional_params")
        tier = params.get("service_tier") if isinstance(params, dict) else None
        if isinstance(tier, str):  # priced with it when the response names no tier
            call.set_request(service_tier=tier)
        if usage is not None:
            # LiteLLM's Usage keeps what Anthropic reported: its service tier and server tool counts.
            anthropic_billing(usage, get_field(response, "usage"))
            if usage.cache_write_1h is None:
                details = get_field(
                    get_field(get_field(response, "usage"), "prompt_tokens_details"), "cache_creation_token_details"
                )
                one_hour = get_field(details, "ephemeral_1h_input_tokens")
                # a count the wire format takes (not a bool, not past 2**53): the line must stay readable
                usage.cache_write_1h = one_hour if type(one_hour) is int and 0 < one_hour <= MAX_COUNT else None
            llm_provider = kwargs.get("custom_llm_provider")
            if (
                usage.source == "provider"
                and kwargs.get("stream") is True
                and llm_provider not in _STREAM_USAGE_ALWAYS
                and not _asked_stream_usage(kwargs)
            ):
                usage.source = "estimated"
        cost = kwargs.get("response_cost")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool):
            call.attribution = call.attribution.with_metadata(litellm_cost_usd=cost)
        if call.content is not None:
            call.content["output"] = response_text(response)

    @staticmethod
    def _failed(call: Call, kwargs: dict[str, Any]) -> None:
        exc = kwargs.get("exception")
        if isinstance(exc, BaseException):
            call.set_error(exc)
            return
        slo = kwargs.get("standard_logging_object") or {}
        info = slo.get("error_information") or {}
        code = info.get("error_code")
        status = int(code) if isinstance(code, str) and code.isdigit() else None
        message = slo.get("error_str") or info.get("error_message") or ""
        call.set_failure(info.get("error_class") or "Error", message, status)

    @staticmethod
    def _times(call: Call, kwargs: dict[str, Any], start_time: Any, end_time: Any) -> None:
        """Start, end and first chunk as LiteLLM measured them (the call object is built after the fact)."""
        slo = kwargs.get("standard_logging_object") or {}
        start = _epoch(slo.get("startTime")) or _epoch(start_time)
        end = _epoch(slo.get("endTime")) or _epoch(end_time)
        if start is None or end is None or end < start:
            return
        call.wall0 = start
        call.t0 = time.perf_counter() - (end - start)
        if call.streamed:
            first = _epoch(slo.get("completionStartTime")) or _epoch(kwargs.get("completion_start_time"))
            if first is not None and start <= first <= end:
                call.ttft = first - start

    def _fault(self, exc: BaseException, call: Call | None = None) -> None:
        try:
            tracker = call.tracker if call is not None else self.tracker
            tracker.count_fault(
                "internal_errors", f"llmcost: could not record a LiteLLM call: {type(exc).__name__}: {exc}"
            )
        except Exception:
            pass


def _metadata(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """The call's ``metadata`` (``litellm_metadata`` for some call types), where attribution is read."""
    meta = params.get("metadata") or params.get("litellm_metadata")
    return meta if isinstance(meta, Mapping) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _epoch(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value > 0 else None
    if isinstance(value, datetime):
        return value.timestamp()  # LiteLLM's datetimes are naive local times, as .timestamp() reads them
    return None


def _trace_id(trace: str) -> str:
    """32 hex digits: a UUID's own, else a hash of the id."""
    digits = trace.replace("-", "").lower()
    if _HEX32.fullmatch(digits):
        return digits
    return hashlib.blake2b(trace.encode("utf-8", "replace"), digest_size=16).hexdigest()


def _asked_stream_usage(kwargs: Mapping[str, Any]) -> bool:
    for options in (kwargs.get("stream_options"), (kwargs.get("optional_params") or {}).get("stream_options")):
        if isinstance(options, Mapping) and options.get("include_usage") is True:
            return True
    return False


def _bare_model(model: Any) -> str | None:
    """``openai/gpt-4o-mini`` -> ``gpt-4o-mini`` (the name LiteLLM passes as a call's ``model``)."""
    if not isinstance(model, str) or not model:
        return None
    head, sep, rest = model.partition("/")
    return rest if sep and rest and head in _provider_names() else model


_names: frozenset[str] | None = None


def _provider_names() -> frozenset[str]:
    global _names
    if _names is None:
        names = getattr(litellm, "provider_list", None) or ()
        _names = frozenset(str(getattr(p, "value", p)) for p in names)
    return _names


def _fallback_from(group: Any, crumbs: list[Any], earlier: list[tuple[Any, str | None]]) -> str | None:
    for crumb in reversed(crumbs):
        if isinstance(crumb, Mapping) and crumb.get("model_group") != group:
            model = _bare_model(crumb.get("model"))
            if model is not None:
                return model
    for other_group, other_model in reversed(earlier):
        if other_group != group and isinstance(other_model, str):
            return other_model
    return None


def install(tracker: Tracker | None = None, **kwargs: Any) -> LlmcostLogger:
    """Record every LiteLLM call from now on: ``llmcost.litellm.install(agent="planner")``; returns the logger.

    Takes :class:`LlmcostLogger`'s arguments. A logger installed before is removed first, so installing twice never
    records a call twice.
    """
    logger = LlmcostLogger(tracker, **kwargs)
    uninstall()
    manager = getattr(litellm, "logging_callback_manager", None)
    if manager is not None and hasattr(manager, "add_litellm_callback"):
        manager.add_litellm_callback(logger)
    else:
        litellm.callbacks.append(logger)
    return logger


def uninstall(logger: LlmcostLogger | None = None) -> None:
    """Stop recording: remove ``logger`` (default: every :class:`LlmcostLogger`) from LiteLLM's callback lists."""
    manager = getattr(litellm, "logging_callback_manager", None)
    lock = getattr(manager, "callback_lists_lock", None)
    with lock if lock is not None else contextlib.nullcontext():
        for name in _CALLBACK_LISTS:
            callbacks = getattr(litellm, name, None)
            if isinstance(callbacks, list):
                callbacks[:] = [
                    cb
                    for cb in callbacks
                    if not (cb is logger if logger is not None else isinstance(cb, LlmcostLogger))
                ]
