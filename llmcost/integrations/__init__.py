"""Integrations: wrapped OpenAI, Anthropic and Ollama clients (:func:`track`), and the LangChain, LiteLLM and
OpenTelemetry modules (``llmcost.langchain``, ``llmcost.litellm``, ``llmcost.otel``). Each builds on
``llmcost.recorder``; each framework is imported only by its own module (an extra: ``llmcost-top[langchain]``, ...).
"""

from __future__ import annotations

from llmcost.integrations._clients import track, wrap_client

__all__ = ["track", "wrap_client"]
