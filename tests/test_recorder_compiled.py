"""The compiled recorder (``llmcost._ccall``): the same bytes as the Python path, field by field, the same counts,
ids and parents kept apart across contexts, threads and processes, every other case handed to Python, and the
pure-Python build still passing the recorder's tests."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import dataclasses
import errno
import gc
import inspect
import math
import os
import random
import re
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import llmcost
import llmcost._tracker
import pricing
from llmcost._compiled import ccall
from llmcost._emit import Recorder
from llmcost._writer import RecorderWarning, reset_warnings

REPO = Path(__file__).resolve().parent.parent
compiled = pytest.mark.skipif(ccall is None, reason="llmcost._ccall is not built (or LLMCOST_PURE_PYTHON is set)")
SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: The fields that differ between any two records of the same call, and the shape each must have.
MASKED: dict[str, re.Pattern[bytes]] = {
    "ts": re.compile(rb'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"'),
    "start_ts": re.compile(rb'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"'),
    "id": re.compile(rb'"[0-9a-f]{16}"'),
    "trace_id": re.compile(rb'"[0-9a-f]{32}"'),
    "parent_id": re.compile(rb'null|"[0-9a-f]{16}"'),
    "latency_ms": re.compile(rb"\d+\.\d+|\d(\.\d+)?e-?\d+"),
}
NUMBER = re.compile(rb"\d+\.\d+|\d(\.\d+)?e-?\d+")
SPAN_ID = re.compile(r"[0-9a-f]{16}")
TRACE_ID = re.compile(r"[0-9a-f]{32}")
PRICED: list[tuple[str, str | None]] = [
    ("gpt-4o-mini", "openai"),
    ("gpt-4o-mini", None),
    ("claude-sonnet-4-5", "anthropic"),
    ("claude-haiku-4-5", "anthropic"),
    ("claude-opus-4-1", "anthropic"),
    ("o3", "openai"),
    ("gemini-2.5-pro", "google"),
]
UNPRICED: list[tuple[str | None, str | None]] = [
    ("no-such-model-7", "openai"),
    ("no-such-model-7", None),
    (None, None),
    (None, "openai"),
    ("gpt-4o-mini", "vllm"),
]
#: Every control byte, the two escaped characters, DEL, non-ASCII and characters some encoders escape.
SPECIAL = "".join(chr(i) for i in range(0x20)) + '"\\\x7f/é€\u2028\u2029\ufeff😀𝄞'
LONE_SURROGATES = "\ud800\udfff\udbff"


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    reset_warnings()
    yield
    reset_warnings()


@pytest.fixture
def catalog() -> pricing.Catalog:
    return pricing.load_catalog()


def c_module() -> ModuleType:
    """``llmcost._ccall`` (the tests using it are skipped where it is not built)."""
    assert ccall is not None
    return ccall


@contextlib.contextmanager
def fast_path(flag: bool) -> Iterator[None]:
    """Turn the compiled line on or off for the block."""
    old = c_module().set_fast(flag)
    try:
        yield
    finally:
        c_module().set_fast(old)


class EmitCounter:
    """How many finished calls reached the Python ``Recorder._emit`` (the compiled line never calls it)."""

    def __init__(self) -> None:
        self.count = 0
        self.fail = False


@pytest.fixture
def emits(monkeypatch: pytest.MonkeyPatch) -> EmitCounter:
    counter = EmitCounter()
    original = Recorder._emit

    def counting(self: Recorder, call: llmcost.Call) -> None:
        counter.count += 1
        if counter.fail:
            raise AssertionError("the Python _emit was called")
        original(self, call)

    monkeypatch.setattr(llmcost._tracker.Tracker, "_emit", counting)
    return counter


# -- reading lines ---------------------------------------------------------------------------------------------------


def _value_end(line: bytes, i: int) -> int:
    """The index just past the JSON value starting at ``line[i]`` (a scalar, string, array or object)."""
    depth = 0
    in_string = False
    while i < len(line):
        c = line[i]
        if in_string:
            if c == 0x5C:
                i += 2
                continue
            if c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in b"[{":
            depth += 1
        elif c in b"]}":
            if depth == 0:
                return i
            depth -= 1
        elif c == 0x2C and depth == 0:
            return i
        i += 1
    raise AssertionError(f"unterminated value in {line!r}")


def split_fields(line: bytes) -> list[tuple[str, bytes]]:
    """The top-level fields of a one-object JSON line, in order, each value as its raw bytes."""
    assert line.startswith(b'{"'), line
    assert line.endswith(b"}"), line
    fields: list[tuple[str, bytes]] = []
    i = 1
    while True:
        close = line.index(b'":', i + 1)
        key = line[i + 1 : close].decode("ascii")
        end = _value_end(line, close + 2)
        fields.append((key, line[close + 2 : end]))
        i = end + 1
        if line[end] == 0x7D:
            assert end == len(line) - 1, line
            break
    rebuilt = b"{" + b",".join(b'"' + k.encode() + b'":' + v for k, v in fields) + b"}"
    assert rebuilt == line  # nothing skipped or split wrongly
    return fields


def masked(line: bytes, vary: frozenset[str] = frozenset()) -> list[tuple[str, bytes]]:
    """The fields of a line with the naturally varying ones (checked for shape) replaced by ``*``; ``vary`` names
    more fields that hold a number depending on the call's duration."""
    out = []
    for key, value in split_fields(line):
        pattern = (NUMBER if value != b"null" else None) if key in vary else MASKED.get(key)
        if pattern is not None:
            assert pattern.fullmatch(value), (key, value)
        out.append((key, value if pattern is None else b"*"))
    return out


def decodes(line: bytes) -> bool:
    """Whether the engine can read the line back."""
    try:
        llmcost.decode_record(line)
    except msgspec.MsgspecError:
        return False
    return True


def log_lines(directory: Path) -> list[bytes]:
    """Every line of the daily logs in ``directory``, oldest file first; each file ends with a newline."""
    out: list[bytes] = []
    for path in sorted(directory.glob("llm_trace_*.jsonl")):
        data = path.read_bytes()
        assert data.endswith(b"\n"), path
        out += data[:-1].split(b"\n")
    return out


def fork(child: Callable[[], int]) -> int:
    """Run ``child`` in a forked process (its return value is the exit status); the child's pid."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking a process with threads
        pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = child()
        finally:
            os._exit(code)
    return pid


def exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


# -- recording the same calls both ways ------------------------------------------------------------------------------


class Upstream(Exception):
    """An API error carrying an HTTP status, as the SDKs raise them."""

    def __init__(self, message: str, status_code: Any) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclasses.dataclass
class Spec:
    """One call: what ``trace`` gets and what happens inside its block."""

    model: str | None = "gpt-4o-mini"
    provider: str | None = "openai"
    usage: dict[str, Any] | None = None
    response: Any = None
    trace_kw: dict[str, Any] = dataclasses.field(default_factory=dict)
    keyword: bool = False
    error: tuple[str, Any] | None = None
    ttft: Any = None
    response_id: Any = None


def run_specs(tracker: llmcost.Tracker, spec: Spec, n: int) -> None:
    """Record ``spec`` ``n`` times."""
    for _ in range(n):
        run_spec(tracker, spec)


def run_spec(tracker: llmcost.Tracker, spec: Spec) -> None:
    """Record ``spec`` with ``tracker`` (an error raised in the block is caught here, after the call recorded it)."""
    if spec.keyword:
        call = tracker.trace(model=spec.model, provider=spec.provider, **spec.trace_kw)
    else:
        call = tracker.trace(spec.model, spec.provider, **spec.trace_kw)
    try:
        with call:
            if spec.usage is not None:
                call.set_usage(**spec.usage)
            if spec.response is not None:
                call.record(spec.response)
            if spec.ttft is not None:
                call.ttft = spec.ttft
            if spec.response_id is not None:
                call.response_id = spec.response_id
            if spec.error is not None:
                raise Upstream(*spec.error)
    except Upstream:
        pass


def derived_gpu(spec: Spec) -> frozenset[str]:
    """``{"gpu_seconds"}`` when the line's GPU time comes from the call's wall time (a vLLM call given none)."""
    given = spec.usage is not None and spec.usage.get("gpu_seconds") is not None
    return frozenset({"gpu_seconds"} if spec.provider == "vllm" and not given else ())


@dataclasses.dataclass
class Outcome:
    """What one tracker wrote and counted."""

    lines: list[bytes]
    stats: dict[str, int]
    written: int
    errors: int
    python_emits: int


def record(
    root: Path,
    catalog: pricing.Catalog,
    scenario: Callable[[llmcost.Tracker], object],
    emits: EmitCounter,
    *,
    fast: bool,
    repeat: int = 2,
    tracker_cls: type[llmcost.Tracker] = llmcost.Tracker,
    **tracker_kw: Any,
) -> Outcome:
    """Run ``scenario`` ``repeat`` times with a new tracker writing to its own directory under ``root`` (after one
    plain priced call, left out of the outcome, which reads the tracker's state and opens the log file)."""
    directory = Path(tempfile.mkdtemp(dir=root))
    with fast_path(fast), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reset_warnings()
        tracker = tracker_cls(directory, catalog=catalog, **tracker_kw)
        with tracker.trace("gpt-4o-mini", "openai") as call:
            call.set_usage(1, 1)
        warm = len(log_lines(directory))
        before = emits.count
        try:
            for _ in range(repeat):
                scenario(tracker)
        finally:
            tracker.close()
    return Outcome(
        log_lines(directory)[warm:],
        tracker.stats.as_dict(),
        tracker.writer.written,
        tracker.writer.errors,
        emits.count - before,
    )


def assert_same(fast: Outcome, slow: Outcome, vary: frozenset[str] = frozenset()) -> None:
    """Both ways wrote the same lines (varying fields aside) byte for byte, and counted the same."""
    assert len(fast.lines) == len(slow.lines), (fast.lines, slow.lines)
    for c_line, py_line in zip(fast.lines, slow.lines):
        assert decodes(c_line) == decodes(py_line), (c_line, py_line)
        c_fields, py_fields = masked(c_line, vary), masked(py_line, vary)
        assert [k for k, _ in c_fields] == [k for k, _ in py_fields]
        for (key, c_value), (_, py_value) in zip(c_fields, py_fields):
            assert c_value == py_value, (
                f"{key}: C wrote {c_value!r}, Python wrote {py_value!r}\n{c_line!r}\n{py_line!r}"
            )
    assert fast.stats == slow.stats
    assert (fast.written, fast.errors) == (slow.written, slow.errors)


def both_ways(
    root: Path,
    catalog: pricing.Catalog,
    scenario: Callable[[llmcost.Tracker], object],
    emits: EmitCounter,
    repeat: int = 2,
    vary: frozenset[str] = frozenset(),
    **tracker_kw: Any,
) -> tuple[Outcome, Outcome]:
    """Record ``scenario`` with the compiled line on and off, check both agree, and return both outcomes."""
    fast = record(root, catalog, scenario, emits, fast=True, repeat=repeat, **tracker_kw)
    slow = record(root, catalog, scenario, emits, fast=False, repeat=repeat, **tracker_kw)
    assert slow.python_emits >= repeat  # every call of the Python way went through _emit
    assert_same(fast, slow, vary)
    return fast, slow


# -- strategies ------------------------------------------------------------------------------------------------------
# Weighted towards the calls the compiled line takes, with every kind of call it hands to Python now and then.

plain_chars = st.one_of(st.characters(), st.sampled_from(SPECIAL))


def one_in(draw: st.DrawFn, n: int) -> bool:
    """True about once in ``n`` draws (not on the value Hypothesis tries first)."""
    return draw(st.integers(0, n - 1)) == n // 2


@st.composite
def texts(draw: st.DrawFn, max_size: int = 10) -> str:
    """Text with control bytes, quotes, backslashes and non-ASCII; now and then a lone surrogate."""
    if one_in(draw, 60):
        return draw(st.text(st.one_of(plain_chars, st.sampled_from(LONE_SURROGATES)), min_size=1, max_size=max_size))
    return draw(st.text(plain_chars, max_size=max_size))


odd_counts = st.sampled_from([199_999, 200_000, 200_001, 2**31, 2**53 + 1, 10**12, 2**62, 2**63 - 1, 2**63, 2**64, -1])
odd_types = st.sampled_from([100.0, 7.5, True, False, "12", Decimal(3)])


@st.composite
def usage_kwargs(draw: st.DrawFn) -> dict[str, Any]:
    """What ``set_usage`` gets: mostly consistent inclusive counts, sometimes anything."""
    if not one_in(draw, 5):
        small = st.integers(0, 60_000) if not one_in(draw, 4) else st.integers(0, 3_000_000)
        uncached, cr, cw, cw1, visible, rs = (draw(small) for _ in range(6))
        cw1 = cw1 if one_in(draw, 3) else 0
        kw: dict[str, Any] = {
            "input_tokens": uncached + cr + cw + cw1,
            "output_tokens": visible + rs,
            "cache_read_input_tokens": cr,
            "cache_creation_input_tokens": cw + cw1,
            "cache_creation_1h_input_tokens": cw1,
            "reasoning_output_tokens": rs,
        }
        for key in list(kw):
            if one_in(draw, 4):
                kw[key] = None if key != "input_tokens" or draw(st.booleans()) else 0
    else:
        counts = st.one_of(st.none(), st.integers(0, 10**9), odd_counts, odd_types)
        names = (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "cache_creation_1h_input_tokens",
            "reasoning_output_tokens",
        )
        kw = {name: draw(counts) for name in names}
    gpu = st.one_of(st.floats(), st.integers(0, 10**6), st.floats(min_value=0, max_value=1e4))
    kw["gpu_seconds"] = draw(gpu) if one_in(draw, 4) else None
    priced_names = st.sampled_from(PRICED).map(lambda p: p[0])
    kw["response_model"] = draw(st.one_of(st.just(""), priced_names, texts())) if one_in(draw, 4) else None
    kw["cost_usd"] = (
        draw(st.sampled_from(["0.0123", Decimal("1e-9"), 0.5, 0, "2500.123456789"])) if one_in(draw, 8) else None
    )
    kw["estimated"] = draw(st.booleans())
    return kw


def responses() -> st.SearchStrategy[Any]:
    """Provider responses for ``call.record``: OpenAI and Anthropic shaped, and one with no usage."""
    n = st.integers(0, 100_000)
    openai = st.fixed_dictionaries(
        {
            "model": st.one_of(st.sampled_from(["gpt-4o-mini", "gpt-4o-mini-2024-07-18"]), texts()),
            "id": texts(),
            "usage": st.fixed_dictionaries(
                {"prompt_tokens": n, "completion_tokens": n},
                optional={"prompt_tokens_details": st.fixed_dictionaries({"cached_tokens": st.integers(0, 10)})},
            ),
        }
    )
    anthropic = st.fixed_dictionaries(
        {
            "model": st.sampled_from(["claude-haiku-4-5", "claude-sonnet-4-5-20250929"]),
            "id": texts(),
            "usage": st.fixed_dictionaries(
                {"input_tokens": n, "output_tokens": n},
                optional={"cache_read_input_tokens": n, "cache_creation_input_tokens": n},
            ),
        }
    )
    return st.one_of(openai, anthropic, st.just({"unrelated": 1}))


@st.composite
def attribution(draw: st.DrawFn) -> dict[str, Any]:
    """Attribution for a tracker or a single ``trace`` (metadata seldom: it always takes the Python way)."""
    out: dict[str, Any] = {}
    for key in ("agent", "session_id", "user_id", "workflow"):
        if draw(st.booleans()):
            out[key] = draw(texts())
    if draw(st.booleans()):
        out["tags"] = draw(st.lists(texts(), max_size=4))
    if one_in(draw, 8):
        values = st.one_of(st.none(), st.integers(), texts(), st.floats())
        out["metadata"] = draw(st.dictionaries(texts(), values, max_size=3))
    return out


@st.composite
def trace_kwargs(draw: st.DrawFn) -> dict[str, Any]:
    """Keywords of ``trace`` beyond the model and provider (any of them takes the Python ``trace``)."""
    if draw(st.booleans()):
        return {}
    out = draw(attribution()) if draw(st.booleans()) else {}
    more = {
        "messages": st.lists(st.fixed_dictionaries({"role": st.just("user"), "content": texts()}), max_size=2),
        "operation": st.one_of(st.just(""), texts()),
        "source": st.one_of(st.just(""), texts()),
        "server_address": texts(),
        "stream": st.booleans(),
        "attempt": st.integers(-3, 10) if not one_in(draw, 10) else st.sampled_from([2**63, 2**70]),
        "fallback_from": texts(),
    }
    for key, strategy in more.items():
        if one_in(draw, 3):
            out[key] = draw(strategy)
    return out


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    """Any call: priced, unknown or no model; usage given, read from a response, or none."""
    model, provider = draw(st.sampled_from([*PRICED, *PRICED, *PRICED, *UNPRICED]))
    if one_in(draw, 8):
        model = draw(texts())
    how = draw(st.sampled_from(["set_usage", "set_usage", "set_usage", "record", "none"]))
    status = st.one_of(st.none(), st.integers(100, 599)) if not one_in(draw, 10) else st.just(True)
    ttft = st.floats(min_value=0, max_value=1e4) if not one_in(draw, 5) else st.one_of(st.floats(), st.just(3))
    return Spec(
        model=model,
        provider=provider,
        usage=draw(usage_kwargs()) if how == "set_usage" else None,
        response=draw(responses()) if how == "record" else None,
        trace_kw=draw(trace_kwargs()),
        keyword=draw(st.booleans()),
        error=draw(st.tuples(texts(max_size=400), status)) if one_in(draw, 4) else None,
        ttft=draw(ttft) if one_in(draw, 3) else None,
        response_id=draw(texts()) if one_in(draw, 3) else None,
    )


# -- the same bytes both ways ----------------------------------------------------------------------------------------


@compiled
@SETTINGS
@given(spec=specs(), tracker_kw=attribution())
def test_compiled_line_matches_python_field_by_field(
    tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter, spec: Spec, tracker_kw: dict[str, Any]
) -> None:
    vary = derived_gpu(spec)
    both_ways(tmp_path, catalog, lambda t: run_spec(t, spec), emits, vary=vary, **tracker_kw)


USAGE = {"input_tokens": 1200, "output_tokens": 300}
FULL_USAGE = {
    "input_tokens": 5000,
    "output_tokens": 900,
    "cache_read_input_tokens": 1000,
    "cache_creation_input_tokens": 700,
    "reasoning_output_tokens": 400,
}
EXPLICIT: dict[str, tuple[Spec, dict[str, Any], bool]] = {
    # name: (call, tracker attribution, whether the compiled line must take the warmed-up call)
    "plain-priced": (Spec(usage=USAGE), {}, True),
    "keyword-trace": (Spec(usage=USAGE, keyword=True), {}, True),
    "no-provider": (Spec(provider=None, usage=USAGE), {}, True),
    "zero-tokens": (Spec(usage={"input_tokens": 0, "output_tokens": 0}), {}, True),
    "none-tokens": (Spec(usage={}), {}, True),
    "large-tokens": (Spec(usage={"input_tokens": 10**9, "output_tokens": 10**8}), {}, True),
    "over-1000-usd": (Spec(usage={"input_tokens": 10**10, "output_tokens": 10**10}), {}, False),
    "cache-and-reasoning": (Spec(model="o3", usage=FULL_USAGE), {}, True),
    "anthropic-cache": (Spec(model="claude-haiku-4-5", provider="anthropic", usage=FULL_USAGE), {}, True),
    "anthropic-cache-1h": (
        Spec(
            model="claude-sonnet-4-5",
            provider="anthropic",
            usage={**FULL_USAGE, "cache_creation_1h_input_tokens": 100},
        ),
        {},
        True,
    ),
    "cache-1h-only": (
        Spec(
            model="claude-opus-4-1",
            provider="anthropic",
            usage={
                "input_tokens": 1000,
                "output_tokens": 10,
                "cache_creation_input_tokens": 400,
                "cache_creation_1h_input_tokens": 400,
            },
        ),
        {},
        True,
    ),
    "long-context-tier": (
        Spec(model="claude-sonnet-4-5", provider="anthropic", usage={"input_tokens": 250_000, "output_tokens": 10}),
        {},
        False,
    ),
    "estimated": (Spec(usage={**USAGE, "estimated": True}), {}, True),
    "response-model": (Spec(model="gpt-4o", usage={**USAGE, "response_model": "gpt-4o-mini"}), {}, True),
    "provider-cost": (Spec(usage={**USAGE, "cost_usd": "0.0042"}), {}, False),
    "gpu-seconds": (Spec(usage={**USAGE, "gpu_seconds": 1.2345678901234567e-7}), {}, True),
    "unknown-model": (Spec(model="no-such-model-7", usage=USAGE), {}, False),
    "unknown-model-no-usage": (Spec(model="no-such-model-7" + SPECIAL), {}, True),
    "no-model": (Spec(model=None, provider=None, usage=USAGE), {}, False),
    "vllm": (Spec(provider="vllm", usage=USAGE), {}, False),
    "error-with-status": (Spec(usage=USAGE, error=('upstream "busy"\n' + "x" * 400, 503)), {}, True),
    "error-without-status": (Spec(error=("plain failure", None)), {}, True),
    "error-bool-status": (Spec(error=("odd", True)), {}, False),
    "ttft": (Spec(usage=USAGE, ttft=0.123456789), {}, True),
    "ttft-int": (Spec(usage=USAGE, ttft=1), {}, False),
    "response-id": (Spec(usage=USAGE, response_id="chatcmpl-" + SPECIAL), {}, True),
    "every-special-char": (
        Spec(usage=USAGE),
        {"agent": SPECIAL, "session_id": "s" + SPECIAL, "user_id": "ü" + SPECIAL, "workflow": SPECIAL * 3},
        True,
    ),
    "tags": (Spec(usage=USAGE), {"tags": ["a", 'quo"te', "back\\slash", "\x00\x1f\x7f", "emoji 😀", "ключ", ""]}, True),
    "lone-surrogate-agent": (Spec(usage=USAGE), {"agent": "bad \ud800 text"}, False),
    "lone-surrogate-model": (Spec(model="m\udfff"), {}, False),
    "lone-surrogate-error": (Spec(usage=USAGE, error=("bad \udbff", 500)), {}, False),
    "metadata": (Spec(usage=USAGE), {"metadata": {"k": "v", "n": 1.5, "q": SPECIAL}}, False),
    "trace-metadata": (Spec(usage=USAGE, trace_kw={"metadata": {"run": 7}}), {}, False),
    "trace-agent-tags": (
        Spec(usage=USAGE, trace_kw={"agent": "planner", "tags": ["x", "y\n"]}),
        {"tags": ["t1"]},
        True,
    ),
    "trace-messages": (Spec(usage=USAGE, trace_kw={"messages": [{"role": "user", "content": "hi"}]}), {}, True),
    "trace-stream-attempt": (
        Spec(usage=USAGE, trace_kw={"stream": True, "attempt": 2, "fallback_from": "gpt-4o"}),
        {},
        True,
    ),
    "trace-operation-source": (
        Spec(usage=USAGE, trace_kw={"operation": "embeddings", "source": "", "server_address": "127.0.0.1:8000"}),
        {},
        True,
    ),
    "record-openai": (
        Spec(
            response={
                "model": "gpt-4o-mini-2024-07-18",
                "id": "r1",
                "usage": {"prompt_tokens": 10, "completion_tokens": 2},
            }
        ),
        {},
        True,
    ),
    "record-nothing": (Spec(response={"unrelated": 1}), {}, True),
}


@compiled
@pytest.mark.parametrize("name", list(EXPLICIT))
def test_explicit_calls_match_python(tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter, name: str) -> None:
    spec, tracker_kw, compiled_line = EXPLICIT[name]
    vary = derived_gpu(spec)
    fast, slow = both_ways(tmp_path, catalog, lambda t: run_spec(t, spec), emits, vary=vary, **tracker_kw)
    assert slow.python_emits == 2
    if compiled_line:
        assert fast.python_emits < 2, "the compiled line was not taken"
        assert len(fast.lines) == 2


def _stream_scenario(tracker: llmcost.Tracker) -> None:
    """A stream whose only chunk carries usage (no first token: its time would differ between the two runs)."""
    chunks = [
        {"model": "gpt-4o-mini", "id": "c1", "choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 4}}
    ]
    with tracker.trace("gpt-4o-mini", "openai", stream=True) as call:
        for _ in call.stream(iter(chunks), "openai_chat"):
            pass


def _cancelled_scenario(tracker: llmcost.Tracker) -> None:
    with contextlib.suppress(asyncio.CancelledError), tracker.trace("gpt-4o-mini", "openai") as call:
        call.set_usage(10, 0)
        raise asyncio.CancelledError


def _usage_none_scenario(tracker: llmcost.Tracker) -> None:
    with tracker.trace("gpt-4o-mini", "openai") as call:
        call.usage = llmcost.Extracted()
        call.usage.input_tokens = 5


def _partial_scenario(tracker: llmcost.Tracker) -> None:
    with tracker.trace("gpt-4o-mini", "openai") as call:
        usage = llmcost.Extracted()
        usage.input_tokens, usage.output_tokens, usage.source = 50, 5, "partial"
        call.usage = usage


def _nested_scenario(tracker: llmcost.Tracker) -> None:
    with tracker.trace("gpt-4o-mini", "openai") as outer:
        with tracker.trace("gpt-4o-mini", "openai") as inner:
            inner.set_usage(1, 1)
        with tracker.trace("claude-haiku-4-5", "anthropic", agent="sub") as other:
            other.set_usage(2, 2)
        outer.set_usage(3, 3)


def _finish_scenario(tracker: llmcost.Tracker) -> None:
    call = tracker.trace("gpt-4o-mini", "openai")
    call.set_usage(9, 9)
    call.finish("timeout")
    call.finish()


def _compiled_trace_stream_scenario(tracker: llmcost.Tracker) -> None:
    """A stream handed over in a call opened by the compiled ``trace()``."""
    chunks = [{"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 3}}]
    with tracker.trace("gpt-4o-mini", "openai") as call:
        for _ in call.stream(iter(chunks), "openai_chat"):
            pass


def _scope_scenario(tracker: llmcost.Tracker) -> None:
    with tracker.scope("request", user_id="u1", workflow="wf") as scope:
        run_spec(tracker, Spec(usage=USAGE))
        run_spec(tracker, Spec(usage=USAGE, keyword=True, trace_kw={"agent": "in-scope"}))
    assert scope.calls == 2


SCENARIOS: dict[str, Callable[[llmcost.Tracker], None]] = {
    "stream": _stream_scenario,
    "stream-compiled-trace": _compiled_trace_stream_scenario,
    "scope": _scope_scenario,
    "cancelled": _cancelled_scenario,
    "usage-source-none": _usage_none_scenario,
    "usage-source-partial": _partial_scenario,
    "nested": _nested_scenario,
    "finish": _finish_scenario,
    "record-method": lambda t: t.record(
        {"model": "gpt-4o-mini", "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
    ),
}


@compiled
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenarios_match_python(tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter, name: str) -> None:
    fast, _ = both_ways(tmp_path, catalog, SCENARIOS[name], emits)
    assert fast.lines


@compiled
def test_warm_plain_calls_never_reach_python_emit(tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog, agent="a")
    run_spec(tracker, Spec(usage=USAGE))  # the first call fills the memo of rate plans, in Python
    assert emits.count == 1
    emits.fail = True
    for _ in range(50):
        run_spec(tracker, Spec(usage=USAGE))
    assert emits.count == 1
    lines = log_lines(tmp_path)
    assert len(lines) == tracker.stats.calls == tracker.writer.written == 51
    assert len({tuple(masked(line)) for line in lines}) == 1
    last = llmcost.decode_record(lines[-1])
    expected = catalog.price(pricing.Usage(1200, 300), "gpt-4o-mini", "openai").cost_usd
    assert expected is not None
    assert (last.cost_usd, last.cost_status, last.agent) == (float(expected), "priced", "a")


def _change_defaults(tracker: llmcost.Tracker, call: llmcost.Call) -> None:
    with pytest.raises(TypeError):  # a read-only view: a call copies what it starts from
        tracker.defaults["agent"] = "changed"  # type: ignore[index]
    tracker.defaults = {**tracker.defaults, "agent": "changed", "workflow": "changed"}


def _replace_defaults(tracker: llmcost.Tracker, call: llmcost.Call) -> None:
    tracker.defaults = {**tracker.defaults, "agent": "replaced"}


def _edit_attrs(tracker: llmcost.Tracker, call: llmcost.Call) -> None:
    call.attrs["agent"] = "late"
    call.attrs["attempt"] = 3


def _read_attrs_then_change_defaults(tracker: llmcost.Tracker, call: llmcost.Call) -> None:
    assert call.attrs["agent"] == "a0"
    tracker.defaults = {**tracker.defaults, "agent": "changed"}


def _stream_in_block(tracker: llmcost.Tracker, call: llmcost.Call) -> None:
    for _ in call.stream(iter([{"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 1}}]), "openai_chat"):
        pass


MID_CALL: dict[str, Callable[[llmcost.Tracker, llmcost.Call], None]] = {
    "nothing": lambda tracker, call: None,
    "defaults-changed": _change_defaults,
    "defaults-replaced": _replace_defaults,
    "attrs-edited": _edit_attrs,
    "attrs-read-then-defaults-changed": _read_attrs_then_change_defaults,
    "stream": _stream_in_block,
}


@compiled
@pytest.mark.parametrize("name", list(MID_CALL))
def test_compiled_trace_records_as_the_python_trace(
    tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter, name: str
) -> None:
    """``trace(model, provider)`` (compiled) and ``trace(model, provider, operation="chat")`` (the Python body, the
    same call) write the same line, whatever happens to the tracker or the call while it is open."""
    action = MID_CALL[name]

    def scenario(explicit: bool) -> Callable[[llmcost.Tracker], None]:
        extra: dict[str, Any] = {"operation": "chat"} if explicit else {}

        def run(tracker: llmcost.Tracker) -> None:
            tracker.defaults = {**tracker.defaults, "agent": "a0", "workflow": "w0"}
            with tracker.trace("gpt-4o-mini", "openai", **extra) as call:
                action(tracker, call)
                if not call._streaming:
                    call.set_usage(40, 4)

        return run

    compiled_trace = record(tmp_path, catalog, scenario(False), emits, fast=True, agent="x", tags=["t0"])
    python_trace = record(tmp_path, catalog, scenario(True), emits, fast=True, agent="x", tags=["t0"])
    assert len(compiled_trace.lines) == 2
    assert_same(compiled_trace, python_trace)


# -- number forms ----------------------------------------------------------------------------------------------------

FLOAT_EDGES = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    sys.float_info.max,
    -sys.float_info.max,
    1e-5,
    1e-6,
    9.999999999999999e-06,
    1.0000000000000001e-05,
    1e16,
    9999999999999998.0,
    1e15,
    1e15 + 0.5,
    0.1,
    0.3,
    1 / 3,
    123.456,
    -123.456,
    1.0,
    -1.0,
    2.5e-7,
    1e22,
    1e23,
    2**53,
    2**53 + 2,
    0.000123,
    12345678901234567890.0,
    -0.00001,
]


@compiled
def test_format_float_matches_msgspec() -> None:
    fmt = c_module().format_float
    encode = msgspec.json.encode
    rng = random.Random(20260301)
    values = [float(v) for v in FLOAT_EDGES]
    while len(values) < 200_000:
        (x,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(x):
            values.append(x)
    values += [rng.uniform(-1, 1) * 10 ** rng.uniform(-8, 18) for _ in range(50_000)]
    values += [round(rng.uniform(0, 100), rng.randrange(0, 12)) for _ in range(20_000)]
    bad = [(x, fmt(x), encode(x)) for x in values if fmt(x) != encode(x)]
    assert not bad, bad[:10]


@compiled
@pytest.mark.parametrize("x", [math.inf, -math.inf, math.nan])
def test_format_float_declines_non_finite(x: float) -> None:
    assert c_module().format_float(x) is None


@compiled
def test_format_scaled_matches_msgspec() -> None:
    fmt = c_module().format_scaled
    encode = msgspec.json.encode
    rng = random.Random(77)
    ns = [0, 1, 9, 10, 999, 1000, 10**12, 10**15 - 1]
    ns += [rng.randrange(10**k) for k in range(16) for _ in range(3000)]
    bad = [(n, s) for n in ns for s in (12, 3) if fmt(n, s) != encode(n / 10**s)]
    assert not bad, [(n, s, fmt(n, s), encode(n / 10**s)) for n, s in bad[:10]]
    assert fmt(0, 12) == b"0.0"
    with pytest.raises(ValueError, match="10"):
        fmt(10**15, 12)
    with pytest.raises(ValueError, match="10"):
        fmt(-1, 3)


# -- the writer ------------------------------------------------------------------------------------------------------


@compiled
def test_file_writer_counts_names_and_modes(tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter) -> None:
    tracker = llmcost.Tracker(tmp_path / "logs", catalog=catalog)
    for _ in range(20):
        run_spec(tracker, Spec(usage=USAGE))
    assert emits.count == 1
    assert (tracker.writer.written, tracker.writer.errors, tracker.stats.calls) == (20, 0, 20)
    files = sorted((tmp_path / "logs").iterdir())
    assert files
    total = 0
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for line in path.read_bytes().splitlines():
            assert path.name == f"llm_trace_{llmcost.decode_record(line).ts[:10]}.jsonl"
            total += 1
    assert total == 20
    assert stat.S_IMODE((tmp_path / "logs").stat().st_mode) == 0o700
    tracker.close()


@compiled
@pytest.mark.parametrize("fast", [True, False])
def test_full_disk_is_counted_not_raised(
    tmp_path: Path, catalog: pricing.Catalog, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    causes: list[OSError | str] = []
    write_lines: list[str] = []
    drop, write_line = llmcost.FileWriter._drop, llmcost.FileWriter.write_line

    def spy_drop(self: llmcost.FileWriter, cause: OSError | str) -> None:
        causes.append(cause)
        drop(self, cause)

    def spy_write_line(self: llmcost.FileWriter, day: str, line: bytes) -> None:
        write_lines.append(day)
        write_line(self, day, line)

    monkeypatch.setattr(llmcost.FileWriter, "_drop", spy_drop)  # on the class: the writer stays a FileWriter
    monkeypatch.setattr(llmcost.FileWriter, "write_line", spy_write_line)
    writer = llmcost.FileWriter(tmp_path, opener=lambda path: os.open("/dev/full", os.O_WRONLY | os.O_APPEND))
    tracker = llmcost.Tracker(writer=writer, catalog=catalog)
    with fast_path(fast), pytest.warns(RecorderWarning, match="cannot write"):
        run_specs(tracker, Spec(usage=USAGE), 4)
    assert (writer.errors, writer.written) == (4, 0)
    assert tracker.stats.calls == 4
    assert tracker.stats.internal_errors == 0
    assert [c.errno if isinstance(c, OSError) else c for c in causes] == [errno.ENOSPC] * 4
    # the first call opens the file in Python; then the compiled line writes to its descriptor itself
    assert len(write_lines) < 4 if fast else len(write_lines) == 4
    tracker.close()


@compiled
def test_max_bytes_rotates_to_numbered_files(tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter) -> None:
    memory = llmcost.MemoryWriter()
    run_spec(llmcost.Tracker(writer=memory, catalog=catalog), Spec(usage=USAGE))
    cap = len(memory.lines[0]) * 5 // 2  # two lines fit, three do not
    tracker = llmcost.Tracker(tmp_path, catalog=catalog, max_bytes=cap)
    before = emits.count
    for _ in range(11):
        run_spec(tracker, Spec(usage=USAGE))
    assert emits.count - before == 1
    assert (tracker.writer.written, tracker.writer.errors, tracker.stats.calls) == (11, 0, 11)
    names = sorted(p.name for p in tmp_path.iterdir())
    days = {n[len("llm_trace_") : len("llm_trace_") + 10] for n in names}
    if len(days) > 1:
        pytest.skip("the UTC day changed during the test")
    (day,) = days
    expected = [llmcost.log_file_name(day, i) for i in range(6)]
    assert sorted(names) == sorted(expected)
    for name in expected:
        data = (tmp_path / name).read_bytes()
        assert len(data) <= cap
        assert data.count(b"\n") == (1 if name == expected[-1] else 2)
    assert len(log_lines(tmp_path)) == 11
    tracker.close()


@compiled
def test_memory_writer_records_decode(catalog: pricing.Catalog, emits: EmitCounter) -> None:
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog, agent="m", tags=['q"x'])
    for n in range(1, 6):
        run_spec(
            tracker,
            Spec(model="claude-haiku-4-5", provider="anthropic", usage={"input_tokens": n * 100, "output_tokens": n}),
        )
    assert emits.count == 1
    records = tracker.records
    assert len(records) == tracker.writer.written == tracker.stats.calls == 5
    for n, rec in enumerate(records, start=1):
        expected = catalog.price(pricing.Usage(n * 100, n), "claude-haiku-4-5", "anthropic").cost_usd
        assert expected is not None
        assert rec.cost_usd == float(expected)
        assert (rec.input_tokens, rec.output_tokens, rec.agent, rec.tags) == (n * 100, n, "m", ['q"x'])
        assert rec.price_ref is not None


@compiled
def test_tracker_changes_between_calls_are_followed(
    tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter
) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)
    plain = Spec(usage=USAGE)
    expected = catalog.price(pricing.Usage(1200, 300), "gpt-4o-mini", "openai").cost_usd
    assert expected is not None
    run_specs(tracker, plain, 3)
    assert emits.count == 1
    sunk: list[bytes] = []
    tracker.add_sink(sunk.append)
    run_spec(tracker, plain)
    assert sunk == [log_lines(tmp_path)[-1] + b"\n"]
    tracker.remove_sink(sunk.append)
    run_spec(tracker, plain)
    assert len(sunk) == 1
    hooked: list[llmcost.Record] = []
    tracker.on_call_cost = hooked.append
    tracker.call_cost_usd = Decimal("0.0000001")
    run_spec(tracker, plain)
    assert [r.cost_usd for r in hooked] == [float(expected)]
    tracker.call_cost_usd = None
    run_spec(tracker, plain)
    assert len(hooked) == 1
    tracker.gpus = 2
    run_spec(tracker, plain)
    assert llmcost.decode_record(log_lines(tmp_path)[-1]).gpu_seconds is not None
    tracker.gpus = None
    tracker.defaults = {**tracker.defaults, "agent": "new"}
    run_spec(tracker, plain)
    last = llmcost.decode_record(log_lines(tmp_path)[-1])
    assert (last.agent, last.gpu_seconds) == ("new", None)
    assert len(log_lines(tmp_path)) == tracker.stats.calls == tracker.writer.written == 9
    memory = llmcost.MemoryWriter()
    tracker.writer = memory
    tracker.stats = llmcost.Stats()
    run_specs(tracker, plain, 2)
    assert len(memory.lines) == memory.written == tracker.stats.calls == 2
    assert len(log_lines(tmp_path)) == 9
    assert [r.cost_usd for r in memory.records] == [float(expected)] * 2


@compiled
def test_writer_closed_or_capped_between_calls(tmp_path: Path, catalog: pricing.Catalog) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)
    writer = tracker.writer
    assert isinstance(writer, llmcost.FileWriter)
    plain = Spec(usage=USAGE)
    run_specs(tracker, plain, 3)
    writer.close()
    run_specs(tracker, plain, 2)  # reopened
    assert (writer.written, writer.errors, len(log_lines(tmp_path))) == (5, 0, 5)
    size = len(log_lines(tmp_path)[0]) + 1
    writer.max_bytes = size * 5 // 2  # two lines a file from now on
    run_specs(tracker, plain, 4)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3, names
    counts = sorted((tmp_path / n).read_bytes().count(b"\n") for n in names)
    assert counts == [2, 2, 5]
    writer.max_bytes = None
    run_specs(tracker, plain, 2)
    assert (writer.written, writer.errors, len(log_lines(tmp_path))) == (11, 0, 11)
    assert tracker.stats.calls == 11
    tracker.close()


@compiled
def test_threads_and_a_closing_writer_lose_no_line(tmp_path: Path, catalog: pricing.Catalog) -> None:
    writer = llmcost.FileWriter(tmp_path)
    trackers = [llmcost.Tracker(writer=writer, catalog=catalog, agent=f"a{i}") for i in range(2)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def closer() -> None:
        while not stop.is_set():
            writer.close()
            time.sleep(0.0002)

    def work(n: int) -> None:
        try:
            for k in range(1000):
                run_spec(trackers[k % 2], Spec(usage=USAGE, response_id=f"{n}-{k}"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        closing = threading.Thread(target=closer)
        closing.start()
        workers = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        stop.set()
        closing.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    records = [llmcost.decode_record(line) for line in log_lines(tmp_path)]
    assert len({r.response_id for r in records}) == len(records) == 6000
    assert (writer.written, writer.errors) == (6000, 0)
    assert sum(t.stats.calls for t in trackers) == 6000
    assert {r.agent for r in records} == {"a0", "a1"}


@compiled
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_forked_child_appends_its_own_lines(tmp_path: Path, catalog: pricing.Catalog) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)
    run_specs(tracker, Spec(usage=USAGE, response_id="before"), 3)

    def child() -> int:
        run_specs(tracker, Spec(usage=USAGE, response_id="child"), 50)
        return 0 if (tracker.writer.written, tracker.writer.errors, tracker.stats.calls) == (53, 0, 53) else 2

    pid = fork(child)
    run_specs(tracker, Spec(usage=USAGE, response_id="parent"), 50)
    assert exit_code(pid) == 0
    records = [llmcost.decode_record(line) for line in log_lines(tmp_path)]
    assert collections.Counter(r.response_id for r in records) == {"before": 3, "child": 50, "parent": 50}
    assert len({r.id for r in records}) == 103
    assert (tracker.writer.written, tracker.writer.errors, tracker.stats.calls) == (53, 0, 53)


# -- parents and contexts --------------------------------------------------------------------------------------------


@compiled
def test_nested_calls_share_the_trace_and_name_their_parent(tmp_path: Path, catalog: pricing.Catalog) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)
    assert llmcost.current_call() is None
    with tracker.trace("gpt-4o-mini", "openai") as outer:
        assert llmcost.current_call() is outer
        with tracker.trace("gpt-4o-mini", "openai") as inner:
            assert llmcost.current_call() is inner
            with tracker.trace("gpt-4o-mini", "openai", agent="deep") as deepest:  # the Python trace()
                assert llmcost.current_call() is deepest
                deepest.set_usage(1, 1)
            inner.set_usage(2, 2)
        assert llmcost.current_call() is outer
        outer.set_usage(3, 3)
    assert llmcost.current_call() is None
    assert outer.parent_id is None
    assert (inner.parent_id, inner.trace_id) == (outer.id, outer.trace_id)
    assert (deepest.parent_id, deepest.trace_id) == (inner.id, outer.trace_id)
    recs = {r.id: r for r in map(llmcost.decode_record, log_lines(tmp_path))}
    assert recs[inner.id].parent_id == outer.id
    assert recs[deepest.id].parent_id == inner.id
    assert {r.trace_id for r in recs.values()} == {outer.trace_id}
    assert recs[outer.id].parent_id is None
    with tracker.trace("gpt-4o-mini", "openai") as later:
        pass
    assert later.parent_id is None
    assert later.trace_id != outer.trace_id


@compiled
async def test_async_tasks_keep_their_own_parents(tmp_path: Path, catalog: pricing.Catalog) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)

    async def task(n: int, parent: llmcost.Call) -> tuple[llmcost.Call, llmcost.Call]:
        async with tracker.trace("gpt-4o-mini", "openai") as outer:
            await asyncio.sleep(0)
            async with tracker.trace("gpt-4o-mini", "openai") as inner:
                await asyncio.sleep(0)
                assert llmcost.current_call() is inner
                inner.set_usage(n, 1)
            await asyncio.sleep(0)
            assert llmcost.current_call() is outer
            outer.set_usage(n, 2)
        assert llmcost.current_call() is parent  # a task starts in a copy of the caller's context
        return outer, inner

    async with tracker.trace("gpt-4o-mini", "openai") as root:
        pairs = await asyncio.gather(*(task(n, root) for n in range(20)))
    for outer, inner in pairs:
        assert (outer.parent_id, outer.trace_id) == (root.id, root.trace_id)
        assert inner.parent_id == outer.id
    assert len({inner.parent_id for _, inner in pairs}) == 20
    recs = {r.id: r for r in map(llmcost.decode_record, log_lines(tmp_path))}
    assert len(recs) == 41
    for outer, inner in pairs:
        assert recs[inner.id].parent_id == outer.id
    assert llmcost.current_call() is None


@compiled
def test_threads_keep_their_own_parents(tmp_path: Path, catalog: pricing.Catalog) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)
    barrier = threading.Barrier(8)
    seen: dict[int, tuple[llmcost.Call, llmcost.Call, object]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start = llmcost.current_call()
            with tracker.trace("gpt-4o-mini", "openai") as outer:
                barrier.wait(10)
                with tracker.trace("gpt-4o-mini", "openai") as inner:
                    barrier.wait(10)
                    inner.set_usage(n, n)
                assert llmcost.current_call() is outer
                outer.set_usage(n, n)
            seen[n] = (outer, inner, start)
        except BaseException as exc:  # reported below
            errors.append(exc)

    with tracker.trace("gpt-4o-mini", "openai") as main_call:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert len(seen) == 8
    for outer, inner, start in seen.values():
        assert start is None  # a new thread does not inherit the context
        assert outer.parent_id is None
        assert outer.trace_id != main_call.trace_id
        assert (inner.parent_id, inner.trace_id) == (outer.id, outer.trace_id)
    assert len(log_lines(tmp_path)) == 17


@compiled
def test_call_exited_in_another_context_is_recorded(tmp_path: Path, catalog: pricing.Catalog) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)
    call = tracker.trace("gpt-4o-mini", "openai")
    entered = contextvars.copy_context()
    entered.run(call.__enter__)
    assert entered.run(llmcost.current_call) is call
    call.set_usage(10, 1)
    call.__exit__(None, None, None)  # here, not in ``entered``
    assert llmcost.current_call() is None

    def generator() -> Iterator[llmcost.Call]:
        with tracker.trace("gpt-4o-mini", "openai") as inside:
            inside.set_usage(20, 2)
            yield inside

    gen = generator()
    first = contextvars.copy_context().run(next, gen)
    with pytest.raises(StopIteration):
        contextvars.copy_context().run(next, gen)  # resumed, and left, elsewhere
    assert llmcost.current_call() is None
    recs = [llmcost.decode_record(line) for line in log_lines(tmp_path)]
    assert [(r.id, r.input_tokens, r.status) for r in recs] == [(call.id, 10, "ok"), (first.id, 20, "ok")]
    assert tracker.stats.internal_errors == 0


# -- trace(): the compiled common case and the Python rest -----------------------------------------------------------


@compiled
def test_trace_keywords_signature_and_errors(tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)
    with tracker.trace(model="gpt-4o-mini", provider="openai") as call:
        call.set_usage(5, 5)
    with tracker.trace("gpt-4o-mini", provider="openai") as call2:
        call2.set_usage(5, 5)
    with tracker.trace(provider="openai", model="gpt-4o-mini") as call3:
        call3.set_usage(5, 5)
    assert [(c.request_model, c.provider) for c in (call, call2, call3)] == [("gpt-4o-mini", "openai")] * 3
    assert emits.count == 1
    params = inspect.signature(llmcost.Tracker.trace).parameters
    assert list(params) == [
        "self",
        "model",
        "provider",
        "messages",
        "operation",
        "source",
        "server_address",
        "stream",
        "attempt",
        "fallback_from",
        "agent",
        "session_id",
        "user_id",
        "workflow",
        "tags",
        "metadata",
        "gpus",
    ]
    assert (params["model"].default, params["operation"].default, params["attempt"].default) == (None, "chat", 0)
    assert params["messages"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "model" in (llmcost.Tracker.trace.__doc__ or "")
    with pytest.raises(TypeError, match="bogus"):
        tracker.trace("gpt-4o-mini", "openai", bogus=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        tracker.trace("a", "b", "c")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="model"):
        tracker.trace("a", model="b")  # type: ignore[misc]
    open_call = tracker.trace("gpt-4o-mini", "openai")
    with pytest.raises(TypeError, match="bogus_count"):
        open_call.set_usage(1, 2, bogus_count=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional"):
        open_call.set_usage(1, 2, 3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="input_tokens"):
        open_call.set_usage(1, input_tokens=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="output_tokens"):
        open_call.set_usage(1, 2, output_tokens=2)  # type: ignore[misc]
    assert open_call.usage is None


TRACE_KEYWORDS: dict[str, dict[str, Any]] = {
    "agent": {"agent": "planner"},
    "messages": {"messages": [{"role": "user", "content": "hello"}]},
    "tags": {"tags": ["a", "b"]},
    "stream": {"stream": True},
    "attempt": {"attempt": 2},
    "operation": {"operation": "responses"},
    "source": {"source": "proxy"},
    "server": {"server_address": "localhost:11434"},
    "fallback": {"fallback_from": "gpt-4o"},
    "session-user-workflow": {"session_id": "s", "user_id": "u", "workflow": "w"},
    "metadata": {"metadata": {"x": [1, 2]}},
    "gpus": {"gpus": 2},
    "model-none": {"model": None},
}


@compiled
@pytest.mark.parametrize("name", list(TRACE_KEYWORDS))
def test_trace_keywords_record_as_python(
    tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter, name: str
) -> None:
    kw = TRACE_KEYWORDS[name]

    def scenario(tracker: llmcost.Tracker) -> None:
        model: dict[str, Any] = {} if "model" in kw else {"model": "gpt-4o-mini"}
        with tracker.trace(provider="openai", **model, **kw) as call:
            call.set_usage(100, 10)

    vary = frozenset({"gpu_seconds"} if "gpus" in kw else ())
    fast, _ = both_ways(tmp_path, catalog, scenario, emits, vary=vary, agent="base", tags=["t"])
    assert len(fast.lines) == 2


@compiled
def test_subclass_override_of_trace_is_called(tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter) -> None:
    called: list[tuple[Any, ...]] = []

    class Mine(llmcost.Tracker):
        def trace(self, model: str | None = None, provider: str | None = None, **kw: Any) -> llmcost.Call:
            called.append((model, provider))
            return super().trace(model, provider, agent="sub", **kw)

    def scenario(tracker: llmcost.Tracker) -> None:
        run_spec(tracker, Spec(usage=USAGE))

    mine = record(tmp_path, catalog, scenario, emits, fast=True, tracker_cls=Mine)
    assert called == [("gpt-4o-mini", "openai")] * 3  # the first call readies the tracker
    plain = record(tmp_path, catalog, scenario, emits, fast=False, agent="sub")
    assert_same(mine, plain)

    class Plain(llmcost.Tracker):
        pass

    subclass = record(tmp_path, catalog, scenario, emits, fast=True, tracker_cls=Plain)
    assert subclass.python_emits == 2  # the compiled line takes exactly Tracker
    assert_same(subclass, record(tmp_path, catalog, scenario, emits, fast=False))


# -- ids -------------------------------------------------------------------------------------------------------------


@compiled
def test_span_ids_are_unique_hex() -> None:
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter())
    calls = [tracker.trace("m", "p") for _ in range(100_000)]
    ids = {c.id for c in calls}
    assert len(ids) == 100_000
    assert all(SPAN_ID.fullmatch(i) for i in ids)
    for c in calls[:1000]:
        assert TRACE_ID.fullmatch(c.trace_id)
        assert c.trace_id.endswith(c.id)
        assert c.parent_id is None
    assert len({c.trace_id for c in calls}) == 100_000
    assert tracker.writer.written == 0


@compiled
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_forked_child_draws_its_own_ids() -> None:
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter())
    before = {tracker.trace("m", "p").trace_id for _ in range(1000)}
    read_end, write_end = os.pipe()

    def child() -> int:
        os.close(read_end)
        os.write(write_end, "\n".join(tracker.trace("m", "p").trace_id for _ in range(1000)).encode())
        os.close(write_end)
        return 0

    pid = fork(child)
    os.close(write_end)
    after = {tracker.trace("m", "p").trace_id for _ in range(1000)}
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    assert exit_code(pid) == 0
    child_ids = set(b"".join(chunks).decode().split("\n"))
    assert len(child_ids) == 1000
    parent_ids = before | after
    assert len(parent_ids) == 2000
    assert not {t[16:] for t in child_ids} & {t[16:] for t in parent_ids}  # span ids
    assert {t[:16] for t in child_ids}.isdisjoint({t[:16] for t in parent_ids})  # trace prefixes


# -- the pure-Python build -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_pure_python_path_passes_the_recorder_tests() -> None:
    env = {**os.environ, "LLMCOST_PURE_PYTHON": "1"}
    probe = (
        "import inspect, llmcost, llmcost._call, llmcost._compiled\n"
        "names = [k.__module__ + '.' + k.__qualname__ for k in llmcost.Call.__mro__]\n"
        "assert llmcost._compiled.ccall is None, 'compiled module loaded'\n"
        "assert 'llmcost._call._PyCallCore' in names, names\n"
        "assert not any(n.startswith('llmcost._ccall') for n in names), names\n"
        "assert inspect.isfunction(llmcost.Tracker.trace)\n"
        "assert '_PyUsage' in [k.__name__ for k in llmcost.Extracted.__mro__]\n"
        "print('pure')\n"
    )
    check = subprocess.run(
        [sys.executable, "-c", probe], check=False, env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "pure"
    tests = ["tests/test_tracker.py", "tests/test_writer.py", "tests/test_recorder_pricing.py", "tests/test_usage.py"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        check=False,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    progress = "".join(line.split("[")[0].strip() for line in run.stdout.splitlines() if line.rstrip().endswith("%]"))
    assert progress.count(".") >= 50, run.stdout  # the tests ran (and passed), not just collected
    assert set(progress) <= {".", "s"}, run.stdout


@compiled
def test_a_dropped_tracker_and_its_writer_are_freed(tmp_path: Path, catalog: pricing.Catalog) -> None:
    """What the compiled path keeps of the last tracker and writer it served does not keep them alive."""
    tracker = llmcost.Tracker(tmp_path / "logs", catalog=catalog, agent="a")
    run_specs(tracker, Spec(usage=USAGE), 3)
    assert tracker.writer.written == 3
    tracker_ref, writer_ref = weakref.ref(tracker), weakref.ref(tracker.writer)
    del tracker
    gc.collect()
    assert tracker_ref() is None
    assert writer_ref() is None
    other = llmcost.Tracker(tmp_path / "other", catalog=catalog)
    run_specs(other, Spec(usage=USAGE), 2)  # a new tracker (maybe at the same address) is read afresh
    assert len(log_lines(tmp_path / "other")) == other.stats.calls == other.writer.written == 2
    assert len(log_lines(tmp_path / "logs")) == 3


def test_the_install_builds_the_compiled_recorder_where_there_is_a_compiler() -> None:
    import importlib.util
    import shutil
    import sysconfig

    cc = (sysconfig.get_config_var("CC") or "").split()
    if not cc or shutil.which(cc[0]) is None:
        pytest.skip("no C compiler: the pure-Python path is used")
    assert importlib.util.find_spec("llmcost._ccall") is not None, "a C compiler is here, yet _ccall was not built"


@compiled
def test_scope_totals_are_the_same_both_ways(tmp_path: Path, catalog: pricing.Catalog, emits: EmitCounter) -> None:
    """Calls in scopes take the compiled path too; every total of every scope is what the Python path adds up,
    the exact cost included."""
    specs = [
        Spec(usage={"input_tokens": 1200, "output_tokens": 300, "cache_read_input_tokens": 100}),
        Spec(
            model="claude-sonnet-4-5",
            provider="anthropic",
            usage={
                "input_tokens": 5000,
                "output_tokens": 900,
                "cache_read_input_tokens": 1000,
                "cache_creation_input_tokens": 700,
                "cache_creation_1h_input_tokens": 100,
                "reasoning_output_tokens": 400,
            },
        ),
        Spec(error=("rate limited", 429)),
        Spec(model="no-such-model", usage={"input_tokens": 5, "output_tokens": 1}),  # unpriced: the Python path
        Spec(usage={"input_tokens": 7, "output_tokens": 2}, trace_kw={"agent": "worker"}),
    ]

    def totals(fast: bool) -> tuple[list[dict[str, Any]], int]:
        with fast_path(fast):
            tracker = llmcost.Tracker(tmp_path / f"fast-{fast}", catalog=catalog)
            run_spec(tracker, Spec(usage=USAGE))  # fills the memo of rate plans
            before = emits.count
            with tracker.scope("request") as outer:
                for spec in specs:
                    run_spec(tracker, spec)
                with tracker.scope("inner") as inner:
                    run_specs(tracker, specs[0], 3)
            assert len(log_lines(tmp_path / f"fast-{fast}")) == 1 + len(specs) + 3
            return [outer.to_dict(), inner.to_dict()], emits.count - before

    compiled_totals, compiled_emits = totals(True)
    python_totals, python_emits = totals(False)
    assert compiled_totals == python_totals
    assert compiled_totals[0]["calls"] == 8
    assert compiled_totals[0]["errors"] == 1
    assert compiled_totals[0]["unpriced"] == 1
    assert python_emits == 8
    assert compiled_emits == 2  # the first claude call (it fills the memo of rate plans) and the unknown model
