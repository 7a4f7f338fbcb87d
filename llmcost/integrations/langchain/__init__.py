"""LangChain integration: a callback handler that records every chat model and LLM run, and ``track()``.

``import llmcost.langchain`` (needs ``langchain-core``; ``pip install 'llmcost-top[langchain]'``). Two ways in:

- ``llm.invoke(..., config={"callbacks": [LlmcostCallbackHandler()]})`` (or ``ChatOpenAI(callbacks=[...])``);
- ``with llmcost.langchain.track() as cb:`` — every LangChain run started in the block (also in ``batch()`` threads
  and in tasks) is recorded, and ``cb`` sums it like ``get_openai_callback`` does, for every provider.

What a record is made of:

- **Usage** from ``AIMessage.usage_metadata``: ``input_tokens`` already includes cache reads and writes (LangChain
  sums them for every provider), ``output_tokens`` includes reasoning. Cache reads are ``cache_read`` (or its
  ``priority_``/``flex_`` form), cache writes ``cache_creation`` plus Anthropic's ``ephemeral_5m/1h_input_tokens``,
  reasoning ``reasoning``. Without ``usage_metadata`` the legacy ``llm_output["token_usage"]`` and the response
  metadata are read; with no usage anywhere the record says so (``usage_source: "none"``), never $0.
- **Model and provider** from the run's metadata (``ls_model_name``, ``ls_provider`` mapped to our provider names:
  ``google_genai`` → ``google``, ``amazon_bedrock`` → ``bedrock``, ...) and the answering model from the response.
  A ``ChatOpenAI`` whose ``base_url`` is a local or private server is recorded as ``ollama``/``vllm``, as the client
  wrappers do; ``LlmcostCallbackHandler(provider=...)`` says it explicitly.
- **Ids.** The span ``id`` is the low 64 bits (16 hex digits) of the LangChain ``run_id`` — random in both uuid4 and
  LangChain's uuid7 — and ``parent_id`` the same of ``parent_run_id``. The ``trace_id`` is the 32-hex root run id
  (LangSmith's trace id): the handler follows chain, tool and retriever runs to find the root. A handler attached to
  the model alone only sees the parent, whose id then stands for the root. A root run started inside an llmcost
  ``trace()`` joins that trace.
- **Retries and fallbacks.** ``with_retry`` tags the n-th attempt ``retry:attempt:n``: the record's ``attempt`` is
  n - 1 (0 for the first try, each attempt its own record). Under ``with_fallbacks``, a model run started after a
  model failed in another branch of the same fallbacks run gets ``fallback_from`` = the failed model (the handler
  must see the fallbacks run: ``track()`` or a handler in a ``config``, not one given to the model object only).
- **Attribution.** Run tags (without LangChain's own ``seq:step:n``-style tags) and metadata (without ``ls_*``,
  ``lc_*``, ``langgraph_*`` and ``checkpoint_*`` keys) become ``tags`` and ``metadata``; the metadata keys ``agent``,
  ``session_id`` (else ``thread_id`` / ``conversation_id``), ``user_id`` and ``workflow`` become those fields. They go
  over the open scopes', the handler's and the tracker's (the merge rule of ``llmcost.Attribution``).
- **TTFT** is the time to the first streamed token with content (streaming runs only), **errors** carry the
  exception type and HTTP status, cancelled runs are ``cancelled``.

The handler runs inline (``run_inline = True``: no thread-pool hop in async apps), keeps O(1) work per event, and
never raises: its faults are counted in ``tracker.stats``. Budgets warn; ``enforce_budgets=True`` makes a ``block``
budget raise :class:`~llmcost.BudgetExceeded` from the run's start, before the request is sent.
"""

from __future__ import annotations

from llmcost.integrations.langchain._handler import LlmcostCallbackHandler
from llmcost.integrations.langchain._track import Totals, track

__all__ = ["LlmcostCallbackHandler", "Totals", "track"]
