"""Every test runs with its own home: nothing reads or writes the user's real files.

Property tests take their size from a hypothesis profile: ``default`` (quick, for every run) or ``ci``
(``HYPOTHESIS_PROFILE=ci``: ten times the examples, what the CI runs).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Fixtures such as tmp_path are shared by the examples of a test on purpose (each example cleans what it needs).
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("default", max_examples=40, **_COMMON)
settings.register_profile("ci", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LLMCOST_HOME", str(home / ".llmcost"))
    monkeypatch.delenv("LLMCOST_LOG_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("LLMCOST_HOST", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    for key in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "OLLAMA_HOST",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(home)
    return home


@pytest.fixture
def mini_catalog_path() -> Path:
    """A small catalog with hand-checked rates, independent of the shipped one."""
    return FIXTURES / "mini_catalog.toml"
