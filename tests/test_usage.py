"""Usage normalisation over the payload shapes providers really send (objects and dicts)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from anthropic.types import Message
from hypothesis import given
from hypothesis import strategies as st
from ollama import ChatResponse
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from llmcost import extract
from llmcost.recorder._usage import ReportedUsage, extract_usage, merge_anthropic_delta
from tests.servers import CHAT_USAGE, OLLAMA_METRICS, _chat, _message, _ollama_chat, _response_body

STUB: Any = SimpleNamespace(omit_prompt_eval=False, first_token_delay=0.0, service_tier=None, server_tool_use=None)
LITELLM_USAGE = {
    "total_tokens": 103925,
    "prompt_tokens": 98805,
    "completion_tokens": 5120,
    "prompt_tokens_details": {"cached_tokens": 66360, "cache_creation_tokens": 32435, "text_tokens": None},
    "completion_tokens_details": {"reasoning_tokens": 1710, "text_tokens": None},
    "cache_read_input_tokens": 66360,
    "cache_creation_input_tokens": 32435,
}


def counts(u: ReportedUsage) -> tuple[Any, ...]:
    return (u.input_tokens, u.output_tokens, u.cache_read, u.cache_write, u.cache_write_1h, u.reasoning, u.source)


def test_openai_chat_object_and_dict() -> None:
    body = _chat(STUB, {"model": "gpt-4o-mini"})
    expected = (2006, 300, 1920, None, None, 64, "provider")
    assert counts(extract(body)) == expected
    obj = extract(ChatCompletion.model_validate(body))
    assert counts(obj) == expected
    assert (obj.response_model, obj.response_id) == ("gpt-4o-mini-2024-07-18", "chatcmpl-abc123")


def test_responses_object() -> None:
    u = extract(Response.model_validate(_response_body({"model": "o3"})))
    assert counts(u) == (328, 52, 128, 0, None, 20, "provider")


def test_anthropic_object_is_made_inclusive() -> None:
    u = extract(Message.model_validate(_message(STUB, {"model": "claude"})))
    assert counts(u) == (12407, 550, 100, 12304, 304, None, "provider")


def test_anthropic_dict_without_hint_is_recognised() -> None:
    usage = {"input_tokens": 3, "cache_read_input_tokens": 7, "cache_creation_input_tokens": 0, "output_tokens": 5}
    assert counts(extract({"usage": usage}))[:4] == (10, 5, 7, 0)


def test_anthropic_delta_overwrites_and_keeps_absent_fields() -> None:
    u = extract_usage({"input_tokens": 27, "cache_read_input_tokens": 100, "output_tokens": 1}, "anthropic")
    merge_anthropic_delta(u, {"output_tokens": 47})  # older servers send only output_tokens
    assert (u.input_tokens, u.output_tokens, u.cache_read) == (127, 47, 100)
    merge_anthropic_delta(u, {"output_tokens": 60, "input_tokens": 30})  # grew after a server tool
    assert (u.input_tokens, u.output_tokens) == (130, 60)


def test_litellm_usage_with_cache_writes() -> None:
    assert counts(extract({"model": "x", "usage": LITELLM_USAGE})) == (
        98805,
        5120,
        66360,
        32435,
        None,
        1710,
        "provider",
    )


def test_vllm_usage_without_details() -> None:
    usage = {"prompt_tokens": 21, "total_tokens": 58, "completion_tokens": 37, "prompt_tokens_details": None}
    assert counts(extract({"usage": usage})) == (21, 37, None, None, None, None, "provider")


def test_ollama_object_and_missing_prompt_count() -> None:
    body = _ollama_chat(STUB, {"model": "llama3.2"})
    u = extract(ChatResponse.model_validate(body))
    assert counts(u) == (11, 18, None, None, None, None, "provider")
    assert u.gpu_seconds == OLLAMA_METRICS["total_duration"] / 1e9
    del body["prompt_eval_count"]
    assert counts(extract(body))[:2] == (None, 18)
    assert extract(body).source == "partial"


def test_langchain_and_google_usage_metadata() -> None:
    lc = {
        "input_tokens": 350,
        "output_tokens": 240,
        "input_token_details": {"cache_creation": 0, "cache_read": 100, "ephemeral_1h_input_tokens": 200},
        "output_token_details": {"reasoning": 200},
    }
    assert counts(extract({"usage_metadata": lc})) == (350, 240, 100, 200, 200, 200, "provider")
    google = {"prompt_token_count": 100, "candidates_token_count": 20, "thoughts_token_count": 30}
    assert counts(extract({"usage_metadata": google}))[:2] == (100, 50)


class _Exploding:
    @property
    def usage(self) -> Any:
        raise RuntimeError("boom")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(name)


@pytest.mark.parametrize("odd", [None, 42, "text", object(), {"usage": "n/a"}, [1, 2], _Exploding()])
def test_odd_objects_never_raise(odd: Any) -> None:
    u = extract(odd)
    assert u.input_tokens is None
    assert u.source in ("none", "error")


def test_bare_usage_dict_with_chat_names() -> None:
    assert counts(extract(CHAT_USAGE))[:2] == (2006, 300)


# -- get and _int: one reading of a field for dicts, SDK objects and anything else ------------------------------------


class _Slots:
    __slots__ = ("usage",)

    def __init__(self) -> None:
        self.usage = 7


class _Raises:
    """Reading any missing attribute raises: ValueError (read as absent) or KeyboardInterrupt (passed on)."""

    def __init__(self, error: type[BaseException]) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        raise self.error(name)


class _DictWithGet(dict[str, Any]):
    def get(self, key: str, default: Any = None) -> Any:
        return ("via get", key)


def test_get_reads_dicts_sdk_objects_and_plain_objects() -> None:
    from llmcost.recorder import get_field as get

    completion = ChatCompletion.model_validate(_chat(STUB, {"model": "gpt-4o-mini"}))
    extra = ChatCompletion.model_validate({**_chat(STUB, {"model": "m"}), "provider_cost": 0.5})
    assert get(None, "usage") is None
    assert get({"usage": 1}, "usage") == 1
    assert get({"usage": 1}, "model") is None
    assert get(completion, "model") == completion.model
    assert get(completion, "usage") is completion.usage
    assert get(completion, "not_a_field") is None
    assert get(extra, "provider_cost") == 0.5  # pydantic keeps unknown keys apart
    assert get(SimpleNamespace(usage=3), "usage") == 3
    assert get(SimpleNamespace(usage=3), "missing") is None
    assert get(_Slots(), "usage") == 7
    assert get(_Slots(), "missing") is None
    assert get(_DictWithGet(usage=1), "usage") == ("via get", "usage")  # a dict subclass is asked through get()
    assert get(_Raises(ValueError), "usage") is None


def test_get_passes_on_what_is_not_an_exception() -> None:
    from llmcost.recorder import get_field as get

    with pytest.raises(KeyboardInterrupt):
        get(_Raises(KeyboardInterrupt), "usage")


def test_int_takes_whole_numbers_only() -> None:
    from llmcost.recorder._usage import _int

    class Big(int):
        pass

    assert [_int(v) for v in (0, 7, 2**53, Big(5), 3.0)] == [0, 7, 2**53, 5, 3]
    assert type(_int(3.0)) is int
    assert type(_int(Big(5))) is int
    # What the wire format refuses is unknown: negative, past 2**53, not whole, not a number.
    for value in (-3, -2.0, 2**53 + 1, 2**80, None, True, False, 3.5, float("inf"), float("nan"), "7", b"7", [7], 7j):
        assert _int(value) is None, value


# -- extract never raises, whatever the usage holds ----------------------------------------------------------------

_NAMES = [
    "prompt_tokens",
    "completion_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
    "cached_tokens",
    "cache_write_tokens",
    "cache_creation_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
    "input_tokens",
    "output_tokens",
    "input_tokens_details",
    "output_tokens_details",
    "cache_creation",
    "ephemeral_1h_input_tokens",
    "thinking_tokens",
    "prompt_token_count",
    "candidates_token_count",
    "thoughts_token_count",
]

_counts = st.one_of(
    st.none(), st.integers(-5, 10**6), st.just(2**64), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3)
)
_usage_values = st.recursive(
    _counts, lambda inner: st.dictionaries(st.sampled_from(_NAMES), inner, max_size=6), max_leaves=12
)


@given(
    usage=st.dictionaries(st.sampled_from(_NAMES), _usage_values, max_size=8),
    model=st.one_of(st.none(), st.text(max_size=4), st.integers()),
    hint=st.sampled_from([None, "anthropic", "ollama", "openai", "vllm"]),
    as_object=st.booleans(),
)
def test_extract_reads_any_usage_without_raising(usage: dict[str, Any], model: Any, hint: Any, as_object: bool) -> None:
    response: Any = {"model": model, "id": "r", "usage": usage}
    if as_object:
        response = SimpleNamespace(model=model, id="r", usage=SimpleNamespace(**usage))
    u = extract(response, hint)
    assert u.source in ("provider", "partial", "estimated", "none", "error")
    for name in ("input_tokens", "output_tokens", "cache_read", "cache_write", "cache_write_1h", "reasoning"):
        value = getattr(u, name)
        assert value is None or type(value) is int, (name, value)
    assert u.response_model is None or isinstance(u.response_model, str)
