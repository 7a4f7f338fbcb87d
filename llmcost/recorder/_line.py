"""From a finished call to one priced line in the log: the recorder's hot path.

Costs are kept low on purpose (see benchmarks/bench_recorder.py): the line is built as a positional struct with the
wire-format fields in ``Record``'s order (a test checks both encode to the same bytes), pricing uses the catalog's
integer rate plans memoised per (model, provider) with the time range they hold for (``Catalog.rate_plan``;
everything else goes through ``Catalog.price``), attribution comes pre-checked with its metadata already encoded
(:class:`~llmcost.recorder.Attribution`), and the only system call is the writer's single ``os.write``.

Every line written decodes with ``llmcost.decode_record`` and fits in ``MAX_LINE``: what a call holds was checked as
it came in, and the few things only known now are checked here (the clock readings, and the encoding itself, which
fails on text that is not valid Unicode). A line that does not pass goes through :meth:`CallWriter._repaired`, which
makes every field what the wire format takes, and counts what it changed. Nothing here may raise into user code:
every failure is counted in ``stats`` and reported once.
"""

from __future__ import annotations

import decimal
import math
import os
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from llmcost.log import BILLED_COUNTS, MAX_AMOUNT, MAX_LINE, Record, Writer, decode_record, warn_once
from llmcost.recorder import _ids
from llmcost.recorder._attribution import Attribution
from llmcost.recorder._call import Call
from llmcost.recorder._ids import _MILLIS, iso_ms, second_of
from llmcost.recorder._usage import Billing, ReportedUsage
from llmcost.recorder._wire import (
    CONTENT_MAX,
    MESSAGE_MAX,
    wire_amount,
    wire_count,
    wire_status,
    wire_text,
)

if TYPE_CHECKING:
    from llmcost.recorder._budget import SpendLedger
    from pricing import Catalog

__all__ = ["CallWriter", "Line", "Stats"]

_CATALOG_RECHECK_S = 30.0
_NO_USAGE = ReportedUsage()
#: Runs of fields written as one encoded value: the call's outcome (the same for every call that succeeds), and its
#: request details and attribution (the same for every call of one attribution).
_OUTCOME = ("status", "error_type", "error_message")
_TAIL = ("attempt", "fallback_from", "agent", "session_id", "user_id", "workflow", "tags", "metadata")
#: ... and the call's HTTP status with the tracker's host and how the call was billed beyond its tokens (the same for
#: every plain call that did not fail over HTTP).
_END = ("http_status", "host", "service_tier", "batch", *BILLED_COUNTS)
_RUNS = {*_OUTCOME[1:], *_TAIL[1:], *_END[1:]}
#: The wire format's fields in ``Record``'s order, positional (about 3x cheaper to build than ``Record(**kw)``), but
#: for the runs above: the first field of a run holds the whole run already encoded (a ``msgspec.Raw``, which goes
#: into the line as it is: ``0,"fallback_from":null,"agent":"planner",...,"metadata":null``), so it is encoded once
#: instead of once per call, and the line stays at 30 fields (a call with more than 30 positional arguments compiles
#: to a slower form: CPython builds a tuple for it). The line keeps Record's keys in Record's order: ``encode_record(decode_record(line)) == line``.
#: (Not tracked by the garbage collector: a line holds only text, numbers and encoded runs.)
Line: Any = msgspec.defstruct("Line", [(name, Any) for name in Record.__struct_fields__ if name not in _RUNS], gc=False)
_Outcome: Any = msgspec.defstruct("_Outcome", [(name, Any) for name in _OUTCOME], gc=False)
_Tail: Any = msgspec.defstruct("_Tail", [(name, Any) for name in _TAIL], gc=False)
_End: Any = msgspec.defstruct("_End", [(name, Any) for name in _END], gc=False)
_OK = msgspec.Raw(b'"ok","error_type":null,"error_message":null')
#: The run of a line over the size limit (which the caps of ``_wire`` make impossible): the call without its extras.
_CUT_TAIL = msgspec.Raw(
    b'0,"fallback_from":null,"agent":null,"session_id":null,"user_id":null,"workflow":null,"tags":null,'
    b'"metadata":{"cut":"the line passed the size limit"}'
)
_encoder = msgspec.json.Encoder()
_perf = time.perf_counter
_Usage: Any = None  # pricing.Usage, imported with the catalog (keeps ``import llmcost`` light)
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_NO_PLAN: tuple[Any, float, float] = (None, -math.inf, math.inf)
#: Usage that is not priced, and the ``usage_source`` it is written with: nothing found, a response that could not be
#: read, counts that were refused (an unknown count priced as zero would understate the cost).
_UNPRICED = {"none": "none", "error": "none", "invalid": "partial"}
_MAX_PICO = int(MAX_AMOUNT) * 1_000_000_000_000
#: A call's clock readings the fast path takes as they are: latencies up to MAX_AMOUNT milliseconds, start times
#: from 1970 to the year 9999 (two weeks of margin: ``ts`` is the start plus the latency).
_MAX_SECONDS = MAX_AMOUNT / 1000
_LAST_START = 253_402_300_799.0 - 2 * _MAX_SECONDS
_STAT_FIELDS = (
    "bad_metadata",
    "bad_values",
    "budget_blocked",
    "budget_warned",
    "calls",
    "export_errors",
    "hook_errors",
    "internal_errors",
    "odd_chunk",
    "odd_response",
    "pricing_errors",
    "unknown_models",
)


class Stats:
    """What the recorder counted. Every failure it absorbed has a counter here.

    ``bad_values`` counts values the wire format would refuse (a name that is not text, a count that is not a whole
    number, text that is not valid Unicode, a field over its size cap), written in a form it takes; ``bad_metadata``
    counts metadata that had to change to be written (not JSON, keys that are not text, cycles, too deep, too big).
    """

    __slots__ = _STAT_FIELDS
    FIELDS = _STAT_FIELDS

    def __init__(self) -> None:
        self.calls = 0
        self.bad_metadata = 0
        self.bad_values = 0
        self.budget_blocked = 0
        self.budget_warned = 0
        self.export_errors = 0
        self.hook_errors = 0
        self.internal_errors = 0
        self.odd_chunk = 0
        self.odd_response = 0
        self.pricing_errors = 0
        self.unknown_models = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __repr__(self) -> str:
        return "Stats(" + ", ".join(f"{k}={v}" for k, v in self.as_dict().items() if v) + ")"


def _outcome(status: str, error_type: str | None, error_message: str | None) -> msgspec.Raw:
    """The run of ``_OUTCOME`` fields, encoded, without its first key and the braces."""
    try:
        data = _encoder.encode(_Outcome(status, error_type, error_message))
    except Exception:  # checked where they were given; should one still not encode, it is made text that does
        status = wire_text(status)[0] or "error"
        data = _encoder.encode(_Outcome(status, wire_text(error_type)[0], wire_text(error_message, MESSAGE_MAX)[0]))
    return msgspec.Raw(data[len(b'{"status":') : -1])


def _tail(attempt: int, fallback_from: str | None, a: Attribution, metadata: Any) -> msgspec.Raw:
    """The run of ``_TAIL`` fields, encoded, without its first key and the braces."""
    tail = _Tail(attempt, fallback_from, a.agent, a.session_id, a.user_id, a.workflow, a.tags, metadata)
    return msgspec.Raw(_encoder.encode(tail)[len(b'{"attempt":') : -1])


def end_run(
    http_status: Any,
    host: str | None,
    service_tier: str | None = None,
    batch: bool = False,
    cache_write_1h: int | None = None,
    tools: tuple[int | None, ...] = (None,) * 5,
) -> msgspec.Raw:
    """The run of ``_END`` fields, encoded, without its first key and the braces (an HTTP status the wire format
    refuses is unknown; ``host`` was checked when the tracker was made, the rest when they were given)."""
    status, _ = wire_status(http_status)
    end = _End(status, host, service_tier, batch, cache_write_1h, *tools)
    return msgspec.Raw(_encoder.encode(end)[len(b'{"http_status":') : -1])


def _default_tail(a: Attribution) -> msgspec.Raw:
    """The run for a first attempt that replaces no model, kept on the attribution (computed on its first use)."""
    tail = _tail(0, None, a, a.metadata_json)
    object.__setattr__(a, "line_tail", tail)
    return tail


def _billing(
    billed: Billing | None, requested: tuple[str | None, bool] | None
) -> tuple[str | None, bool, tuple[int | None, ...]]:
    """The service tier, batch and tool counts a call is written and priced with: the tier the response names, else
    the one asked for; batch when either says so (or the tier is ``batch``)."""
    tier = None if billed is None else billed.service_tier
    batch = False if billed is None else billed.batch
    if requested is not None:
        if tier is None:
            tier = requested[0]
        batch = batch or requested[1]
    if tier is not None and not batch:
        batch = tier.strip().lower() == "batch"
    if billed is None:
        return tier, batch, _NO_TOOLS
    tools = billed.tools()
    return tier, batch, (_NO_TOOLS if tools == _NO_TOOLS else tools)  # the one tuple: no tool fee to add


_NO_TOOLS: tuple[int | None, ...] = (None,) * 5
#: Tier names that are the standard rates, as providers write them (``pricing.STANDARD_TIERS``, which the catalog
#: also reads in any case: this set only saves the lookup of a tier's rate plan).
_STANDARD_TIERS = frozenset({"default", "standard", "auto"})


def _text(value: Any) -> tuple[str | None, bool]:
    return wire_text(value)


def _flag(value: Any) -> tuple[bool, bool]:
    return value is True, type(value) is not bool


#: How :meth:`CallWriter._repaired` makes each field of a line what the wire format takes (``v``, ``ts``,
#: ``start_ts`` and ``id`` are the recorder's own, always valid; so are the encoded runs, made of values that were
#: checked when they were given, the HTTP status and host of ``_END`` included).
_REPAIRS: dict[str, Callable[[Any], tuple[Any, bool]]] = {
    **dict.fromkeys(
        (
            "trace_id",
            "parent_id",
            "source",
            "operation",
            "provider",
            "server_address",
            "request_model",
            "response_model",
            "response_id",
            "usage_source",
            "cost_status",
            "price_ref",
            "prompt_hash",
        ),
        _text,
    ),
    **dict.fromkeys(
        (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "reasoning_output_tokens",
        ),
        wire_count,
    ),
    **dict.fromkeys(("gpu_seconds", "cost_usd", "latency_ms", "ttft_ms"), wire_amount),
    "stream": _flag,
}
#: Fields that never hold None on the wire, and what they take when a repair leaves them unknown.
_NOT_NULL = {"source": "sdk", "operation": "chat", "usage_source": "none", "cost_status": "no_usage"}


class CallWriter:
    """From finished calls to priced lines in the log: pricing, encoding and writing, shared by
    :class:`~llmcost.Tracker`."""

    writer: Writer
    stats: Stats
    _host: str | None
    _end_ok: msgspec.Raw  # the _END run of a call without an HTTP status: null, then the host
    _ends: dict[tuple[Any, ...], msgspec.Raw]  # the _END runs of billed calls (_billed_end)
    _buffers: list[bytearray]
    sinks: tuple[Callable[[bytes], object], ...]
    gpus: float | None
    call_cost_usd: Decimal | None
    on_call_cost: Any
    capture_content: bool
    _ledger: SpendLedger | None
    _catalog_arg: Any
    _catalog: Catalog | None
    _catalog_next: float
    _plans: dict[tuple[Any, ...], tuple[Any, float, float]]  # by (model, provider) or (model, provider, tier, batch)
    _plans_catalog: Catalog | None = None
    _plans_until = 0.0  # perf_counter time of the next catalog re-check (0: before the first call)

    def catalog(self) -> Catalog | None:
        """The catalog used for pricing (the active one is re-checked every 30 s, to follow ``pricing update``)."""
        global _Usage
        arg = self._catalog_arg
        if arg is not None and not isinstance(arg, (str, os.PathLike)) and _Usage is not None:
            return arg  # type: ignore[no-any-return]
        now = _perf()
        if self._catalog is None or now >= self._catalog_next:
            self._catalog_next = now + _CATALOG_RECHECK_S
            try:
                import pricing

                _Usage = pricing.Usage
                if arg is not None and not isinstance(arg, (str, os.PathLike)):
                    return arg  # type: ignore[no-any-return]
                self._catalog = pricing.load_catalog(None if arg is None else Path(arg))
            except Exception as exc:
                self.count_fault("pricing_errors", f"llmcost: cannot load the pricing catalog: {exc}")
        return self._catalog

    @property
    def host(self) -> str | None:
        """The machine named on every line (``host``); ``None`` writes none."""
        return self._host

    @host.setter
    def host(self, value: Any) -> None:
        host, changed = wire_text(value)
        if changed:
            self.count_fault("bad_values", "llmcost: a host name that is not text was written as text")
        self._host = host or None
        self._end_ok = end_run(None, self._host)
        self._ends = {}

    def count_fault(self, counter: str, message: str, n: int = 1) -> None:
        """Count ``n`` faults in ``stats.<counter>`` and report ``message`` once (a :class:`RecorderWarning`)."""
        setattr(self.stats, counter, getattr(self.stats, counter) + n)
        warn_once(counter, message)

    def adopt(self, attribution: Attribution) -> Attribution:
        """Count what had to change in ``attribution`` to be written (given to this tracker); returns it."""
        if attribution.fixes:
            self.count_fault(
                "bad_values", "llmcost: attribution that is not text was written as text", attribution.fixes
            )
        if attribution.metadata_fixed:
            self.count_fault(
                "bad_metadata", "llmcost: metadata is not JSON as given; written as the plain JSON closest to it"
            )
        return attribution

    def write_call(self, call: Call) -> None:
        """Price, encode and write a finished call (one function: each call saved is ~0.1 µs on every record)."""
        try:
            now = _perf()
            elapsed = now - call.t0
            wall0 = call.wall0
            ttft = call.ttft
            if (
                0.0 <= elapsed <= _MAX_SECONDS
                and 0.0 <= wall0 <= _LAST_START
                and (ttft is None or 0.0 <= ttft <= _MAX_SECONDS)
            ):
                end = wall0 + elapsed
                sec = int(end)
                last = _ids._last_second  # iso_ms(end), inlined: the text up to the second is cached, with its day
                if sec != last[0]:
                    last = second_of(sec)
                ts = last[1] + _MILLIS[int((end - sec) * 1000)]
                day = last[2]
                sec0 = int(wall0)
                start_ts: str | None = last[1] + _MILLIS[int((wall0 - sec0) * 1000)] if sec0 == sec else iso_ms(wall0)
                latency_ms: float | None = int(elapsed * 1e6 + 0.5) / 1000  # 3 decimals (round() costs 4x more)
                ttft_ms = None if ttft is None else int(ttft * 1e6 + 0.5) / 1000
            else:
                end, ts, start_ts, latency_ms, ttft_ms = self._odd_clock(call, elapsed)
                day = ts[:10]
            u = call.usage
            gpu = None
            if u is None:
                u = _NO_USAGE
            else:
                gpu = u.gpu_seconds
                if gpu is None:
                    gpus = call.request.gpus or self.gpus
                    if gpus or call.provider == "vllm":
                        gpu, _ = wire_amount(elapsed * (gpus or 1))
            # Pricing: the rates of (model, provider) are memoised with the time range they hold for, so a priced
            # call is six integer products in pico-dollars; the float on the wire is the exact total / 10**12,
            # correctly rounded: float(Catalog.price(...).cost_usd). Every other case takes Catalog.price.
            cost: Decimal | None = None
            total = -1
            source: str | None = u.source
            r = call.request
            billed = u.billing
            plain = billed is None and r.billing is None  # no tier, batch nor tool: the common case
            if plain:
                tier, batch, tools = None, False, _NO_TOOLS
                standard = True
            else:
                tier, batch, tools = _billing(billed, r.billing)
                # OpenAI's "default" and Anthropic's "standard" (on nearly every response) are the standard rates.
                standard = tools is _NO_TOOLS and not batch and (tier is None or tier in _STANDARD_TIERS)
            if source in _UNPRICED:
                cost_f, status, ref = None, "no_usage", None
                source = _UNPRICED[source]
            elif not standard:
                total, cost, cost_f, status, ref = self._price_billed(call, u, gpu, end, now, tier, batch, tools)
            else:
                if now >= self._plans_until:  # perf_counter time, as the call's own clock: no second reading
                    self._reset_plans()
                plan: Any = None
                model = call.response_model or call.request_model
                if model is not None and call.provider_cost is None:
                    hit = self._plans.get((model, call.provider))
                    if hit is None or not hit[1] <= end < hit[2]:
                        hit = self._plan(model, call.provider, end)
                    plan = hit[0]
                if plan is not None:
                    # RatePlan.pico_total, inlined for its common case (no long-context tier, no 1-hour cache
                    # writes): counts are whole numbers from 0 to 2**53 here (checked when they were given), so
                    # the only impossible usage is a subset larger than its total, which makes a part negative.
                    inp = u.input_tokens or 0
                    if inp <= plan.tier_min and not u.cache_write_1h:
                        cr = u.cache_read or 0
                        cw = u.cache_write or 0
                        rs = u.reasoning or 0
                        uncached = inp - cr - cw
                        visible = (u.output_tokens or 0) - rs
                        if uncached >= 0 and visible >= 0:
                            p = plan.pico
                            total = plan.fee + p[0] * uncached + p[1] * cr + p[2] * cw + p[4] * visible + p[5] * rs
                    else:
                        total = plan.pico_total(
                            u.input_tokens, u.output_tokens, u.cache_read, u.cache_write, u.cache_write_1h, u.reasoning
                        )
                if 0 <= total <= _MAX_PICO:
                    cost_f, status, ref = total / 1_000_000_000_000, "priced", plan.ref
                else:
                    total = -1
                    cost, cost_f, status, ref = self._priced(call, u, gpu, end)
            err = call.error
            if err is None:
                outcome = _OK if call.status == "ok" else _outcome(call.status, None, None)
                end_of_line = self._end_ok
            else:
                outcome = _outcome(call.status, err[0], err[1])
                end_of_line = self._end_ok if err[2] is None else end_run(err[2], self._host)
            if not plain or u.cache_write_1h is not None:  # billing fields a plain call's run does not have
                end_of_line = self._billed_end(None if err is None else err[2], tier, batch, u.cache_write_1h, tools)
            a = call.attribution
            if r.attempt == 0 and r.fallback_from is None and call.content is None:
                tail = a.line_tail
                if tail is None:
                    tail = _default_tail(a)
            else:
                metadata = a.metadata_json if call.content is None else self._with_content(a, call.content)
                tail = _tail(r.attempt, r.fallback_from, a, metadata)
            line = Line(
                1,
                ts,
                start_ts,
                call.id,
                call.trace_id,
                call.parent_id,
                r.source,
                r.operation,
                call.provider,
                r.server_address,
                call.request_model,
                call.response_model,
                call.response_id,
                call.streamed,
                u.input_tokens,
                u.output_tokens,
                u.cache_read,
                u.cache_write,
                u.reasoning,
                source,
                gpu,
                cost_f,
                status,
                ref,
                latency_ms,
                ttft_ms,
                outcome,
                tail,
                call.prompt_hash,
                end_of_line,
            )
            # Encoded into a buffer taken from a pool (list.pop and append are atomic: each thread gets its own)
            # and reused: a line costs no new bytes object when the writer is done with it at once (a file).
            buffers = self._buffers
            try:
                buf = buffers.pop()
            except IndexError:
                buf = bytearray()
            try:
                _encoder.encode_into(line, buf)
            except Exception:  # text that is not valid Unicode (a lone surrogate), an object JSON does not know
                buf.clear()
            if not 0 < len(buf) < MAX_LINE:  # the newline makes it MAX_LINE at most
                buf[:] = self._repaired(line)
            buf += b"\n"
            writer = self.writer
            if writer.writes_at_once:
                writer.write_line(day, buf)
            else:
                writer.write_line(day, bytes(buf))
            self.stats.calls += 1
            if self.sinks or call.scopes or self._ledger is not None or self.call_cost_usd is not None:
                self._pass_on(call, line, bytes(buf), total, cost)
            buffers.append(buf)
        except Exception as exc:  # a bug of the recorder itself must not reach the user
            self.count_fault("internal_errors", f"llmcost: could not record a call: {type(exc).__name__}: {exc}")

    def _pass_on(self, call: Call, line: Any, data: bytes, total: int, cost: Decimal | None) -> None:
        """Hand a written line to the sinks, the call's scopes, the budget ledger and the cost hook."""
        if self.sinks:
            self._to_sinks(data)
        if total >= 0 and (call.scopes or self._ledger is not None or self.call_cost_usd is not None):
            cost = Decimal(total).scaleb(-12, _EXACT)  # the exact Decimal, built only when something sums it
        for s in call.scopes:
            s.add(line, cost, call.status)
        if cost is not None and (self._ledger is not None or self.call_cost_usd is not None):
            self._after(line, call.attribution, data, cost)

    def _odd_clock(self, call: Call, elapsed: float) -> tuple[float, str, str | None, float | None, float | None]:
        """Times of a call whose clock readings the wire format would refuse (a start before 1970 or after 9999, a
        latency below zero or over the maximum): the line is written at the current time, with what is known."""
        self.count_fault("bad_values", "llmcost: a call with impossible times was written with the current time")
        latency, _ = wire_amount(elapsed * 1000)
        ttft, _ = wire_amount(None if call.ttft is None else call.ttft * 1000)
        wall0 = call.wall0
        if isinstance(wall0, (int, float)) and 0.0 <= wall0 <= _LAST_START and latency is not None:
            end = wall0 + elapsed
            return end, iso_ms(end), iso_ms(wall0), latency, ttft
        end = time.time()
        return end, iso_ms(end), None, latency, ttft

    def _with_content(self, a: Attribution, content: Any) -> dict[str, Any]:
        """The call's metadata with the captured content (``capture_content=True``), as plain JSON within its cap."""
        from llmcost.recorder._plain_json import clean_json  # imported on first use (import llmcost skips it)

        cleaned, changed = clean_json(content, CONTENT_MAX)
        if changed:
            self.count_fault("bad_metadata", "llmcost: captured content was cut or made plain JSON to be written")
        return {**(a.metadata or {}), "content": cleaned}

    def _repaired(self, line: Any) -> bytes:
        """The line with every field made what the wire format takes; what changed is counted."""
        values = []
        changed = 0
        for name, value in zip(Line.__struct_fields__, msgspec.structs.astuple(line)):
            repair = _REPAIRS.get(name)
            if repair is None:
                values.append(value)
                continue
            good, fixed = repair(value)
            changed += fixed
            values.append(_NOT_NULL.get(name) if good is None else good)
        fixed_line = Line(*values)
        data = _encoder.encode(fixed_line)
        if len(data) >= MAX_LINE:  # cannot happen within the caps of _wire; if it did, keep the call, not its extras
            fixed_line.attempt = _CUT_TAIL
            data = _encoder.encode(fixed_line)
            self.count_fault("bad_metadata", "llmcost: a line over the size limit was written without its attribution")
        if changed:
            message = "llmcost: a value the wire format refuses was written in a form it takes"
            self.count_fault("bad_values", message, changed)
        return data

    def _reset_plans(self) -> None:
        """Follow the catalog (re-checked every 30 s): a new catalog starts an empty memo of rate plans."""
        catalog = self.catalog()
        if catalog is not self._plans_catalog or not hasattr(self, "_plans"):
            self._plans_catalog = catalog
            self._plans = {}
        self._plans_until = _perf() + _CATALOG_RECHECK_S

    def _plan(
        self, model: str, provider: str | None, at: float, tier: str | None = None, batch: bool = False
    ) -> tuple[Any, float, float]:
        """Look up and memoise the rate plan of (model, provider) at ``at`` (with a service tier or batch: of
        (model, provider, tier, batch)); ``(None, ...)`` means the slow path."""
        catalog = self._plans_catalog
        if catalog is None:
            return _NO_PLAN
        plain = tier is None and not batch
        try:
            found = (
                catalog.rate_plan(model, provider, at)
                if plain
                else catalog.rate_plan(model, provider, at, tier=tier, batch=batch)
            )
        except Exception:  # an odd name: Catalog.price will say what is wrong, and count it
            return _NO_PLAN
        plans = self._plans
        if len(plans) > 4096:  # names come from user data: keep the memo bounded
            plans.clear()
        plans[(model, provider) if plain else (model, provider, tier, batch)] = found
        return found

    def _to_sinks(self, data: bytes) -> None:
        for sink in self.sinks:
            try:
                sink(data)
            except Exception as exc:
                self.count_fault("hook_errors", f"llmcost: a record sink raised {type(exc).__name__}: {exc}")

    def _after(self, line: Any, a: Attribution, data: bytes, cost: Decimal) -> None:
        if self._ledger is not None:
            self._ledger.add_own(line.id, line.ts[:10], cost, a.agent, a.session_id, a.user_id)
        if self.call_cost_usd is not None and cost > self.call_cost_usd:
            if self.on_call_cost is None:
                warn_once("call_cost", f"llmcost: a call cost ${cost} (threshold ${self.call_cost_usd})")
                return
            try:
                self.on_call_cost(decode_record(data))
            except Exception as exc:
                self.count_fault("hook_errors", f"llmcost: on_call_cost hook raised {type(exc).__name__}: {exc}")

    def _billed_end(
        self, http: int | None, tier: str | None, batch: bool, cache_write_1h: int | None, tools: tuple[Any, ...]
    ) -> msgspec.Raw:
        """:func:`end_run` for a call billed with a tier, batch, tools or one-hour writes, memoised (the same few
        runs come back: OpenAI's ``default`` tier, Anthropic's ``standard`` with no one-hour writes)."""
        key = (http, tier, batch, cache_write_1h, tools)
        ends = self._ends
        found = ends.get(key)
        if found is None:
            found = end_run(http, self._host, tier, batch, cache_write_1h, tools)
            if len(ends) >= 256:  # values come from responses: keep the memo bounded
                ends.clear()
            ends[key] = found
        return found

    def _price_billed(
        self,
        call: Call,
        u: ReportedUsage,
        gpu: float | None,
        end: float,
        now: float,
        tier: str | None,
        batch: bool,
        tools: tuple[int | None, ...],
    ) -> tuple[int, Decimal | None, float | None, str, str | None]:
        """Price a call with a service tier, batch or tools: the memoised plan of (model, provider, tier, batch) when
        it prices the call exactly, else ``Catalog.price``. Returns pico-dollars (-1: not from a plan), the cost,
        the cost on the wire, the cost status and the price reference."""
        if now >= self._plans_until:
            self._reset_plans()
        model = call.response_model or call.request_model
        total = -1
        plan: Any = None
        if model is not None and call.provider_cost is None:
            hit = self._plans.get((model, call.provider, tier, batch))
            if hit is None or not hit[1] <= end < hit[2]:
                hit = self._plan(model, call.provider, end, tier, batch)
            plan = hit[0]
        if plan is not None:  # -1: a usage or a tool the plan cannot price exactly (Catalog.price says why)
            total = plan.pico_total(
                u.input_tokens, u.output_tokens, u.cache_read, u.cache_write, u.cache_write_1h, u.reasoning, *tools
            )
        if 0 <= total <= _MAX_PICO:
            return total, None, total / 1_000_000_000_000, "priced", plan.ref
        return (-1, *self._priced(call, u, gpu, end, tier, batch, tools))

    def _priced(
        self,
        call: Call,
        u: ReportedUsage,
        gpu: float | None,
        end: float,
        tier: str | None = None,
        batch: bool = False,
        tools: tuple[int | None, ...] = _NO_TOOLS,
    ) -> tuple[Decimal | None, float | None, str, str | None]:
        """:meth:`_price`, with the cost on the wire: a cost past what one call can cost is counted, not recorded."""
        cost, status, ref = self._price(call, u, gpu, end, tier, batch, tools)
        cost_f = None if cost is None else float(cost)
        if cost_f is not None and not 0 <= cost_f <= MAX_AMOUNT:
            self.count_fault("pricing_errors", f"llmcost: a call priced at ${cost_f:g}: not recorded as a cost")
            return None, None, "no_usage", None
        return cost, cost_f, status, ref

    def _price(
        self,
        call: Call,
        u: ReportedUsage,
        gpu: float | None,
        end: float,
        tier: str | None = None,
        batch: bool = False,
        tools: tuple[int | None, ...] = _NO_TOOLS,
    ) -> tuple[Decimal | None, str, str | None]:
        """Price with ``Catalog.price`` (every case the memoised plans leave out)."""
        if u.source in _UNPRICED:
            return None, "no_usage", None
        model = call.response_model or call.request_model
        catalog = self.catalog()
        if model is None or catalog is None:
            if call.provider_cost is not None:
                return call.provider_cost, "provider_reported", None
            return None, "unknown_model", None
        try:
            usage = _Usage.from_wire(
                u.input_tokens, u.output_tokens, u.cache_read, u.cache_write, u.cache_write_1h, u.reasoning, gpu, tools
            )
            cost = call.provider_cost
            price = catalog.price(usage, model, call.provider, at=end, provider_cost=cost, tier=tier, batch=batch)
            if price.status == "unknown_model" and call.request_model and call.request_model != model:
                price = catalog.price(
                    usage, call.request_model, call.provider, at=end, provider_cost=cost, tier=tier, batch=batch
                )
        except Exception as exc:
            self.count_fault("pricing_errors", f"llmcost: cannot price a call: {exc}")
            return None, "no_usage", None
        if price.status == "unknown_model":
            self.stats.unknown_models += 1
        return price.cost_usd, price.status, price.price_ref
