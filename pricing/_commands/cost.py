"""``pricing cost MODEL --input N --output N ...``: the cost of one call, bucket by bucket."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from pricing._catalog import Catalog
from pricing._commands._args import add_lookup_options, add_usage_options, seconds
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
from pricing._model import Model, Price, RateWindow, Usage

__all__ = ["DEFAULT_TIERS", "register", "run", "usage_dict", "usage_of"]

#: Service tier names that mean "no tier multiplier".
DEFAULT_TIERS = ("default", "standard", "auto")


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
    p.add_argument("--batch", action="store_true", help="apply the batch discount")
    p.add_argument("--service-tier", metavar="T", help="service tier (for example flex or priority)")
    add_lookup_options(p)
    p.set_defaults(func=run)


def usage_of(args: argparse.Namespace) -> Usage:
    """The usage the token-count options describe."""
    return Usage(
        input_tokens=args.input,
        output_tokens=args.output,
        cache_read_tokens=args.cache_read,
        cache_write_tokens=getattr(args, "cache_write", 0),
        cache_write_1h_tokens=getattr(args, "cache_write_1h", 0),
        reasoning_tokens=args.reasoning,
        gpu_seconds=getattr(args, "gpu_seconds", None),
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
    }


@guarded
def run(args: argparse.Namespace) -> int:
    """The cost of one call, bucket by bucket."""
    catalog = catalog_of(args)
    provider, at, usage = provider_of(catalog, args), timestamp_of(args), usage_of(args)
    usage.exclusive()  # impossible usage is bad input, whatever the model
    model = catalog.resolve(args.model, provider)
    _check_tier(catalog, model, args.service_tier)
    tier = None if args.service_tier and args.service_tier.lower() in DEFAULT_TIERS else args.service_tier
    price = catalog.price(usage, args.model, provider, at=at, batch=args.batch, service_tier=tier)
    if price.status == "unknown_model":
        if model is not None:
            raise Fail(f"no rates for {model.key} on {day_text(at)} (see `pricing show {model.id}`)")
        raise Fail(unknown_model_message(catalog, args.model))
    window = catalog.window_for(model, at) if model is not None else None
    if args.json:
        print_json(_cost_dict(catalog, price, usage, window))
    else:
        print("\n".join(_cost_lines(catalog, price, usage, window, args)))
    return 0


def _check_tier(catalog: Catalog, model: Model | None, tier: str | None) -> None:
    if not tier or model is None or tier.lower() in DEFAULT_TIERS:
        return
    known = catalog.providers[model.provider].service_tiers
    if tier not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise Fail(f"unknown service tier {tier!r} for {model.provider} (known: {listed})")


def _cost_dict(catalog: Catalog, price: Price, usage: Usage, window: RateWindow | None) -> dict[str, Any]:
    data = price.to_dict()
    data["usage"] = usage_dict(usage)
    data["catalog_version"] = catalog.version
    if window is not None and price.status == "priced":
        data["rates"] = rates_dict(window.rates_for(usage.input_tokens))
    return data


def _cost_lines(
    catalog: Catalog, price: Price, usage: Usage, window: RateWindow | None, args: argparse.Namespace
) -> list[str]:
    who = f"{price.model} ({price.provider})" if price.provider else f"{price.model}"
    if price.status == "free":
        return [f"{who}: free (local model): $0.00"]
    if price.status == "dynamic":
        return [f"{who}: dynamic price (router): the cost comes from the provider's response"]
    if price.status == "no_usage" or price.cost_usd is None or window is None:
        return [f"{who}: priced by GPU time: pass --gpu-seconds S"]
    lines = [f"{who}, rates {span_text(window)}, catalog {catalog.version}"]
    lines += _bucket_table(price, usage, window, _why_multiplied(catalog, args))
    if args.batch and not _batch_factor(catalog, args):
        lines.append("(no batch discount published for this model)")
    return lines


def _batch_factor(catalog: Catalog, args: argparse.Namespace) -> Decimal | None:
    model = catalog.resolve(args.model, catalog.provider_id(args.provider) if args.provider else None)
    if model is None:
        return None
    return model.batch if model.batch is not None else catalog.providers[model.provider].batch


def _why_multiplied(catalog: Catalog, args: argparse.Namespace) -> str:
    """Names the modifiers behind a multiplier: ``batch ×0.5, region ×1.1``."""
    provider = catalog.provider_id(args.provider) if args.provider else None
    model = catalog.resolve(args.model, provider)
    reasons = []
    region = catalog.region_multiplier(args.model, provider)
    if region != 1:
        reasons.append(f"region ×{format_decimal(region)}")
    batch = _batch_factor(catalog, args) if args.batch else None
    if batch is not None:
        reasons.append(f"batch ×{format_decimal(batch)}")
    tiers = catalog.providers[model.provider].service_tiers if model else {}
    if args.service_tier in tiers:
        reasons.append(f"{args.service_tier} tier ×{format_decimal(tiers[args.service_tier])}")
    return ", ".join(reasons)


def _bucket_rows(price: Price, usage: Usage, window: RateWindow) -> list[list[str]]:
    rates = window.rates_for(usage.input_tokens).as_tuple()
    counts = usage.exclusive()
    by_gpu = window.gpu_hour is not None and usage.gpu_seconds is not None
    rows = []
    for i, (bucket, cost) in enumerate(price.breakdown.items()):
        label = BUCKET_LABELS[bucket]
        if i < 6:
            if counts[i] or (bucket in ("input", "output") and not by_gpu):
                rows.append([label, format_tokens(counts[i]), format_usd(rates[i]), format_usd(cost)])
        elif bucket == "request" and cost:
            rows.append([label, f"{usage.requests} req", format_usd(window.request_fee), format_usd(cost)])
        elif bucket == "gpu" and window.gpu_hour is not None:
            rows.append([label, f"{usage.gpu_seconds or 0:g} s", format_usd(window.gpu_hour) + "/h", format_usd(cost)])
    return rows


def _bucket_table(price: Price, usage: Usage, window: RateWindow, why: str) -> list[str]:
    assert price.cost_usd is not None
    rows = _bucket_rows(price, usage, window)
    if price.multiplier != 1:
        subtotal = sum(price.breakdown.values(), Decimal(0))
        rows.append(["subtotal", "", "", format_usd(subtotal)])
        rows.append(["multiplier", "", f"×{format_decimal(price.multiplier)}", ""])
    total_tokens = usage.input_tokens + usage.output_tokens
    rows.append(["total", format_tokens(total_tokens) if total_tokens else "", "", format_usd(price.cost_usd)])
    lines = format_table(["bucket", "tokens", "$/Mtok", "cost"], rows, right=[False, True, True, True])
    return [*lines, f"multiplier: {why}"] if why else lines
