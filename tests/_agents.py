"""Shared by the coding-agent import tests: the fixture transcripts copied where a test may change them, the records
of a log directory, and the fixture catalog."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pricing
from llmcost.log import Record, decode_record

__all__ = ["CATALOG", "FIXTURES", "S1", "S2", "S3", "age", "catalog", "copy_tree", "records", "records_by"]

FIXTURES = Path(__file__).parent / "fixtures" / "coding_agents"
CATALOG = FIXTURES / "catalog.toml"
S1 = "0f7c2b8e-1111-4a4b-9c1d-5e6f7a8b9c0d"
S2 = "9a8b7c6d-2222-4e5f-8a9b-0c1d2e3f4a5b"
S3 = "5d4c3b2a-3333-4c5d-9e8f-7a6b5c4d3e2f"


def catalog() -> pricing.Catalog:
    return pricing.load_catalog(CATALOG, overrides=False)


def age(root: Path, seconds: float = 3600.0) -> None:
    """Make every file under ``root`` look unchanged for ``seconds`` (messages still streaming settle)."""
    then = time.time() - seconds
    for folder, _dirs, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(folder, name), (then, then))


def copy_tree(name: str, dest: Path, *, settled: bool = True) -> Path:
    """A copy of ``fixtures/coding_agents/<name>`` (``claude`` or ``codex``) under ``dest``."""
    target = dest / name
    shutil.copytree(FIXTURES / name, target)
    if settled:
        age(target)
    return target


def records(log_dir: Path) -> list[Record]:
    """Every line of every day file, in file order (duplicates kept: tests count them)."""
    return [
        decode_record(line)
        for path in sorted(log_dir.glob("llm_trace_*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


def records_by(log_dir: Path, key: str = "response_id") -> dict[str | None, Record]:
    found = records(log_dir)
    by = {getattr(r, key): r for r in found}
    assert len(by) == len(found), "a record was written twice"
    return by
