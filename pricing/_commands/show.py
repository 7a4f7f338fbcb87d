"""``pricing show MODEL``: the rates in force, the long-context tiers and the dated windows of one model."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal
from typing import Any

from pricing._catalog import Catalog
from pricing._commands._args import add_lookup_options
from pricing._commands._common import (
    BUCKET_LABELS,
    Fail,
    catalog_of,
    day_text,
    guarded,
    modifier_dict,
    print_json,
    provider_of,
    span_text,
    timestamp_of,
    unknown_model_message,
    window_dict,
)
from pricing._format import format_decimal, format_table, format_tokens, format_usd
from pricing._model import BUCKETS, TOOLS, Model, Modifier, RateTable, RateWindow

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``show`` to the ``pricing`` parser."""
    p = sub.add_parser("show", help="show a model's rates, rate windows and tiers", description="Show one model.")
    p.add_argument("model", metavar="MODEL", help="model name (aliases, provider prefixes and dated snapshots work)")
    add_lookup_options(p)
    p.set_defaults(func=run)


@guarded
def run(args: argparse.Namespace) -> int:
    """Rates in force, the tiers and the dated windows of one model."""
    catalog = catalog_of(args)
    provider, at = provider_of(catalog, args), timestamp_of(args)
    model = catalog.resolve(args.model, provider)
    if model is None:
        return _show_provider_rule(catalog, args, provider)
    window = catalog.window_for(model, at)
    if args.json:
        print_json(_show_dict(catalog, model, window, at))
    else:
        print("\n".join(_show_lines(catalog, model, window, at)))
    return 0


def _show_provider_rule(catalog: Catalog, args: argparse.Namespace, provider: str | None) -> int:
    """Names under a free or router provider have no entry of their own: the provider's rule prices them."""
    prov = catalog.providers.get(provider) if provider else None
    if prov is None or prov.billing == "tokens":
        raise Fail(unknown_model_message(catalog, args.model))
    rule = {"free": "free (local model, cost $0)", "dynamic": "dynamic (router price, taken from the response)"}
    text = rule.get(prov.billing, "priced by GPU time: declare the deployment in an override file")
    if args.json:
        print_json({"model": args.model, "provider": prov.id, "billing": prov.billing})
    else:
        print(f"{prov.id}/{args.model}: {text}")
    return 0


def _show_dict(catalog: Catalog, m: Model, window: RateWindow | None, at: dt.datetime | None) -> dict[str, Any]:
    index = m.windows.index(window) if window is not None else None
    return {
        "model": m.id,
        "provider": m.provider,
        "key": m.key,
        "name": m.name,
        "billing": m.billing,
        "aliases": list(m.aliases),
        "match_prefix": list(m.match_prefix),
        "context_window": m.context_window,
        "batch": None if m.batch is None else format_decimal(m.batch),
        "catalog_version": catalog.version,
        "at": day_text(at),
        "window": index,
        "price_ref": None if index is None else m.refs[index],
        "service_tiers": {k: modifier_dict(v) for k, v in _modifiers(catalog, m, window).items() if k != "batch"},
        "batch_price": modifier_dict(b) if (b := _modifiers(catalog, m, window).get("batch")) is not None else None,
        "tool_fees": {k: format_decimal(v) for k, v in catalog.tool_fees(m, at).items()},
        "windows": [window_dict(w) for w in m.windows],
    }


def _show_lines(catalog: Catalog, m: Model, window: RateWindow | None, at: dt.datetime | None) -> list[str]:
    title = f"{m.key}" + (f"  {m.name}" if m.name else "")
    facts = [f"billing: {m.billing}"]
    if m.context_window:
        facts.append(f"context: {format_tokens(m.context_window)} tokens")
    lines = [title, "  ".join(facts), f"names: {', '.join(m.names())}"]
    if m.match_prefix:
        lines.append(f"prefixes: {', '.join(m.match_prefix)}")
    if window is None:
        lines.append(f"no rates in force on {day_text(at)}")
    else:
        lines += ["", f"rates on {day_text(at)} ({span_text(window)}), USD per million tokens:"]
        lines += ["  " + line for line in _rate_table(window)]
        modifiers = _modifiers(catalog, m, window)
        if modifiers:
            lines += ["", "service tiers and batch (USD per million tokens, or × the standard rates):"]
            lines += ["  " + line for line in _modifier_table(modifiers)]
        fees = catalog.tool_fees(m, at)
        if fees:
            lines += ["", "tool fees:"]
            lines += ["  " + line for line in _tool_table(fees)]
        lines.append(f"source: {window.source or '-'}  checked: {window.checked or '-'}")
    if len(m.windows) > 1:
        lines += ["", "windows:", *("  " + line for line in _windows_table(m, window))]
    return lines


def _rate_table(w: RateWindow) -> list[str]:
    headers = ["bucket", "rate", *(f"> {format_tokens(t)} input" for t, _ in w.tiers)]
    columns = [w.rates.as_tuple(), *(r.as_tuple() for _, r in w.tiers)]
    rows = [[BUCKET_LABELS[b], *(format_usd(col[i]) for col in columns)] for i, b in enumerate(BUCKETS[:6])]
    if w.request_fee:
        rows.append(["request fee", format_usd(w.request_fee) + " each"] + [""] * len(w.tiers))
    if w.gpu_hour is not None:
        rows.append(["gpu time", format_usd(w.gpu_hour) + " /hour"] + [""] * len(w.tiers))
    return format_table(headers, rows, right=[False, *([True] * (len(headers) - 1))])


def _modifiers(catalog: Catalog, m: Model, window: RateWindow | None) -> dict[str, Modifier]:
    """The service tiers and batch price in force, by name (``batch`` for batch): the window's, else the model's
    multiplier, else the provider's (the order ``Catalog.price`` looks in)."""
    prov = catalog.providers[m.provider]
    found: dict[str, Modifier] = {**prov.service_tiers, **m.service_tiers}
    if window is not None:
        found.update(window.service_tiers)
    batch = (window.batch if window is not None else None) or m.batch or prov.batch
    if batch is not None:
        found["batch"] = batch
    return dict(sorted(found.items()))


def _modifier_table(modifiers: dict[str, Modifier]) -> list[str]:
    headers = ["tier", *(BUCKET_LABELS[b] for b in BUCKETS[:6])]
    rows = []
    for name, value in modifiers.items():
        if isinstance(value, RateTable):
            long = "" if value.tiers is None else f" (+{len(value.tiers)} long-context)" if value.tiers else ""
            rows.append([name + long, *(format_usd(r) for r in value.rates.as_tuple())])
        else:
            rows.append([name, f"×{format_decimal(value)}", *([""] * 5)])
    return format_table(headers, rows, right=[False, *([True] * 6)])


def _tool_table(fees: dict[str, Decimal]) -> list[str]:
    rows = []
    for tool in TOOLS:
        fee = fees.get(tool.counter)
        if fee is not None:
            unit = "per use" if tool.per == 1 else "per 1,000 uses"
            rows.append([tool.bucket.replace("_", " "), f"{format_usd(fee * tool.per)} {unit}"])
    return format_table(["tool", "fee"], rows, right=[False, True])


def _windows_table(m: Model, current: RateWindow | None) -> list[str]:
    rows = []
    for w in m.windows:
        mark = "*" if w is current else " "
        start = w.effective_from.isoformat() if w.effective_from else "origin"
        until = w.effective_until.isoformat() if w.effective_until else "-"
        r = w.rates
        rows.append([mark, start, until, format_usd(r.input), format_usd(r.output), format_usd(r.cache_read)])
    headers = [" ", "from", "until", "input", "output", "cache read"]
    return format_table(headers, rows, right=[False, False, False, True, True, True])
