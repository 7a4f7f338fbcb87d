"""The LangChain callback handler: every chat model and LLM run, recorded as one call (see ``llmcost.langchain``)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables.config import var_child_runnable_config

from llmcost.integrations._clients import detect_provider
from llmcost.recorder import (
    Attribution,
    AttributionArgs,
    BudgetExceeded,
    BudgetWarning,
    Call,
    ReportedUsage,
    Tracker,
    active_scopes,
    anthropic_billing,
    attribution_from,
    current_call,
    extract,
    extract_usage,
    from_usage_metadata,
    get_tracker,
    output_tools,
    prompt_hash,
    read_billing,
    scoped,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["LlmcostCallbackHandler"]

#: LangChain's ``ls_provider`` values that differ from our provider ids.
_PROVIDERS = {
    "google_genai": "google",
    "google_vertexai": "google",
    "vertexai": "google",
    "google_anthropic_vertex": "google",
    "amazon_bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "aws": "bedrock",
    "mistralai": "mistral",
    "azure_openai": "azure",
    "togetherai": "together",
    "fireworksai": "fireworks",
}
#: Keys of a model's serialized constructor arguments that hold its base URL.
_URL_KEYS = ("openai_api_base", "base_url", "anthropic_api_url", "azure_endpoint", "endpoint")
#: Tags LangChain adds itself (sequence steps, branches, retries): not attribution.
_INTERNAL_TAGS = ("seq:step:", "map:key:", "retry:attempt:", "branch:", "condition:", "graph:step:", "langsmith:")
_INTERNAL_META = ("ls_", "lc_", "langgraph_", "checkpoint_", "_")
_META_FIELDS = ("agent", "session_id", "thread_id", "conversation_id", "user_id", "workflow")
_RETRY_TAG = "retry:attempt:"
_FALLBACKS = "RunnableWithFallbacks"
_MAX_OPEN = 100_000  # open runs remembered; a run that never ends must not grow memory without bound
_MAX_DEPTH = 64


class _Run:
    """An open chain, tool or retriever run: enough to find the trace, the retry attempt and a fallback."""

    __slots__ = ("attempt", "failed_branch", "failed_model", "fallbacks", "parent", "trace_id")

    def __init__(self, trace_id: str, parent: UUID | None, attempt: int | None, fallbacks: bool) -> None:
        self.trace_id = trace_id
        self.parent = parent
        self.attempt = attempt
        self.fallbacks = fallbacks
        self.failed_model: str | None = None
        self.failed_branch: UUID | None = None


class LlmcostCallbackHandler(BaseCallbackHandler):
    """Records every chat model and LLM run with ``tracker`` (default: the process-wide tracker at each run).

    ``provider`` overrides the provider of every run; attribution given here (``attribution=``, and
    :class:`~llmcost.Attribution`'s fields as keywords over it) is the default under the run's own. ``enforce_budgets=True`` lets a ``block`` budget stop a run
    (:class:`~llmcost.BudgetExceeded` is raised before the request); otherwise the handler never raises.
    """

    run_inline = True  # called in the caller's task: no executor hop, and the caller's context (scopes) is seen

    def __init__(
        self,
        tracker: Tracker | None = None,
        *,
        provider: str | None = None,
        attribution: Attribution | None = None,
        enforce_budgets: bool = False,
        **attrs: Unpack[AttributionArgs],
    ) -> None:
        super().__init__()
        self.tracker = tracker
        self.provider = provider
        self.enforce_budgets = enforce_budgets
        self.raise_error = enforce_budgets  # only BudgetExceeded ever leaves this handler
        self._given = attribution_from(attribution, attrs, "LlmcostCallbackHandler()")
        # (tracker, its attribution, the handler's over it): worked out again when either changes
        self._base: tuple[Tracker, Attribution, Attribution] | None = None
        self._calls: dict[UUID, tuple[Call, UUID | None]] = {}  # open model runs and the run they run in
        self._runs: dict[UUID, _Run] = {}
        self._hosts: dict[tuple[str, str | None], tuple[str | None, str | None]] = {}
        self._budget_warned = False

    def __copy__(self) -> LlmcostCallbackHandler:
        return self  # LangChain copies configs: open runs must stay in one handler

    def __deepcopy__(self, memo: dict[int, Any]) -> LlmcostCallbackHandler:
        return self

    def __repr__(self) -> str:
        return f"<LlmcostCallbackHandler open_calls={len(self._calls)}>"

    # -- model runs ---------------------------------------------------------------------------------------------

    # LangChain passes every callback its run's ids, tags and metadata as keywords: what a callback does not read
    # by name stays in ``run``.

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *, run_id: UUID, **run: Any
    ) -> None:
        self._model_run("chat", serialized, run_id, run, lambda: [m for batch in messages for m in batch])

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **run: Any) -> None:
        self._model_run("text_completion", serialized, run_id, run, lambda: prompts)

    def on_llm_new_token(
        self, token: str | list[str | dict[str, Any]], *, chunk: Any = None, run_id: UUID, **run: Any
    ) -> None:
        open_call = self._calls.get(run_id)
        if open_call is None:
            return
        call = open_call[0]
        if call.ttft is not None:
            return
        try:
            call.streamed = True
            if token or getattr(getattr(chunk, "message", None), "tool_call_chunks", None):
                call.mark_first_token()
        except Exception as exc:
            self._fault(exc)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **run: Any) -> None:
        open_call = self._calls.pop(run_id, None)
        if open_call is None:
            return
        call = open_call[0]
        try:
            self._read(call, response)
            call.finish()
            if call.usage is None:
                call.tracker.count_fault(
                    "odd_response",
                    f"llmcost: a LangChain {call.model or 'model'} response carried no usage; recorded with "
                    "usage_source none (ChatOpenAI with a custom base_url streams usage only with stream_usage=True)",
                )
        except Exception as exc:
            self._fault(exc, call)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **run: Any) -> None:
        open_call = self._calls.pop(run_id, None)
        if open_call is None:
            return
        call, parent = open_call
        try:
            partial = run.get("response")
            if isinstance(partial, LLMResult):
                self._read(call, partial)
            call.set_error(error)
            call.finish()
            self._note_failure(parent, run_id, call.model)
        except Exception as exc:
            self._fault(exc, call)

    # -- the runs around them (for the trace id, retries and fallbacks) ------------------------------------------

    def on_chain_start(self, serialized: dict[str, Any], inputs: Any, *, run_id: UUID, **run: Any) -> None:
        self._open(run_id, run, run.get("name"))

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, **run: Any) -> None:
        self._open(run_id, run, None)

    def on_retriever_start(self, serialized: dict[str, Any], query: str, *, run_id: UUID, **run: Any) -> None:
        self._open(run_id, run, None)

    def _run_ended(self, *args: Any, run_id: UUID, **run: Any) -> None:
        """A chain, tool or retriever run ended or failed: it is forgotten."""
        self._runs.pop(run_id, None)

    on_chain_end = on_chain_error = on_tool_end = on_tool_error = on_retriever_end = on_retriever_error = _run_ended

    @property
    def ignore_agent(self) -> bool:
        return True  # agent actions carry nothing we record

    @property
    def ignore_custom_event(self) -> bool:
        return True

    # -- internals ----------------------------------------------------------------------------------------------

    def _open(self, run_id: UUID, given: Mapping[str, Any], name: Any) -> None:
        """Remember a chain, tool or retriever run (``given``: the keywords of its start callback)."""
        try:
            parent_run_id = self._parent(given.get("parent_run_id"))
            parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
            attempt = _attempt(given.get("tags"))
            run = _Run(self._trace_id(run_id, parent_run_id, parent), parent_run_id, attempt, name == _FALLBACKS)
            runs = self._runs
            runs[run_id] = run
            if len(runs) > _MAX_OPEN:
                with contextlib.suppress(Exception):
                    del runs[next(iter(runs))]
        except Exception as exc:
            self._fault(exc)

    def _parent(self, reported: UUID | None) -> UUID | None:
        """The run this one really runs in. ``with_fallbacks`` invokes its runnables with the config it was given,
        so LangChain reports the run above the fallbacks run as their parent (or none, when callbacks were passed
        in that config); the config it sets for them names the fallbacks run. That run is taken when it is a known
        run below the reported parent."""
        config = var_child_runnable_config.get()
        manager = config.get("callbacks") if config else None
        deeper = getattr(manager, "parent_run_id", None)
        if deeper is None or deeper == reported or not isinstance(deeper, UUID) or deeper not in self._runs:
            return reported
        if reported is None:
            return deeper
        for _, node in self._ancestors(None, deeper):
            if node.parent == reported:
                return deeper
        return reported

    def _ancestors(self, run_id: UUID | None, parent_run_id: UUID | None) -> Iterator[tuple[UUID | None, _Run]]:
        """The open runs a run runs in (from ``parent_run_id`` up, nearest first, at most ``_MAX_DEPTH``), each with
        the run below it on the way (the branch the run is in)."""
        branch, node_id = run_id, parent_run_id
        for _ in range(_MAX_DEPTH):
            node = self._runs.get(node_id) if node_id is not None else None
            if node is None:
                return
            yield branch, node
            branch, node_id = node_id, node.parent

    @staticmethod
    def _trace_id(run_id: UUID, parent_run_id: UUID | None, parent: _Run | None) -> str:
        if parent is not None:
            return parent.trace_id
        if parent_run_id is not None:
            return parent_run_id.hex  # a parent we never saw: the best root we know
        span = current_call()
        return span.trace_id if span is not None else run_id.hex

    def _model_run(
        self,
        operation: str,
        serialized: Mapping[str, Any] | None,
        run_id: UUID,
        given: Mapping[str, Any],
        inputs: Callable[[], list[Any]],
    ) -> None:
        """Start recording a model run (``given``: the keywords of its start callback; ``inputs``: its messages or
        prompts). Faults are counted, never raised; only an enforced ``block`` budget raises."""
        try:
            request = inputs()
            call = self._start(operation, serialized, run_id, given, request)
            if call is not None and call.tracker.capture_content:
                call.content = {"input": [_content(m) for m in request]}
        except BudgetExceeded:
            raise
        except Exception as exc:
            self._fault(exc)

    def _start(
        self, operation: str, serialized: Mapping[str, Any] | None, run_id: UUID, given: Mapping[str, Any], request: Any
    ) -> Call | None:
        tracker = self.tracker or get_tracker()
        parent_run_id = self._parent(given.get("parent_run_id"))
        tags = given.get("tags")
        meta = given.get("metadata") or {}
        params = given.get("invocation_params") or {}
        model = meta.get("ls_model_name") or params.get("model") or params.get("model_name")
        model = model if isinstance(model, str) else None
        provider, server = self._provider(tracker, meta, serialized)
        attempt, fallback_from = self._lineage(run_id, parent_run_id, tags)
        own, under = self._attribution(tracker, tags, meta)
        call, blocked = self._begin(tracker, model, provider, own, under)
        call.set_request(
            operation=operation,
            source="langchain",
            server_address=server,
            stream=params.get("stream") is True,
            attempt=attempt,
            fallback_from=fallback_from,
            prompt_hash=prompt_hash([(m.type, m.content) if isinstance(m, BaseMessage) else m for m in request]),
        )
        tier = params.get("service_tier")
        if isinstance(tier, str):  # ChatOpenAI(service_tier=...): priced with it when the response names none
            call.set_request(service_tier=tier)
        call.id = run_id.hex[16:]
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if parent_run_id is not None:
            call.parent_id = parent_run_id.hex[16:]
            call.trace_id = self._trace_id(run_id, parent_run_id, parent)
        elif call.parent_id is None:  # no llmcost trace() around the run either: it starts its own trace
            call.trace_id = run_id.hex
        calls = self._calls
        calls[run_id] = (call, parent_run_id)
        if len(calls) > _MAX_OPEN:
            with contextlib.suppress(Exception):
                calls.pop(next(iter(calls)))[0].finish("cancelled")
        if blocked and not self._budget_warned:
            self._budget_warned = True
            warnings.warn(
                "llmcost: a block budget was reached but LangChain calls go on; "
                "LlmcostCallbackHandler(enforce_budgets=True) stops them",
                BudgetWarning,
                stacklevel=2,
            )
        return call

    def _begin(
        self, tracker: Tracker, model: str | None, provider: str | None, own: Attribution | None, under: Attribution
    ) -> tuple[Call, bool]:
        """The call, and whether a block budget was reached (the call goes on unless budgets are enforced)."""
        blocked = False
        try:
            call = tracker.begin(model, provider, own, under)
        except BudgetExceeded:
            if self.enforce_budgets:
                raise
            blocked = True
            scopes = active_scopes()
            attribution = scoped(under, scopes)
            call = Call(tracker, model, provider, attribution if own is None else own.over(attribution), scopes)
        # A downgrade budget cannot change the model LangChain is about to call: record the model that answers.
        call.request_model = model
        call.request = call.request.replace(fallback_from=None)
        return call, blocked

    def _attribution(
        self, tracker: Tracker, tags: list[str] | None, meta: Mapping[str, Any]
    ) -> tuple[Attribution | None, Attribution]:
        """The run's own attribution (its tags and metadata), and the handler's over the tracker's under it."""
        base = self._base
        if base is None or base[0] is not tracker or base[1] is not tracker.attribution:
            base = self._base = (tracker, tracker.attribution, tracker.adopt(self._given).over(tracker.attribution))
        run_tags = [t for t in tags if not t.startswith(_INTERNAL_TAGS)] if tags else None
        user_meta: dict[str, Any] = {}
        for key, value in meta.items():
            if key not in _META_FIELDS and not key.startswith(_INTERNAL_META):
                user_meta[key] = value
        session = meta.get("session_id") or meta.get("thread_id") or meta.get("conversation_id")
        names = {
            "agent": _text(meta.get("agent")),
            "session_id": _text(session),
            "user_id": _text(meta.get("user_id")),
            "workflow": _text(meta.get("workflow")),
        }
        if not run_tags and not user_meta and all(v is None for v in names.values()):
            return None, base[2]
        own = Attribution(tags=run_tags or None, metadata=user_meta or None, **names)
        return tracker.adopt(own), base[2]

    def _provider(
        self, tracker: Tracker, meta: Mapping[str, Any], serialized: Mapping[str, Any] | None
    ) -> tuple[str | None, str | None]:
        raw = meta.get("ls_provider")
        provider = self.provider or (_PROVIDERS.get(raw, raw.lower()) if isinstance(raw, str) and raw else None)
        url = _base_url(serialized)
        if url is None:
            return provider, None
        key = (url, provider)
        hit = self._hosts.get(key)
        if hit is None:
            detected, server = detect_provider(tracker, url, provider or "openai")
            # Only the OpenAI client is pointed at other servers; a ChatAnthropic or ChatOllama is what it says.
            hit = (detected if provider in (None, "openai") and self.provider is None else provider, server)
            if len(self._hosts) < 256:
                self._hosts[key] = hit
        return hit

    def _lineage(self, run_id: UUID, parent_run_id: UUID | None, tags: list[str] | None) -> tuple[int, str | None]:
        """(attempt, fallback_from): the nearest retry tag on the run or above it; a failure in another branch of
        the nearest fallbacks run above it."""
        attempt = _attempt(tags)
        fallback_from: str | None = None
        seen_fallbacks = False
        for branch, node in self._ancestors(run_id, parent_run_id):
            if attempt is None:
                attempt = node.attempt
            if node.fallbacks and not seen_fallbacks:
                seen_fallbacks = True
                if node.failed_model is not None and node.failed_branch != branch:
                    fallback_from = node.failed_model
            if attempt is not None and seen_fallbacks:
                break
        return attempt or 0, fallback_from

    def _note_failure(self, parent_run_id: UUID | None, run_id: UUID, model: str | None) -> None:
        for branch, node in self._ancestors(run_id, parent_run_id):
            if node.fallbacks:
                node.failed_model, node.failed_branch = model, branch
                return

    @staticmethod
    def _read(call: Call, response: LLMResult) -> None:
        generations = response.generations
        gen = generations[0][0] if generations and generations[0] else None
        message = getattr(gen, "message", None)
        meta = getattr(message, "response_metadata", None)
        meta = meta if isinstance(meta, dict) else {}
        output = response.llm_output if isinstance(response.llm_output, dict) else {}
        usage = from_usage_metadata(getattr(message, "usage_metadata", None))
        if usage is None:
            info = getattr(gen, "generation_info", None)
            for candidate in (output.get("token_usage"), output.get("usage"), meta.get("token_usage"), meta, info):
                if candidate:
                    found = extract(candidate, call.usage_hint)
                    if found.source in ("provider", "partial"):
                        usage = found
                        break
        if usage is not None:
            _read_billing(usage, message, meta, output)
            call.usage = usage
        model = meta.get("model_name") or meta.get("model") or output.get("model_name") or output.get("model")
        if isinstance(model, str) and model:
            call.response_model = model
        rid = meta.get("id") or output.get("id")
        if isinstance(rid, str) and rid:
            call.response_id = rid
        if call.content is not None and gen is not None:
            call.content["output"] = str(gen.text)  # a str subclass in langchain-core 1.x

    def _fault(self, exc: BaseException, call: Call | None = None) -> None:
        """Count a fault of the handler itself; the user's run goes on. A started call is still written."""
        with contextlib.suppress(Exception):
            if call is not None and not call.done:
                call.finish()
            tracker = call.tracker if call is not None else (self.tracker or get_tracker())
            tracker.count_fault("internal_errors", f"llmcost: LangChain handler failed: {type(exc).__name__}: {exc}")


def _read_billing(usage: ReportedUsage, message: Any, meta: dict[str, Any], output: dict[str, Any]) -> None:
    """The service tier (``response_metadata["service_tier"]`` from langchain-openai, the raw Anthropic ``usage``
    langchain-anthropic keeps there), Anthropic's server tools and one-hour cache writes, and the tool calls of an
    OpenAI Responses message (content blocks, or ``additional_kwargs["tool_outputs"]``)."""
    read_billing(usage, meta)
    if usage.billing is None or usage.billing.service_tier is None:
        read_billing(usage, {"service_tier": output.get("service_tier")})
    raw = meta.get("usage")
    if isinstance(raw, dict):
        anthropic_billing(usage, raw)
        if usage.cache_write_1h is None:
            usage.cache_write_1h = extract_usage(raw, "anthropic").cache_write_1h
    content = getattr(message, "content", None)
    if isinstance(content, list):
        output_tools(usage, content)
    extra = getattr(message, "additional_kwargs", None)
    if isinstance(extra, dict):
        output_tools(usage, extra.get("tool_outputs"))


def _attempt(tags: list[str] | None) -> int | None:
    if tags:
        for tag in tags:
            if tag.startswith(_RETRY_TAG):
                with contextlib.suppress(ValueError):
                    return int(tag[len(_RETRY_TAG) :]) - 1
    return None


def _content(message: Any) -> Any:
    """A message or prompt as ``capture_content`` keeps it."""
    return {"role": message.type, "content": message.content} if isinstance(message, BaseMessage) else message


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, tuple, set)):
        return None
    return value if isinstance(value, str) else str(value)


def _base_url(serialized: Mapping[str, Any] | None) -> str | None:
    kwargs = serialized.get("kwargs") if isinstance(serialized, Mapping) else None
    if isinstance(kwargs, Mapping):
        for key in _URL_KEYS:
            value = kwargs.get(key)
            if isinstance(value, str) and value:
                return value
    return None
