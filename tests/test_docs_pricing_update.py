"""The shell examples in docs/pricing-update.md run as written (in a scratch directory, on a free port)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).parent.parent / "docs" / "pricing-update.md"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_bash_examples_run(tmp_path: Path) -> None:
    pytest.importorskip("pricing._sources")
    bindir = Path(sys.executable).parent
    if shutil.which("pricing", path=str(bindir)) is None:
        pytest.skip("the pricing command is not installed next to this interpreter")
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) >= 4
    script = "set -euo pipefail\n" + "\n".join(blocks).replace("8787", str(_free_port()))
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "catalog 2030.01.01 is active" in done.stdout
    assert (tmp_path / "catalog.toml.sha256").is_file()
