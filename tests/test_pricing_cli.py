"""The ``pricing`` command, run in-process against the test catalog."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pricing
from pricing._cli import cli_logic
from pricing._sources import dump

SOURCE_ROOT = Path(pricing.__file__).resolve().parents[1]


@pytest.fixture
def run(mini_catalog_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """``run(*args) -> (code, stdout, stderr)`` with ``--catalog`` pointing at the test catalog."""

    def invoke(*args: str, catalog: bool = True) -> tuple[int, str, str]:
        argv = (["--catalog", str(mini_catalog_path)] if catalog else []) + list(args)
        code = cli_logic(argv)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def _json(out: str) -> Any:
    return json.loads(out)


# -- cost -----------------------------------------------------------------------------------------------------------


def test_cost_json_is_exact(run: Any) -> None:
    code, out, err = run("cost", "gpt-4o", "--input", "12000", "--output", "800", "--cache-read", "8000", "--json")
    assert (code, err) == (0, "")
    data = _json(out)
    # 4,000 uncached × $2.50 + 8,000 cached × $1.25 + 800 × $10, per million tokens
    expected = (4000 * Decimal("2.5") + 8000 * Decimal("1.25") + 800 * 10) / 1_000_000
    assert Decimal(data["cost_usd"]) == expected
    assert data["cost_usd"] == "0.028"
    assert data["model"] == "gpt-4o"
    assert data["provider"] == "openai"
    assert data["cost_status"] == "priced"
    assert data["price_ref"] == "2026.01.01:openai/gpt-4o@2024-08-06"
    assert data["breakdown"]["cache_read"] == "0.01"
    assert data["usage"]["input_tokens"] == 12000
    assert data["usage"]["cache_read_input_tokens"] == 8000


def test_cost_table_shows_each_bucket(run: Any) -> None:
    code, out, _ = run("cost", "claude-sonnet-4-5", "--input", "10000", "--output", "500", "--cache-read", "2000",
                       "--cache-write", "3000", "--cache-write-1h", "1000", "--reasoning", "100")  # fmt: skip
    assert code == 0
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["cache write 1h"][-3:] == ["1,000", "$6.00", "$0.006"]
    assert rows["cache read"][-3:] == ["2,000", "$0.30", "$0.0006"]
    assert rows["reasoning"][-3:] == ["100", "$15.00", "$0.0015"]
    assert rows["total"][-1] == "$0.03735"
    assert "E-" not in out
    assert "\x1b[" not in out


def test_cost_batch_and_tier_multiply(run: Any) -> None:
    code, out, _ = run("cost", "gpt-4o", "--input", "1000", "--output", "200", "--batch", "--service-tier", "flex",
                       "--json")  # fmt: skip
    assert code == 0
    data = _json(out)
    assert Decimal(data["cost_usd"]) == Decimal("0.0045") * Decimal("0.25")
    assert data["multiplier"] == "0.25"


def test_cost_of_an_unpublished_tier_is_standard_with_a_note(run: Any) -> None:
    code, out, err = run("cost", "gpt-4o", "--input", "1000", "--output", "200", "--tier", "turbo")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (
        "note: service tier 'turbo' has no published price for openai/gpt-4o: priced at standard rates"
    )
    data = _json(run("cost", "gpt-4o", "--input", "1000", "--output", "200", "--tier", "turbo", "--json")[1])
    assert (data["cost_usd"], data["service_tier"], len(data["notes"])) == ("0.0045", None, 1)


def test_cost_with_tool_uses(tmp_path: Path, run: Any) -> None:
    catalog = Path(__file__).parent / "fixtures" / "tiers_catalog.toml"
    code, out, _ = run("--catalog", str(catalog), "cost", "gpt-5", "--input", "1000", "--output", "100", "--web-search",
                       "3", "--tier", "priority", "--at", "2026-12-01", catalog=False)  # fmt: skip
    assert code == 0
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["web search"][-4:] == ["uses", "$0.01", "each", "$0.03"]
    assert rows["total"][-1] == "$0.0345"  # 1,000 × $2.50 + 100 × $20 per Mtok + 3 × $0.01
    data = _json(run("--catalog", str(catalog), "cost", "gpt-5", "--input", "0", "--output", "0", "--web-search", "3",
                     "--at", "2026-12-01", "--json", catalog=False)[1])  # fmt: skip
    assert (data["breakdown"]["web_search"], data["usage"]["web_search_requests"]) == ("0.03", 3)


def test_cost_at_a_date_before_a_price_cut(run: Any) -> None:
    before = _json(run("cost", "o3", "--input", "1000", "--output", "1000", "--at", "2025-06-09", "--json")[1])
    after = _json(run("cost", "o3", "--input", "1000", "--output", "1000", "--at", "2025-06-10T08:00:00Z", "--json")[1])
    assert (Decimal(before["cost_usd"]), Decimal(after["cost_usd"])) == (Decimal("0.05"), Decimal("0.01"))


def test_cost_of_a_free_local_model(run: Any) -> None:
    code, out, _ = run("cost", "llama3.1:8b", "--provider", "ollama", "--input", "100", "--output", "10", "--json")
    assert code == 0
    assert _json(out)["cost_status"] == "free"
    assert _json(out)["cost_usd"] == "0"


def test_cost_by_gpu_time(run: Any) -> None:
    code, out, _ = run("cost", "example/gpu-deployment", "--input", "0", "--output", "0", "--gpu-seconds", "30")
    assert code == 0
    assert "$0.01" in out.splitlines()[-1]


def test_unknown_model_is_one_line_with_suggestions(run: Any) -> None:
    code, out, err = run("cost", "gpt4o", "--input", "1", "--output", "1")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("pricing: error: unknown model 'gpt4o' (did you mean: gpt-4o")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["cost", "gpt-4o", "--input", "10", "--output", "1", "--cache-read", "11"], "cannot exceed input"),
        (["cost", "gpt-4o", "--input", "10", "--output", "1", "--reasoning", "2"], "cannot exceed output"),
        (["cost", "gpt-4o", "--input", "10", "--output", "1", "--at", "2025-02-30"], "--at"),
        (["cost", "gpt-4o", "--input", "10", "--output", "1", "--at", "yesterday"], "--at"),
        (["cost", "gpt-4o", "--input", "-3", "--output", "1"], "negative"),
        (["cost", "gpt-4o", "--input", "ten", "--output", "1"], "not a token count"),
        (["cost", "gpt-4o", "--output", "1"], "--input"),
        (["cost", "gpt-4o", "--input", "1", "--output", "1", "--provider", "nope"], "unknown provider"),
        (["cost", "gpt-4o", "--input", "1", "--output", "1", "--web-search", "-1"], "negative"),
        (["cost", "o3", "--input", "1", "--output", "1", "--at", "2020-01-01"], "no rates"),
        (["show", "nonsense-model"], "unknown model"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run: Any, args: list[str], fragment: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("pricing: error: ")
    assert fragment in err


# -- show, list, compare --------------------------------------------------------------------------------------------


def test_show_json_lists_windows_and_marks_the_one_in_force(run: Any) -> None:
    code, out, _ = run("show", "O3", "--at", "2025-05-01", "--json")
    assert code == 0
    data = _json(out)
    assert data["key"] == "openai/o3"
    assert data["window"] == 0
    assert [w["rates"]["input_mtok"] for w in data["windows"]] == ["10", "2"]


def test_show_lists_service_tiers_batch_and_tool_fees(run: Any) -> None:
    catalog = str(Path(__file__).parent / "fixtures" / "tiers_catalog.toml")
    code, out, _ = run("--catalog", catalog, "show", "gpt-5.4", "--at", "2026-12-01", catalog=False)
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ")}
    assert rows["priority"][:4] == ["priority", "(+1", "long-context)", "$5.00"]
    assert rows["flex"][:2] == ["flex", "$1.25"]
    assert rows["batch"][:2] == ["batch", "×0.5"]
    assert "web search        $10.00 per 1,000 uses" in out
    assert "code interpreter          $0.05 per use" in out
    data = _json(run("--catalog", catalog, "show", "gpt-5.4", "--at", "2026-12-01", "--json", catalog=False)[1])
    assert data["service_tiers"]["flex"]["rates"]["input_mtok"] == "1.25"
    assert data["service_tiers"]["flex"]["tiers"] is None  # no long-context rates of its own
    assert data["batch_price"] == {"multiplier": "0.5"}
    assert data["tool_fees"] == {
        "web_search_requests": "0.01",
        "file_search_calls": "0.0025",
        "code_interpreter_sessions": "0.05",
    }


def test_show_table_has_tier_column(run: Any) -> None:
    code, out, _ = run("show", "claude-sonnet-4-5-20250929")
    assert code == 0
    assert "> 200,000 input" in out
    assert any(line.split()[-2:] == ["$15.00", "$22.50"] for line in out.splitlines() if "output" in line)


def test_list_json(run: Any) -> None:
    code, out, _ = run("list", "--provider", "openai", "--json")
    assert code == 0
    rows = _json(out)
    assert [r["model"] for r in rows] == ["gpt-4o", "gpt-4o-mini", "o3"]
    assert rows[2]["input_mtok"] == "2"  # today's window, after the cut


def test_list_table(run: Any) -> None:
    code, out, _ = run("list")
    assert code == 0
    assert "openai/gpt-4o-mini" in out
    assert "ollama/*" in out


def test_compare_ranks_cheapest_first(run: Any) -> None:
    code, out, _ = run("compare", "--input", "20000", "--output", "1000", "--json", "--limit", "0")
    assert code == 0
    data = _json(out)
    costs = [Decimal(m["cost_usd"]) for m in data["models"]]
    assert costs == sorted(costs)
    assert data["models"][0]["model"] == "gpt-4o-mini"
    assert Decimal(data["models"][0]["ratio"]) == 1
    last = data["models"][-1]
    assert Decimal(last["ratio"]) == round(Decimal(last["cost_usd"]) / costs[0], 4)
    assert all(m["cost_status"] == "priced" for m in data["models"])


def test_compare_table_and_limit(run: Any) -> None:
    code, out, _ = run("compare", "--input", "20000", "--output", "1000", "--limit", "2", "--provider", "openai")
    assert code == 0
    lines = out.splitlines()
    assert lines[2].split()[:2] == ["1", "openai/gpt-4o-mini"]
    assert lines[2].endswith("1.0×")
    assert lines[-1].startswith("(1 more")


# -- validate -------------------------------------------------------------------------------------------------------


def test_validate_ok(run: Any, mini_catalog_path: Path) -> None:
    code, out, _ = run("validate", str(mini_catalog_path), catalog=False)
    assert (code, out) == (0, "ok: 7 providers, 7 models\n")


def test_validate_lists_every_problem(run: Any, tmp_path: Path, mini_catalog_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = mini_catalog_path.read_text().replace("schema_version = 1", "schema_version = 9")
    text = text.replace("input_mtok = 0.15", 'input_mtok = "cheap"')
    text = text.replace("effective_from = 2025-06-10\n", "effective_from = 2025-06-01\n")
    bad.write_text(text)
    code, out, err = run("validate", str(bad), catalog=False)
    assert code == 1
    problems = out.splitlines()
    assert len(problems) == 3
    assert any("schema_version" in p for p in problems)
    assert any("input_mtok must be a number" in p for p in problems)
    assert any("before window 0 ends" in p for p in problems)
    assert err == f"pricing: error: 3 problems in {bad}\n"


def test_validate_reports_name_conflicts(run: Any, tmp_path: Path, mini_catalog_path: Path) -> None:
    bad = tmp_path / "ambiguous.toml"
    bad.write_text(mini_catalog_path.read_text().replace('id = "o3"', 'id = "o3"\naliases = ["gpt-4o"]'))
    code, out, _ = run("validate", str(bad), catalog=False)
    assert code == 1
    assert "ambiguous name: 'gpt-4o' names both openai/gpt-4o and openai/o3" in out


def test_validate_invalid_toml(run: Any, tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("schema_version = = 1\n")
    code, out, _ = run("validate", str(bad), catalog=False)
    assert code == 1
    assert "not valid TOML" in out


# -- global options -------------------------------------------------------------------------------------------------


def test_help_lists_every_command(run: Any) -> None:
    code, out, _ = run("--help", catalog=False)
    assert code == 0
    for command in ("show", "cost", "list", "compare", "validate", "update", "versions", "diff", "rollback", "serve"):
        assert f"    {command}  " in out


def test_version(run: Any) -> None:
    code, out, _ = run("--version", catalog=False)
    assert code == 0
    assert out.startswith("pricing (llmcost-top) ")


def test_no_overrides_ignores_the_project_file(run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / ".llmcost").mkdir(parents=True)
    (project / ".llmcost" / "pricing.toml").write_text(
        '[[providers]]\nid = "openai"\n[[providers.models]]\nid = "gpt-4o"\n'
        "[[providers.models.prices]]\ninput_mtok = 100\noutput_mtok = 100\n"
    )
    monkeypatch.chdir(project)
    with_override = _json(run("cost", "gpt-4o", "--input", "1000000", "--output", "0", "--json")[1])
    without = _json(run("--no-overrides", "cost", "gpt-4o", "--input", "1000000", "--output", "0", "--json")[1])
    assert (with_override["cost_usd"], without["cost_usd"]) == ("100", "2.5")


def test_missing_catalog_file(run: Any, tmp_path: Path) -> None:
    code, _, err = run("--catalog", str(tmp_path / "none.toml"), "list", catalog=False)
    assert code == 2
    assert "catalog file not found" in err


def test_default_catalog_is_the_bundled_one(run: Any) -> None:
    code, out, _ = run("cost", "gpt-4o", "--input", "1000", "--output", "200", "--json", catalog=False)
    assert code == 0
    assert _json(out)["cost_status"] == "priced"


def _embedding_catalog(path: Path) -> Path:
    """A catalog of a chat model and an embedding model, which has no output rate."""
    window = {"source": "https://example.com/prices", "checked": dt.date(2026, 1, 1)}
    models = [
        {"id": "chat-model", "prices": [{**window, "input_mtok": Decimal("0.15"), "output_mtok": Decimal("0.6")}]},
        {"id": "embed-model", "prices": [{**window, "input_mtok": Decimal("0.02")}]},
    ]
    provider = {"id": "openai", "name": "OpenAI", "models": models}
    path.write_text(dump({"schema_version": 1, "catalog_version": "2026.01.01", "providers": [provider]}))
    return path


@pytest.mark.parametrize(
    ("output", "compared"),
    [
        pytest.param("100", ["chat-model"], id="a mix with output leaves out models without an output rate"),
        pytest.param("0", ["embed-model", "chat-model"], id="an input-only mix keeps them"),
    ],
)
def test_compare_and_models_without_output_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str, compared: list[str]
) -> None:
    catalog = _embedding_catalog(tmp_path / "catalog.toml")
    assert cli_logic(["--catalog", str(catalog), "compare", "--input", "1000", "--output", output, "--json"]) == 0
    assert [m["model"] for m in _json(capsys.readouterr().out)["models"]] == compared


# -- a reader that goes away ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["list"],
        ["list", "--json"],
        ["show", "gpt-4o"],
        ["show", "gpt-4o", "--json"],
        ["cost", "gpt-4o", "--input", "1000", "--output", "100"],
        ["cost", "gpt-4o", "--input", "1000", "--output", "100", "--json"],
        ["compare", "--input", "1000", "--output", "100", "--limit", "0"],
        ["compare", "--input", "1000", "--output", "100", "--json"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_closed_pipe_ends_the_command_quietly(mini_catalog_path: Path, argv: list[str]) -> None:
    """``pricing list | head -1``: the reader is gone before the output is written. Status 141 (128 + SIGPIPE), as
    for any command a pipe stopped, and nothing on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # like head after its first line, but before the first write: every write fails
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pricing", "--catalog", str(mini_catalog_path), *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)},  # the code under test, whatever is installed
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr.decode()) == (141, "")


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "soon"])
def test_gpu_seconds_that_are_no_duration_are_one_line(run: Any, value: str) -> None:
    code, out, err = run("cost", "example/gpu-deployment", "--provider", "vllm", "--input", "0", "--output", "0",
                         "--gpu-seconds", value)  # fmt: skip
    assert (code, out) == (2, "")
    assert err.startswith("pricing: error: argument --gpu-seconds:")
    assert value in err
    assert err.count("\n") == 1
