"""Importing Claude Code and Codex CLI transcripts (``llmcost.importers``) from real files into a real log directory.

The fixtures (``tests/fixtures/coding_agents``, written by its ``make_fixtures.py``) hold the shapes the tools write:
streamed chunks of one message, a resumed session's copy, malformed and truncated lines, unknown models, Codex
re-emits and fork replays. Costs are checked against hand-computed sums at the fixture catalog's rates.
"""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import llmcost.importers as importers
from llmcost.importers import ClaudeCode, Codex, Importer, ImportFailed, decode_project
from llmcost.importers import _state as state_module
from llmcost.log import decode_record, encode_record, log_file_name
from tests._agents import S1, S2, S3, age, catalog, records, records_by


def run(source: ClaudeCode | Codex, root: Path, log_dir: Path, settle_s: float = 60.0) -> importers.ImportSummary:
    with Importer(source, [root], log_dir, catalog=catalog(), settle_s=settle_s) as importer:
        importer.scan()
    return importer.summary


def usd(rates: dict[int, float]) -> float:
    """The cost of {tokens: USD per million tokens}: the exact sum, as the record's float."""
    return float(sum(Decimal(n) * Decimal(str(rate)) for n, rate in rates.items()) / 1_000_000)


# -- Claude Code --------------------------------------------------------------------------------------------------


def test_claude_code_counts_each_message_once_with_its_final_usage(claude: Path, tmp_path: Path) -> None:
    summary = run(ClaudeCode(), claude, tmp_path / "logs")
    by = records_by(tmp_path / "logs")
    # msg_01A is in two files (a resumed session copied it), D and the JSON fragment are unreadable, H is half written
    assert sorted(map(str, by)) == [
        "msg_01A",
        "msg_01B",
        "msg_01C",
        "msg_01E",
        "msg_01F",
        "msg_01G",
        "msg_01I",
        "msg_01J",
        "msg_01K",
    ]
    a = by["msg_01A"]
    # three chunks: input and cache counts repeat, the output grows to 240 on the last one (stop_reason set)
    assert (a.input_tokens, a.output_tokens, a.cache_read_input_tokens, a.cache_creation_input_tokens) == (
        3 + 15000 + 1200,
        240,
        15000,
        1200,
    )
    assert a.ts == "2026-01-15T10:00:07.500Z"  # the end of the call: its last chunk
    assert (a.cache_creation_1h_input_tokens, a.metadata) == (1000, None)
    # 5-minute and 1-hour cache writes at their own rates
    assert a.cost_usd == usd({3: 3, 240: 15, 15000: 0.3}) + usd({200: 3.75}) + usd({1000: 6})
    assert (a.cost_status, a.provider, a.response_model, a.agent, a.source, a.stream) == (
        "priced",
        "anthropic",
        "claude-sonnet-4-5-20250929",
        "claude-code",
        "claude-code",
        True,
    )
    assert (a.session_id, a.workflow, a.tags, a.operation, a.usage_source) == (
        S1,
        "/home/dev/shop-api",
        None,
        "chat",
        "provider",
    )
    b = by["msg_01B"]  # an older version: no stop_reason, no 5m/1h split; complete once msg_01C begins
    assert (b.output_tokens, b.cache_creation_input_tokens, b.cache_creation_1h_input_tokens) == (80, 300, None)
    assert b.cost_usd == usd({5: 3, 16200: 0.3, 300: 3.75, 80: 15})
    assert by["msg_01C"].cost_usd == usd({200: 1, 50: 5})
    assert by["msg_01E"].tags == ["sidechain"]
    assert (by["msg_01F"].cost_status, by["msg_01F"].cost_usd) == ("unknown_model", None)
    assert by["msg_01I"].session_id == S2
    assert by["msg_01I"].cache_creation_1h_input_tokens == 500
    # lines without cwd: the project from the folder name (no such directory here: dashes become slashes)
    assert (by["msg_01J"].workflow, by["msg_01J"].output_tokens, by["msg_01J"].session_id) == (
        "/home/dev/tools/cli",
        44,
        S3,
    )
    assert (by["msg_01K"].workflow, by["msg_01K"].tags) == ("/home/dev/tools-cli", ["sidechain"])
    assert summary.records == 9
    assert summary.already_imported == 1
    assert summary.skipped_lines == {str(claude / "-home-dev-shop-api" / f"{S1}.jsonl"): 2}
    assert summary.unknown_models == {"claude-nonexistent-9": 1}
    assert summary.in_progress == 0
    assert summary.cost_usd == sum(Decimal(str(r.cost_usd)) for r in by.values() if r.cost_usd is not None)


def test_each_call_goes_to_the_day_file_of_its_own_time(claude: Path, tmp_path: Path) -> None:
    run(ClaudeCode(), claude, tmp_path / "logs")
    days = {
        p.name: [json.loads(line)["response_id"] for line in p.read_text().splitlines()]
        for p in (tmp_path / "logs").iterdir()
    }
    assert days[log_file_name("2026-01-16")] == ["msg_01G"]
    assert sorted(days[log_file_name("2026-01-14")]) == ["msg_01J", "msg_01K"]
    assert len(days[log_file_name("2026-01-15")]) == 6


def test_no_prompt_or_response_text_reaches_the_log(claude: Path, codex: Path, tmp_path: Path) -> None:
    run(ClaudeCode(), claude, tmp_path / "logs")
    run(Codex(), codex, tmp_path / "logs")
    sources = b"".join(p.read_bytes() for p in tmp_path.rglob("*.jsonl") if "logs" not in p.parts)
    assert sources.count(b"SECRET-") >= 8  # the fixtures do hold prompts, answers, thoughts and tool output
    logs = b"".join(p.read_bytes() for p in (tmp_path / "logs").iterdir())
    assert b"SECRET" not in logs
    assert b"checkout" not in logs  # neither the session summary nor a tool result


def test_importing_again_writes_nothing_new(claude: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run(ClaudeCode(), claude, logs)
    before = {p.name: p.read_bytes() for p in logs.iterdir()}
    again = run(ClaudeCode(), claude, logs)
    assert again.records == 0
    assert again.bytes_read == 90  # only the half-written last line of one file is read again
    assert {p.name: p.read_bytes() for p in logs.iterdir()} == before


def test_without_its_state_an_import_writes_the_same_ids_again(claude: Path, tmp_path: Path) -> None:
    """The ids come from the source ids: a lost state file gives duplicate lines that readers count once."""
    logs = tmp_path / "logs"
    run(ClaudeCode(), claude, logs)
    first = {r.id for r in records(logs)}
    shutil.rmtree(Path(os.environ["LLMCOST_HOME"]) / "imports")
    assert run(ClaudeCode(), claude, logs).records == 9
    again = records(logs)
    assert len(again) == 18
    assert {r.id for r in again} == first


def test_a_truncated_last_line_is_imported_once_its_newline_arrives(claude: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run(ClaudeCode(), claude, logs)
    source = claude / "-home-dev-shop-api" / f"{S1}.jsonl"
    written = (
        Path(__file__).parent / "fixtures" / "coding_agents" / "claude" / "projects" / "-home-dev-shop-api"
    ).joinpath(f"{S1}.jsonl")
    partial = written.read_bytes().rsplit(b"\n", 1)[1]
    assert partial
    assert not partial.endswith(b"}")
    line = _line("msg_01H", "2026-01-16T00:01:00.000Z", output=9, stop="end_turn")
    assert line.startswith(partial.decode())
    with open(source, "a") as f:
        f.write(line[len(partial) :] + "\n")
    age(claude)
    summary = run(ClaudeCode(), claude, logs)
    assert (summary.records, summary.skipped_lines) == (1, {})
    assert records_by(logs)["msg_01H"].output_tokens == 9


def _line(
    message: str,
    ts: str,
    *,
    output: int,
    stop: str | None,
    session: str = S1,
    cwd: str = "/home/dev/shop-api",
    request: str | None = None,
) -> str:
    """An assistant line as the fixtures write it (same key order)."""
    base = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session,
        "version": "2.0.31",
        "gitBranch": "main",
    }
    usage = {
        "input_tokens": 1,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 100,
        "output_tokens": output,
        "service_tier": "standard",
    }
    content = [{"type": "text", "text": "SECRET-RESPONSE-91bc"}]
    msg = {
        "model": "claude-sonnet-4-5-20250929",
        "id": message,
        "type": "message",
        "role": "assistant",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }
    uid = "a-12" if message == "msg_01H" else f"u-{message}-{output}"
    line = {
        **base,
        "message": msg,
        "requestId": request or f"req_{message[4:]}",
        "type": "assistant",
        "uuid": uid,
        "timestamp": ts,
    }
    return json.dumps(line, separators=(",", ":"))


def test_a_message_still_streaming_waits_for_its_last_chunk(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "-work-app"
    project.mkdir(parents=True)
    transcript = project / "s.jsonl"
    transcript.write_text(_line("msg_01S", "2026-02-01T12:00:00.000Z", output=1, stop=None) + "\n")
    logs = tmp_path / "logs"
    summary = run(ClaudeCode(), tmp_path / "projects", logs)  # the file just changed: the message may go on
    assert (summary.records, summary.in_progress) == (0, 1)
    with open(transcript, "a") as f:
        f.write(_line("msg_01S", "2026-02-01T12:00:03.000Z", output=1, stop=None) + "\n")
    assert run(ClaudeCode(), tmp_path / "projects", logs).in_progress == 1  # held in the state between imports
    with open(transcript, "a") as f:
        f.write(_line("msg_01S", "2026-02-01T12:00:09.000Z", output=321, stop="end_turn") + "\n")
        f.write(_line("msg_01S", "2026-02-01T12:00:09.000Z", output=321, stop="end_turn") + "\n")  # a repeat
    summary = run(ClaudeCode(), tmp_path / "projects", logs)
    assert (summary.records, summary.in_progress) == (1, 0)
    (only,) = records(logs)
    assert (only.output_tokens, only.ts) == (321, "2026-02-01T12:00:09.000Z")


def test_a_message_without_a_last_chunk_is_written_once_its_file_is_quiet(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "-work-app"
    project.mkdir(parents=True)
    (project / "s.jsonl").write_text(
        _line("msg_01T", "2026-02-01T12:00:00.000Z", output=1, stop=None)
        + "\n"
        + _line("msg_01T", "2026-02-01T12:00:04.000Z", output=77, stop=None)
        + "\n"
    )
    logs = tmp_path / "logs"
    assert run(ClaudeCode(), tmp_path / "projects", logs).in_progress == 1
    age(tmp_path / "projects", 61)
    assert run(ClaudeCode(), tmp_path / "projects", logs).records == 1
    assert records(logs)[0].output_tokens == 77


@given(cuts=st.lists(st.integers(min_value=0, max_value=100_000), max_size=6))
def test_reading_a_growing_file_piece_by_piece_gives_the_same_records(
    tmp_path_factory: pytest.TempPathFactory, cuts: list[int]
) -> None:
    """However the writes of a transcript are split between imports, the records are those of one import."""
    source = (
        Path(__file__).parent
        / "fixtures"
        / "coding_agents"
        / "claude"
        / "projects"
        / "-home-dev-shop-api"
        / f"{S1}.jsonl"
    )
    data = source.read_bytes()
    base = tmp_path_factory.mktemp("pieces")
    whole = base / "whole" / "-p"
    whole.mkdir(parents=True)
    (whole / "s.jsonl").write_bytes(data)
    age(whole)
    run(ClaudeCode(), whole.parent, base / "logs-whole")
    project = base / "cut" / "-p"
    project.mkdir(parents=True)
    target = project / "s.jsonl"
    target.write_bytes(b"")
    start = 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        with open(target, "ab") as f:
            f.write(data[start:cut])
        start = max(start, cut)
        run(ClaudeCode(), project.parent, base / "logs-cut")  # fresh file: messages not complete stay held
    age(project)
    run(ClaudeCode(), project.parent, base / "logs-cut")
    key = lambda r: (r.id, r.ts, r.input_tokens, r.output_tokens, r.cache_creation_input_tokens, r.cost_usd)  # noqa: E731
    assert sorted(map(key, records(base / "logs-cut"))) == sorted(map(key, records(base / "logs-whole")))


def test_a_file_rewritten_in_place_is_read_again_without_duplicates(claude: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run(ClaudeCode(), claude, logs)
    resumed = claude / "-home-dev-shop-api" / f"{S2}.jsonl"
    lines = resumed.read_text().splitlines()
    # same size class, other content: the first bytes changed, so the offset is no longer valid
    resumed.write_text(
        "\n".join(
            [lines[3], lines[0], _line("msg_01Z", "2026-01-15T12:00:00.000Z", output=5, stop="end_turn", session=S2)]
        )
        + "\n"
    )
    age(claude)
    summary = run(ClaudeCode(), claude, logs)
    assert summary.records == 1
    assert summary.already_imported == 2  # msg_01I and msg_01A again: their ids were written before
    assert "msg_01Z" in records_by(logs)


def test_decode_project_uses_the_directories_that_exist(tmp_path: Path) -> None:
    (tmp_path / "my_app" / "web-ui").mkdir(parents=True)
    (tmp_path / "my").mkdir()
    (tmp_path / ".config" / "x").mkdir(parents=True)
    encoded = "".join(c if c.isalnum() else "-" for c in str(tmp_path))
    assert decode_project(encoded + "-my-app-web-ui") == str(tmp_path / "my_app" / "web-ui")
    assert decode_project(encoded + "-my") == str(tmp_path / "my")
    assert decode_project(encoded + "--config-x") == str(tmp_path / ".config" / "x")
    assert decode_project("-nowhere-at-all") == "/nowhere/at/all"
    assert decode_project("plain") == "plain"


def test_lines_of_unexpected_shapes_count_only_when_they_hold_a_call(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "-p"
    project.mkdir(parents=True)
    odd = [
        '{"type":"user","message":"a plain string, not an object"}',  # another shape, no call: ignored
        '{"type":"assistant","message":{"id":"msg_X","usage":{"input_tokens":"many"}}}',  # a call we cannot read
        '{"type":"assistant","message":{"id":"msg_Y","model":"claude-sonnet-4-5","usage":{"input_tokens":-4,"output_tokens":1}},"timestamp":"2026-02-01T00:00:00Z"}',
        '{"type":"assistant","message":{"id":"msg_Z","model":"claude-sonnet-4-5","usage":{"input_tokens":4,"output_tokens":1}},"timestamp":"2026-02-30T00:00:00Z"}',
        "[1, 2]",
        "",
        '{"type":"assistant","message":{"id":"msg_OK","model":"claude-sonnet-4-5","stop_reason":"end_turn","usage":{"input_tokens":4,"output_tokens":1}},"timestamp":"2026-02-01T00:00:00+01:00"}',
    ]
    (project / "s.jsonl").write_text("\n".join(odd) + "\n")
    age(tmp_path)
    summary = run(ClaudeCode(), tmp_path / "projects", tmp_path / "logs")
    assert summary.skipped_lines == {str(project / "s.jsonl"): 3}  # "many", -4, February 30
    (ok,) = records(tmp_path / "logs")
    assert (ok.ts, ok.input_tokens, ok.session_id, ok.workflow) == ("2026-01-31T23:00:00.000Z", 4, "s", "/p")


# -- Codex CLI ----------------------------------------------------------------------------------------------------


def test_codex_counts_each_request_once(codex: Path, tmp_path: Path) -> None:
    summary = run(Codex(), codex, tmp_path / "logs")
    found = records(tmp_path / "logs")
    usage = [
        (r.session_id, r.input_tokens, r.cache_read_input_tokens, r.output_tokens, r.reasoning_output_tokens)
        for r in found
    ]
    main, fork, spawn = (
        "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "0199ffff-0000-7aaa-8bbb-cccccccccccc",
        "0199eeee-1111-7ddd-8eee-ffffffffffff",
    )
    assert sorted(usage) == sorted(
        [
            (main, 5000, 1000, 300, 100),  # the re-emit of these totals right after is no request
            (main, 7000, 3800, 400, 150),
            (main, 8000, 5200, 200, 50),
            (main, 6000, 5000, 100, 0),  # running totals only: the step from the previous ones
            (fork, 3000, 1200, 200, 50),  # the parent's replayed counts are not counted again
            (spawn, 2000, 0, 100, 0),
        ]
    )
    first = next(r for r in found if r.input_tokens == 5000)
    assert (first.provider, first.request_model, first.operation, first.agent, first.workflow, first.ts) == (
        "openai",
        "gpt-5-codex",
        "responses",
        "codex",
        "/home/dev/shop-api",
        "2026-01-15T09:00:10.000Z",
    )
    assert first.cost_usd == usd({4000: 1.25, 1000: 0.125, 300: 10}) == 0.008125
    imaginary = next(r for r in found if r.input_tokens == 8000)
    assert (imaginary.request_model, imaginary.cost_status, imaginary.cost_usd) == (
        "o9-imaginary",
        "unknown_model",
        None,
    )
    assert next(r for r in found if r.session_id == spawn).workflow == "/home/dev/shop-api/web"
    assert next(r for r in found if r.input_tokens == 6000).ts.startswith("2026-01-16")
    assert summary.skipped_lines == {str(next(codex.rglob(f"*{main}.jsonl"))): 2}  # not JSON; a negative count
    assert summary.unknown_models == {"o9-imaginary": 1}


def test_codex_keeps_its_running_totals_between_imports(codex: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run(Codex(), codex, logs)
    rollout = next(codex.rglob("*0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl"))
    with open(rollout, "a") as f:  # finish the half-written line, then one more request
        rest = {
            "timestamp": "2026-01-16T00:01:00.000Z",
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {
                        "input_tokens": 30000,
                        "cached_input_tokens": 16000,
                        "output_tokens": 1100,
                        "reasoning_output_tokens": 300,
                        "total_tokens": 31100,
                    },
                    "model_context_window": 272000,
                },
                "rate_limits": {"primary": {"used_percent": 7.0, "window_minutes": 300, "resets_at": 1768500000}},
            },
        }
        full = json.dumps(rest, separators=(",", ":"))
        partial = rollout.read_bytes().rsplit(b"\n", 1)[1].decode()
        assert full.startswith(partial)
        f.write(full[len(partial) :] + "\n")
    summary = run(Codex(), codex, logs)
    assert summary.records == 1
    new = max(records(logs), key=lambda r: r.ts)
    # the step from the totals the previous import ended with (kept in the state), model from the last turn_context
    assert (new.input_tokens, new.cache_read_input_tokens, new.output_tokens, new.request_model) == (
        4000,
        1000,
        100,
        "gpt-5-codex",
    )


def test_a_moved_file_keeps_its_offset(codex: Path, tmp_path: Path) -> None:
    """Codex moves finished sessions to archived_sessions: same inode, new path, nothing to read again."""
    logs = tmp_path / "logs"
    archive = codex.parent / "archived_sessions"
    archive.mkdir()
    with Importer(Codex(), [codex, archive], logs, catalog=catalog()) as importer:
        importer.scan()
    for path in list(codex.rglob("*.jsonl")):
        path.rename(archive / path.name)
    with Importer(Codex(), [codex, archive], logs, catalog=catalog()) as importer:
        importer.scan()
    # nothing again but the half-written last line of the main session
    assert (importer.summary.records, importer.summary.already_imported, importer.summary.bytes_read) == (0, 0, 70)


# -- state, lock, failures, progress --------------------------------------------------------------------------------


def test_the_remembered_ids_are_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(state_module, "MAX_IDS", 4)
    path = tmp_path / "state.json"
    state = state_module.ImportState(path, "codex", tmp_path)
    for i in range(10):
        state.add(f"{i:016x}")
    assert [state.seen(f"{i:016x}") for i in range(10)] == [False] * 6 + [True] * 4  # the oldest went first
    state.save()
    again = state_module.ImportState(path, "codex", tmp_path)
    assert again.id_count == 4
    assert again.seen(f"{9:016x}")
    assert state_module.ImportState(path, "codex", tmp_path / "other").id_count == 0  # another log directory


def test_a_damaged_state_file_means_reading_everything_again(claude: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run(ClaudeCode(), claude, logs)
    (state_file,) = (Path(os.environ["LLMCOST_HOME"]) / "imports").glob("*.json")
    state_file.write_bytes(b'{"version": 1, "tool": "claude-code", "files": [')
    assert run(ClaudeCode(), claude, logs).records == 9
    assert len({r.id for r in records(logs)}) == 9  # the same ids: readers count each call once
    json.loads(state_file.read_bytes())  # and the state is whole again


def test_two_imports_into_one_log_directory_do_not_run_at_once(claude: Path, tmp_path: Path) -> None:
    with Importer(ClaudeCode(), [claude], tmp_path / "logs"), pytest.raises(importers.ImportBusy, match="running"):
        Importer(ClaudeCode(), [claude], tmp_path / "logs").__enter__()
    with Importer(ClaudeCode(), [claude], tmp_path / "other-logs"):  # another log directory: its own state and lock
        pass


def test_records_that_cannot_be_written_are_not_marked_as_imported(claude: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with (
        pytest.raises(ImportFailed, match="cannot write"),
        Importer(ClaudeCode(), [claude], blocker / "logs", catalog=catalog()) as importer,
    ):
        importer.scan()
    assert not list((Path(os.environ["LLMCOST_HOME"]) / "imports").glob("*.json"))  # no state claims them
    assert run(ClaudeCode(), claude, tmp_path / "logs").records == 9


def test_progress_reports_bytes_and_stop_is_asked_between_files(claude: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    asked: list[int] = []

    def stop() -> bool:  # asked before each file: yes from the third on
        asked.append(1)
        return len(asked) > 2

    with Importer(ClaudeCode(), [claude], tmp_path / "logs", catalog=catalog()) as importer:
        importer.scan(progress=lambda done, total: calls.append((done, total)), stop=stop)
    assert calls
    assert all(t == calls[0][1] for _, t in calls)
    assert calls[0][1] == sum(p.stat().st_size for p in claude.rglob("*.jsonl"))  # what there is to read
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert importer.summary.files_read == 2  # stopped before the third file
    summary = run(ClaudeCode(), claude, tmp_path / "logs")  # the rest, and nothing twice
    assert (summary.records, summary.already_imported) == (2, 0)
    assert len(records(tmp_path / "logs")) == 9


def test_the_state_file_is_json_with_offsets_and_held_messages(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "-p"
    project.mkdir(parents=True)
    (project / "s.jsonl").write_text(_line("msg_01S", "2026-02-01T12:00:00.000Z", output=1, stop=None) + "\n")
    run(ClaudeCode(), tmp_path / "projects", tmp_path / "logs")
    (state_file,) = (Path(os.environ["LLMCOST_HOME"]) / "imports").glob("claude-code-*.json")
    doc = msgspec.json.decode(state_file.read_bytes())
    (entry,) = doc["files"].values()
    assert entry["offset"] == (project / "s.jsonl").stat().st_size
    assert [d["key"] for d in entry["context"]["held"]] == ["claude-code:msg_01S"]
    assert doc["target"] == str(tmp_path / "logs")


def test_the_package_api_is_sorted_and_imports_no_command_line() -> None:
    names = list(importers.__all__)
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert all(hasattr(importers, n) for n in names)
    root = Path(importers.__file__).parent
    text = "".join(p.read_text() for p in root.glob("*.py"))
    for forbidden in ("llmcost.cli", "llmcost.engine", "tui", "textual"):
        assert f"from {forbidden}" not in text
        assert f"import {forbidden}" not in text


def test_lines_are_written_exactly_as_encode_record_writes_them(claude: Path, codex: Path, tmp_path: Path) -> None:
    """The positional line of the importer and ``encode_record`` of the record it decodes to are the same bytes."""
    run(ClaudeCode(), claude, tmp_path / "logs")
    run(Codex(), codex, tmp_path / "logs")
    lines = [line for path in sorted((tmp_path / "logs").iterdir()) for line in path.read_bytes().splitlines(True)]
    assert len(lines) == 15
    assert [encode_record(decode_record(line)) for line in lines] == lines


def test_codex_with_local_models_is_priced_as_ollama(tmp_path: Path) -> None:
    """``codex --oss`` names its provider ``oss``: the calls go to Ollama, which the shipped catalog prices at zero."""
    day = tmp_path / "sessions" / "2026" / "02" / "01"
    day.mkdir(parents=True)
    usage = {
        "input_tokens": 900,
        "cached_input_tokens": 0,
        "output_tokens": 40,
        "reasoning_output_tokens": 10,
        "total_tokens": 940,
    }
    lines = [
        {
            "timestamp": "2026-02-01T09:00:00.000Z",
            "type": "session_meta",
            "payload": {"id": "s-oss", "cwd": "/w", "model_provider": "oss"},
        },
        {
            "timestamp": "2026-02-01T09:00:01.000Z",
            "type": "turn_context",
            "payload": {"cwd": "/w", "model": "gpt-oss:20b"},
        },
        {
            "timestamp": "2026-02-01T09:00:05.000Z",
            "type": "event_msg",
            "payload": {"type": "token_count", "info": {"total_token_usage": usage, "last_token_usage": usage}},
        },
    ]
    (day / "rollout-2026-02-01T09-00-00-s-oss.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    with Importer(Codex(), [tmp_path / "sessions"], tmp_path / "logs") as importer:  # the shipped catalog
        importer.scan()
    (only,) = records(tmp_path / "logs")
    assert (only.provider, only.request_model, only.cost_status, only.cost_usd) == (
        "ollama",
        "gpt-oss:20b",
        "free",
        0.0,
    )
    assert (only.session_id, only.reasoning_output_tokens, only.output_tokens) == ("s-oss", 10, 40)


def test_interleaved_subagents_each_keep_their_final_usage(tmp_path: Path) -> None:
    """Subagents running side by side write their chunks into one file in turns: a chunk of one is no end of another."""
    project = tmp_path / "projects" / "-p"
    project.mkdir(parents=True)

    def chunk(message: str, output: int, stop: str | None, agent: str | None, sidechain: bool = True) -> str:
        line = json.loads(_line(message, "2026-02-01T12:00:00.000Z", output=output, stop=stop))
        line["isSidechain"] = sidechain
        if agent is not None:
            line["agentId"] = agent
        return json.dumps(line) + "\n"

    (project / "s.jsonl").write_text(
        chunk("msg_X", 1, None, "agent-a")
        + chunk("msg_Y", 1, None, "agent-b")
        + chunk("msg_Z", 1, None, None)  # an older version: no agent id
        + chunk("msg_M", 5, "end_turn", None, sidechain=False)  # the main conversation goes on meanwhile
        + chunk("msg_X", 300, "tool_use", "agent-a")
        + chunk("msg_Y", 1, None, "agent-b")
        + chunk("msg_Y2", 7, "end_turn", "agent-b")  # agent b's next message: its msg_Y is complete
        + chunk("msg_Z", 200, None, None)
    )
    age(tmp_path)
    run(ClaudeCode(), tmp_path / "projects", tmp_path / "logs")
    outputs = {r.response_id: r.output_tokens for r in records(tmp_path / "logs")}
    assert outputs == {"msg_X": 300, "msg_Y": 1, "msg_Z": 200, "msg_M": 5, "msg_Y2": 7}


@pytest.mark.skipif(os.geteuid() == 0, reason="root opens any file")
def test_a_file_that_cannot_be_opened_is_named_and_the_rest_imported(claude: Path, tmp_path: Path) -> None:
    locked = claude / "-home-dev-shop-api" / f"{S2}.jsonl"
    locked.chmod(0)
    summary = run(ClaudeCode(), claude, tmp_path / "logs")
    assert list(summary.unreadable) == [str(locked)]
    assert summary.records == 8  # all but msg_01I, which only that file holds


def test_files_that_are_not_regular_files_are_left_alone(claude: Path, tmp_path: Path) -> None:
    os.mkfifo(claude / "-home-dev-shop-api" / "pipe.jsonl")  # opening it to read would wait for a writer forever
    summary = run(ClaudeCode(), claude, tmp_path / "logs")
    assert (summary.records, summary.unreadable) == (9, {})
