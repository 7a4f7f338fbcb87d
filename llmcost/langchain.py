"""``llmcost.langchain``: the public name of :mod:`llmcost.integrations.langchain` (see there)."""

from __future__ import annotations

from llmcost.integrations.langchain import *  # noqa: F403
from llmcost.integrations.langchain import __all__  # noqa: F401 (the names above are this module's)
