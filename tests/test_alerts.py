"""Alerts: the real engine raises alarms from real records; they reach a loopback webhook (Slack JSON), a real
command and the bell, once per episode change that matters, with retries, a rate limit, and never a stop."""

from __future__ import annotations

import json
import re
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from llmcost.alerts import KINDS, AlertConfig, AlertConfigError, Notifier, WebhookConfig, load_alert_config
from llmcost.engine import AlarmConfig, AlarmEvent, Engine, Follower
from llmcost.log._record import Record
from pricing import load_catalog
from tests._traces import T0, day_file, rec, write
from tests._webhook import Reply, WebhookServer, closed_port_url, wait_for
from tui._source import Feed

CATALOG = Path(__file__).parent / "fixtures" / "mini_catalog.toml"
T_ISO = "2026-03-02T12:00:00.000Z"
# burst: 5 calls within 10 s is a warning, 10 is critical
ALARMS = AlarmConfig(burst_calls=5, burst_window_s=10.0, repeat_calls=1000, quiet_s=30.0)
RECORDER = (
    "import json, os, sys\n"
    "event = json.load(sys.stdin)\n"
    "event['argv'] = sys.argv[2:]\n"
    "event['env'] = dict((k, v) for k, v in os.environ.items() if k.startswith('LLMCOST_ALERT_'))\n"
    "with open(sys.argv[1], 'a') as f: f.write(json.dumps(event) + '\\n')\n"
)


def make_engine() -> Engine:
    return Engine(catalog=load_catalog(CATALOG, overrides=False), config=ALARMS, clock=lambda: T0)


def loop(agent: str, start: float, n: int, gap: float = 0.3) -> list[Record]:
    """``n`` calls of one agent, ``gap`` seconds apart: a burst once there are 5 within 10 s."""
    return [rec(start + i * gap, agent=agent, prompt_hash=f"{agent}-{start}-{i}") for i in range(n)]


def one_by_one(engine: Engine, notifier: Notifier, records: list[Record]) -> None:
    """Feed records as the live monitor does in its smallest steps: every change goes to the notifier."""
    for r in records:
        notifier.handle(engine.ingest([r]))


def deliver(config: AlertConfig, agent: str = "looper", **options: Any) -> Notifier:
    """A burst of ``agent``, alerted to ``config``'s destinations by a notifier with ``options``; returns the
    notifier, closed once every alert went out, for its stats."""
    engine = make_engine()
    with Notifier(config, **options) as notifier:
        one_by_one(engine, notifier, loop(agent, T0, 5))
        assert notifier.flush(30)
    return notifier


def recorder(out: Path, *extra: str) -> tuple[str, ...]:
    """A real command: appends the event it reads on stdin (plus its arguments and environment) to ``out``."""
    return (sys.executable, "-c", RECORDER, str(out), *extra)


def script_recorder(out: Path, *extra: str) -> tuple[str, ...]:
    """The recorder as a program of its own (a ``#!`` script): placeholders are for programs, never interpreters."""
    script = out.parent / "record-alert"
    script.write_text(f"#!{sys.executable}\n{RECORDER}")
    script.chmod(0o755)
    return (str(script), str(out), *extra)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def webhook() -> Any:
    with WebhookServer() as server:
        yield server


def hook_config(url: str, **kwargs: Any) -> AlertConfig:
    return AlertConfig(webhooks=(WebhookConfig(url, **kwargs),))


# -- configuration ----------------------------------------------------------------------------------------------------


def write_config(home: Path, text: str) -> Path:
    path = home / ".llmcost" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_config_file_means_no_alerts() -> None:
    assert not load_alert_config().enabled


def test_full_table_is_read(isolated_home: Path) -> None:
    write_config(
        isolated_home,
        """
[alarms]
burst_calls = 30

[alerts]
min_severity = "critical"
kinds = ["burst", "repeat"]
on_end = false
bell = true
command = "notify-send 'llm cost' {text}"
command_timeout_s = 5

[[alerts.webhook]]
url = "https://hooks.slack.com/services/T0/B0/x"
max_per_minute = 3
retries = 1
headers = { Authorization = "Bearer t" }

[[alerts.webhook]]
url = "http://127.0.0.1:9/hook"
min_severity = "warning"
kinds = []
""",
    )
    config = load_alert_config()
    assert config.min_severity == "critical"
    assert config.kinds == ("burst", "repeat")
    assert config.on_end is False
    assert config.bell is True
    assert config.command == ("notify-send", "llm cost", "{text}")  # split like a shell, run without one
    assert config.command_timeout_s == 5
    first, second = config.webhooks
    assert (first.host, first.max_per_minute, first.retries) == ("hooks.slack.com", 3, 1)
    assert dict(first.headers) == {"Authorization": "Bearer t"}
    assert (first.min_severity, first.kinds) == (None, None)  # inherited from [alerts]
    assert (second.min_severity, second.kinds) == ("warning", ())


def test_webhook_url_can_come_from_the_environment(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(isolated_home, '[[alerts.webhook]]\nurl_env = "TEAM_HOOK"\n')
    monkeypatch.setenv("TEAM_HOOK", "https://chat.example.com/hooks/abc")
    assert load_alert_config().webhooks[0].url == "https://chat.example.com/hooks/abc"
    monkeypatch.delenv("TEAM_HOOK")
    with pytest.raises(AlertConfigError, match="environment variable TEAM_HOOK is not set"):
        load_alert_config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[alerts]\nbel = true\n", r"\[alerts\] has an unknown setting 'bel' \(did you mean 'bell'\?\)"),
        ("[alerts]\nsilence = 1\n", r"\[alerts\] has an unknown setting 'silence' \(known: bell, command, "),
        (
            '[[alerts.webhook]]\nurl = "https://x.org/h"\nuri = 1\n',
            r"\[\[alerts.webhook\]\] #1 has an unknown setting 'uri'",
        ),
        ('[alerts]\nmin_severity = "high"\n', r'min_severity must be "info", "warning" or "critical", not \'high\''),
        ('[alerts]\nkinds = ["bursts"]\n', r"kinds: unknown alarm kind 'bursts' \(did you mean 'burst'\?\)"),
        ("[alerts]\nbell = 1\n", r"bell must be true or false, not 1"),
        ("[alerts]\ncommand = [1, 2]\n", r"command must be a list of strings"),
        ('[alerts]\ncommand = ["echo", "{prompt}"]\n', r"unknown placeholder \{prompt\} in '\{prompt\}'"),
        (
            "[alerts]\ncommand_timeout_s = 0\n",
            r"command_timeout_s must be a number more than 0 and at most 3,600, not 0",
        ),
        ("[[alerts.webhook]]\nmax_per_minute = 5\n", r"#1 needs url or url_env"),
        ('[[alerts.webhook]]\nurl = "ftp://x.org/h"\n', r"url must start with http:// or https://"),
        (
            '[[alerts.webhook]]\nurl = "https://x.org/h"\nmax_per_minute = 0\n',
            r"max_per_minute must be a whole number from 1 to 10,000, not 0",
        ),
        ("[alerts\nbell = true\n", r"not valid TOML"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_file(isolated_home: Path, text: str, message: str) -> None:
    path = write_config(isolated_home, text)
    with pytest.raises(AlertConfigError, match=message) as caught:
        load_alert_config()
    assert str(caught.value).startswith(f"{path}: ")
    assert "\n" not in str(caught.value)


def test_the_monitor_refuses_a_bad_alerts_table(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui._cli import main

    write_config(isolated_home, "[alerts]\nbel = true\n")
    assert main([str(isolated_home)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unknown setting 'bel'" in err


def test_no_alerts_flag_skips_the_table(isolated_home: Path) -> None:
    from tui._cli import _check, build_parser

    write_config(isolated_home, "[alerts]\nbel = true\n")
    args = build_parser().parse_args([str(isolated_home), "--no-alerts"])
    _check(args)
    assert args.alerts is None


# -- which changes become alerts ---------------------------------------------------------------------------------------


def test_one_alert_when_an_episode_opens_and_one_when_it_ends(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    engine = make_engine()
    with Notifier(AlertConfig(command=recorder(out))) as notifier:
        one_by_one(engine, notifier, loop("looper", T0, 9))  # the episode changes on every call (its peak grows)
        notifier.handle(engine.tick(T0 + 120))  # quiet for longer than quiet_s: the episode ends
        assert notifier.flush(30)
    got = lines(out)
    assert [(e["state"], e["kind"], e["agent"]) for e in got] == [
        ("opened", "burst", "looper"),
        ("ended", "burst", "looper"),
    ]
    assert got[1]["text"].endswith(": ended: burst, agent looper, peak calls 9 (from 12:00:00 UTC to 12:00:32 UTC)")


def test_escalation_to_critical_is_one_more_alert(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    engine = make_engine()
    with Notifier(AlertConfig(command=recorder(out), on_end=False)) as notifier:
        one_by_one(engine, notifier, loop("looper", T0, 15))  # 5 calls: warning; 10 calls: critical
        notifier.handle(engine.tick(T0 + 120))
        assert notifier.flush(30)
    got = lines(out)
    assert [(e["state"], e["severity"]) for e in got] == [("opened", "warning"), ("escalated", "critical")]
    assert ": now CRITICAL burst, agent looper: 10 calls in 10 s (since 12:00:00 UTC)" in got[1]["text"]


def test_min_severity_critical_hears_of_the_episode_when_it_becomes_critical(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    engine = make_engine()
    with Notifier(AlertConfig(command=recorder(out), min_severity="critical")) as notifier:
        one_by_one(engine, notifier, loop("mild", T0, 6))  # a warning only
        one_by_one(engine, notifier, loop("wild", T0 + 100, 12))  # becomes critical
        notifier.handle(engine.tick(T0 + 500))
        assert notifier.flush(30)
    got = lines(out)
    assert [(e["state"], e["agent"], e["severity"]) for e in got] == [
        ("opened", "wild", "critical"),
        ("ended", "wild", "critical"),
    ]


def test_kinds_filter(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    engine = make_engine()
    config = AlertConfig(command=recorder(out), kinds=("error_streak",))
    with Notifier(config) as notifier:
        one_by_one(engine, notifier, loop("looper", T0, 8))  # a burst: not wanted
        failures = [rec(T0 + 50 + i, agent="failing", status="error", error_type="RateLimitError") for i in range(6)]
        one_by_one(engine, notifier, failures)
        assert notifier.flush(30)
    assert [(e["kind"], e["agent"]) for e in lines(out)] == [("error_streak", "failing")]


# -- the command ------------------------------------------------------------------------------------------------------


def test_command_gets_the_event_on_stdin_in_its_arguments_and_environment(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    engine = make_engine()
    command = script_recorder(out, "{severity}:{agent}", "{{literal}}")
    with Notifier(AlertConfig(command=command, on_end=False)) as notifier:
        records = loop("looper", T0, 5)
        one_by_one(engine, notifier, records)
        assert notifier.flush(30)
        stats = notifier.stats()
    (event,) = lines(out)
    assert event["kind"] == "burst"
    assert event["detected_at"] == records[4].ts
    assert event["started_at"] == records[0].ts
    assert event["peak"] == {"calls": 5.0}
    assert event["active"] is True
    assert event["argv"] == ["warning:looper", "{literal}"]
    assert event["env"]["LLMCOST_ALERT_KIND"] == "burst"
    assert event["env"]["LLMCOST_ALERT_STATE"] == "opened"
    assert event["env"]["LLMCOST_ALERT_ENDED_AT"] == ""
    assert "WARNING burst, agent looper: 5 calls in 10 s" in event["text"]
    assert stats[0].sent == 1


HOSTILE = "bot$(touch {marker})`touch {marker}`;touch {marker}"


def test_a_placeholder_never_reaches_a_shell(tmp_path: Path) -> None:
    marker, out = tmp_path / "pwned", tmp_path / "out.txt"
    refused = ""
    try:
        config = AlertConfig(command=("sh", "-c", f"echo {{agent}} >> {out}"))
    except AlertConfigError as exc:
        refused = str(exc)
    else:  # without the check, run it: the test then shows what a hostile agent name would do
        deliver(config, HOSTILE.format(marker=marker))
    assert not marker.exists()
    assert refused.startswith("command: {agent} cannot be given to sh: a shell runs its arguments as code")
    assert '"$LLMCOST_ALERT_AGENT"' in refused


def test_a_shell_gets_the_values_from_the_environment_as_plain_text(tmp_path: Path) -> None:
    marker, out = tmp_path / "pwned", tmp_path / "out.txt"
    hostile = HOSTILE.format(marker=marker)
    command = ("sh", "-c", 'printf "%s\\n" "$LLMCOST_ALERT_AGENT" >> "$0"', str(out))
    (stats,) = deliver(AlertConfig(command=command, on_end=False), hostile).stats()
    assert stats.sent == 1
    assert out.read_text() == hostile + "\n"
    assert not marker.exists()


def test_a_program_gets_a_hostile_value_as_one_argument(tmp_path: Path) -> None:
    marker, out = tmp_path / "pwned", tmp_path / "alerts.jsonl"
    hostile = HOSTILE.format(marker=marker) + " --flag 'quoted' \"x\""
    deliver(AlertConfig(command=script_recorder(out, "{agent}", "agent={agent}"), on_end=False), hostile)
    (event,) = lines(out)
    assert event["argv"] == [hostile, f"agent={hostile}"]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ('["sh", "-c", "echo {agent} >> f"]', r"\{agent\} cannot be given to sh: a shell runs its arguments as code"),
        ("\"bash -c 'notify {text}'\"", r"\{text\} cannot be given to bash: a shell"),  # a string: split, then checked
        ('["/bin/bash", "-lc", "x", "{agent}"]', r"given to /bin/bash: a shell"),  # even as a positional argument
        ('["dash5.1", "script.sh", "{message}"]', r"\{message\} cannot be given to dash5.1: a shell"),
        ('["python3", "-c", "import sys", "{agent}"]', r"given to python3: an interpreter runs its arguments as code"),
        ('["perl", "-e", "print \\"{text}\\""]', r"given to perl: an interpreter"),
        ('["env", "notify-send", "{text}"]', r"given to env: it runs a program named in its arguments"),
        ('["timeout", "5", "{agent}"]', r"given to timeout: it runs a program named in its arguments"),
        ('["ssh", "host", "notify {text}"]', r"given to ssh: it runs a program"),
        ('["{agent}"]', r"the program cannot come from a placeholder \('\{agent\}'\): name the program itself"),
        ('["/usr/bin/{kind}-notify", "x"]', r"the program cannot come from a placeholder"),
    ],
)
def test_placeholders_for_a_shell_are_refused_at_config_check(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], command: str, message: str
) -> None:
    from llmcost.cli import main

    path = write_config(isolated_home, f"[alerts]\ncommand = {command}\n")
    assert main(["alerts"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"llmcost alerts: error: {path}: [alerts] command: ")
    assert re.search(message, err)
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "command",
    [
        '["sh", "-c", "echo \\"$LLMCOST_ALERT_TEXT\\" >> ~/alerts.log"]',  # no placeholder: the values are in the environment
        '["notify-send", "--urgency=critical", "llmcost {severity}", "{text}"]',
        '["/usr/local/bin/page-me", "--agent={agent}"]',
        '["shellcheck-report", "{text}"]',  # a name that starts like a shell's is not one
    ],
)
def test_placeholders_for_a_program_or_a_shell_without_them_are_fine(isolated_home: Path, command: str) -> None:
    write_config(isolated_home, f"[alerts]\ncommand = {command}\n")
    assert load_alert_config().command


def test_a_nul_in_the_command_is_refused_at_config_check(isolated_home: Path) -> None:
    write_config(isolated_home, '[alerts]\ncommand = ["notify-send", "a\\u0000b"]\n')
    with pytest.raises(
        AlertConfigError, match=r"command: 'a\\x00b' has a NUL character, which no program can be given"
    ):
        load_alert_config()


def test_a_nul_in_an_agent_name_neither_stops_the_command_nor_hides_the_alert(tmp_path: Path) -> None:
    # No argument or environment variable can hold a NUL: the command gets it as a visible U+2400, stdin gets it exact.
    out = tmp_path / "alerts.jsonl"
    engine = make_engine()
    with Notifier(AlertConfig(command=script_recorder(out, "{agent}"), on_end=False)) as notifier:
        one_by_one(engine, notifier, loop("bad\x00bot", T0, 5))
        one_by_one(engine, notifier, loop("good-bot", T0 + 100, 5))
        assert notifier.flush(30)
        (stats,) = notifier.stats()
    first, second = lines(out)
    assert first["agent"] == "bad\x00bot"
    assert first["argv"] == ["bad\u2400bot"]
    assert first["env"]["LLMCOST_ALERT_AGENT"] == "bad\u2400bot"
    assert second["agent"] == "good-bot"
    assert (stats.sent, stats.failed, stats.dropped) == (2, 0, 0)


def test_a_huge_agent_name_still_reaches_the_command(tmp_path: Path) -> None:
    # The system refuses an argument or a variable past 128 KiB: a name that long would silence its own alerts.
    out = tmp_path / "alerts.jsonl"
    huge = "x" * 300_000
    (stats,) = deliver(AlertConfig(command=script_recorder(out, "{agent}"), on_end=False), huge).stats()
    (event,) = lines(out)
    assert event["agent"] == huge  # stdin has it whole
    assert event["argv"] == ["x" * 4095 + "…"]
    assert event["env"]["LLMCOST_ALERT_AGENT"] == "x" * 4095 + "…"
    assert (stats.sent, stats.failed) == (1, 0)


def test_a_fault_in_one_alert_is_counted_and_the_next_one_goes_out(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    broken = AlarmEvent("burst-1", "burst", "warning", "odd", T_ISO, T_ISO, peak={"calls": object()})  # type: ignore[dict-item]
    fine = AlarmEvent("burst-2", "burst", "warning", "fine", T_ISO, T_ISO, peak={"calls": 5.0})
    with Notifier(AlertConfig(command=script_recorder(out), on_end=False)) as notifier:
        notifier.handle([broken])  # its JSON cannot be written: a bug's stand-in, whatever it may be
        notifier.handle([fine])
        assert notifier.flush(30)
        (stats,) = notifier.stats()
        problems = notifier.problems()
    assert [e["agent"] for e in lines(out)] == ["fine"]
    assert (stats.sent, stats.failed, stats.dropped) == (1, 1, 0)
    assert stats.last_error.startswith("TypeError: Object of type object is not JSON serializable")
    assert problems == [f"alerts to {stats.destination} failed 1× ({stats.last_error})"]


def test_a_fault_in_one_webhook_alert_is_counted_and_the_next_one_goes_out(webhook: WebhookServer) -> None:
    ended = AlarmEvent("b-1", "burst", "warning", "odd", T_ISO, T_ISO, T_ISO, peak={"calls": "many"})  # type: ignore[dict-item]
    fine = AlarmEvent("b-2", "burst", "warning", "fine", T_ISO, T_ISO, peak={"calls": 5.0})
    with Notifier(hook_config(webhook.url), backoff_s=0.01) as notifier:
        notifier.handle([replace(ended, ended_at=None)])
        notifier.handle([ended])  # its "peak calls many" cannot be formatted as a number
        notifier.handle([fine])
        assert notifier.flush(30)
        (stats,) = notifier.stats()
    assert ["agent odd" in t for t in webhook.texts()] == [True, False]
    assert "agent fine" in webhook.texts()[1]
    assert (stats.sent, stats.failed) == (2, 1)
    assert stats.last_error.startswith("ValueError: ")


def test_a_fault_turning_changes_into_alerts_is_shown(tmp_path: Path) -> None:
    odd = AlarmEvent("x-1", "burst", "severe", "odd", T_ISO, T_ISO)  # type: ignore[arg-type]
    with Notifier(AlertConfig(command=script_recorder(tmp_path / "out.jsonl"))) as notifier:
        assert notifier.handle([odd]) == 0
        assert notifier.errors == 1
        assert notifier.problems() == ["1 alarm change not turned into alerts (KeyError: 'severe')"]


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        ((sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"), "exit 3: boom"),
        (("llmcost-no-such-command-here",), "llmcost-no-such-command-here: command not found"),
        ((sys.executable, "-c", "import time; time.sleep(60)"), "timed out after 0.5 s"),
    ],
)
def test_failing_command_is_counted_not_raised(argv: tuple[str, ...], error: str) -> None:
    notifier = deliver(AlertConfig(command=argv, command_timeout_s=0.5))
    (stats,) = notifier.stats()
    assert (stats.sent, stats.failed) == (0, 1)
    assert stats.last_error == error
    assert notifier.problems() == [f"alerts to {stats.destination} failed 1× ({error})"]


# -- the webhook ------------------------------------------------------------------------------------------------------


def test_webhook_receives_slack_json(webhook: WebhookServer) -> None:
    engine = make_engine()
    with Notifier(hook_config(webhook.url)) as notifier:
        one_by_one(engine, notifier, loop("retry-bot", T0, 6))
        assert notifier.flush(30)
    (hit,) = webhook.hits
    assert hit.path == "/services/T000/B000/secret"
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["user-agent"].startswith("llmcost-top/")
    assert list(hit.body) == ["text"]  # what Slack, Mattermost and Discord's /slack endpoint all take
    assert ":warning:" in hit.body["text"]
    assert "WARNING burst, agent retry-bot: 5 calls in 10 s (since 12:00:00 UTC)" in hit.body["text"]


def test_a_5xx_is_retried(webhook: WebhookServer) -> None:
    webhook.script[:] = [Reply(500, b"oops"), Reply(200)]
    (stats,) = deliver(hook_config(webhook.url), backoff_s=0.05).stats()
    assert len(webhook.hits) == 2
    assert webhook.hits[0].body == webhook.hits[1].body
    assert (stats.sent, stats.retries, stats.failed) == (1, 1, 0)


def test_a_429_waits_as_long_as_retry_after_says(webhook: WebhookServer) -> None:
    webhook.script[:] = [Reply(429, b"rate_limited", {"Retry-After": "1"})]
    (stats,) = deliver(hook_config(webhook.url), backoff_s=0.01).stats()
    first, second = webhook.hits
    assert second.at - first.at >= 0.95  # Retry-After, not the 10 ms backoff
    assert (stats.sent, stats.retries) == (1, 1)


def test_a_4xx_is_not_retried(webhook: WebhookServer) -> None:
    webhook.script[:] = [Reply(404, b"no_service")]
    (stats,) = deliver(hook_config(webhook.url), backoff_s=0.01).stats()
    assert len(webhook.hits) == 1
    assert (stats.failed, stats.last_error) == (1, "HTTP 404: no_service")


def test_unreachable_webhook_is_retried_then_counted() -> None:
    notifier = deliver(hook_config(closed_port_url(), retries=2), backoff_s=0.01)
    (stats,) = notifier.stats()
    problems = notifier.problems()
    assert (stats.sent, stats.failed, stats.retries) == (0, 1, 2)
    assert stats.last_error.startswith("connection failed")
    assert problems[0].startswith("alerts to webhook 127.0.0.1:")


def test_rate_limit_folds_the_rest_into_one_summary(webhook: WebhookServer) -> None:
    engine = make_engine()
    storm = [r for i in range(5) for r in loop(f"agent-{i}", T0, 5)]
    with Notifier(hook_config(webhook.url, max_per_minute=2, on_end=False)) as notifier:
        notifier.handle(engine.ingest(storm))  # five episodes open at once
        wait_for(lambda: len(webhook.hits) == 2)
        assert notifier.flush(30)
        texts = webhook.texts()
        stats = notifier.stats()[0]
        notifier.handle(engine.ingest(loop("late", T0 + 1, 5)))  # the minute's two messages are spent: held
        assert not notifier.flush(0.3)
    assert "agent agent-0" in texts[0]
    assert "5 alarm changes" not in texts[0]
    assert "4 alarm changes" in texts[1]
    assert all(f"agent agent-{i}" in texts[1] for i in range(1, 5))
    assert (stats.sent, stats.coalesced) == (2, 4)
    assert len(webhook.hits) == 2
    assert notifier.stats()[0].dropped == 1  # still held when the monitor stopped


def test_a_hung_webhook_never_blocks_the_caller_and_its_queue_is_bounded(webhook: WebhookServer) -> None:
    webhook.release.clear()  # the server takes the request and does not answer
    engine = make_engine()
    with Notifier(hook_config(webhook.url, timeout_s=10)) as notifier:
        one_by_one(engine, notifier, loop("first", T0, 5))
        wait_for(lambda: len(webhook.hits) == 1)
        for i in range(150):  # far more batches than the queue holds, while the worker waits for an answer
            notifier.handle(engine.ingest(loop(f"agent-{i}", T0 + 20, 5)))
        dropped = notifier.stats()[0].dropped
        assert not webhook.release.is_set()  # every handle() above returned while the first post hung
        webhook.release.set()
    assert dropped == 50


def test_bell_rings_once_for_a_burst_of_new_episodes() -> None:
    rings: list[int] = []
    engine = make_engine()
    with Notifier(AlertConfig(bell=True), ring=lambda: rings.append(1)) as notifier:
        storm = [r for i in range(3) for r in loop(f"agent-{i}", T0, 5)]
        notifier.handle(engine.ingest(storm))
        notifier.handle(engine.ingest(loop("later", T0 + 1, 5)))  # within the bell's interval
        notifier.handle(engine.tick(T0 + 300))  # ends do not ring
        (stats,) = notifier.stats()
    assert rings == [1]
    assert (stats.sent, stats.coalesced) == (1, 3)


# -- the live monitor -------------------------------------------------------------------------------------------------


def test_monitor_announces_what_goes_on_and_keeps_going_when_a_webhook_fails(
    tmp_path: Path, webhook: WebhookServer
) -> None:
    logs = tmp_path / "logs"
    now = T0 + 3600
    write(day_file(logs, now), loop("over", now - 600, 6) + loop("ongoing", now - 5, 6))  # the history
    config = AlertConfig(webhooks=(WebhookConfig(webhook.url), WebhookConfig(closed_port_url(), retries=1)))
    engine = Engine(catalog=load_catalog(CATALOG, overrides=False), config=ALARMS, clock=lambda: now)
    feed = Feed(engine, Follower([str(logs)], all=True, clock=lambda: now), [str(logs)], clock=lambda: now)
    feed.notifier = Notifier(config, backoff_s=0.01)
    thread = threading.Thread(target=feed.run, args=(lambda done, total: None, lambda changes: None))
    thread.start()
    try:
        wait_for(lambda: len(webhook.hits) == 1)  # the episode going on when the monitor starts
        write(day_file(logs, now), loop("live", now, 6))
        wait_for(lambda: len(webhook.hits) == 2)
        wait_for(lambda: feed.notifier is not None and feed.notifier.stats()[1].failed == 2)
        write(day_file(logs, now), loop("after", now + 1, 3))  # the monitor still reads
        wait_for(lambda: engine.records == 21)
        problems = feed.problems()
    finally:
        feed.stop()
        thread.join(10)
    texts = webhook.texts()
    assert "agent ongoing" in texts[0]
    assert "agent live" in texts[1]
    assert not any("agent over" in t for t in texts)  # it ended before the monitor started
    assert any(e.agent == "over" and not e.active for e in engine.alarms.events())
    assert len(problems) == 1
    assert problems[0].startswith("alerts to webhook 127.0.0.1:")
    assert not thread.is_alive()


# -- llmcost alerts ---------------------------------------------------------------------------------------------------


def test_alerts_command_without_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    from llmcost.cli import main

    assert main(["alerts"]) == 0
    assert capsys.readouterr().out.startswith("no alerts configured")


def test_alerts_command_lists_destinations_without_the_secret_url(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmcost.cli import main

    write_config(
        isolated_home,
        '[alerts]\nbell = true\ncommand = ["notify-send", "{text}"]\n'
        '[[alerts.webhook]]\nurl = "https://hooks.slack.com/services/T0/B0/secret"\nmin_severity = "critical"\n',
    )
    assert main(["alerts"]) == 0
    out = capsys.readouterr().out
    assert "bell: on" in out
    assert "command: notify-send '{text}' (timeout 10 s)" in out
    assert "webhook hooks.slack.com: severity critical and above, at most 10 a minute, 3 retries" in out
    assert "secret" not in out


def test_alerts_test_sends_a_sample_to_every_destination(
    isolated_home: Path, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmcost.cli import main

    out = isolated_home / "alerts.jsonl"
    command = json.dumps(list(recorder(out)))
    write_config(
        isolated_home,
        f'[alerts]\nmin_severity = "critical"\ncommand = {command}\n[[alerts.webhook]]\nurl = "{webhook.url}"\n',
    )
    assert main(["alerts", "--test"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"command {Path(sys.executable).name}: sent", f"webhook {webhook.host}: sent"]
    assert "TEST WARNING burst, agent llmcost-test" in webhook.texts()[0]  # filters do not apply to the test
    assert lines(out)[0]["state"] == "test"


def test_alerts_test_fails_when_a_destination_fails(
    isolated_home: Path, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmcost.cli import main

    webhook.script[:] = [Reply(404, b"no_service")]
    write_config(isolated_home, f'[[alerts.webhook]]\nurl = "{webhook.url}"\n')
    assert main(["alerts", "--test"]) == 1
    assert capsys.readouterr().out == f"webhook {webhook.host}: FAILED: HTTP 404: no_service\n"


def test_alerts_test_shows_a_hostile_answer_escaped(
    isolated_home: Path, webhook: WebhookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmcost.cli import main

    # A webhook's answer and a command's stderr are someone else's text: printed raw, they could drive the terminal.
    webhook.script[:] = [Reply(404, b"\x1b]0;pwned\x07\x1b[2Jgone")]
    command = json.dumps([sys.executable, "-c", "import sys; sys.stderr.write('\\x1b[2Jboom\\n'); sys.exit(1)"])
    write_config(isolated_home, f'[alerts]\ncommand = {command}\n[[alerts.webhook]]\nurl = "{webhook.url}"\n')
    assert main(["alerts", "--test"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "FAILED: exit 1: \\x1b[2Jboom" in out
    assert "FAILED: HTTP 404: \\x1b]0;pwned\\x07\\x1b[2Jgone" in out


def test_alerts_command_reports_a_bad_table(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llmcost.cli import main

    path = write_config(isolated_home, '[alerts]\nkinds = ["loops"]\n')
    assert main(["alerts"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"llmcost alerts: error: {path}: [alerts] kinds: unknown alarm kind 'loops' (known: {', '.join(KINDS)})\n"
    )


# -- llmcost-top ------------------------------------------------------------------------------------------------------


async def test_monitor_app_rings_posts_and_shows_a_failing_webhook(tmp_path: Path, webhook: WebhookServer) -> None:
    from textual.widgets import Static

    from tests._tui import append, call, ready, until
    from tui import make_app

    append(tmp_path, call("steady", 0.01))
    alerts = AlertConfig(webhooks=(WebhookConfig(webhook.url), WebhookConfig(closed_port_url(), retries=0)))
    app = make_app([str(tmp_path)], config=AlarmConfig(burst_calls=5, burst_window_s=10), alerts=alerts, bell=True)
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]

    def notice() -> str:
        app.paint_now()
        widget = app.monitor.query_one("#notice", Static)
        return str(widget.render()) if widget.display else ""

    async with app.run_test(size=(120, 40)):
        await ready(app)
        assert notice() == ""
        append(tmp_path, *[call("looper", 0.001) for _ in range(6)])
        await until(lambda: len(webhook.hits) == 1)
        await until(lambda: rings == [1])
        await until(lambda: "alerts to webhook 127.0.0.1:" in notice())
        append(tmp_path, call("newcomer", 0.01))  # the monitor goes on
        await until(lambda: app.monitor.table.row_count == 3)
        shown = notice()
    assert "agent looper" in webhook.texts()[0]
    assert "failed 1× (connection failed" in shown


def test_public_api_is_sorted_and_importing_it_is_light() -> None:
    import subprocess

    import llmcost.alerts

    names = list(llmcost.alerts.__all__)
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert all(hasattr(llmcost.alerts, n) for n in names)
    code = "import sys, llmcost.alerts; print(','.join(m for m in ('httpx', 'textual') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
