"""Names come from the logs, and whoever writes a log line chooses them. Text outputs show control characters
(terminal escape sequences, bidi overrides) as visible escapes, so a name cannot retitle, clear or rewrite the
terminal of whoever reads a report; JSON and CSV keep the exact bytes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._traces import day_file, rec, write

EVIL = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202etxt.exe"  # retitle, clear screen, C1 CSI, right-to-left override
SHOWN = "evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202etxt.exe"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("escapes") / "logs"
    now = time.time()
    calls = [rec(now - 10 + i * 0.1, agent=EVIL, session_id=f"s{EVIL}", prompt_hash="h") for i in range(30)]
    write(day_file(directory, now), calls)
    return directory


def run(*argv: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["llmcost", "report", "{logs}"],
        ["llmcost", "report", "{logs}", "--by", "session"],
        ["llmcost", "alarms", "{logs}"],
        ["tui", "{logs}", "--once"],
        ["tui", "{logs}", "--once", "--group", "session"],
    ],
)
def test_text_outputs_show_control_characters_escaped(logs: Path, argv: list[str]) -> None:
    _, out, err = run(*(a.format(logs=logs) for a in argv))
    assert err == ""
    assert SHOWN in out
    assert not any(c in out for c in "\x1b\x07\x9b\u202e")


@pytest.mark.parametrize("argv", [["llmcost", "report", "{logs}", "--json"], ["llmcost", "alarms", "{logs}", "--json"]])
def test_json_keeps_the_exact_names(logs: Path, argv: list[str]) -> None:
    _, out, _ = run(*(a.format(logs=logs) for a in argv))
    data = json.loads(out)
    assert EVIL in {row.get("key", row.get("agent")) for row in data}


def test_a_log_file_name_with_an_escape_is_shown_escaped(tmp_path: Path) -> None:
    now = time.time()
    evil = write(tmp_path / "calls\x1b[2J.jsonl", [rec(now)])  # a file named on the command line: any name
    evil.write_bytes(evil.read_bytes() + b"not json\n")
    code, _, err = run("llmcost", "report", str(evil))
    assert code == 0
    assert err == "llmcost: skipped 1 malformed line (calls\\x1b[2J.jsonl: 1)\n"


# Every character Unicode marks Bidi_Control: the marks (Arabic letter mark, left-to-right and right-to-left marks)
# reorder what is around them as the embeddings, overrides and isolates do, and show as nothing.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize("char", list(BIDI_CONTROLS), ids=lambda c: f"U+{ord(c):04X}")
def test_every_bidi_control_is_shown_escaped(char: str) -> None:
    from llmcost.alerts._sinks import escaped
    from llmcost.cli import printable

    shown = f"\\u{ord(char):04x}"
    assert printable(f"a{char}1") == f"a{shown}1"
    assert escaped(f"a{char}1") == f"a{shown}1"  # the notice line of the monitor and `llmcost alerts --test`
