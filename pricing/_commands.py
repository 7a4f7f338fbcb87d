"""``pricing show | cost | list | compare | validate``: each takes the parsed arguments and returns the exit code.

Exit codes: 0 done, 1 a problem found (``validate``) or a catalog that cannot be used, 2 bad input (unknown model,
impossible usage, bad date). Errors are one line on stderr: ``pricing: error: ...``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing import _load
from pricing._catalog import Catalog, _day, load_catalog, parse_timestamp
from pricing._format import format_tokens, format_usd, plain, table
from pricing._model import BUCKETS, ImpossibleUsage, Model, Price, Rates, RateWindow, Usage

__all__ = ["cmd_compare", "cmd_cost", "cmd_list", "cmd_show", "cmd_validate"]

PROG = "pricing"
_LABELS = {
    "input": "input",
    "cache_read": "cache read",
    "cache_write_5m": "cache write 5m",
    "cache_write_1h": "cache write 1h",
    "output": "output",
    "reasoning": "reasoning",
    "request": "request fee",
    "gpu": "gpu time",
}
_RATE_KEYS = (
    "input_mtok",
    "cache_read_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "output_mtok",
    "reasoning_mtok",
)
_DEFAULT_TIERS = ("default", "standard", "auto")


class Fail(Exception):
    """Stops a command with a one-line error and an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except Fail as exc:
            return _error(str(exc), exc.code)
        except ImpossibleUsage as exc:
            return _error(f"impossible usage: {exc}", 2)
        except _load.CatalogError as exc:
            return _error(str(exc), 1)

    run.__doc__ = command.__doc__
    return run


def _error(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


# -- shared ---------------------------------------------------------------------------------------------------------


def _catalog(args: argparse.Namespace) -> Catalog:
    path = getattr(args, "catalog", None)
    if path is not None and not Path(path).is_file():
        raise Fail(f"catalog file not found: {path}")
    return load_catalog(path, overrides=not getattr(args, "no_overrides", False))


def _at(args: argparse.Namespace) -> dt.datetime | None:
    text = getattr(args, "at", None)
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise Fail(f"--at: not an ISO-8601 date or time (YYYY-MM-DD[THH:MM[:SS]][Z]): {text!r}") from None


def _provider(catalog: Catalog, args: argparse.Namespace) -> str | None:
    name = getattr(args, "provider", None)
    if name is None:
        return None
    pid = catalog.provider_id(name)
    if pid is None:
        raise Fail(f"unknown provider {name!r} (known: {', '.join(sorted(catalog.providers))})")
    return pid


def unknown_model_message(catalog: Catalog, name: str) -> str:
    """``unknown model 'x' (did you mean: a, b?)`` with close matches over every declared name."""
    candidates = catalog.model_names()
    close = difflib.get_close_matches(name.strip().lower(), candidates, n=3, cutoff=0.6)
    if not close and "/" in name:
        close = difflib.get_close_matches(name.rpartition("/")[2].lower(), candidates, n=3, cutoff=0.6)
    hint = f" (did you mean: {', '.join(close)}?)" if close else " (see `pricing list`)"
    return f"unknown model {name!r}{hint}"


def _find(catalog: Catalog, name: str, provider: str | None) -> Model:
    model = catalog.resolve(name, provider)
    if model is None:
        raise Fail(unknown_model_message(catalog, name))
    return model


def _day_text(at: dt.datetime | None) -> str:
    return _day(at).isoformat()


def _rates_dict(rates: Rates) -> dict[str, str]:
    return {key: plain(value) for key, value in zip(_RATE_KEYS, rates.as_tuple())}


def _window_dict(w: RateWindow) -> dict[str, Any]:
    return {
        "effective_from": w.effective_from.isoformat() if w.effective_from else None,
        "effective_until": w.effective_until.isoformat() if w.effective_until else None,
        "source": w.source,
        "checked": w.checked.isoformat() if w.checked else None,
        "rates": _rates_dict(w.rates),
        "tiers": [{"above_input_tokens": t, "rates": _rates_dict(r)} for t, r in w.tiers],
        "request_fee": plain(w.request_fee),
        "gpu_hour": None if w.gpu_hour is None else plain(w.gpu_hour),
    }


def _span(w: RateWindow) -> str:
    start = w.effective_from.isoformat() if w.effective_from else None
    end = w.effective_until.isoformat() if w.effective_until else None
    if start and end:
        return f"{start} .. {end}"
    return f"since {start}" if start else (f"until {end}" if end else "undated")


# -- show -----------------------------------------------------------------------------------------------------------


@_guarded
def cmd_show(args: argparse.Namespace) -> int:
    """Rates in force, the tiers and the dated windows of one model."""
    catalog = _catalog(args)
    provider, at = _provider(catalog, args), _at(args)
    model = catalog.resolve(args.model, provider)
    if model is None:
        return _show_provider_rule(catalog, args, provider)
    window = catalog.window_for(model, at)
    if args.json:
        _print_json(_show_dict(catalog, model, window, at))
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
        _print_json({"model": args.model, "provider": prov.id, "billing": prov.billing})
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
        "batch": None if m.batch is None else plain(m.batch),
        "catalog_version": catalog.version,
        "at": _day_text(at),
        "window": index,
        "price_ref": None if index is None else m.refs[index],
        "windows": [_window_dict(w) for w in m.windows],
    }


def _show_lines(catalog: Catalog, m: Model, window: RateWindow | None, at: dt.datetime | None) -> list[str]:
    title = f"{m.key}" + (f"  {m.name}" if m.name else "")
    facts = [f"billing: {m.billing}"]
    if m.context_window:
        facts.append(f"context: {format_tokens(m.context_window)} tokens")
    batch = m.batch if m.batch is not None else catalog.providers[m.provider].batch
    if batch is not None:
        facts.append(f"batch: ×{plain(batch)}")
    lines = [title, "  ".join(facts), f"names: {', '.join(m.names())}"]
    if m.match_prefix:
        lines.append(f"prefixes: {', '.join(m.match_prefix)}")
    if window is None:
        lines.append(f"no rates in force on {_day_text(at)}")
    else:
        lines += ["", f"rates on {_day_text(at)} ({_span(window)}), USD per million tokens:"]
        lines += ["  " + line for line in _rate_table(window)]
        lines.append(f"source: {window.source or '-'}  checked: {window.checked or '-'}")
    if len(m.windows) > 1:
        lines += ["", "windows:", *("  " + line for line in _windows_table(m, window))]
    return lines


def _rate_table(w: RateWindow) -> list[str]:
    headers = ["bucket", "rate", *(f"> {format_tokens(t)} input" for t, _ in w.tiers)]
    columns = [w.rates.as_tuple(), *(r.as_tuple() for _, r in w.tiers)]
    rows = [[_LABELS[b], *(format_usd(col[i]) for col in columns)] for i, b in enumerate(BUCKETS[:6])]
    if w.request_fee:
        rows.append(["request fee", format_usd(w.request_fee) + " each"] + [""] * len(w.tiers))
    if w.gpu_hour is not None:
        rows.append(["gpu time", format_usd(w.gpu_hour) + " /hour"] + [""] * len(w.tiers))
    return table(headers, rows, right=[False, *([True] * (len(headers) - 1))])


def _windows_table(m: Model, current: RateWindow | None) -> list[str]:
    rows = []
    for w in m.windows:
        mark = "*" if w is current else " "
        start = w.effective_from.isoformat() if w.effective_from else "origin"
        until = w.effective_until.isoformat() if w.effective_until else "-"
        r = w.rates
        rows.append([mark, start, until, format_usd(r.input), format_usd(r.output), format_usd(r.cache_read)])
    headers = [" ", "from", "until", "input", "output", "cache read"]
    return table(headers, rows, right=[False, False, False, True, True, True])


# -- cost -----------------------------------------------------------------------------------------------------------


def _usage(args: argparse.Namespace) -> Usage:
    return Usage(
        input_tokens=args.input,
        output_tokens=args.output,
        cache_read_tokens=args.cache_read,
        cache_write_tokens=getattr(args, "cache_write", 0),
        cache_write_1h_tokens=getattr(args, "cache_write_1h", 0),
        reasoning_tokens=args.reasoning,
        gpu_seconds=getattr(args, "gpu_seconds", None),
    )


def _usage_dict(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens + u.cache_write_1h_tokens,
        "cache_write_1h_tokens": u.cache_write_1h_tokens,
        "reasoning_output_tokens": u.reasoning_tokens,
        "gpu_seconds": u.gpu_seconds,
    }


def _check_tier(catalog: Catalog, model: Model | None, tier: str | None) -> None:
    if not tier or model is None or tier.lower() in _DEFAULT_TIERS:
        return
    known = catalog.providers[model.provider].service_tiers
    if tier not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise Fail(f"unknown service tier {tier!r} for {model.provider} (known: {listed})")


@_guarded
def cmd_cost(args: argparse.Namespace) -> int:
    """The cost of one call, bucket by bucket."""
    catalog = _catalog(args)
    provider, at, usage = _provider(catalog, args), _at(args), _usage(args)
    usage.exclusive()  # impossible usage is bad input, whatever the model
    model = catalog.resolve(args.model, provider)
    _check_tier(catalog, model, args.service_tier)
    tier = None if args.service_tier and args.service_tier.lower() in _DEFAULT_TIERS else args.service_tier
    price = catalog.price(usage, args.model, provider, at=at, batch=args.batch, service_tier=tier)
    if price.status == "unknown_model":
        if model is not None:
            raise Fail(f"no rates for {model.key} on {_day_text(at)} (see `pricing show {model.id}`)")
        raise Fail(unknown_model_message(catalog, args.model))
    window = catalog.window_for(model, at) if model is not None else None
    if args.json:
        _print_json(_cost_dict(catalog, price, usage, window))
    else:
        print("\n".join(_cost_lines(catalog, price, usage, window, args)))
    return 0


def _cost_dict(catalog: Catalog, price: Price, usage: Usage, window: RateWindow | None) -> dict[str, Any]:
    data = price.to_dict()
    data["usage"] = _usage_dict(usage)
    data["catalog_version"] = catalog.version
    if window is not None and price.status == "priced":
        data["rates"] = _rates_dict(window.rates_for(usage.input_tokens))
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
    lines = [f"{who}, rates {_span(window)}, catalog {catalog.version}"]
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
    region = catalog._resolve(args.model, provider).multiplier
    if region != 1:
        reasons.append(f"region ×{plain(region)}")
    batch = _batch_factor(catalog, args) if args.batch else None
    if batch is not None:
        reasons.append(f"batch ×{plain(batch)}")
    tiers = catalog.providers[model.provider].service_tiers if model else {}
    if args.service_tier in tiers:
        reasons.append(f"{args.service_tier} tier ×{plain(tiers[args.service_tier])}")
    return ", ".join(reasons)


def _bucket_rows(price: Price, usage: Usage, window: RateWindow) -> list[list[str]]:
    rates = window.rates_for(usage.input_tokens).as_tuple()
    counts = usage.exclusive()
    by_gpu = window.gpu_hour is not None and usage.gpu_seconds is not None
    rows = []
    for i, (bucket, cost) in enumerate(price.breakdown.items()):
        if i < 6:
            if counts[i] or (bucket in ("input", "output") and not by_gpu):
                rows.append([_LABELS[bucket], format_tokens(counts[i]), format_usd(rates[i]), format_usd(cost)])
        elif bucket == "request" and cost:
            rows.append([_LABELS[bucket], f"{usage.requests} req", format_usd(window.request_fee), format_usd(cost)])
        elif bucket == "gpu" and window.gpu_hour is not None:
            seconds = f"{usage.gpu_seconds or 0:g} s"
            rows.append([_LABELS[bucket], seconds, format_usd(window.gpu_hour) + "/h", format_usd(cost)])
    return rows


def _bucket_table(price: Price, usage: Usage, window: RateWindow, why: str) -> list[str]:
    assert price.cost_usd is not None
    rows = _bucket_rows(price, usage, window)
    if price.multiplier != 1:
        subtotal = sum(price.breakdown.values(), Decimal(0))
        rows.append(["subtotal", "", "", format_usd(subtotal)])
        rows.append(["multiplier", "", f"×{plain(price.multiplier)}", ""])
    total_tokens = usage.input_tokens + usage.output_tokens
    rows.append(["total", format_tokens(total_tokens) if total_tokens else "", "", format_usd(price.cost_usd)])
    lines = table(["bucket", "tokens", "$/Mtok", "cost"], rows, right=[False, True, True, True])
    return [*lines, f"multiplier: {why}"] if why else lines


# -- list -----------------------------------------------------------------------------------------------------------


def _list_row(catalog: Catalog, m: Model) -> dict[str, Any]:
    window = catalog.window_for(m)
    rates = window.rates if window is not None else None
    return {
        "model": m.id,
        "provider": m.provider,
        "billing": m.billing if window is not None or m.billing in ("free", "dynamic") else "retired",
        "input_mtok": plain(rates.input) if rates and m.billing == "tokens" else None,
        "output_mtok": plain(rates.output) if rates and m.billing == "tokens" else None,
        "cache_read_mtok": plain(rates.cache_read) if rates and m.billing == "tokens" else None,
        "gpu_hour": plain(window.gpu_hour) if window is not None and window.gpu_hour is not None else None,
        "context_window": m.context_window,
    }


def _provider_rows(catalog: Catalog, provider: str | None) -> Iterable[dict[str, Any]]:
    """Free and router providers price every model name under them, listed or not: one ``provider/*`` row each."""
    for prov in sorted(catalog.providers.values(), key=lambda p: p.id):
        if prov.billing != "tokens" and (provider is None or prov.id == provider):
            yield {"model": "*", "provider": prov.id, "billing": prov.billing}


@_guarded
def cmd_list(args: argparse.Namespace) -> int:
    """Every model with the rates in force today."""
    catalog = _catalog(args)
    provider = _provider(catalog, args)
    rows = [_list_row(catalog, m) for m in catalog.iter_models(provider)]
    rows += list(_provider_rows(catalog, provider))
    if args.json:
        _print_json(rows)
        return 0
    print("\n".join(_list_lines(rows)))
    print(f"{len(rows)} models, catalog {catalog.version}, USD per million tokens")
    return 0


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
    return table(headers, cells, right=[False, False, True, True, True, True])


# -- compare --------------------------------------------------------------------------------------------------------


def _ranked(catalog: Catalog, usage: Usage, args: argparse.Namespace) -> list[Price]:
    provider, at = _provider(catalog, args), _at(args)
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


@_guarded
def cmd_compare(args: argparse.Namespace) -> int:
    """Models ranked by the cost of one token mix, cheapest first, with the ratio to the cheapest."""
    catalog = _catalog(args)
    usage = _usage(args)
    usage.exclusive()
    ranked = _ranked(catalog, usage, args)
    if not ranked:
        raise Fail("no priced model to compare" + (f" for provider {args.provider!r}" if args.provider else ""))
    shown = ranked[: args.limit] if args.limit else ranked
    base = next((p.cost_usd for p in ranked if p.cost_usd), None)
    if args.json:
        _print_json(_compare_dict(usage, shown, base, len(ranked)))
        return 0
    print(_mix_line(usage))
    print("\n".join(_compare_lines(shown, base)))
    if len(shown) < len(ranked):
        print(f"({len(ranked) - len(shown)} more; --limit 0 shows all)")
    return 0


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
    return table(["#", "model", "cost", "vs cheapest"], rows, right=[True, False, True, True])


def _compare_dict(usage: Usage, prices: list[Price], base: Decimal | None, total: int) -> dict[str, Any]:
    models = []
    for rank, p in enumerate(prices, 1):
        assert p.cost_usd is not None
        ratio = None if not base or not p.cost_usd else plain(round(p.cost_usd / base, 4))
        models.append({"rank": rank, **p.to_dict(), "ratio": ratio})
    return {"usage": _usage_dict(usage), "compared": total, "models": models}


# -- validate -------------------------------------------------------------------------------------------------------


@_guarded
def cmd_validate(args: argparse.Namespace) -> int:
    """Schema, window and name-conflict checks of one file; every problem on its own line."""
    path = Path(args.file)
    if not path.is_file():
        raise Fail(f"no such file: {path}")
    problems, catalog = _problems(path, strict=not args.override)
    if problems:
        for problem in problems:
            print(f"{path}: {problem}")
        return _error(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {path}", 1)
    assert catalog is not None
    print(f"ok: {len(catalog.providers)} providers, {len(catalog.models)} models")
    return 0


def _problems(path: Path, *, strict: bool) -> tuple[list[str], Catalog | None]:
    try:
        doc = _load.load_document(path)
    except _load.CatalogError as exc:
        return [str(exc).removeprefix(f"{path}: ")], None
    problems = _load.validate_document(doc, strict=strict)
    if problems:
        return problems, None
    try:
        catalog = Catalog(doc, origin=str(path), check_names=False)
    except (_load.CatalogError, KeyError, TypeError, ValueError) as exc:  # a shape the schema check let through
        return [f"cannot build the catalog: {exc}"], None
    return [f"ambiguous name: {c}" for c in catalog.name_conflicts()], catalog
