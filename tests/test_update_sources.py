"""``pricing update`` from LiteLLM, OpenRouter and genai-prices data served on loopback, through the adapters."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from _loopback import FixtureServer, Route

import pricing
from pricing import _versions
from pricing._cli import cli_logic
from pricing._fetch import UpdateError
from pricing._update import UpdateOptions, detect_source, run_update

pytest.importorskip("pricing._sources")

FIX = Path(__file__).parent / "fixtures" / "update"
BASE = (FIX / "base.toml").read_bytes()
DAY = dt.date(2026, 3, 1)
MTOK = pricing.Usage(input_tokens=1_000_000, output_tokens=1_000_000)


@pytest.fixture(autouse=True)
def active_base() -> Path:
    _versions.activate("2026.01.01", BASE)
    return _versions.current_path()


def snapshot() -> dict[str, str]:
    files = [*sorted(pricing.catalog_dir().rglob("*")), pricing.bundled_catalog_path()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def cost(model: str, at: str, provider: str | None = None) -> Decimal | None:
    return pricing.load_catalog().price(MTOK, model, provider, at=at).cost_usd


def update_over_http(name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    with FixtureServer() as server:
        server.routes["/prices.json"] = Route((FIX / name).read_bytes())
        capsys.readouterr()
        code = cli_logic(["update", "--from", server.url("/prices.json"), "--date", DAY.isoformat(), "--json"])
    assert code == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


@pytest.mark.parametrize(
    ("name", "kind"),
    [("litellm.json", "litellm"), ("openrouter.json", "openrouter"), ("genai_prices.json", "genai-prices")],
)
def test_the_format_is_recognised(name: str, kind: str) -> None:
    assert detect_source(json.loads((FIX / name).read_text())) == kind


def test_litellm_update(capsys: pytest.CaptureFixture[str]) -> None:
    old_call = cost("gpt-4o", "2026-02-01")
    result = update_over_http("litellm.json", capsys)
    assert (result["status"], result["source"], result["version"]) == ("updated", "litellm", "2026.03.01")
    diff = result["diff"]
    assert isinstance(diff, dict)
    changed = [c["model"] for c in diff["changes"] if c["kind"] == "changed"]
    added = [c["model"] for c in diff["changes"] if c["kind"] == "added"]
    assert changed == ["openai/gpt-4o"]
    assert "openai/o4-mini" in added
    assert any(m.endswith("mistral-small-latest") or m.endswith("mistral-small") for m in added)
    assert diff["counts"]["removed"] == 0
    assert any("dall-e-3" in w for w in result["warnings"])  # type: ignore[attr-defined]
    # Old calls keep their price; new ones get the new rates from the effective date.
    assert cost("gpt-4o", "2026-02-01") == old_call == Decimal("12.5")
    assert cost("gpt-4o", "2026-03-01") == Decimal(10)
    assert cost("o4-mini", "2026-03-01") == Decimal("5.5")
    assert cost("claude-haiku-4-5", "2026-03-01") == Decimal(6)  # unchanged
    assert (
        pricing.load_catalog().resolve("claude-haiku-4-5").windows
        == pricing.Catalog(pricing._load.parse_document(BASE.decode())).resolve("claude-haiku-4-5").windows
    )  # type: ignore[union-attr]


def test_openrouter_update_keeps_dynamic_prices_out_of_the_rates(capsys: pytest.CaptureFixture[str]) -> None:
    result = update_over_http("openrouter.json", capsys)
    assert result["status"] == "updated"
    # "-1" is a dynamic price, not a negative one: it was not rejected.
    assert cost("gpt-4o", "2026-02-01") == Decimal("12.5")
    routed = pricing.load_catalog().price(MTOK, "openrouter/google/gemini-2.5-pro", at="2026-03-01")
    assert routed.status in ("priced", "dynamic")


def test_genai_prices_dates_are_effective_dates(capsys: pytest.CaptureFixture[str]) -> None:
    result = update_over_http("genai_prices.json", capsys)
    assert result["status"] == "updated"
    # o3: the source announces a cut from 2026-04-01; the current window is closed there, not today.
    assert cost("o3", "2025-05-01") == Decimal(50)
    assert cost("o3", "2026-03-15") == Decimal(10)
    assert cost("o3", "2026-04-01") == Decimal("7.5")
    assert cost("gpt-5", "2026-03-01") == Decimal("11.25")
    assert cost("gpt-4o", "2026-03-01") == Decimal("12.5")  # same rates: unchanged


def test_negative_prices_in_a_source_change_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads((FIX / "litellm.json").read_text())
    data["gpt-4o-mini"]["input_cost_per_token"] = -1.5e-07
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    files = snapshot()
    assert cli_logic(["update", "--from", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pricing: error: ")
    assert err.count("\n") == 1
    assert snapshot() == files


def test_a_wrong_source_name_is_a_clear_error() -> None:
    files = snapshot()
    with pytest.raises(UpdateError) as caught:
        run_update(UpdateOptions(origin=str(FIX / "litellm.json"), source="openrouter", day=DAY))
    assert "\n" not in str(caught.value)
    assert snapshot() == files


def test_output_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name in ("a.toml", "b.toml"):
        target = tmp_path / name
        target.write_bytes(BASE)
        code = cli_logic(
            ["update", "--from", str(FIX / "litellm.json"), "--date", "2026-03-01", "--output", str(target)]
        )
        assert code == 0
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] != BASE
    assert b'catalog_version = "2026.03.01"' in outputs[0]
    # Run again over its own result: nothing changes, not a byte.
    assert (
        cli_logic(["update", "--from", str(FIX / "litellm.json"), "--date", "2026-03-02", "--output", str(target)]) == 0
    )
    assert target.read_bytes() == outputs[1]
    # What was written reads back as the catalog that was validated.
    assert pricing.load_catalog(target, overrides=False).price(MTOK, "o4-mini").cost_usd == Decimal("5.5")
    assert _versions.current_path().read_bytes() == BASE  # --output leaves the versions alone
