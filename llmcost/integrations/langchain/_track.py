"""``llmcost.langchain.track()``: record every LangChain run in a block and sum it like ``get_openai_callback``."""

from __future__ import annotations

import contextvars
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from langchain_core.tracers.context import register_configure_hook

from llmcost.integrations.langchain._handler import LlmcostCallbackHandler
from llmcost.log import Record
from llmcost.recorder import (
    AsyncWith,
    Attribution,
    AttributionArgs,
    Forwarded,
    Scope,
    Tracker,
    attribution_from,
    restore,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Totals", "track"]

# -- track() ----------------------------------------------------------------------------------------------------

_active: contextvars.ContextVar[LlmcostCallbackHandler | None] = contextvars.ContextVar(
    "llmcost_langchain_handler", default=None
)
# LangChain adds the handler in this variable to every run it configures (inherited by child runs), unless the run
# already has an LlmcostCallbackHandler: a call is never recorded twice.
register_configure_hook(_active, inheritable=True, handle_class=LlmcostCallbackHandler)


class _Totals(Scope):
    """A scope that also counts calls without usage (their cost is unknown, not zero)."""

    def __init__(self, name: str | None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.no_usage = 0

    def add(self, record: Record, cost: Decimal | None, status: str) -> None:
        super().add(record, cost, status)
        if record.usage_source == "none" and status == "ok":
            with self._lock:
                self.no_usage += 1


class Totals(AsyncWith):
    """What :func:`track` counted: the names of ``get_openai_callback``, for every provider.

    Every call recorded in the block counts (LangChain runs, and any other llmcost-recorded call). Read it any time,
    also after the block. ``total_cost`` sums priced calls; ``unpriced_requests`` and ``no_usage_requests`` say how
    many calls it could not price.
    """

    def __init__(self, handler: LlmcostCallbackHandler, scope: _Totals) -> None:
        self.handler = handler
        self.scope: Scope = scope
        self._scope = scope
        self._token: contextvars.Token[LlmcostCallbackHandler | None] | None = None
        self._previous: LlmcostCallbackHandler | None = None

    @property
    def total_cost(self) -> float:
        """USD, as a float (``cost_usd`` is the exact ``Decimal``)."""
        return float(self._scope.cost_usd)

    cost_usd: Forwarded[Decimal] = Forwarded("_scope.cost_usd")
    prompt_tokens: Forwarded[int] = Forwarded("_scope.input_tokens")
    completion_tokens: Forwarded[int] = Forwarded("_scope.output_tokens")
    total_tokens: Forwarded[int] = Forwarded("_scope.total_tokens")
    prompt_tokens_cached: Forwarded[int] = Forwarded("_scope.cache_read_input_tokens")
    reasoning_tokens: Forwarded[int] = Forwarded("_scope.reasoning_output_tokens")
    failed_requests: Forwarded[int] = Forwarded(
        "_scope.errors", "Calls that raised or were cancelled (each retry attempt counts)."
    )
    unpriced_requests: Forwarded[int] = Forwarded(
        "_scope.unpriced", "Calls of a model the catalog does not know (or with a dynamic price)."
    )
    no_usage_requests: Forwarded[int] = Forwarded(
        "_scope.no_usage", "Successful calls whose response reported no usage."
    )

    @property
    def successful_requests(self) -> int:
        return self._scope.calls - self._scope.errors

    def __repr__(self) -> str:
        return (
            f"Tokens Used: {self.total_tokens}\n"
            f"\tPrompt Tokens: {self.prompt_tokens}\n"
            f"\t\tPrompt Tokens Cached: {self.prompt_tokens_cached}\n"
            f"\tCompletion Tokens: {self.completion_tokens}\n"
            f"\t\tReasoning Tokens: {self.reasoning_tokens}\n"
            f"Successful Requests: {self.successful_requests}\n"
            f"Total Cost (USD): ${self.cost_usd}"
            + (f" (+ {self.unpriced_requests} unpriced)" if self.unpriced_requests else "")
            + (f" (+ {self.no_usage_requests} without usage)" if self.no_usage_requests else "")
        )

    def __enter__(self) -> Totals:
        self._scope.__enter__()
        self._previous = _active.get()
        self._token = _active.set(self.handler)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token, self._token = self._token, None
        try:
            restore(_active, token, self._previous)
        finally:
            self._scope.__exit__(exc_type, exc, tb)


def track(
    tracker: Tracker | None = None,
    *,
    name: str | None = "langchain",
    provider: str | None = None,
    attribution: Attribution | None = None,
    **attrs: Unpack[AttributionArgs],
) -> Totals:
    """``with llmcost.langchain.track() as cb:`` (or ``async with``) records every LangChain run in the block.

    Runs in ``batch()`` threads and in tasks started inside count too (LangChain and asyncio copy the context);
    a plain ``threading.Thread`` does not (hand it ``contextvars.copy_context().run``). After the block, ``cb``
    holds ``total_cost``, ``prompt_tokens``, ``completion_tokens``, ``total_tokens`` and ``successful_requests``.
    Leaving the block, also by an exception, stops the recording. Attribution given here (``attribution=``, and
    :class:`~llmcost.Attribution`'s fields as keywords over it) is the runs' default; its names apply to every other
    call in the block too.
    """
    given = attribution_from(attribution, attrs, "track()")
    handler = LlmcostCallbackHandler(tracker, provider=provider, attribution=given)
    scope = _Totals(name, **given.names)  # the names, not the tags and metadata, go to the block's other calls
    return Totals(handler, scope)
