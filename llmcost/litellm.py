"""``llmcost.litellm``: the public name of :mod:`llmcost.integrations.litellm` (see there)."""

from __future__ import annotations

from llmcost.integrations.litellm import *  # noqa: F403
from llmcost.integrations.litellm import __all__  # noqa: F401 (the names above are this module's)
