"""Read token usage from any provider's response (object or dict) into the inclusive wire-format counters.

Shapes handled (see docs/recorder.md): OpenAI Chat Completions (and every OpenAI-compatible server: vLLM, Ollama
``/v1``, LM Studio, LiteLLM ``ModelResponse``), OpenAI Responses, Anthropic Messages, Ollama native ``/api/chat`` and
``/api/generate``, LangChain ``usage_metadata``, Google ``usage_metadata`` and plain dicts of any of these.

Rules: totals are inclusive (Anthropic's input is input + cache read + cache creation); a counter the provider did
not send stays ``None``, never 0; a response whose shape is not recognised yields ``usage_source = "none"`` and
:func:`extract` never raises.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from llmcost.log import MAX_COUNT

__all__ = [
    "TIER_MAX",
    "Billing",
    "ReportedUsage",
    "anthropic_billing",
    "billing_of",
    "extract",
    "extract_usage",
    "from_usage_metadata",
    "get_field",
    "merge_anthropic_delta",
    "output_tools",
    "read_billing",
    "tier_name",
]

TIER_MAX = 64  # characters of a service tier name (the providers' are a word)


class Billing(msgspec.Struct, eq=False, gc=False):
    """What a call is billed beyond its tokens, as the provider reported it (or the caller handed it over): the
    service tier it was served with, whether it went through a batch API, and the server-side tools it used (the
    counters of ``pricing.Usage``; ``None``: not reported). Absent from a plain call (``ReportedUsage.billing`` is
    ``None``): the recorder then skips this work altogether."""

    service_tier: str | None = None
    batch: bool = False
    web_search_requests: int | None = None
    web_fetch_requests: int | None = None
    file_search_calls: int | None = None
    code_interpreter_sessions: int | None = None
    grounded_prompts: int | None = None

    def tools(self) -> tuple[int | None, int | None, int | None, int | None, int | None]:
        """The tool counters in ``pricing.TOOLS`` order."""
        return (
            self.web_search_requests,
            self.web_fetch_requests,
            self.file_search_calls,
            self.code_interpreter_sessions,
            self.grounded_prompts,
        )


class ReportedUsage(msgspec.Struct, repr_omit_defaults=True, eq=False, gc=False):
    """The usage of one call as its provider reported it (or the caller handed it over), in the inclusive counters of
    the wire format: every count is ``None`` (not reported) or a whole number from 0 to 2**53. ``source`` says where
    it came from: ``provider``, ``partial`` (some counts missing), ``estimated``, ``none`` (nothing found),
    ``error`` (the response could not be read) or ``invalid`` (counts handed over were refused; written as
    ``partial``, not priced).

    A ``msgspec.Struct``: built in one C call with its fields in order (``Call.set_usage`` does it on every call), and
    untracked by the garbage collector (it holds numbers and strings only)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None  # all cache writes (5 minute and 1 hour)
    cache_write_1h: int | None = None  # the 1 hour subset of cache_write
    reasoning: int | None = None
    gpu_seconds: float | None = None
    response_model: str | None = None
    response_id: str | None = None
    source: str = "none"
    billing: Billing | None = None  # tier, batch, tools: only when the provider reported one of them

    FIELDS: ClassVar[tuple[str, ...]] = (
        "input_tokens",
        "output_tokens",
        "cache_read",
        "cache_write",
        "cache_write_1h",
        "reasoning",
        "gpu_seconds",
        "response_model",
        "response_id",
        "source",
        "billing",
    )


def get_field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings, ``obj.name`` otherwise; ``None`` when absent.

    Pydantic models (the SDKs' response types) keep their fields in ``__dict__`` and extra keys in
    ``__pydantic_extra__``: reading those directly avoids the slow ``AttributeError`` path of a missing name.
    """
    if obj is None:
        return None
    if type(obj) is dict:
        return obj.get(name)
    try:
        fields = getattr(obj, "__dict__", None)
        if fields is not None and name in fields:
            return fields[name]
        if hasattr(type(obj), "__pydantic_fields__"):
            extra = getattr(obj, "__pydantic_extra__", None)
            return extra.get(name) if extra else None
        if isinstance(obj, dict):
            return obj.get(name)
        return getattr(obj, name, None)
    except Exception:
        return None


def _int(value: Any) -> int | None:
    """A count as the wire format takes it (a whole number from 0 to 2**53), else unknown."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_COUNT:
        return int(value)
    return None


def tier_name(value: Any) -> str | None:
    """A service tier as the wire format takes it (text of at most ``TIER_MAX`` characters, trimmed), else unknown.
    The provider's name is kept (``default``, ``priority``, ``standard``, ``batch``...): the catalog reads them all."""
    if type(value) is not str:
        try:
            value = getattr(value, "value", None)  # an enum member, as some SDK versions type it
        except Exception:  # an odd object: no tier
            return None
        if not isinstance(value, str):
            return None
    name = value.strip()
    if not 0 < len(name) <= TIER_MAX:
        return None
    try:
        name.encode("utf-8")  # a lone surrogate cannot go on the line
    except UnicodeEncodeError:
        return None
    return name


def billing_of(out: ReportedUsage) -> Billing:
    """``out.billing``, made when it is not there yet."""
    found = out.billing
    if found is None:
        found = out.billing = Billing()
    return found


def _set_tier(out: ReportedUsage, value: Any) -> None:
    tier = tier_name(value)
    if tier is not None:
        billing = billing_of(out)
        billing.service_tier = tier
        billing.batch = billing.batch or tier.lower() == "batch"


#: OpenAI Responses output item types billed per use, and the counter each adds to.
_TOOL_ITEMS = {"web_search_call": "web_search_requests", "file_search_call": "file_search_calls"}


def output_tools(out: ReportedUsage, items: Any) -> None:
    """Count the server-side tool calls among OpenAI Responses ``output`` items: ``web_search_call`` and
    ``file_search_call`` one each, ``code_interpreter_call`` one per container (a session is billed once, however
    many calls run in it). Counters of tools not used stay ``None``."""
    if not isinstance(items, (list, tuple)) or not items:
        return
    counts: dict[str, int] = {}
    containers: set[Any] = set()
    for item in items:
        kind = get_field(item, "type")
        if type(kind) is not str:
            continue
        name = _TOOL_ITEMS.get(kind)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
        elif kind == "code_interpreter_call":
            container = get_field(item, "container_id")
            containers.add(container if isinstance(container, str) else object())
    if containers:
        counts["code_interpreter_sessions"] = len(containers)
    if counts:
        billing = billing_of(out)
        for name, n in counts.items():
            setattr(billing, name, n)


def _server_tools(out: ReportedUsage, usage: Any) -> None:
    """Anthropic ``usage.server_tool_use``: web searches and fetches (cumulative in a stream: overwrite)."""
    used = get_field(usage, "server_tool_use")
    if used is None:
        return
    search = _int(get_field(used, "web_search_requests"))
    fetch = _int(get_field(used, "web_fetch_requests"))
    if search is not None or fetch is not None:
        billing = billing_of(out)
        billing.web_search_requests = search if search is not None else billing.web_search_requests
        billing.web_fetch_requests = fetch if fetch is not None else billing.web_fetch_requests


def _sum(*parts: int | None) -> int | None:
    """The sum of counts (``None`` counts as 0), unknown when it passes 2**53."""
    total = sum(p or 0 for p in parts)
    return total if total <= MAX_COUNT else None


def extract(response: Any, hint: str | None = None) -> ReportedUsage:
    """Usage, model and id of ``response``; ``hint`` (``"anthropic"``, ``"ollama"``...) breaks ties. Never raises."""
    out = ReportedUsage()
    try:
        _fill(out, response, hint)
    except Exception:  # an odd object: the caller counts it, the user's call goes on
        out = ReportedUsage()
        out.source = "error"
    return out


def _fill(out: ReportedUsage, response: Any, hint: str | None) -> None:
    if response is None:
        return
    model = get_field(response, "model")
    out.response_model = model if isinstance(model, str) else None
    rid = get_field(response, "id")
    out.response_id = rid if isinstance(rid, str) else None
    usage = get_field(response, "usage")
    ollama_like = usage is None and (
        hint == "ollama"
        or get_field(response, "eval_count") is not None
        or get_field(response, "total_duration") is not None
    )
    if ollama_like and _ollama(out, response):
        return
    if usage is None and get_field(response, "object") == "response.completed":
        response = get_field(response, "response")
        usage = get_field(response, "usage")
    if usage is not None:
        extract_usage(usage, hint, into=out)
        read_billing(out, response)
        return
    meta = get_field(response, "usage_metadata")
    if meta is not None:
        _usage_metadata(out, meta)
        return
    # A bare usage object or dict handed over directly.
    extract_usage(response, hint, into=out)


def read_billing(out: ReportedUsage, response: Any) -> None:
    """The service tier an OpenAI response (Chat Completions or Responses) names, and the tool calls among a
    Responses ``output``. Never raises (an odd value is left out)."""
    try:
        fields = response if type(response) is dict else getattr(response, "__dict__", None)
        if type(fields) is dict and "service_tier" in fields:
            # A dict, or an SDK model that declares the field (in its __dict__): ``output`` is read without the slow
            # path of a name the model lacks (a Chat Completion has none).
            tier, output = fields["service_tier"], fields.get("output")
        else:
            tier, output = get_field(response, "service_tier"), get_field(response, "output")
        if tier is not None:
            _set_tier(out, tier)
        if output:
            output_tools(out, output)
    except Exception:  # an odd object: what could not be read is left out
        pass


def extract_usage(usage: Any, hint: str | None = None, *, into: ReportedUsage | None = None) -> ReportedUsage:
    """Normalise a ``usage`` object/dict of any supported provider."""
    out = into if into is not None else ReportedUsage()
    if get_field(usage, "prompt_tokens") is not None or get_field(usage, "completion_tokens") is not None:
        _openai_chat(out, usage)
    elif get_field(usage, "input_tokens") is not None or get_field(usage, "output_tokens") is not None:
        anthropic = hint == "anthropic" or (
            get_field(usage, "input_tokens_details") is None
            and (
                get_field(usage, "cache_read_input_tokens") is not None
                or get_field(usage, "cache_creation_input_tokens") is not None
            )
        )
        (_anthropic if anthropic else _inclusive)(out, usage)
    elif get_field(usage, "prompt_token_count") is not None:
        _google(out, usage)
    return out


def _openai_chat(out: ReportedUsage, u: Any) -> None:
    out.input_tokens = _int(get_field(u, "prompt_tokens"))
    out.output_tokens = _int(get_field(u, "completion_tokens"))
    pd = get_field(u, "prompt_tokens_details")
    cd = get_field(u, "completion_tokens_details")
    out.cache_read = _int(get_field(pd, "cached_tokens"))
    if out.cache_read is None:
        out.cache_read = _int(get_field(u, "cache_read_input_tokens"))  # LiteLLM also puts it at the top level
    write = _int(get_field(pd, "cache_write_tokens"))
    if write is None:
        write = _int(get_field(pd, "cache_creation_tokens"))
    if write is None:
        write = _int(get_field(u, "cache_creation_input_tokens"))
    out.cache_write = write
    out.reasoning = _int(get_field(cd, "reasoning_tokens"))
    out.source = "provider"


def _inclusive(out: ReportedUsage, u: Any) -> None:
    """OpenAI Responses (and any usage already inclusive with ``input_tokens``/``output_tokens``)."""
    out.input_tokens = _int(get_field(u, "input_tokens"))
    out.output_tokens = _int(get_field(u, "output_tokens"))
    idt = get_field(u, "input_tokens_details")
    out.cache_read = _int(get_field(idt, "cached_tokens"))
    out.cache_write = _int(get_field(idt, "cache_write_tokens"))
    out.reasoning = _int(get_field(get_field(u, "output_tokens_details"), "reasoning_tokens"))
    if out.cache_read is None:
        out.cache_read = _int(get_field(u, "cache_read_input_tokens"))
    out.source = "provider"


def _anthropic(out: ReportedUsage, u: Any) -> None:
    base = _int(get_field(u, "input_tokens"))
    read = _int(get_field(u, "cache_read_input_tokens"))
    write = _int(get_field(u, "cache_creation_input_tokens"))
    by_ttl = get_field(u, "cache_creation")
    one_hour = _int(get_field(by_ttl, "ephemeral_1h_input_tokens"))
    if write is None and by_ttl is not None:  # only the breakdown by lifetime: the writes are its sum
        five_minutes = _int(get_field(by_ttl, "ephemeral_5m_input_tokens"))
        write = None if five_minutes is None and one_hour is None else _sum(five_minutes, one_hour)
    out.input_tokens = None if base is None else _sum(base, read, write)
    out.output_tokens = _int(get_field(u, "output_tokens"))
    out.cache_read = read
    out.cache_write = write
    out.cache_write_1h = one_hour
    out.reasoning = _int(get_field(get_field(u, "output_tokens_details"), "thinking_tokens"))
    out.source = "provider"
    anthropic_billing(out, u)


def anthropic_billing(out: ReportedUsage, u: Any) -> None:
    """Anthropic ``usage.service_tier`` (``standard``, ``priority``, ``batch``) and ``usage.server_tool_use``."""
    tier = get_field(u, "service_tier")
    if tier is not None:
        _set_tier(out, tier)
    _server_tools(out, u)


def merge_anthropic_delta(out: ReportedUsage, u: Any) -> None:
    """Apply a ``message_delta`` usage: cumulative values overwrite (never add); absent fields keep their value."""
    base_now = None if out.input_tokens is None else out.input_tokens - (out.cache_read or 0) - (out.cache_write or 0)
    base_now = None if base_now is None or base_now < 0 else base_now
    base = _int(get_field(u, "input_tokens"))
    read = _int(get_field(u, "cache_read_input_tokens"))
    write = _int(get_field(u, "cache_creation_input_tokens"))
    by_ttl = get_field(u, "cache_creation")
    one_hour = _int(get_field(by_ttl, "ephemeral_1h_input_tokens"))
    if write is None and by_ttl is not None:  # only the breakdown by lifetime: the writes are its sum (as _anthropic)
        five_minutes = _int(get_field(by_ttl, "ephemeral_5m_input_tokens"))
        write = None if five_minutes is None and one_hour is None else _sum(five_minutes, one_hour)
    out.cache_read = read if read is not None else out.cache_read
    out.cache_write = write if write is not None else out.cache_write
    base = base if base is not None else base_now
    out.input_tokens = None if base is None else _sum(base, out.cache_read, out.cache_write)
    output = _int(get_field(u, "output_tokens"))
    out.output_tokens = output if output is not None else out.output_tokens
    out.cache_write_1h = one_hour if one_hour is not None else out.cache_write_1h
    thinking = _int(get_field(get_field(u, "output_tokens_details"), "thinking_tokens"))
    out.reasoning = thinking if thinking is not None else out.reasoning
    out.source = "provider"
    anthropic_billing(out, u)


def _ollama(out: ReportedUsage, r: Any) -> bool:
    evals = _int(get_field(r, "eval_count"))
    prompt = _int(get_field(r, "prompt_eval_count"))
    total = _int(get_field(r, "total_duration"))
    if evals is None and prompt is None and total is None:
        return False
    out.output_tokens = evals
    # Older servers omit prompt_eval_count when the prompt was cached: unknown, not zero.
    out.input_tokens = prompt
    out.cache_read = _int(get_field(r, "prompt_eval_cached_count"))
    out.gpu_seconds = None if total is None else total / 1e9
    out.source = "provider" if prompt is not None and evals is not None else "partial"
    return True


def _usage_metadata(out: ReportedUsage, m: Any) -> None:
    if get_field(m, "prompt_token_count") is not None:
        _google(out, m)
        return
    found = from_usage_metadata(m)
    if found is not None:
        for name in ReportedUsage.FIELDS:
            setattr(out, name, getattr(found, name))


def _detail(details: Any, name: str) -> int | None:
    """``name`` in LangChain's token details, or its service-tier form (``priority_cache_read``, ``flex_reasoning``)."""
    value = get_field(details, name)
    if value is None:
        value = get_field(details, "priority_" + name)
        if value is None:
            value = get_field(details, "flex_" + name)
    return _int(value)


def from_usage_metadata(meta: Any) -> ReportedUsage | None:
    """LangChain's ``usage_metadata`` (inclusive totals: ``input_tokens`` holds cache reads and writes, ``output_tokens``
    reasoning) as our counters; ``None`` when it holds neither total."""
    u = ReportedUsage()
    u.input_tokens = _int(get_field(meta, "input_tokens"))
    u.output_tokens = _int(get_field(meta, "output_tokens"))
    if u.input_tokens is None and u.output_tokens is None:
        return None
    inp = get_field(meta, "input_token_details")
    u.cache_read = _detail(inp, "cache_read")
    # langchain-anthropic moves writes to the TTL keys (and sets cache_creation to 0) when it knows the TTL.
    one_hour = _int(get_field(inp, "ephemeral_1h_input_tokens"))
    writes = [_detail(inp, "cache_creation"), _int(get_field(inp, "ephemeral_5m_input_tokens")), one_hour]
    if any(w is not None for w in writes):
        u.cache_write = _sum(*writes)
    u.cache_write_1h = one_hour
    u.reasoning = _detail(get_field(meta, "output_token_details"), "reasoning")
    u.source = "provider" if u.input_tokens is not None and u.output_tokens is not None else "partial"
    return u


def _google(out: ReportedUsage, m: Any) -> None:
    """Gemini: the prompt count includes cached content; candidates exclude thoughts, so output adds them."""
    out.input_tokens = _int(get_field(m, "prompt_token_count"))
    cand = _int(get_field(m, "candidates_token_count"))
    thoughts = _int(get_field(m, "thoughts_token_count"))
    out.output_tokens = None if cand is None and thoughts is None else _sum(cand, thoughts)
    out.cache_read = _int(get_field(m, "cached_content_token_count"))
    out.reasoning = thoughts
    out.source = "provider"
