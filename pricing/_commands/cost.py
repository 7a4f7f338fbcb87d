"""``pricing cost MODEL --input N --output N ...``: the cost of one call, bucket by bucket."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from pricing._catalog import Catalog
from pricing._commands._args import add_lookup_options, add_usage_options, seconds, token_count
from pricing._commands._common import (
    BUCKET_LABELS,
    Fail,
    catalog_of,
    day_text,
    guarded,
    print_json,
    provider_of,
    rates_dict,
    span_text,
    timestamp_of,
    unknown_model_message,
)
from pricing._format import format_decimal, format_table, format_tokens, format_usd
from pricing._model import TOOLS, Price, RateWindow, Usage, rates_for
from pricing._tiers import Variant, select

__all__ = ["TOOL_OPTIONS", "register", "run", "usage_dict", "usage_of"]

#: The tool-use options, in :data:`TOOLS` order: (flag, help).
TOOL_OPTIONS = (
    ("--web-search", "web searches the provider ran (OpenAI web_search calls, Anthropic web_search_requests, ...)"),
    ("--web-fetch", "web fetches (Anthropic web_fetch_requests)"),
    ("--file-search", "file search calls (OpenAI file_search)"),
    ("--code-interpreter", "code interpreter sessions (OpenAI containers)"),
    ("--grounded", "prompts grounded with Google Search (billed per prompt on Gemini 2.x)"),
)
#: How each tool is named in tables.
TOOL_LABELS = {t.bucket: t.bucket.replace("_", " ") for t in TOOLS}


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``cost`` to the ``pricing`` parser."""
    p = sub.add_parser(
        "cost",
        help="price one call from its token counts",
        description="Price one call. Counts are inclusive: --input includes cached tokens, --output reasoning.",
    )
    p.add_argument("model", metavar="MODEL", help="model name")
    add_usage_options(p, cache_writes=True)
    p.add_argument("--gpu-seconds", type=seconds, metavar="S", help="GPU time, for models billed by GPU hour")
    for (flag, text), tool in zip(TOOL_OPTIONS, TOOLS):
        p.add_argument(flag, dest=tool.counter, type=token_count, default=0, metavar="N", help=text)
    p.add_argument("--batch", action="store_true", help="the batch price (a batch API)")
    p.add_argument(
        "--tier",
        "--service-tier",
        dest="tier",
        metavar="T",
        help="the service tier the call was served with (flex, priority, ...; default, standard: the standard rates)",
    )
    add_lookup_options(p)
    p.set_defaults(func=run)


def usage_of(args: argparse.Namespace) -> Usage:
    """The usage the token-count and tool options describe."""
    return Usage(
        input_tokens=args.input,
        output_tokens=args.output,
        cache_read_tokens=args.cache_read,
        cache_write_tokens=getattr(args, "cache_write", 0),
        cache_write_1h_tokens=getattr(args, "cache_write_1h", 0),
        reasoning_tokens=args.reasoning,
        gpu_seconds=getattr(args, "gpu_seconds", None),
        **{t.counter: getattr(args, t.counter, 0) for t in TOOLS},
    )


def usage_dict(u: Usage) -> dict[str, Any]:
    """A usage as JSON data, under the wire format's names."""
    return {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens + u.cache_write_1h_tokens,
        "cache_write_1h_tokens": u.cache_write_1h_tokens,
        "reasoning_output_tokens": u.reasoning_tokens,
        "gpu_seconds": u.gpu_seconds,
        **{t.counter: n for t, n in zip(TOOLS, u.tool_counts())},
    }


@guarded
def run(args: argparse.Namespace) -> int:
    """The cost of one call, bucket by bucket."""
    catalog = catalog_of(args)
    provider, at, usage = provider_of(catalog, args), timestamp_of(args), usage_of(args)
    usage.exclusive()  # impossible usage is bad input, whatever the model
    model = catalog.resolve(args.model, provider)
    price = catalog.price(usage, args.model, provider, at=at, tier=args.tier, batch=args.batch)
    if price.status == "unknown_model":
        if model is not None:
            raise Fail(f"no rates for {model.key} on {day_text(at)} (see `pricing show {model.id}`)")
        raise Fail(unknown_model_message(catalog, args.model))
    window = catalog.window_for(model, at) if model is not None else None
    variant = None
    if model is not None and window is not None:
        variant = select(catalog.providers[model.provider], model, window, args.tier, args.batch)
    if args.json:
        print_json(_cost_dict(catalog, price, usage, variant))
    else:
        fees = catalog.tool_fees(model, at) if model is not None else {}
        print("\n".join(_cost_lines(catalog, price, usage, window, variant, fees, args)))
    return 0


def _cost_dict(catalog: Catalog, price: Price, usage: Usage, variant: Variant | None) -> dict[str, Any]:
    data = price.to_dict()
    data["usage"] = usage_dict(usage)
    data["catalog_version"] = catalog.version
    if variant is not None and price.status == "priced":
        data["rates"] = rates_dict(rates_for(variant.rates, variant.tiers, usage.input_tokens))
    return data


def _cost_lines(
    catalog: Catalog,
    price: Price,
    usage: Usage,
    window: RateWindow | None,
    variant: Variant | None,
    fees: dict[str, Decimal],
    args: argparse.Namespace,
) -> list[str]:
    who = f"{price.model} ({price.provider})" if price.provider else f"{price.model}"
    if price.status == "free":
        return [f"{who}: free (local model): $0.00"]
    if price.status == "dynamic":
        return [f"{who}: dynamic price (router): the cost comes from the provider's response"]
    if price.status == "no_usage" or price.cost_usd is None or window is None or variant is None:
        return [f"{who}: priced by GPU time: pass --gpu-seconds S"]
    applied = [f"{price.service_tier} tier" if price.service_tier else "", "batch" if price.batch else ""]
    extra = "".join(f", {a}" for a in applied if a)
    lines = [f"{who}, rates {span_text(window)}, catalog {catalog.version}{extra}"]
    lines += _bucket_table(price, usage, window, variant, fees, _why_multiplied(catalog, args, price))
    return [*lines, *(f"note: {n}" for n in price.notes)]


def _why_multiplied(catalog: Catalog, args: argparse.Namespace, price: Price) -> str:
    """Names the multipliers behind ``price.multiplier``: ``batch ×0.5, region ×1.1``."""
    provider = catalog.provider_id(args.provider) if args.provider else None
    reasons = []
    region = catalog.region_multiplier(args.model, provider)
    if region != 1:
        reasons.append(f"region ×{format_decimal(region)}")
    tiers_and_batch = price.multiplier / region if region else price.multiplier
    if tiers_and_batch != 1:
        applied = " and ".join(x for x in (f"{price.service_tier} tier" if price.service_tier else "",
                                           "batch" if price.batch else "") if x)  # fmt: skip
        reasons.append(f"{applied} ×{format_decimal(tiers_and_batch)}")
    return ", ".join(reasons)


def _bucket_rows(
    price: Price, usage: Usage, window: RateWindow, variant: Variant, fees: dict[str, Decimal]
) -> tuple[list[list[str]], list[list[str]]]:
    """Token, request and GPU rows; tool rows."""
    rates = rates_for(variant.rates, variant.tiers, usage.input_tokens).as_tuple()
    counts = usage.exclusive()
    by_gpu = window.gpu_hour is not None and usage.gpu_seconds is not None
    tools = {t.bucket: (n, fees.get(t.counter)) for t, n in zip(TOOLS, usage.tool_counts())}
    rows, tool_rows = [], []
    for i, (bucket, cost) in enumerate(price.breakdown.items()):
        if i < 6:
            if counts[i] or (bucket in ("input", "output") and not by_gpu):
                rows.append([BUCKET_LABELS[bucket], format_tokens(counts[i]), format_usd(rates[i]), format_usd(cost)])
        elif bucket == "request" and cost:
            rows.append(["request fee", f"{usage.requests} req", format_usd(window.request_fee), format_usd(cost)])
        elif bucket == "gpu" and window.gpu_hour is not None:
            rows.append(
                ["gpu time", f"{usage.gpu_seconds or 0:g} s", format_usd(window.gpu_hour) + "/h", format_usd(cost)]
            )
        elif bucket in tools:
            count, fee = tools[bucket]
            each = "no fee published" if fee is None else f"{format_usd(fee)} each"
            tool_rows.append([TOOL_LABELS[bucket], f"{count:,} use{'' if count == 1 else 's'}", each, format_usd(cost)])
    return rows, tool_rows


def _bucket_table(
    price: Price, usage: Usage, window: RateWindow, variant: Variant, fees: dict[str, Decimal], why: str
) -> list[str]:
    assert price.cost_usd is not None
    rows, tool_rows = _bucket_rows(price, usage, window, variant, fees)
    if price.multiplier != 1:
        tools = {t.bucket for t in TOOLS}
        subtotal = sum((v for k, v in price.breakdown.items() if k not in tools), Decimal(0))
        rows.append(["subtotal", "", "", format_usd(subtotal)])
        rows.append(["multiplier", "", f"×{format_decimal(price.multiplier)}", ""])
    rows += tool_rows
    total_tokens = usage.input_tokens + usage.output_tokens
    rows.append(["total", format_tokens(total_tokens) if total_tokens else "", "", format_usd(price.cost_usd)])
    lines = format_table(["bucket", "tokens", "$/Mtok", "cost"], rows, right=[False, True, True, True])
    return [*lines, f"multiplier: {why}"] if why else lines
