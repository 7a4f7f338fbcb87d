"""Every test runs with its own home: nothing reads or writes the user's real files. The recorder and integration
tests share a memory ``tracker`` on the mini catalog, the fake LLM ``server``, and the closing of the SDK clients they
open.

Property tests take their size from a hypothesis profile: ``default`` (quick, for every run) or ``ci``
(``HYPOTHESIS_PROFILE=ci``: ten times the examples, what the CI runs).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

import llmcost
import pricing
from tests._agents import copy_tree

if TYPE_CHECKING:
    from tests.servers import FakeLLMServer

# The shared helpers assert too: their failures should show the values, as a test's own asserts do.
pytest.register_assert_rewrite("tests.servers")

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


@pytest.fixture
def claude(tmp_path: Path) -> Path:
    """Claude Code's ``projects`` folder: a copy of the fixture transcripts (``tests/fixtures/coding_agents``)."""
    return copy_tree("claude", tmp_path) / "projects"


@pytest.fixture
def codex(tmp_path: Path) -> Path:
    """Codex CLI's ``sessions`` folder: a copy of the fixture transcripts."""
    return copy_tree("codex", tmp_path) / "sessions"


@pytest.fixture
def tracker(mini_catalog_path: Path) -> llmcost.Tracker:
    """A tracker that keeps its records in memory (``tracker.records``), priced with the mini catalog."""
    return llmcost.Tracker(
        writer=llmcost.MemoryWriter(), catalog=pricing.load_catalog(mini_catalog_path, overrides=False)
    )


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    """The OpenAI, Anthropic and Ollama APIs on a loopback port (``tests/servers.py``)."""
    from tests.servers import FakeLLMServer

    with FakeLLMServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every SDK client a test opened with ``tests.servers.opened``."""
    yield
    from tests.servers import close_opened

    close_opened()
