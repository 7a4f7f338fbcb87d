"""Scopes: running totals of every call made inside a ``with``/``async with`` block.

How calls find their scopes: the open scopes live in a ``ContextVar`` (a tuple, innermost last). asyncio tasks copy
the context when they are created, so tasks started inside the block count; so do ``asyncio.to_thread`` and
``loop.run_in_executor(None, contextvars.copy_context().run, fn)``. A plain ``threading.Thread`` or
``ThreadPoolExecutor.submit`` starts with an empty context: hand it ``scope.bind(fn)`` (or
``contextvars.copy_context().run``) and its calls count too. A call captures its scopes when it starts, so a
stream finished later, elsewhere, still lands in the right scope. Totals are updated under a lock.

Leaving the block always restores the previous value (``try/finally``), and never calls ``ContextVar.reset`` with
a token from another context (generators and threads may exit elsewhere): it falls back to setting the old tuple.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from llmcost.recorder._attribution import NO_ATTRIBUTION, Attribution, AttributionArgs, attribution_from
from llmcost.recorder._ids import restore
from llmcost.recorder._plumbing import AsyncWith

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from llmcost.log import Record

__all__ = ["Scope", "active_scopes", "scoped"]

_T = TypeVar("_T")
_scopes: contextvars.ContextVar[tuple[Scope, ...]] = contextvars.ContextVar("llmcost_scopes", default=())


def active_scopes() -> tuple[Scope, ...]:
    """The scopes open in the current context, outermost first."""
    return _scopes.get()


def scoped(base: Attribution, scopes: tuple[Scope, ...]) -> Attribution:
    """``base`` with the attribution of ``scopes`` over it (outermost first, so the innermost wins)."""
    for s in scopes:
        if s.attribution is not NO_ATTRIBUTION:
            base = s.attribution.over(base)
    return base


class Scope(AsyncWith):
    """Totals of the calls made inside it. Read them any time, also after the block has ended.

    ``budget_usd`` (optional) with ``action`` ``"block"`` makes calls started inside raise
    :class:`~llmcost.BudgetExceeded` once the scope's cost reached it; ``"warn"`` only warns.
    Attribution given here (``attribution=``, and :class:`~llmcost.Attribution`'s fields as keywords over it) applies
    to the calls inside, over the tracker's and a wrapped client's; a call's own attribution wins over it.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        budget_usd: float | Decimal | None = None,
        action: str = "block",
        attribution: Attribution | None = None,
        **attrs: Unpack[AttributionArgs],
    ) -> None:
        self.name = name
        self.budget_usd = None if budget_usd is None else Decimal(str(budget_usd))
        self.action = action
        self.attribution = attribution_from(attribution, attrs, "Scope()")
        self.calls = 0
        self.errors = 0
        self.unpriced = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cache_read_input_tokens = 0
        self.cache_creation_input_tokens = 0
        self.reasoning_output_tokens = 0
        self.cost_usd = Decimal(0)
        self._lock = threading.Lock()
        self._token: contextvars.Token[tuple[Scope, ...]] | None = None
        self._previous: tuple[Scope, ...] = ()

    # -- totals ------------------------------------------------------------------------------------------------

    def add(self, record: Record, cost: Decimal | None, status: str) -> None:
        """Count one finished call (called by the tracker with the call's line, its exact cost and its status)."""
        with self._lock:
            self.calls += 1
            self.errors += status != "ok"
            self.input_tokens += record.input_tokens or 0
            self.output_tokens += record.output_tokens or 0
            self.cache_read_input_tokens += record.cache_read_input_tokens or 0
            self.cache_creation_input_tokens += record.cache_creation_input_tokens or 0
            self.reasoning_output_tokens += record.reasoning_output_tokens or 0
            if cost is None:
                self.unpriced += record.cost_status in ("unknown_model", "dynamic")
            else:
                self.cost_usd += cost

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        """Totals as plain JSON-ready values (cost as a string, exact)."""
        with self._lock:
            return {
                "name": self.name,
                "calls": self.calls,
                "errors": self.errors,
                "unpriced": self.unpriced,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "cache_read_input_tokens": self.cache_read_input_tokens,
                "cache_creation_input_tokens": self.cache_creation_input_tokens,
                "reasoning_output_tokens": self.reasoning_output_tokens,
                "cost_usd": str(self.cost_usd),
            }

    def __repr__(self) -> str:
        return f"Scope(name={self.name!r}, calls={self.calls}, tokens={self.total_tokens}, cost_usd={self.cost_usd})"

    # -- entering and leaving ----------------------------------------------------------------------------------

    def __enter__(self) -> Scope:
        self._previous = _scopes.get()
        self._token = _scopes.set((*self._previous, self))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token, self._token = self._token, None
        restore(_scopes, token, self._previous)

    def bind(self, fn: Callable[..., _T]) -> Callable[..., _T]:
        """``fn`` run in a copy of the current context, so calls it makes in another thread count here.

        >>> with tracker.scope("batch") as s:                                       # doctest: +SKIP
        ...     pool.submit(s.bind(handle), item)
        """
        ctx = contextvars.copy_context()

        def run(*args: Any, **kwargs: Any) -> _T:
            return ctx.copy().run(fn, *args, **kwargs)

        return run
