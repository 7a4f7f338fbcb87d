"""``pricing audit`` against small sources in LiteLLM's, genai-prices' and OpenRouter's shapes, from files and from a
loopback HTTP server, checked against ``tests/fixtures/tiers_catalog.toml``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pricing._cli import cli_logic

FIX = Path(__file__).parent / "fixtures"
AUDIT = FIX / "audit"
CATALOG = FIX / "tiers_catalog.toml"


@pytest.fixture
def audit(capsys: pytest.CaptureFixture[str]) -> Any:
    """``audit(*args) -> (code, stdout, stderr)`` against the tiers catalog on 2026-12-01."""

    def invoke(*args: str) -> tuple[int, str, str]:
        code = cli_logic(["--catalog", str(CATALOG), "audit", "--at", "2026-12-01", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def _by_key(data: dict[str, Any], source: int = 0) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(d["model"], d["name"], d["key"]): d for d in data["sources"][source]["disagreements"]}


def test_litellm_disagreements_by_ratio_and_difference(audit: Any) -> None:
    code, out, err = audit("--from", str(AUDIT / "litellm.json"), "--json")
    assert (code, err) == (1, "")
    data = json.loads(out)
    found = _by_key(data)
    # gpt-4o input: LiteLLM $3.00, the catalog $2.50.
    assert found[("openai/gpt-4o", "gpt-4o", "input_mtok")] == {
        "model": "openai/gpt-4o",
        "name": "gpt-4o",
        "key": "input_mtok",
        "ours": "2.5",
        "theirs": "3",
        "ratio": "1.2",
        "difference": "0.5",
        "exceeds": True,
    }
    # The provider-wide batch fraction LiteLLM states, applied to its own gpt-4o rates.
    assert found[("openai/gpt-4o", "gpt-4o", "batch.input_mtok")]["theirs"] == "1.5"
    # A dated snapshot is looked up as a call would be: it is claude-sonnet-4-5.
    assert ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "priority.input_mtok") in found
    # Anthropic publishes no priority price in the catalog: a price the catalog lacks always counts.
    assert found[("anthropic/claude-opus-5", "claude-opus-5", "priority.input_mtok")]["ours"] is None
    # Everything else agrees: gpt-5's rates, flex table, web search; gpt-4o's priority rates and web search fee;
    # claude-sonnet-4-5's long-context tier.
    assert not [k for k in found if k[0] == "openai/gpt-5"]
    assert not [k for k in found if k[0] == "openai/gpt-4o" and k[2].startswith(("priority.", "web_search"))]
    assert not [k for k in found if k[2].startswith("tier>")]
    source = data["sources"][0]
    assert (source["compared"], source["unknown"]) == (4, 1)  # azure's gpt-4o is not compared; gpt-7-preview unknown
    assert data["exceeding"] == source["exceeding"] == len(source["disagreements"])


def test_text_output_says_by_how_much(audit: Any) -> None:
    code, out, _ = audit("--from", str(AUDIT / "litellm.json"))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"litellm ({AUDIT / 'litellm.json'}): 4 names compared, ")
    assert "  openai/gpt-4o  input_mtok  ours 2.5  litellm 3  ×1.2 (+0.5)" in lines
    assert "  anthropic/claude-opus-5  priority.input_mtok  ours —  litellm 7.5" in lines


def test_threshold(audit: Any) -> None:
    """Beyond 25 % only the prices the catalog lacks count; --all still lists the others."""
    code, out, _ = audit("--from", str(AUDIT / "litellm.json"), "--threshold", "25%", "--json")
    data = json.loads(out)
    within = [d for d in data["sources"][0]["disagreements"] if not d["exceeds"]]
    assert {d["key"] for d in within} == {"input_mtok", "batch.input_mtok", "flex.input_mtok"}  # ×1.2
    assert all(d["ours"] is None for d in data["sources"][0]["disagreements"] if d["exceeds"])
    assert code == 1
    code, out, _ = audit("--from", str(AUDIT / "litellm.json"), "--threshold", "25")
    assert "openai/gpt-4o  input_mtok" not in out
    assert "within 25%" in out.splitlines()[-1]
    code, out, _ = audit("--from", str(AUDIT / "litellm.json"), "--threshold", "25", "--all")
    assert "  openai/gpt-4o  input_mtok  ours 2.5  litellm 3  ×1.2 (+0.5)" in out


def test_openrouter_names_are_checked_against_the_makers_entries(audit: Any) -> None:
    code, out, _ = audit("--from", str(AUDIT / "openrouter.json"), "--json")
    source = json.loads(out)["sources"][0]
    assert source["compared"] == 2  # claude-opus-5 and gemini-2.5-pro; mistralai/... has no maker here
    (only,) = source["disagreements"]
    assert (only["model"], only["name"], only["key"]) == (
        "google/gemini-2.5-pro",
        "google/gemini-2.5-pro",
        "cache_read_mtok",
    )
    assert (only["ours"], only["theirs"]) == ("0.125", "0.31")
    assert code == 1


def test_genai_prices_dated_prices_and_variants(audit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = audit("--from", str(AUDIT / "genai_prices.json"), "--json")
    assert (code, json.loads(out)["sources"][0]["disagreements"]) == (0, [])  # o3 now: rates, batch, priority, fee
    code = cli_logic(
        ["--catalog", str(CATALOG), "audit", "--at", "2025-05-01", "--from", str(AUDIT / "genai_prices.json"), "--json"]
    )
    found = _by_key(json.loads(capsys.readouterr().out))
    assert code == 1
    # Before the price cut the rates agree; the catalog has no priority price then, and batch is its 50 %.
    assert {k[2] for k in found} == {"priority.input_mtok", "priority.output_mtok", "priority.cache_read_mtok",
                                     "batch.input_mtok", "batch.output_mtok", "batch.cache_read_mtok"}  # fmt: skip


def test_sources_from_urls(audit: Any) -> None:
    from _loopback import FixtureServer, Route

    with FixtureServer() as server:
        server.routes["/litellm.json"] = Route((AUDIT / "litellm.json").read_bytes())
        server.routes["/models"] = Route((AUDIT / "openrouter.json").read_bytes())
        code, out, err = audit("--from", server.url("/litellm.json"), "--from", server.url("/models"), "--json")
    data = json.loads(out)
    assert [s["source"] for s in data["sources"]] == ["litellm", "openrouter"]
    assert (code, err) == (1, "")


def test_an_unreachable_source_is_one_line_and_the_others_are_audited(audit: Any) -> None:
    code, out, err = audit("--from", "http://127.0.0.1:9/litellm.json", "--from", str(AUDIT / "genai_prices.json"))
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("pricing: error: http://127.0.0.1:9/litellm.json: ")
    assert out.startswith("genai-prices (")


@pytest.mark.parametrize(
    ("args", "fragment", "status"),
    [
        (["--threshold", "abc"], "not a percentage", 2),
        (["--threshold", "-1"], "zero or more", 2),
        (["--source", "ours"], "invalid choice", 2),
        (["--at", "2026-13-01"], "not a date", 2),
        (["--from", str(CATALOG)], "a catalog of ours", 1),
        (["--from", str(FIX / "nope.json")], "cannot read", 1),
    ],
)
def test_bad_input_is_one_line(audit: Any, args: list[str], fragment: str, status: int) -> None:
    code, out, err = audit(*args)
    assert (code, out) == (status, "")
    assert err.count("\n") == 1
    assert fragment in err
