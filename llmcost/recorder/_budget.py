"""Budgets: spend limits checked before a call is sent.

Today's spend (UTC day) counts every process that logs to the same directory: the ledger reads today's files once
when the first budget is checked, then adds this process's own records as they are written, and every
``refresh_s`` seconds reads only the bytes appended since (records it wrote itself are recognised by id and not
counted twice).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Literal

import msgspec

__all__ = ["Budget", "BudgetExceeded", "BudgetWarning", "SpendLedger"]

Per = Literal["day", "agent", "session", "user", "scope"]
Action = Literal["warn", "block", "downgrade"]
_PER_FIELD = {"agent": "agent", "session": "session_id", "user": "user_id"}


class BudgetWarning(UserWarning):
    """A budget with ``action="warn"`` was reached."""


class BudgetExceeded(Exception):
    """A budget with ``action="block"`` was reached; raised before the call is sent."""

    def __init__(self, budget: Budget | None, spent: Decimal, key: str | None, limit: Decimal | None = None) -> None:
        self.budget = budget
        self.spent = spent
        self.key = key
        self.limit = limit if limit is not None else (budget.limit if budget else Decimal(0))
        per = budget.per if budget else "scope"
        who = f" {key!r}" if key else ""
        super().__init__(f"llmcost budget reached: {per}{who} spent ${spent:.6f} of ${self.limit}")


class Budget:
    """A spend limit in USD.

    ``per``: ``"day"`` (everything today), ``"agent"``, ``"session"``, ``"user"`` (today, for each value separately,
    or only for ``key`` when given), ``"scope"`` (the named or innermost open :class:`~llmcost.Scope`).
    ``action``: ``"warn"`` (a :class:`BudgetWarning`, once per key and day), ``"block"`` (raise
    :class:`BudgetExceeded` before the call), ``"downgrade"`` (a wrapped client switches to ``downgrade_to``, or to
    the tracker's ``downgrade`` mapping, and the record says ``fallback_from``).
    """

    __slots__ = ("action", "downgrade_to", "key", "limit", "per")

    def __init__(
        self,
        limit_usd: float | Decimal | str,
        per: Per = "day",
        key: str | None = None,
        action: Action = "warn",
        downgrade_to: str | None = None,
    ) -> None:
        if per not in ("day", "agent", "session", "user", "scope"):
            raise ValueError(f"unknown budget period {per!r}")
        if action not in ("warn", "block", "downgrade"):
            raise ValueError(f"unknown budget action {action!r}")
        self.limit = limit_usd if isinstance(limit_usd, Decimal) else Decimal(str(limit_usd))
        self.per: Per = per
        self.key = key
        self.action: Action = action
        self.downgrade_to = downgrade_to

    def __repr__(self) -> str:
        return f"Budget({self.limit}, per={self.per!r}, key={self.key!r}, action={self.action!r})"


class _Line(msgspec.Struct):
    id: str | None = None
    ts: str | None = None
    cost_usd: float | None = None
    agent: str | None = None
    session_id: str | None = None
    user_id: str | None = None


_decoder = msgspec.json.Decoder(_Line)


class SpendLedger:
    """Today's spend in total and per agent / session / user, shared by every process logging to ``directory``."""

    def __init__(self, directory: Path | None, refresh_s: float = 2.0) -> None:
        self.directory = directory
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._day = ""
        self._offsets: dict[str, int] = {}
        self._own: set[str] = set()
        self._next_read = 0.0
        self.total = Decimal(0)
        self.by: dict[str, dict[str, Decimal]] = {"agent": {}, "session": {}, "user": {}}

    def spent(self, per: str, key: str | None, day: str) -> Decimal:
        """Spend today for ``per`` (``day`` ignores ``key``)."""
        with self._lock:
            self._roll(day)
            if time.monotonic() >= self._next_read:
                self._read_new()
            if per == "day":
                return self.total
            return self.by[per].get(key or "", Decimal(0))

    def add_own(
        self, record_id: str, day: str, cost: Decimal, agent: str | None, session: str | None, user: str | None
    ) -> None:
        """Count a record this process just wrote."""
        with self._lock:
            self._roll(day)
            if self.directory is not None:
                self._own.add(record_id)
            self._count(cost, agent, session, user)

    def _count(self, cost: Decimal, agent: str | None, session: str | None, user: str | None) -> None:
        self.total += cost
        for per, key in (("agent", agent), ("session", session), ("user", user)):
            if key:
                table = self.by[per]
                table[key] = table.get(key, Decimal(0)) + cost

    def _roll(self, day: str) -> None:
        if day != self._day:
            self._day = day
            self._offsets = {}
            self._own.clear()
            self._next_read = 0.0
            self.total = Decimal(0)
            self.by = {"agent": {}, "session": {}, "user": {}}

    def _read_new(self) -> None:
        self._next_read = time.monotonic() + self.refresh_s
        if self.directory is None:
            return
        for path in self._today_files():
            self._read_file(path)

    def _today_files(self) -> Iterable[Path]:
        try:
            entries = list(os.scandir(self.directory)) if self.directory is not None else []
        except OSError:
            return []
        prefix = f"llm_trace_{self._day}."
        return [Path(e.path) for e in entries if e.name.startswith(prefix) and e.name.endswith(".jsonl")]

    def _read_file(self, path: Path) -> None:
        offset = self._offsets.get(path.name, 0)
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        self._offsets[path.name] = offset + end
        for raw in data[:end].splitlines():
            self._count_line(raw)

    def _count_line(self, raw: bytes) -> None:
        try:
            line = _decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return
        if line.id is not None and line.id in self._own:
            self._own.discard(line.id)
            return
        if line.cost_usd:
            self._count(Decimal(repr(line.cost_usd)), line.agent, line.session_id, line.user_id)
