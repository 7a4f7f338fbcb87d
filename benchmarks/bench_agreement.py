"""Agreement with the peers' own calculators, after ``pricing update`` from each peer's own data.

Target: after ``pricing update`` from a source's data, ``pricing``'s cost equals that source's own calculator
(LiteLLM ``cost_per_token``, genai-prices ``calc_price``) on every chat model the source prices with plain input and
output tokens, except where the difference comes from a documented, deliberate rule. The script prints the count of
agreements and lists every exception with its reason; an unexplained disagreement makes it exit non-zero.

Data, the peers' own (the ``bench`` extra installs both):

* LiteLLM: the map shipped in its package (``model_prices_and_context_window_backup.json``), which is also what
  ``cost_per_token`` reads with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (nothing touches the network);
* genai-prices: the data shipped in its package, written out in its v2 JSON shape for ``pricing update``;
  ``--genai-data FILE`` takes a v2 ``data.json`` instead (``calc_price`` then reads the same file).

Each source is applied to a copy of the bundled catalog (``pricing update --output``, forced: the jump guard is
about trusting a source, this is about reading it faithfully), in a scratch ``LLMCOST_HOME``. Two token mixes:
1,000 in / 500 out, and 300,000 in / 2,000 out, which crosses the long-context tiers.

Run: ``python benchmarks/bench_agreement.py [--genai-data FILE] [--show N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import pricing
from pricing._cli import cli_logic

MIXES = ((1_000, 500), (300_000, 2_000))
#: Floats (LiteLLM) agree when they are within this relative distance of the exact figure.
FLOAT_TOLERANCE = Decimal("1e-9")


@dataclass(frozen=True)
class Case:
    """One model a source prices with plain input and output rates, and how each side names it."""

    label: str  # what the report shows
    model: str  # the name passed to pricing
    provider: str | None  # the provider passed to pricing
    theirs: Callable[[int, int], Decimal | None]  # the peer's cost for (input, output) tokens
    entry: Any = None  # the source's own entry, for the explanations


@dataclass
class Outcome:
    agreed: int = 0
    exceptions: Counter[str] = dataclasses.field(default_factory=Counter)
    examples: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    unexplained: list[str] = dataclasses.field(default_factory=list)

    def note(self, reason: str, example: str) -> None:
        self.exceptions[reason] += 1
        self.examples.setdefault(reason, []).append(example)


# -- LiteLLM -------------------------------------------------------------------------------------------------------


def litellm_data() -> Path:
    import litellm

    return Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"


def litellm_cases(data: dict[str, Any]) -> Iterator[Case]:
    from litellm import cost_per_token

    from pricing._sources.litellm import CHAT_MODES, PROVIDER_IDS

    for key, entry in data.items():
        if key == "sample_spec" or not isinstance(entry, dict) or entry.get("mode", "chat") not in CHAT_MODES:
            continue
        if not _plain_rate(entry.get("input_cost_per_token")) or not _plain_rate(entry.get("output_cost_per_token")):
            continue
        raw = entry.get("litellm_provider")
        provider = "vertex_ai" if str(raw).startswith("vertex_ai") else PROVIDER_IDS.get(str(raw), str(raw))

        def theirs(inp: int, out: int, key: str = key, raw: Any = raw) -> Decimal | None:
            prompt, completion = cost_per_token(
                model=key, custom_llm_provider=raw, prompt_tokens=inp, completion_tokens=out
            )
            return Decimal(repr(prompt + completion))

        yield Case(key, key, provider, theirs, entry)


def _plain_rate(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


# -- genai-prices --------------------------------------------------------------------------------------------------


def genai_data(path: Path | None, scratch: Path) -> tuple[Path, list[Any]]:
    """The v2 data file and the providers ``calc_price`` reads (the same data)."""
    from genai_prices import data_snapshot

    if path is not None:
        from genai_prices.types import _providers_from_raw

        providers = _providers_from_raw(json.loads(path.read_text(encoding="utf-8")))
        data_snapshot.set_custom_snapshot(data_snapshot.DataSnapshot(providers, from_auto_update=False))
        return path, providers
    from genai_prices.data import providers

    written = scratch / "genai_prices_v2.json"
    written.write_text(json.dumps([_v2(p) for p in providers]), encoding="utf-8")
    return written, providers


def _v2(obj: Any) -> Any:
    """genai-prices' dataclasses in their v2 JSON shape (``or_`` is ``or``; prices are plain mappings)."""
    if type(obj).__name__ == "ModelPrice":
        return {k: _v2(v) for k, v in vars(obj).items() if v is not None and not k.startswith("_")}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = ((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj) if not f.name.startswith("_"))
        return {name.rstrip("_"): _v2(value) for name, value in fields if value is not None}
    if isinstance(obj, (list, tuple)):
        return [_v2(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _v2(v) for k, v in obj.items()}
    if isinstance(obj, Decimal):
        return float(obj) if obj == Decimal(repr(float(obj))) else str(obj)
    if isinstance(obj, (dt.date, dt.time)):
        return obj.isoformat()
    return obj


def genai_cases(providers: list[Any]) -> Iterator[Case]:
    from genai_prices import Usage, calc_price

    from pricing._sources.genai_prices import PROVIDER_IDS

    now = dt.datetime.now(dt.timezone.utc)
    for prov in providers:
        ours = PROVIDER_IDS.get(prov.id, prov.id).lower().replace(" ", "-")
        for model in prov.models:
            price = model.prices if not isinstance(model.prices, list) else model.prices[-1].prices
            if getattr(price, "input_mtok", None) is None or getattr(price, "output_mtok", None) is None:
                continue

            def theirs(inp: int, out: int, pid: str = prov.id, mid: str = model.id) -> Decimal | None:
                usage = Usage(input_tokens=inp, output_tokens=out)
                return Decimal(
                    calc_price(usage, model_ref=mid, provider_id=pid, genai_request_timestamp=now).total_price
                )

            yield Case(f"{prov.id}/{model.id}", model.id, ours, theirs, model)


# -- comparing -----------------------------------------------------------------------------------------------------


def updated_catalog(source: str, data: Path, scratch: Path) -> tuple[pricing.Catalog, list[str]]:
    """A copy of the bundled catalog after ``pricing update --source SOURCE --from DATA --force``."""
    target = scratch / f"{source}.toml"
    shutil.copy(pricing.bundled_catalog_path(), target)
    out = io.StringIO()
    argv = ["update", "--source", source, "--from", str(data), "--output", str(target), "--force", "--json"]
    with contextlib.redirect_stdout(out):
        code = cli_logic(argv)
    if code != 0:
        raise SystemExit(f"bench_agreement: pricing update --source {source} failed with exit status {code}")
    warnings: list[str] = json.loads(out.getvalue())["warnings"]
    return pricing.load_catalog(target, overrides=False), warnings


def compare(catalog: pricing.Catalog, cases: Iterator[Case], explain: Callable[..., str | None]) -> Outcome:
    outcome = Outcome()
    for case in cases:
        mismatches = []
        for inp, out in MIXES:
            try:
                theirs = case.theirs(inp, out)
            except Exception as exc:  # the peer cannot price its own entry: not ours to judge
                mismatches.append(("peer-error", inp, out, None, f"{type(exc).__name__}"))
                break
            price = catalog.price(pricing.Usage(input_tokens=inp, output_tokens=out), case.model, case.provider)
            if not _same(price.cost_usd, theirs):
                mismatches.append(("differ", inp, out, price, theirs))
        if not mismatches:
            outcome.agreed += 1
            continue
        kind, inp, out, price, theirs = mismatches[0]
        reason = explain(catalog, case, kind, inp, out, price, theirs)
        detail = f"{case.label}: {inp:,} in / {out:,} out: ours {_shown(price)}, theirs {theirs}"
        if reason is None:
            outcome.unexplained.append(detail)
        else:
            outcome.note(reason, detail)
    return outcome


def _same(ours: Decimal | None, theirs: Decimal | None) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    if ours == theirs:
        return True
    return abs(ours - theirs) <= FLOAT_TOLERANCE * max(abs(ours), abs(theirs))


def _shown(price: Any) -> str:
    if price is None:
        return "-"
    return f"{price.cost_usd} ({price.status}{', ' + price.model if price.model else ''})"


# -- the deliberate differences ------------------------------------------------------------------------------------


def explain_litellm(
    catalog: pricing.Catalog, case: Case, kind: str, inp: int, out: int, price: Any, theirs: Any
) -> str | None:
    """The documented rules behind a difference with LiteLLM, or ``None`` for a real disagreement."""
    if kind == "peer-error":
        return "LiteLLM's cost_per_token cannot price its own entry"
    if "off_peak_pricing" in case.entry:
        return "off-peak discount by time of day: not represented, the standard rate is kept (never under-reports)"
    if _region_pinned(case):
        return "region-pinned Bedrock price (LiteLLM's key for a call made with region_name): not converted"
    model = catalog.resolve(case.model, case.provider)
    if model is None:
        return None
    if price is not None and price.cost_usd == _entry_cost(case.entry, inp, out):
        return "LiteLLM's cost_per_token does not apply this entry's own rates (its lookup lands on another entry)"
    window = catalog.window_for(model)
    if window is not None and window.tiers and inp > window.tiers[0][0]:
        if _has_tiers(case.entry):
            return "long-context tier: the entry has one, LiteLLM's cost_per_token does not apply it to this provider"
        return "long-context tier (a cliff on the whole request) the LiteLLM entry lacks: kept from the catalog"
    return None


def _region_pinned(case: Case) -> bool:
    from pricing._sources.litellm import _REGION

    rest = case.model.partition("/")[2]
    return case.provider == "bedrock" and bool(_REGION.match(rest) or "/" in rest)


def _has_tiers(entry: dict[str, Any]) -> bool:
    """Whether a LiteLLM entry has long-context rates (``*_above_200k_tokens`` keys or a ``tiered_pricing`` list)."""
    return bool(entry.get("tiered_pricing")) or any(re.search(r"_above_\d+k_tokens", key) for key in entry)


def _entry_cost(entry: dict[str, Any], inp: int, out: int) -> Decimal | None:
    """What the entry's own base rates make of the tokens (``None`` when it has long-context rates)."""
    if _has_tiers(entry):
        return None
    rates = (entry.get("input_cost_per_token"), entry.get("output_cost_per_token"))
    return Decimal(repr(rates[0])) * inp + Decimal(repr(rates[1])) * out


def explain_genai(
    catalog: pricing.Catalog, case: Case, kind: str, inp: int, out: int, price: Any, theirs: Any
) -> str | None:
    """The documented rules behind a difference with genai-prices, or ``None`` for a real disagreement."""
    if kind == "peer-error":
        return "genai-prices' calc_price cannot price its own entry by its id"
    constraints = (
        [getattr(p, "constraint", None) for p in case.entry.prices] if isinstance(case.entry.prices, list) else []
    )
    if any(type(c).__name__ == "TimeOfDateConstraint" for c in constraints):
        return "time-of-day discount: not represented, the higher rate is kept (never under-reports)"
    return None


def report(source: str, outcome: Outcome, warnings: list[str], show: int) -> None:
    total = outcome.agreed + sum(outcome.exceptions.values()) + len(outcome.unexplained)
    print(f"\n{source}: {outcome.agreed:,} of {total:,} models agree exactly ({len(warnings)} update warnings)")
    for reason, count in outcome.exceptions.most_common():
        print(f"  exception ({count}): {reason}")
        for example in outcome.examples[reason][:show]:
            print(f"      e.g. {example}")
    if outcome.unexplained:
        print(f"  DISAGREE ({len(outcome.unexplained)}), no documented reason:")
        for line in outcome.unexplained[: max(show, 50)]:
            print(f"      {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--genai-data", type=Path, metavar="FILE", help="a genai-prices v2 data.json to use")
    parser.add_argument("--show", type=int, default=3, metavar="N", help="examples shown per exception (default 3)")
    args = parser.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-agreement-") as tmp:
        scratch = Path(tmp)
        os.environ["LLMCOST_HOME"] = str(scratch / "home")  # the user's catalog versions are never touched
        try:
            lite_path = litellm_data()
        except ImportError:
            print("litellm: not installed")
        else:
            catalog, warnings = updated_catalog("litellm", lite_path, scratch)
            data = json.loads(lite_path.read_text(encoding="utf-8"))
            outcome = compare(catalog, litellm_cases(data), explain_litellm)
            report(f"litellm (its bundled map, {len(data):,} entries)", outcome, warnings, args.show)
            failed |= bool(outcome.unexplained)
        try:
            genai_path, providers = genai_data(args.genai_data, scratch)
        except ImportError:
            print("genai-prices: not installed")
        else:
            catalog, warnings = updated_catalog("genai-prices", genai_path, scratch)
            outcome = compare(catalog, genai_cases(providers), explain_genai)
            report(f"genai-prices ({genai_path.name}, {len(providers)} providers)", outcome, warnings, args.show)
            failed |= bool(outcome.unexplained)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
