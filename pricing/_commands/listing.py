"""``pricing list``: every model with the rates in force today (one ``provider/*`` row per free or router provider)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pricing._catalog import Catalog
from pricing._commands._args import add_lookup_options
from pricing._commands._common import catalog_of, guarded, print_json, provider_of
from pricing._format import format_decimal, format_table, format_tokens, format_usd
from pricing._model import Model

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``list`` to the ``pricing`` parser."""
    p = sub.add_parser("list", help="list models with their current rates", description="List the catalog's models.")
    add_lookup_options(p, at=False)
    p.set_defaults(func=run)


@guarded
def run(args: argparse.Namespace) -> int:
    """Every model with the rates in force today."""
    catalog = catalog_of(args)
    provider = provider_of(catalog, args)
    rows = [_list_row(catalog, m) for m in catalog.iter_models(provider)]
    rows += list(_provider_rows(catalog, provider))
    if args.json:
        print_json(rows)
        return 0
    print("\n".join(_list_lines(rows)))
    print(f"{len(rows)} models, catalog {catalog.version}, USD per million tokens")
    return 0


def _list_row(catalog: Catalog, m: Model) -> dict[str, Any]:
    window = catalog.window_for(m)
    rates = window.rates if window is not None else None
    by_tokens = rates is not None and m.billing == "tokens"
    return {
        "model": m.id,
        "provider": m.provider,
        "billing": m.billing if window is not None or m.billing in ("free", "dynamic") else "retired",
        "input_mtok": format_decimal(rates.input) if rates and by_tokens else None,
        "output_mtok": format_decimal(rates.output) if rates and by_tokens else None,
        "cache_read_mtok": format_decimal(rates.cache_read) if rates and by_tokens else None,
        "gpu_hour": format_decimal(window.gpu_hour) if window is not None and window.gpu_hour is not None else None,
        "context_window": m.context_window,
    }


def _provider_rows(catalog: Catalog, provider: str | None) -> Iterable[dict[str, Any]]:
    """Free and router providers price every model name under them, listed or not: one ``provider/*`` row each."""
    for prov in sorted(catalog.providers.values(), key=lambda p: p.id):
        if prov.billing != "tokens" and (provider is None or prov.id == provider):
            yield {"model": "*", "provider": prov.id, "billing": prov.billing}


def _money(value: str | None, suffix: str = "") -> str:
    return "-" if value is None else format_usd(Decimal(value)) + suffix


def _list_lines(rows: list[dict[str, Any]]) -> list[str]:
    cells = []
    for r in rows:
        context = format_tokens(r["context_window"]) if r.get("context_window") else "-"
        if r.get("gpu_hour") is not None:
            rates = [_money(r["gpu_hour"], "/h"), "-", "-"]
        else:
            rates = [_money(r.get(k)) for k in ("input_mtok", "output_mtok", "cache_read_mtok")]
        cells.append([f"{r['provider']}/{r['model']}", r["billing"], *rates, context])
    headers = ["model", "billing", "input", "output", "cache read", "context"]
    return format_table(headers, cells, right=[False, False, True, True, True, True])
