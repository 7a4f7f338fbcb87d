"""Alarm thresholds: one rule per setting, the same for the config file, ``--set``, ``--budget`` and Python; a count or
a USD limit of 0 turns its check off; anything else out of range is one line naming the setting, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmcost.cli import main
from llmcost.engine import AlarmConfig, AlarmConfigError, Engine
from llmcost.log._record import Record
from tests._traces import T0, day_file, rec, write

# A loop that trips every rule with the default thresholds: 40 identical, failing, growing, expensive retries in 12 s.
LOOP = [
    rec(
        T0 + i * 0.3,
        agent="looper",
        session_id="s1",
        prompt_hash="same",
        status="error",
        attempt=i,
        input_tokens=1000 + i * 100,
        cost_usd=0.2,
    )
    for i in range(40)
]


def kinds(config: AlarmConfig, records: list[Record] = LOOP) -> set[str]:
    engine = Engine(config=config, clock=lambda: T0)
    engine.ingest(records)
    return {e.kind for e in engine.alarms.events()}


def write_config(home: Path, text: str) -> Path:
    path = home / ".llmcost" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    write(day_file(tmp_path / "logs", T0), LOOP)
    return tmp_path / "logs"


def test_the_loop_trips_every_rule_by_default() -> None:
    assert kinds(AlarmConfig(budget_day_usd=1.0)) == {
        "burst",
        "repeat",
        "error_streak",
        "spend_rate",
        "call_cost",
        "budget",
        "budget_eta",
        "context_growth",
    }


@pytest.mark.parametrize(
    ("off", "kind"),
    [
        ({"burst_calls": 0}, "burst"),
        ({"repeat_calls": 0}, "repeat"),
        ({"error_streak": 0, "error_attempt": 0}, "error_streak"),
        ({"spend_rate_agent_usd_per_hour": 0, "spend_rate_total_usd_per_hour": 0}, "spend_rate"),
        ({"call_cost_usd": 0}, "call_cost"),
        ({"budget_day_usd": 0}, "budget"),
        ({"budget_eta_s": 0}, "budget_eta"),
        ({"context_growth_calls": 0, "context_window_fraction": 0}, "context_growth"),
    ],
)
def test_zero_turns_a_check_off(off: dict[str, float], kind: str) -> None:
    assert kind not in kinds(AlarmConfig(budget_day_usd=1.0).with_overrides(**off))
    assert kind in kinds(AlarmConfig(budget_day_usd=1.0))


def test_a_budget_of_zero_is_no_budget() -> None:
    assert AlarmConfig(budget_day_usd=0, budget_session_usd=0.0).budget_day_usd is None
    assert AlarmConfig(budget_day_usd=0, budget_session_usd=0.0).budget_session_usd is None


def test_each_half_of_error_streak_turns_off_on_its_own() -> None:
    retries = [rec(T0, agent="a", attempt=5, status="ok")]
    assert "error_streak" in kinds(AlarmConfig(error_streak=0), retries)
    assert "error_streak" not in kinds(AlarmConfig(error_attempt=0), retries)


BAD = [
    ("burst_calls", "-1", "a whole number from 0 (off) to 1,000,000,000, not -1"),
    ("burst_calls", "2.5", "a whole number from 0 (off) to 1,000,000,000, not 2.5"),
    ("burst_calls", "10000000000", "a whole number from 0 (off) to 1,000,000,000, not 10000000000"),
    ("burst_window_s", "0", "a number of seconds more than 0 and at most 86,400, not 0"),
    ("spend_window_s", "0", "a number of seconds more than 0 and at most 86,400, not 0"),
    ("spend_window_s", "-3", "a number of seconds more than 0 and at most 86,400, not -3"),
    ("quiet_s", "1e9", "a number of seconds more than 0 and at most 86,400, not 1000000000"),
    ("max_ended", "-1", "a whole number from 0 to 1,000,000, not -1"),
    ("call_cost_usd", "-0.5", "an amount in USD from 0 (off) to 1,000,000,000, not -0.5"),
    ("budget_day_usd", "-5", "an amount in USD from 0 (off) to 1,000,000,000, not -5"),
    ("budget_warning_fraction", "0", "a fraction more than 0 and at most 1, not 0"),
    ("budget_eta_s", "-60", "a number of seconds from 0 (off) to 604,800, not -60"),
    ("budget_eta_s", "1e6", "a number of seconds from 0 (off) to 604,800, not 1000000"),
    ("budget_warning_fraction", "1.5", "a fraction more than 0 and at most 1, not 1.5"),
    ("context_window_fraction", "2", "a fraction from 0 (off) to 1, not 2"),
    ("critical_factor", "0.5", "a number from 1 to 1,000, not 0.5"),
]


@pytest.mark.parametrize(("name", "value", "rule"), BAD)
def test_a_bad_value_in_the_config_file_is_one_line(
    isolated_home: Path, logs: Path, capsys: pytest.CaptureFixture[str], name: str, value: str, rule: str
) -> None:
    path = write_config(isolated_home, f"[alarms]\n{name} = {value}\n")
    code, out, err = run(capsys, "alarms", str(logs))
    assert (code, out) == (2, "")
    assert err == f"llmcost alarms: error: {path}: [alarms] {name} must be {rule}\n"


@pytest.mark.parametrize(("name", "value", "rule"), BAD)
def test_the_same_value_on_the_command_line_is_the_same_error(
    logs: Path, capsys: pytest.CaptureFixture[str], name: str, value: str, rule: str
) -> None:
    code, out, err = run(capsys, "alarms", str(logs), "--set", f"{name}={value}")
    assert (code, out) == (2, "")
    assert err == f"llmcost alarms: error: --set: {name} must be {rule}\n"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinity_are_refused_from_both(
    isolated_home: Path, logs: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    code, _, err = run(capsys, "alarms", str(logs), "--set", f"call_cost_usd={value}")
    assert (code, err) == (
        2,
        f"llmcost alarms: error: --set: call_cost_usd must be an amount in USD from 0 (off) "
        f"to 1,000,000,000, not {value}\n",
    )
    write_config(isolated_home, f"[alarms]\nburst_window_s = {value}\n")  # TOML has nan and inf
    code, _, err = run(capsys, "alarms", str(logs))
    assert code == 2
    assert err.endswith(f"burst_window_s must be a number of seconds more than 0 and at most 86,400, not {value}\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--budget", "-5"], "--budget: budget_day_usd must be an amount in USD from 0 (off) to 1,000,000,000, not -5"),
        (
            ["--budget", "nan"],
            "--budget: budget_day_usd must be an amount in USD from 0 (off) to 1,000,000,000, not nan",
        ),
        (["--set", "burst_calls=" + "9" * 5000], "--set: burst_calls must be a whole number from 0 (off)"),
        (
            ["--set", "burst_calls=many"],
            "--set: burst_calls must be a whole number from 0 (off) to 1,000,000,000, not 'many'",
        ),
        (["--set", "burst_calls"], "--set: expected NAME=VALUE"),
        (["--set", "burst_callz=3"], "--set: unknown alarm setting 'burst_callz' (did you mean 'burst_calls'?)"),
    ],
)
def test_bad_flags_are_one_line(logs: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "alarms", str(logs), *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"llmcost alarms: error: {message}")
    assert err.count("\n") == 1


def test_the_monitor_takes_the_same_rules(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui._cli import main as top

    assert top([str(logs), "--once", "--set", "max_ended=-1"]) == 2
    assert (
        capsys.readouterr().err
        == "llmcost-top: error: --set: max_ended must be a whole number from 0 to 1,000,000, not -1\n"
    )
    assert top([str(logs), "--once", "--budget", "-5"]) == 2
    assert "--budget: budget_day_usd must be an amount in USD" in capsys.readouterr().err


def test_zero_from_the_command_line_turns_a_rule_off(
    isolated_home: Path, logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(isolated_home, "[alarms]\nbudget_day_usd = 1\n")
    code, out, _ = run(capsys, "alarms", str(logs))
    assert code == 0
    assert {"burst", "budget", "repeat"} <= {line.split()[2] for line in out.splitlines()}
    code, out, _ = run(capsys, "alarms", str(logs), "--set", "burst_calls=0", "--budget", "0")
    assert code == 0
    shown = {line.split()[2] for line in out.splitlines()}
    assert "burst" not in shown
    assert "budget" not in shown
    assert "repeat" in shown


def test_python_callers_get_the_same_rule() -> None:
    with pytest.raises(
        AlarmConfigError, match=r"^burst_calls must be a whole number from 0 \(off\) to 1,000,000,000, not -1$"
    ):
        AlarmConfig(burst_calls=-1)
    with pytest.raises(AlarmConfigError, match="not True"):
        AlarmConfig(burst_calls=True)
    with pytest.raises(AlarmConfigError, match="spend_window_s"):
        AlarmConfig().with_overrides(spend_window_s=0)


def test_unknown_setting_in_the_file_suggests_the_name(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(isolated_home, "[alarms]\nquiet = 30\n")
    code, _, err = run(capsys, "alarms", str(isolated_home))
    assert code == 2
    assert err == f"llmcost alarms: error: {path}: [alarms] has an unknown setting 'quiet' (did you mean 'quiet_s'?)\n"
