"""``pricing compare --input N --output N``: every priced model ranked by the cost of one token mix."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from pricing._catalog import Catalog
from pricing._commands._args import add_lookup_options, add_usage_options, token_count
from pricing._commands._common import Fail, catalog_of, guarded, print_json, provider_of, timestamp_of
from pricing._commands.cost import usage_dict, usage_of
from pricing._format import format_decimal, format_table, format_tokens, format_usd
from pricing._model import Price, Usage

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``compare`` to the ``pricing`` parser."""
    p = sub.add_parser(
        "compare",
        help="rank models by the cost of a token mix, cheapest first",
        description="Rank every priced model by what this token mix costs, with the ratio to the cheapest. Models "
        "with no output rate (embeddings) are left out when the mix has output tokens.",
    )
    add_usage_options(p, cache_writes=False)
    p.add_argument(
        "--limit", type=token_count, default=25, metavar="K", help="show the K cheapest (0: all; default 25)"
    )
    p.add_argument("--include-free", action="store_true", help="include free (local) models")
    add_lookup_options(p)
    p.set_defaults(func=run)


@guarded
def run(args: argparse.Namespace) -> int:
    """Models ranked by the cost of one token mix, cheapest first, with the ratio to the cheapest."""
    catalog = catalog_of(args)
    usage = usage_of(args)
    usage.exclusive()
    ranked = _ranked(catalog, usage, args)
    if not ranked:
        raise Fail("no priced model to compare" + (f" for provider {args.provider!r}" if args.provider else ""))
    shown = ranked[: args.limit] if args.limit else ranked
    base = next((p.cost_usd for p in ranked if p.cost_usd), None)
    if args.json:
        print_json(_compare_dict(usage, shown, base, len(ranked)))
        return 0
    print(_mix_line(usage))
    print("\n".join(_compare_lines(shown, base)))
    if len(shown) < len(ranked):
        print(f"({len(ranked) - len(shown)} more; --limit 0 shows all)")
    return 0


def _ranked(catalog: Catalog, usage: Usage, args: argparse.Namespace) -> list[Price]:
    provider, at = provider_of(catalog, args), timestamp_of(args)
    wanted = ("priced", "free") if args.include_free else ("priced",)
    prices = []
    for m in catalog.iter_models(provider):
        price = catalog.price(usage, m.key, m.provider, at=at)
        if price.status in wanted and price.cost_usd is not None and not _makes_no_output(price, usage):
            prices.append(price)
    prices.sort(key=lambda p: (p.cost_usd, f"{p.provider}/{p.model}"))
    return prices


def _makes_no_output(price: Price, usage: Usage) -> bool:
    """A priced model with no output rate (an embedding model) asked for output tokens: not comparable."""
    if not usage.output_tokens or price.status != "priced" or not price.cost_usd:
        return False
    b = price.breakdown
    return not (b.get("output") or b.get("reasoning"))


def _ratio(cost: Decimal, base: Decimal | None) -> str:
    if not base:
        return "-"
    ratio = cost / base
    return f"{ratio:.1f}×" if ratio < 100 else f"{ratio:.0f}×"


def _mix_line(u: Usage) -> str:
    parts = [f"{format_tokens(u.input_tokens)} input"]
    if u.cache_read_tokens:
        parts.append(f"{format_tokens(u.cache_read_tokens)} of them cached")
    parts.append(f"{format_tokens(u.output_tokens)} output")
    if u.reasoning_tokens:
        parts.append(f"{format_tokens(u.reasoning_tokens)} of them reasoning")
    return "token mix: " + ", ".join(parts)


def _compare_lines(prices: list[Price], base: Decimal | None) -> list[str]:
    rows = []
    for rank, p in enumerate(prices, 1):
        assert p.cost_usd is not None
        ratio = "free" if p.status == "free" else _ratio(p.cost_usd, base)
        rows.append([str(rank), f"{p.provider}/{p.model}", format_usd(p.cost_usd), ratio])
    return format_table(["#", "model", "cost", "vs cheapest"], rows, right=[True, False, True, True])


def _compare_dict(usage: Usage, prices: list[Price], base: Decimal | None, total: int) -> dict[str, Any]:
    models = []
    for rank, p in enumerate(prices, 1):
        assert p.cost_usd is not None
        ratio = None if not base or not p.cost_usd else format_decimal(round(p.cost_usd / base, 4))
        models.append({"rank": rank, **p.to_dict(), "ratio": ratio})
    return {"usage": usage_dict(usage), "compared": total, "models": models}
