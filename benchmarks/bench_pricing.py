"""Pricing one call (resolve + compute, warm) and loading the catalog, beside genai-prices, LiteLLM and tokencost.

Targets: at most 1 µs median per priced call with a warm cache, a service tier and tool fees included; at most 30 ms
to load the bundled catalog.

Every contender prices the same usage of the same model in the same run; the cost each returns is printed beside
its time, and one that differs from ours is marked (LiteLLM's ``cost_per_token`` leaves tool fees out; tokencost has
no service tiers or tools). Peers are optional (the ``bench`` extra): a missing one prints "not installed".
LiteLLM is told to use its bundled price map (``LITELLM_LOCAL_MODEL_COST_MAP``), so nothing touches the network.

Run: ``python benchmarks/bench_pricing.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pricing
from pricing import _catalog

TARGET_NS = 1_000
TARGET_LOAD_MS = 30.0
MODEL = "gpt-4o"


@dataclass(frozen=True)
class Mix:
    label: str
    input: int
    output: int
    cache_read: int = 0
    model: str = MODEL
    tier: str | None = None  # service tier
    web_searches: int = 0

    def usage(self) -> pricing.Usage:
        return pricing.Usage(
            input_tokens=self.input,
            output_tokens=self.output,
            cache_read_tokens=self.cache_read,
            web_search_requests=self.web_searches,
        )


MIXES = (
    Mix("1,000 in / 200 out", 1000, 200),
    Mix("12,000 in (8,000 cached) / 800 out", 12000, 800, 8000),
    Mix("priority tier, 12,000 in (8,000 cached) / 800 out, 2 web searches", 12000, 800, 8000, "gpt-5", "priority", 2),
)


# -- contenders: each returns a zero-argument callable that prices the mix and returns the cost ----------------------


def ours(mix: Mix) -> Callable[[], Any]:
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    usage, model, tier = mix.usage(), mix.model, mix.tier
    if tier is None:
        return lambda: catalog.price(usage, model).cost_usd
    return lambda: catalog.price(usage, model, tier=tier).cost_usd


def ours_at(mix: Mix) -> Callable[[], Any]:
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    usage, ts = mix.usage(), time.time()  # what the recorder passes: the call's end time, epoch seconds
    model, tier = mix.model, mix.tier
    return lambda: catalog.price(usage, model, at=ts, tier=tier).cost_usd


def ours_plan(mix: Mix) -> Callable[[], Any]:
    """What the recorder does per call: its memoised rate plan, integer pico-dollars (the memo lookup included)."""
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    ts = time.time()
    key = (mix.model, "openai", mix.tier, False)
    memo = {key: catalog.rate_plan(mix.model, "openai", ts, tier=mix.tier)}
    inp, out, cached, searches = mix.input, mix.output, mix.cache_read, mix.web_searches

    def price() -> Any:
        plan, since, until = memo[key]
        if not since <= ts < until:
            raise AssertionError("the plan no longer holds")
        return Decimal(plan.pico_total(inp, out, cached, 0, 0, 0, searches)).scaleb(-12)

    return price


def genai_prices(mix: Mix) -> Callable[[], Any]:
    from genai_prices import Usage, calc_price

    usage = Usage(
        input_tokens=mix.input,
        output_tokens=mix.output,
        cache_read_tokens=mix.cache_read or None,
        web_searches=mix.web_searches or None,
    )
    context = {"service_tier": mix.tier} if mix.tier else None
    return lambda: calc_price(usage, model_ref=mix.model, provider_id="openai", price_context=context).total_price


def litellm(mix: Mix) -> Callable[[], Any]:
    from litellm import cost_per_token

    def price() -> float:
        prompt, completion = cost_per_token(
            model=mix.model,
            prompt_tokens=mix.input,
            completion_tokens=mix.output,
            cache_read_input_tokens=mix.cache_read,
            service_tier=mix.tier,
        )
        return prompt + completion  # LiteLLM adds tool fees in completion_cost(), from a response, not here

    return price


def tokencost(mix: Mix) -> Callable[[], Any]:
    from tokencost import calculate_cost_by_tokens as cost

    if mix.tier or mix.web_searches:
        raise NotImplementedError("no service tiers or tool fees")
    model = mix.model
    uncached = mix.input - mix.cache_read
    if not mix.cache_read:
        return lambda: cost(uncached, model, "input") + cost(mix.output, model, "output")
    return lambda: (
        cost(uncached, model, "input") + cost(mix.cache_read, model, "cached") + cost(mix.output, model, "output")
    )


CONTENDERS: list[tuple[str, Callable[[Mix], Callable[[], Any]]]] = [
    ("ours: Catalog.price", ours),
    ("ours: Catalog.price(at=epoch)", ours_at),
    ("ours: rate plan (the recorder)", ours_plan),
    ("genai-prices calc_price", genai_prices),
    ("litellm cost_per_token", litellm),
    ("tokencost (one call per bucket)", tokencost),
]


# -- timing ---------------------------------------------------------------------------------------------------------


def time_ns(fn: Callable[[], Any], repeat: int, budget_s: float) -> tuple[float, float]:
    """(median, best) over ``repeat`` samples of the mean time per call; each sample runs about ``budget_s`` s.

    The best sample shows what the code costs on a quiet machine; the median is the figure compared to the target.
    """
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()
    number = max(1, int(number * budget_s / max(elapsed, 1e-9)))
    samples = timer.repeat(repeat=repeat, number=number)
    return statistics.median(samples) / number * 1e9, min(samples) / number * 1e9


def _usd(value: Any) -> str:
    return pricing.format_usd(Decimal(str(value)))


def bench_mix(mix: Mix, repeat: int, budget_s: float) -> None:
    print(f"\npricing one call, warm: {mix.model}, {mix.label} (median ns per call, {repeat} samples)")
    rows: list[tuple[str, tuple[float, float] | None, str]] = []
    expected = None
    for name, make in CONTENDERS:
        try:
            fn = make(mix)
        except ImportError:
            rows.append((name, None, "not installed"))
            continue
        except NotImplementedError as exc:
            rows.append((name, None, str(exc)))
            continue
        cost = fn()  # also warms caches
        expected = expected if expected is not None else Decimal(str(cost))
        differs = "" if Decimal(str(cost)).quantize(Decimal("1e-12")) == expected else "  (differs from ours)"
        rows.append((name, time_ns(fn, repeat, budget_s), _usd(cost) + differs))
    base = rows[0][1][0] if rows[0][1] else None
    print(f"  {'contender':34} {'ns/call':>11} {'best':>9} {'vs ours':>9}  cost")
    for name, ns, cost in rows:
        if ns is None:
            print(f"  {name:34} {'-':>11} {'-':>9} {'-':>9}  {cost}")
        else:
            ratio = f"{ns[0] / base:.1f}×" if base else "-"
            print(f"  {name:34} {ns[0]:>11,.0f} {ns[1]:>9,.0f} {ratio:>9}  {cost}")
    verdict = "met" if base is not None and base <= TARGET_NS else "MISSED"
    print(f"  target: ours ≤ {TARGET_NS:,} ns: {verdict}")


# -- loading --------------------------------------------------------------------------------------------------------


def load_in_process_ms(path: Path, repeat: int) -> float:
    """Read, parse, check and build the catalog, with the load cache emptied before each run."""
    samples = []
    for _ in range(repeat):
        _catalog._CACHE.clear()
        start = time.perf_counter()
        pricing.load_catalog(path, overrides=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


_FIRST_PRICE = {
    "ours": "import pricing; pricing.load_catalog(overrides=False).price(pricing.Usage(input_tokens=1000, "
    "output_tokens=200), 'gpt-4o').cost_usd",
    "genai-prices": "from genai_prices import Usage, calc_price; "
    "calc_price(Usage(input_tokens=1000, output_tokens=200), model_ref='gpt-4o', provider_id='openai')",
    "litellm": "import litellm; litellm.cost_per_token(model='gpt-4o', prompt_tokens=1000, completion_tokens=200)",
    "tokencost": "import tokencost; tokencost.calculate_cost_by_tokens(1000, 'gpt-4o', 'input')",
}


def first_price_ms(code: str, repeat: int) -> float | None:
    """A new interpreter: imports, catalog load and the first priced call (interpreter start-up excluded)."""
    probe = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            return None
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples) * 1e3


def bench_load(repeat: int) -> None:
    path = pricing.bundled_catalog_path()
    catalog = pricing.load_catalog(path, overrides=False)
    ms = load_in_process_ms(path, repeat * 3)
    size = path.stat().st_size / 1024
    print(f"\nloading the bundled catalog ({len(catalog.models)} models, {size:,.0f} KiB, {path.name})")
    verdict = "met" if ms <= TARGET_LOAD_MS else "MISSED"
    print(f"  in process, cold cache (median): {ms:.1f} ms   target ≤ {TARGET_LOAD_MS:.0f} ms: {verdict}")
    print(f"\nfirst priced call in a new process (imports + load + price; median of {repeat})")
    results = {name: first_price_ms(code, repeat) for name, code in _FIRST_PRICE.items()}
    base = results["ours"]
    for name, value in results.items():
        if value is None:
            print(f"  {name:14} not installed")
        else:
            ratio = f"{value / base:.1f}×" if base else "-"
            print(f"  {name:14} {value:9.1f} ms {ratio:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    args = parser.parse_args(argv)
    repeat, budget = (5, 0.05) if args.quick else (15, 0.2)
    print(f"python {sys.version.split()[0]}, catalog {pricing.bundled_catalog_path()}")
    for mix in MIXES:
        bench_mix(mix, repeat, budget)
    bench_load(3 if args.quick else 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
