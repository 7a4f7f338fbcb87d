"""From a finished call to one priced line in the log: the recorder's hot path.

Costs are kept low on purpose (see benchmarks/bench_recorder.py and the per-part figures in benchmarks/README.md):
the line is built as a positional struct with the wire-format fields in ``Record``'s order (a test checks both encode
to the same bytes), pricing uses the catalog's integer rate plans memoised per (model, provider) with the time range
they hold for (``Catalog.rate_plan``; everything else goes through ``Catalog.price``), and the only system call is
the writer's single ``os.write``. Nothing here may raise into user code: every failure is counted in ``stats`` and
reported once.
"""

from __future__ import annotations

import decimal
import math
import operator
import os
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from llmcost.log import MAX_AMOUNT, MAX_COUNT, Record, Writer, decode_record, warn_once
from llmcost.recorder._ids import _MILLIS, iso_ms
from llmcost.recorder._usage import Extracted

if TYPE_CHECKING:
    from llmcost.recorder._budget import SpendLedger
    from llmcost.recorder._call import Call
    from pricing import Catalog

__all__ = ["Line", "Recorder", "Stats"]

_CATALOG_RECHECK_S = 30.0
_NO_USAGE = Extracted()
#: The wire format's fields in ``Record``'s order, positional (about 3x cheaper to build than ``Record(**kw)``).
Line: Any = msgspec.defstruct("Line", [(name, Any) for name in Record.__struct_fields__])
_encoder = msgspec.json.Encoder()
_lenient = msgspec.json.Encoder(enc_hook=lambda obj: repr(obj)[:300])
_perf = time.perf_counter
_monotonic = time.monotonic
_Usage: Any = None  # pricing.Usage, imported with the catalog (keeps ``import llmcost`` light)
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_NO_PLAN: tuple[Any, float, float] = (None, -math.inf, math.inf)
_NO_ERROR = (None, None, None)
#: The attributes a line reads from a call's ``attrs``, fetched in one C call.
_ATTR_KEYS = (
    "source",
    "operation",
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
    "prompt_hash",
    "gpus",
)
_attr_values = operator.itemgetter(*_ATTR_KEYS)
_STAT_FIELDS = (
    "bad_metadata",
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


_MAX_PICO = int(MAX_AMOUNT) * 1_000_000_000_000


def _wire_count(value: Any) -> int | None:
    """A count as the wire format takes it (a whole number from 0 to ``MAX_COUNT``), else ``None`` (unknown)."""
    if type(value) is float and value.is_integer():
        value = int(value)
    return value if type(value) is int and 0 <= value <= MAX_COUNT else None


def _amount(value: Any) -> float | None:
    """An amount as the wire format takes it (finite, from 0 to ``MAX_AMOUNT``), else ``None``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_AMOUNT:
        return float(value)
    return None


def _on_the_wire(u: Extracted) -> Extracted:
    """``u`` with every count the wire format would refuse (negative, fractional, not a number) made unknown."""
    counts = (u.input_tokens, u.output_tokens, u.cache_read, u.cache_write, u.reasoning)
    if all(c is None or (type(c) is int and 0 <= c <= MAX_COUNT) for c in counts):
        return u
    out = Extracted()
    for name in Extracted.FIELDS:
        setattr(out, name, getattr(u, name))
    out.input_tokens, out.output_tokens, out.cache_read, out.cache_write, out.reasoning = map(_wire_count, counts)
    return out


class Stats:
    """What the recorder counted. Every failure it absorbed has a counter here."""

    __slots__ = _STAT_FIELDS
    FIELDS = _STAT_FIELDS

    def __init__(self) -> None:
        self.calls = 0
        self.bad_metadata = 0
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


class Recorder:
    """Pricing, encoding and writing, shared by :class:`~llmcost.Tracker`."""

    writer: Writer
    stats: Stats
    sinks: tuple[Callable[[bytes], object], ...]
    gpus: float | None
    call_cost_usd: Decimal | None
    on_call_cost: Any
    _ledger: SpendLedger | None
    _catalog_arg: Any
    _catalog: Catalog | None
    _catalog_next: float
    _plans: dict[tuple[str, str | None], tuple[Any, float, float]]
    _plans_catalog: Catalog | None = None
    _plans_until = 0.0  # monotonic time of the next catalog re-check (0: before the first call)

    def catalog(self) -> Catalog | None:
        """The catalog used for pricing (the active one is re-checked every 30 s, to follow ``pricing update``)."""
        global _Usage
        arg = self._catalog_arg
        if arg is not None and not isinstance(arg, (str, os.PathLike)) and _Usage is not None:
            return arg  # type: ignore[no-any-return]
        now = _monotonic()
        if self._catalog is None or now >= self._catalog_next:
            self._catalog_next = now + _CATALOG_RECHECK_S
            try:
                import pricing

                _Usage = pricing.Usage
                if arg is not None and not isinstance(arg, (str, os.PathLike)):
                    return arg  # type: ignore[no-any-return]
                self._catalog = pricing.load_catalog(None if arg is None else Path(arg))
            except Exception as exc:
                self._count("pricing_errors", f"llmcost: cannot load the pricing catalog: {exc}")
        return self._catalog

    def _count(self, counter: str, message: str) -> None:
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        warn_once(counter, message)

    def _emit(self, call: Call) -> None:
        """Price, encode and write a finished call (one function: each call saved is ~0.1 µs on every record)."""
        try:
            elapsed = _perf() - call.t0
            wall0 = call.wall0
            end = wall0 + elapsed
            ts = iso_ms(end)
            sec = int(wall0)
            start_ts = ts[:19] + _MILLIS[int((wall0 - sec) * 1000)] if sec == int(end) else iso_ms(wall0)
            a = call.attrs
            try:  # one C call for every key (a tracker's attributes hold them all; integrations may pass fewer)
                (source, operation, server, stream, attempt, fallback, agent, session, user, workflow, tags, metadata,
                 phash, gpus) = _attr_values(a)  # fmt: skip
            except KeyError:
                (source, operation, server, stream, attempt, fallback, agent, session, user, workflow, tags, metadata,
                 phash, gpus) = map(a.get, _ATTR_KEYS)  # fmt: skip
            u = call.usage
            gpu = None
            if u is None:
                u = _NO_USAGE
            else:
                gpu = u.gpu_seconds
                if gpu is None:
                    gpus = gpus or self.gpus
                    if gpus or call.provider == "vllm":
                        gpu = elapsed * (gpus or 1)
            # Pricing: the rates of (model, provider) are memoised with the time range they hold for, so a priced
            # call is six integer products in pico-dollars; the float on the wire is the exact total / 10**12,
            # correctly rounded: float(Catalog.price(...).cost_usd). Every other case takes Catalog.price.
            cost: Decimal | None = None
            total = -1
            model = call.response_model or call.request_model
            if u.source in ("none", "error"):
                cost_f, status, ref = None, "no_usage", None
            else:
                if _monotonic() >= self._plans_until:
                    self._reset_plans()
                plan: Any = None
                if model is not None and call.provider_cost is None:
                    hit = self._plans.get((model, call.provider))
                    if hit is None or not hit[1] <= end < hit[2]:
                        hit = self._plan(model, call.provider, end)
                    plan = hit[0]
                if plan is not None:
                    total = plan.pico_total(
                        u.input_tokens, u.output_tokens, u.cache_read, u.cache_write, u.cache_write_1h, u.reasoning
                    )
                if 0 <= total <= _MAX_PICO:
                    cost_f, status, ref = total / 1_000_000_000_000, "priced", plan.ref
                else:
                    total = -1
                    cost, status, ref = self._price(call, u, gpu, end)
                    cost_f = None if cost is None else float(cost)
                    u, gpu = _on_the_wire(u), _amount(gpu)
                    if cost_f is not None and not 0 <= cost_f <= MAX_AMOUNT:
                        self._count("pricing_errors", f"llmcost: a call priced at ${cost_f:g}: not recorded as a cost")
                        cost, cost_f, status, ref = None, None, "no_usage", None
            err: Any = call.error
            if err is None:
                err = _NO_ERROR
            if call.content is not None:
                metadata = {**(metadata or {}), "content": call.content}
            ttft = call.ttft
            line = Line(
                1,
                ts,
                start_ts,
                call.id,
                call.trace_id,
                call.parent_id,
                source or "sdk",
                operation or "chat",
                call.provider,
                server,
                call.request_model,
                call.response_model,
                call.response_id,
                True if stream else False,  # noqa: SIM210 (bool() is a call: slower)
                u.input_tokens,
                u.output_tokens,
                u.cache_read,
                u.cache_write,
                u.reasoning,
                "none" if u.source == "error" else u.source,
                gpu,
                cost_f,
                status,
                ref,
                int(elapsed * 1e6 + 0.5) / 1000,  # milliseconds to 3 decimals (round(x, 3) costs 4x more)
                None if ttft is None else int(ttft * 1e6 + 0.5) / 1000,
                call.status,
                err[0],
                err[1],
                attempt or 0,
                fallback,
                agent,
                session,
                user,
                workflow,
                tags,
                metadata,
                phash,
                err[2],
            )
            try:
                data = _encoder.encode(line) + b"\n"
            except (TypeError, ValueError, OverflowError) as exc:
                data = self._encode_leniently(line, exc)
            self.writer.write_line(ts[:10], data)
            self.stats.calls += 1
            if self.sinks:
                self._to_sinks(data)
            if total >= 0 and (call.scopes or self._ledger is not None or self.call_cost_usd is not None):
                cost = Decimal(total).scaleb(-12, _EXACT)  # the exact Decimal, built only when something sums it
            if call.scopes:
                for s in call.scopes:
                    s.add(line, cost)
            if cost is not None and (self._ledger is not None or self.call_cost_usd is not None):
                self._after(line, data, cost)
        except Exception as exc:  # a bug of the recorder itself must not reach the user
            self._count("internal_errors", f"llmcost: could not record a call: {type(exc).__name__}: {exc}")

    def _reset_plans(self) -> None:
        """Follow the catalog (re-checked every 30 s): a new catalog starts an empty memo of rate plans."""
        catalog = self.catalog()
        if catalog is not self._plans_catalog or not hasattr(self, "_plans"):
            self._plans_catalog = catalog
            self._plans = {}
        self._plans_until = _monotonic() + _CATALOG_RECHECK_S

    def _plan(self, model: str, provider: str | None, at: float) -> tuple[Any, float, float]:
        """Look up and memoise the rate plan of (model, provider) at ``at``; ``(None, ...)`` means the slow path."""
        catalog = self._plans_catalog
        if catalog is None:
            return _NO_PLAN
        try:
            found = catalog.rate_plan(model, provider, at)
        except Exception:  # an odd name: Catalog.price will say what is wrong, and count it
            return _NO_PLAN
        plans = self._plans
        if len(plans) > 4096:  # names come from user data: keep the memo bounded
            plans.clear()
        plans[model, provider] = found
        return found

    def _to_sinks(self, data: bytes) -> None:
        for sink in self.sinks:
            try:
                sink(data)
            except Exception as exc:
                self._count("hook_errors", f"llmcost: a record sink raised {type(exc).__name__}: {exc}")

    def _encode_leniently(self, line: Any, exc: Exception) -> bytes:
        """Metadata that is not JSON: counted once, written as text."""
        self._count("bad_metadata", f"llmcost: metadata is not JSON ({exc}); values written as text")
        try:
            return _lenient.encode(line) + b"\n"
        except (TypeError, ValueError, OverflowError):
            line.metadata = {"unserializable": repr(line.metadata)[:300]}
            return _lenient.encode(line) + b"\n"

    def _after(self, line: Any, data: bytes, cost: Decimal) -> None:
        if self._ledger is not None:
            self._ledger.add_own(line.id, line.ts[:10], cost, line.agent, line.session_id, line.user_id)
        if self.call_cost_usd is not None and cost > self.call_cost_usd:
            if self.on_call_cost is None:
                warn_once("call_cost", f"llmcost: a call cost ${cost} (threshold ${self.call_cost_usd})")
                return
            try:
                self.on_call_cost(decode_record(data))
            except Exception as exc:
                self._count("hook_errors", f"llmcost: on_call_cost hook raised {type(exc).__name__}: {exc}")

    def _price(self, call: Call, u: Extracted, gpu: float | None, end: float) -> tuple[Decimal | None, str, str | None]:
        """Price with ``Catalog.price`` (every case the memoised plans leave out)."""
        if u.source in ("none", "error"):
            return None, "no_usage", None
        model = call.response_model or call.request_model
        catalog = self.catalog()
        if model is None or catalog is None:
            if call.provider_cost is not None:
                return call.provider_cost, "provider_reported", None
            return None, "unknown_model", None
        try:
            write = u.cache_write or 0
            one_hour = u.cache_write_1h or 0
            one_hour = min(one_hour, write)
            usage = _Usage(
                u.input_tokens or 0,
                u.output_tokens or 0,
                u.cache_read or 0,
                write - one_hour,
                one_hour,
                u.reasoning or 0,
                gpu,
            )
            price = catalog.price(usage, model, call.provider, at=end, provider_cost=call.provider_cost)
            if price.status == "unknown_model" and call.request_model and call.request_model != model:
                price = catalog.price(
                    usage, call.request_model, call.provider, at=end, provider_cost=call.provider_cost
                )
        except Exception as exc:
            self._count("pricing_errors", f"llmcost: cannot price a call: {exc}")
            return None, "no_usage", None
        if price.status == "unknown_model":
            self.stats.unknown_models += 1
        return price.cost_usd, price.status, price.price_ref
