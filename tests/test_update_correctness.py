"""``pricing update`` end to end, from LiteLLM-shaped data served on loopback, then ``pricing cost`` and ``show``:
each provider's own price, new models added, snapshots priced apart, no rate cleared, suspicious sources refused,
slow or hostile servers stopped, every failure one line with the catalog left exactly as it was."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from _loopback import FixtureServer, Route

import pricing
from pricing import _versions
from pricing._cli import cli_logic

FIX = Path(__file__).parent / "fixtures" / "update"
BASE = (FIX / "hosts_base.toml").read_bytes()
SOURCE: dict[str, Any] = json.loads((FIX / "litellm_hosts.json").read_text())
DAY = "2026-03-01"


@pytest.fixture(autouse=True)
def active_base() -> Path:
    _versions.activate("2026.01.01", BASE)
    return _versions.current_path()


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as served:
        yield served


def snapshot() -> dict[str, str]:
    files = [*sorted(pricing.catalog_dir().rglob("*")), pricing.bundled_catalog_path()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli_logic(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def update(server: FixtureServer, capsys: pytest.CaptureFixture[str], data: Any, *more: str) -> tuple[int, str, str]:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    server.routes["/prices.json"] = Route(body)
    return run(capsys, "update", "--from", server.url("/prices.json"), "--source", "litellm", "--date", DAY, *more)


def cost(capsys: pytest.CaptureFixture[str], model: str, *more: str) -> dict[str, Any]:
    code, out, err = run(capsys, "cost", model, "--input", "1000000", "--output", "1000000", "--json", *more)
    assert (code, err) == (0, "")
    result: dict[str, Any] = json.loads(out)
    return result


def usd(input_rate: str, output_rate: str) -> Decimal:
    """A million input and a million output tokens at these USD-per-million rates."""
    return Decimal(input_rate) + Decimal(output_rate)


# -- 1. the same model from two providers ---------------------------------------------------------------------------


def test_a_provider_qualified_id_is_priced_with_that_providers_rates(
    server: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert update(server, capsys, SOURCE)[0] == 0
    nebius = cost(capsys, "nebius/deepseek-ai/DeepSeek-R1-Distill-Llama-70B")
    assert (Decimal(nebius["cost_usd"]), nebius["provider"]) == (usd("0.25", "0.75"), "nebius")
    assert Decimal(
        cost(capsys, "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "--provider", "nebius")["cost_usd"]
    ) == usd("0.25", "0.75")
    together = cost(capsys, "together_ai/deepseek-ai/DeepSeek-R1-Distill-Llama-70B")
    assert (Decimal(together["cost_usd"]), together["provider"]) == (usd("2", "2"), "together")
    assert Decimal(cost(capsys, "deepseek-ai/DeepSeek-R1-Distill-Llama-70B")["cost_usd"]) == usd("2", "2")


def test_a_provider_without_an_entry_does_not_borrow_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "cost", "openai/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "--input", "1", "--output", "1"
    )
    assert code == 2
    assert err.startswith("pricing: error: unknown model 'openai/deepseek-ai/DeepSeek-R1-Distill-Llama-70B'")


# -- 2. a new model is not priced as an old one --------------------------------------------------------------------


def test_a_new_version_gets_its_own_entry_and_price(server: FixtureServer, capsys: pytest.CaptureFixture[str]) -> None:
    before = run(capsys, "cost", "claude-opus-5-5", "--input", "1", "--output", "1")
    assert before[0] == 2  # not claude-opus-5's price
    code, out, _ = update(server, capsys, SOURCE)
    assert code == 0
    assert "+ anthropic/claude-opus-5-5" in out
    priced = cost(capsys, "claude-opus-5-5")
    assert (priced["model"], Decimal(priced["cost_usd"])) == ("claude-opus-5-5", usd("4", "20"))
    assert cost(capsys, "claude-opus-5-20260101")["model"] == "claude-opus-5"  # its snapshots keep their model


# -- 3. a dated snapshot with another price -------------------------------------------------------------------------


def test_a_snapshot_the_source_prices_apart_is_priced_apart(
    server: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert update(server, capsys, SOURCE)[0] == 0
    assert Decimal(cost(capsys, "gpt-4o-2024-05-13")["cost_usd"]) == usd("5", "15")
    assert Decimal(cost(capsys, "gpt-4o-2024-08-06")["cost_usd"]) == usd("2.5", "10")
    assert Decimal(cost(capsys, "gpt-4o")["cost_usd"]) == usd("2.5", "10")


# -- 4. a partial source keeps the rates it does not state ----------------------------------------------------------


def test_a_rate_the_source_leaves_out_is_not_cleared(server: FixtureServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = update(server, capsys, SOURCE)
    assert code == 0
    assert "o4-mini" not in out  # the same input and output rates: no change at all
    shown = json.loads(run(capsys, "show", "o4-mini", "--json")[1])
    assert shown["windows"][-1]["rates"]["cache_read_mtok"] == "0.275"
    cut = json.loads(json.dumps(SOURCE))
    cut["o4-mini"].update(input_cost_per_token=1e-06, output_cost_per_token=4e-06)
    assert update(server, capsys, cut)[0] == 0
    shown = json.loads(run(capsys, "show", "o4-mini", "--json")[1])
    assert [w["rates"]["cache_read_mtok"] for w in shown["windows"]] == ["0.275", "0.275"]
    code, out, _ = run(
        capsys, "cost", "o4-mini", "--input", "1000000", "--cache-read", "1000000", "--output", "0", "--json"
    )
    assert Decimal(json.loads(out)["cost_usd"]) == Decimal("0.275")


# -- 5. a source that jumps or zeroes is refused --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "expected", "forced"),
    [
        ({"input_cost_per_token": 2.5, "output_cost_per_token": 10.0}, "input_mtok 2.5 → 2500000 (×1000000)", "2500000"),
        ({"input_cost_per_token": 0.0, "output_cost_per_token": 0.0}, "input_mtok 2.5 → 0", "0"),
        ({"input_cost_per_token": 2e-07}, "input_mtok 2.5 → 0.2 (÷12.5)", "0.2"),
    ],
    ids=["x1000000", "zero", "twelfth"],
)  # fmt: skip
def test_a_suspicious_change_is_refused_unless_forced(
    server: FixtureServer, capsys: pytest.CaptureFixture[str], edit: dict[str, float], expected: str, forced: str
) -> None:
    broken = json.loads(json.dumps(SOURCE))
    broken["gpt-4o"].update(edit)
    files = snapshot()
    code, out, err = update(server, capsys, broken)
    assert (code, out) == (1, "")
    assert err.startswith(f"pricing: error: openai/gpt-4o: {expected}")
    assert err.endswith("check the source, or rerun with --force\n")
    assert err.count("\n") == 1
    assert snapshot() == files
    assert update(server, capsys, broken, "--force")[0] == 0
    assert pricing.load_catalog().find("gpt-4o").windows[-1].rates.input == Decimal(forced)


def test_every_price_at_zero_is_refused(server: FixtureServer, capsys: pytest.CaptureFixture[str]) -> None:
    zeros = {k: {**v, "input_cost_per_token": 0, "output_cost_per_token": 0} for k, v in SOURCE.items()}
    files = snapshot()
    code, _, err = update(server, capsys, zeros)
    assert code == 1
    assert "→ 0" in err
    assert "more such changes" in err
    assert snapshot() == files


def test_a_tenfold_change_is_accepted(server: FixtureServer, capsys: pytest.CaptureFixture[str]) -> None:
    tenfold = json.loads(json.dumps(SOURCE))
    tenfold["gpt-4o"].update(input_cost_per_token=2.5e-05, output_cost_per_token=1e-04)
    assert update(server, capsys, tenfold)[0] == 0
    assert Decimal(cost(capsys, "gpt-4o")["cost_usd"]) == usd("25", "100")


# -- 6. slow and hostile servers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_a_server_that_sends_a_byte_at_a_time_is_given_up_on(
    server: FixtureServer, capsys: pytest.CaptureFixture[str], headers: bool
) -> None:
    server.routes["/slow.json"] = Route(drip=0.2, drip_headers=headers)
    files = snapshot()
    started = time.monotonic()
    code, out, err = run(capsys, "update", "--from", server.url("/slow.json"), "--timeout", "1")
    took = time.monotonic() - started
    assert (code, out) == (1, "")
    assert (
        err
        == f"pricing: error: {server.url('/slow.json')}: no complete answer within 1 s (a longer --timeout waits more)\n"
    )
    assert 1 <= took < 5
    assert snapshot() == files


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_a_bad_timeout_is_one_line(capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, _, err = run(capsys, "update", "--from", "x.json", "--timeout", value)
    assert code == 2
    assert value in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("over", ["http", "file"])
def test_json_nested_too_deeply_is_one_line(
    server: FixtureServer, capsys: pytest.CaptureFixture[str], tmp_path: Path, over: str
) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    files = snapshot()
    if over == "http":
        code, out, err = update(server, capsys, deep)
    else:
        path = tmp_path / "deep.json"
        path.write_bytes(deep)
        code, out, err = run(capsys, "update", "--from", str(path))
    assert (code, out) == (1, "")
    assert err.endswith(": JSON nested too deeply to be price data\n")
    assert err.count("\n") == 1
    assert snapshot() == files


def test_toml_nested_too_deeply_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1
    assert "nested too deeply" in out + err
    assert "Traceback" not in out + err
    files = snapshot()
    code, _, err = run(capsys, "update", "--from", str(path))
    assert code == 1
    assert err.endswith("TOML nested too deeply to be a catalog\n")
    assert snapshot() == files


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/x.json", "https://"])
def test_a_url_that_cannot_be_requested_is_one_line(capsys: pytest.CaptureFixture[str], url: str) -> None:
    files = snapshot()
    code, out, err = run(capsys, "update", "--from", url)
    assert (code, out) == (1, "")
    assert err.startswith(f"pricing: error: {url}: ")
    assert err.count("\n") == 1
    assert snapshot() == files
