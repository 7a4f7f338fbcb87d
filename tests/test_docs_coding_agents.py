"""docs/coding-agents.md and the README's section say what the command does: every ``llmcost import`` line shown
parses, and every option of the command is documented."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from llmcost.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "coding-agents.md").read_text()
README = (ROOT / "README.md").read_text()
COMMANDS = re.findall(r"^\$ (llmcost import [^#\n]*)", DOC + README, re.M)


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) >= 5


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_shown_parses(command: str) -> None:
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert args.command == "import"
    assert args.tool in ("claude-code", "codex")


@pytest.mark.parametrize("tool", ["claude-code", "codex"])
def test_every_option_is_documented(tool: str) -> None:
    parser: Any = build_parser()
    sub: Any = next(a for a in parser._subparsers._group_actions if a.dest == "command")
    tools: Any = next(a for a in sub.choices["import"]._actions if a.dest == "tool")
    options = [
        o for a in tools.choices[tool]._actions for o in a.option_strings if o.startswith("--") and o != "--help"
    ]
    assert options
    for option in options:
        assert f"| `{option}" in DOC, option
