"""``llmcost.otel``: the public name of :mod:`llmcost.integrations.otel` (see there)."""

from __future__ import annotations

from llmcost.integrations.otel import *  # noqa: F403
from llmcost.integrations.otel import __all__  # noqa: F401 (the names above are this module's)
