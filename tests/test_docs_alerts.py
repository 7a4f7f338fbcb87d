"""The alerts example of the README runs as written: it writes the config, and the test alert reaches the command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


def example() -> str:
    section = README.read_text(encoding="utf-8").split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    return block


def test_example_is_ten_lines() -> None:
    assert len(example().splitlines()) == 10


def test_example_runs(isolated_home: Path) -> None:
    bindir = Path(sys.executable).parent
    if shutil.which("llmcost", path=str(bindir)) is None:
        pytest.skip("the llmcost command is not installed next to this interpreter")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + example()],
        cwd=isolated_home,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "command sh: sent" in done.stdout
    log = (isolated_home / "llmcost-alerts.log").read_text()
    assert "TEST WARNING burst, agent llmcost-test" in log
    assert (Path(os.environ["LLMCOST_HOME"]) / "config.toml").is_file()
