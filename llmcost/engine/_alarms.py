"""Runaway-loop alarms, driven by record timestamps so the same code runs live and over history.

Each rule keeps a little state per agent (or session) and reports *triggers*. Triggers become episodes: the first
opens an episode (``started_at`` is the first record of the pattern, ``detected_at`` the record that completed it),
later ones extend it and may raise its severity and peak figures; an episode ends once no trigger has been seen for
``quiet_s`` seconds of record time (hysteresis: a loop that pauses briefly stays one episode, nothing flaps).
Budgets are different: an exhausted budget stays exhausted, so its episode ends only when its day ends.

Each budget also keeps its spend of the last five minutes (``BURN_WINDOW_S``, in the live engine's ten-second
slices): its burn rate. At that rate a budget is reached at a time, its ETA (:func:`budget_eta`); the ``budget_eta``
rule warns when that time is less than ``budget_eta_s`` away, and the monitor shows it beside each budget. The windows
run on record time, as every rule does, so ``llmcost alarms`` finds the same episodes over history.
"""

from __future__ import annotations

import difflib
import math
import os
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from llmcost.engine._snapshot import AlarmEvent, BudgetStatus, Severity
from llmcost.engine._sums import pico_usd
from llmcost.log import Record, epoch, iso

__all__ = [
    "BURN_WINDOW_S",
    "AlarmConfig",
    "AlarmConfigError",
    "Alarms",
    "budget_eta",
    "load_alarm_config",
    "parse_setting",
]

_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
_PICO = 1e12
BURN_WINDOW_S = 300  # a budget's burn rate is its spend over the last five minutes (the engine's middle window)
_SLICE_S = 10  # ... counted in ten-second slices, as the live engine counts its windows
_SLICES = BURN_WINDOW_S // _SLICE_S


class AlarmConfigError(ValueError):
    """A threshold of the wrong type or out of its range: one line naming the setting, the value and the range."""


@dataclass(frozen=True, slots=True)
class _Range:
    """What a threshold may be: whole or not, its bounds, and whether 0 turns its check off."""

    kind: str  # in words, for the error: "a whole number", "a number of seconds"
    low: float
    high: float
    whole: bool = False
    off: bool = False  # 0 is allowed and means "this check is off"
    above_low: bool = False  # the low bound itself is not allowed (a window of 0 s means nothing)

    def describe(self) -> str:
        if self.off:
            return f"{self.kind} from 0 (off) to {self.high:,.10g}"
        if self.above_low:
            return f"{self.kind} more than {self.low:g} and at most {self.high:,.10g}"
        return f"{self.kind} from {self.low:g} to {self.high:,.10g}"

    def allows(self, value: Any) -> bool:
        # bool is an int to Python, never a threshold; an int is taken where a float is expected
        if isinstance(value, bool) or not isinstance(value, int if self.whole else (int, float)):
            return False
        if not math.isfinite(value):
            return False
        if self.off and value == 0:
            return True
        if self.above_low and value == self.low:
            return False
        return self.low <= value <= self.high


_COUNT = _Range("a whole number", 0, 1_000_000_000, whole=True, off=True)
_SECONDS = _Range("a number of seconds", 0, 86_400, above_low=True)
_USD = _Range("an amount in USD", 0, 1_000_000_000, off=True)
_HORIZON = _Range("a number of seconds", 0, 7 * 86_400, off=True)
#: Every threshold's range, in one place: the config file, ``--set``, ``--budget`` and Python callers all go through
#: :meth:`AlarmConfig.__post_init__`. A count or a USD limit of 0 turns its check off; a window must be longer than 0.
_RANGES: dict[str, _Range] = {
    "burst_calls": _COUNT,
    "burst_window_s": _SECONDS,
    "repeat_calls": _COUNT,
    "repeat_window_s": _SECONDS,
    "error_streak": _COUNT,
    "error_attempt": _COUNT,
    "spend_window_s": _SECONDS,
    "spend_rate_agent_usd_per_hour": _USD,
    "spend_rate_total_usd_per_hour": _USD,
    "call_cost_usd": _USD,
    "budget_day_usd": _USD,
    "budget_agent_usd": _USD,
    "budget_user_usd": _USD,
    "budget_session_usd": _USD,
    "budget_warning_fraction": _Range("a fraction", 0, 1, above_low=True),
    "budget_eta_s": _HORIZON,
    "context_growth_calls": _COUNT,
    "context_window_fraction": _Range("a fraction", 0, 1, off=True),
    "quiet_s": _SECONDS,
    "critical_factor": _Range("a number", 1, 1000),
    "max_ended": _Range("a whole number", 0, 1_000_000, whole=True),
}
_BUDGETS = ("budget_day_usd", "budget_agent_usd", "budget_user_usd", "budget_session_usd")


@dataclass(frozen=True, slots=True)
class AlarmConfig:
    """Every threshold of the alarm rules (``[alarms]`` in ``$LLMCOST_HOME/config.toml``; flags override).

    Checked when built: a value of the wrong type, not finite or out of its range raises :class:`AlarmConfigError`.
    A count or a USD limit of 0 turns its check off (a budget of 0 is no budget: it reads back as ``None``)."""

    burst_calls: int = 20
    burst_window_s: float = 10.0
    repeat_calls: int = 5
    repeat_window_s: float = 60.0
    error_streak: int = 5
    error_attempt: int = 3
    spend_window_s: float = 60.0
    spend_rate_agent_usd_per_hour: float = 25.0
    spend_rate_total_usd_per_hour: float = 100.0
    call_cost_usd: float = 0.05
    budget_day_usd: float | None = None
    budget_agent_usd: float | None = None  # per agent per UTC day
    budget_user_usd: float | None = None  # per user per UTC day
    budget_session_usd: float | None = None  # per session, whole life
    budget_warning_fraction: float = 0.8
    budget_eta_s: float = 3600.0  # warn when a budget will be reached, at the current burn rate, within this long
    context_growth_calls: int = 20
    context_window_fraction: float = 0.8
    quiet_s: float = 120.0  # an episode ends after this long without a trigger
    critical_factor: float = 2.0  # a trigger this many times over its threshold is critical
    max_ended: int = 500  # ended episodes kept

    def __post_init__(self) -> None:
        for name, allowed in _RANGES.items():
            value = getattr(self, name)
            if value is None and name in _BUDGETS:
                continue
            if not allowed.allows(value):
                raise AlarmConfigError(f"{name} must be {allowed.describe()}, not {_shown(value)}")
        for name in _BUDGETS:
            if getattr(self, name) == 0:  # no budget: the rule and the monitor's budget gauge both skip it
                object.__setattr__(self, name, None)

    def with_overrides(self, **values: Any) -> AlarmConfig:
        """A copy with the given thresholds changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def parse_setting(name: str, text: str) -> int | float:
    """The value of ``--set NAME=TEXT`` as its threshold's type; :class:`AlarmConfigError` names what is wrong.

    Only the type is read here: the range is checked by :class:`AlarmConfig`, the one place for every source."""
    allowed = _RANGES.get(name)
    if allowed is None:
        raise AlarmConfigError(f"unknown alarm setting {name!r}{_did_you_mean(name)}")
    if allowed.whole:
        try:
            return int(text.strip())
        except ValueError:  # "2.5" or "1e400": as a float, AlarmConfig names the value as the config file would
            pass
    try:
        return float(text.strip())
    except ValueError:
        raise AlarmConfigError(f"{name} must be {allowed.describe()}, not {text!r}") from None


def _shown(value: Any) -> str:
    """A refused value as the user wrote it: ``5`` for a whole float (``--set`` and ``--budget`` parse floats)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, list(_RANGES), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(_RANGES))})"


def load_alarm_config(path: str | os.PathLike[str] | None = None) -> AlarmConfig:
    """The ``[alarms]`` table of the config file (``llmcost.paths.config_file()`` by default); unknown keys fail.

    Raises :class:`AlarmConfigError` (a ``ValueError``) with one line naming the file and the setting."""
    from llmcost.paths import read_config

    try:
        file, config = read_config(path)
    except ValueError as exc:
        raise AlarmConfigError(str(exc)) from None
    table = config.get("alarms", {})
    if not isinstance(table, dict):
        raise AlarmConfigError(f"{file}: [alarms] must be a table")
    for name in table:
        if name not in _RANGES:
            raise AlarmConfigError(f"{file}: [alarms] has an unknown setting {name!r}{_did_you_mean(name)}")
    try:
        return AlarmConfig(**table)
    except AlarmConfigError as exc:
        raise AlarmConfigError(f"{file}: [alarms] {exc}") from None


@dataclass(slots=True)
class _Episode:
    id: str
    kind: str
    agent: str | None
    severity: Severity
    started_at: str
    detected_at: str
    last: float  # record time of the latest trigger
    message: str
    peak: dict[str, float] = field(default_factory=dict)
    ends_at: float | None = None  # fixed end (budgets)
    ended_at: str | None = None

    def event(self) -> AlarmEvent:
        return AlarmEvent(
            id=self.id,
            kind=self.kind,
            severity=self.severity,
            agent=self.agent,
            started_at=self.started_at,
            detected_at=self.detected_at,
            ended_at=self.ended_at,
            message=self.message,
            peak=dict(self.peak),
        )


@dataclass(slots=True)
class _AgentState:
    calls: deque[float] = field(default_factory=deque)
    spend: deque[tuple[float, int]] = field(default_factory=deque)
    spend_sum: int = 0
    hashes: OrderedDict[str, list[float]] = field(default_factory=OrderedDict)
    streak: int = 0
    streak_start: str = ""


class _Burn:
    """What one budget spent in its last ``BURN_WINDOW_S`` seconds, per ten-second slice (a few dozen numbers)."""

    __slots__ = ("newest", "slices")

    def __init__(self) -> None:
        self.slices: dict[int, int] = {}  # slice index (t // 10) -> pico-dollars
        self.newest = -1

    def add(self, t: float, pico: int) -> None:
        index = int(t // _SLICE_S)
        slices = self.slices
        slices[index] = slices.get(index, 0) + pico
        if index > self.newest:
            self.newest = index
            if len(slices) > _SLICES + 1:
                for old in [k for k in slices if k <= index - _SLICES]:
                    del slices[old]

    def per_second(self, now: float) -> float:
        """Pico-dollars per second over the window ending at ``now`` (the slices the live engine's window holds)."""
        first = int((now - BURN_WINDOW_S) // _SLICE_S) + 1
        last = int(now // _SLICE_S)
        return sum(p for i, p in self.slices.items() if first <= i <= last) / BURN_WINDOW_S


def budget_eta(spent_usd: float, limit_usd: float, usd_per_s: float, now: float, ends_at: float | None) -> float | None:
    """When a budget is reached at a burn rate (epoch seconds): ``now`` plus what is left over the rate.

    ``None`` when nothing is being spent, when the budget is reached already, or when that time is at or after
    ``ends_at``, the end of the budget's period (a day's budget starts again at midnight UTC)."""
    if usd_per_s <= 0 or spent_usd >= limit_usd:
        return None
    eta = now + (limit_usd - spent_usd) / usd_per_s
    return None if ends_at is not None and eta >= ends_at else eta


@dataclass(slots=True)
class _SessionState:
    last_input: int = -1
    growths: int = 0
    run_start: str = ""


class _Lru(OrderedDict[Any, Any]):
    """An ordered dict that forgets its least recently used entries past ``cap``."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def touch(self, key: Any, factory: Any) -> Any:
        value = self.get(key)
        if value is None:
            value = self[key] = factory()
            if len(self) > self.cap:
                self.popitem(last=False)
        else:
            self.move_to_end(key)
        return value


class Alarms:
    """The rule engine: ``observe()`` one record at a time, in time order per agent; ``events()`` lists episodes."""

    def __init__(self, config: AlarmConfig | None = None) -> None:
        self.config = config or AlarmConfig()
        self._agents: _Lru = _Lru(10_000)
        self._sessions: _Lru = _Lru(20_000)
        self._total: deque[tuple[float, int]] = deque()
        self._total_sum = 0
        self._spent: _Lru = _Lru(100_000)  # (scope, name, day) -> pico
        self._burns: _Lru = _Lru(100_000)  # (scope, name, day) -> _Burn
        self._active: dict[tuple[str, str | None, str], _Episode] = {}
        self._ended: deque[_Episode] = deque(maxlen=self.config.max_ended)
        self._changed: dict[str, _Episode] = {}
        self._serial = 0
        self.latest = 0.0  # record time of the newest record seen
        self._next_expiry = float("inf")  # no episode can end before this record time
        cfg = self.config
        self._has_budgets = any(
            v is not None
            for v in (cfg.budget_day_usd, cfg.budget_agent_usd, cfg.budget_user_usd, cfg.budget_session_usd)
        )

    # -- public ---------------------------------------------------------------------------------------------------

    def observe(self, r: Record, t: float, pico: int | None, context_window: int | None) -> None:
        """Run every rule on one record (``t``: its epoch seconds, ``pico``: its cost in pico-dollars)."""
        if t > self.latest:
            self.latest = t
            if t >= self._next_expiry:
                self.expire(t)
        agent = r.agent
        state: _AgentState = self._agents.touch(agent, _AgentState)
        self._burst(r, t, agent, state)
        self._repeat(r, t, agent, state)
        self._errors(r, t, agent, state)
        if pico:
            self._spend_rate(r, t, agent, state, pico)
            self._call_cost(r, t, agent, pico)
            if self._has_budgets:
                self._budgets(r, t, agent, pico)
        if r.input_tokens is not None and r.session_id is not None:
            self._context(r, t, agent, context_window)

    def expire(self, now: float) -> None:
        """End the episodes whose quiet period (or day) is over at record time ``now``."""
        quiet = self.config.quiet_s
        upcoming = float("inf")
        for key, ep in list(self._active.items()):
            end = ep.ends_at if ep.ends_at is not None else ep.last + quiet
            if now >= end:
                ep.ended_at = iso(end)
                del self._active[key]
                self._ended.append(ep)
                self._changed[ep.id] = ep
            else:
                upcoming = min(upcoming, end)
        self._next_expiry = upcoming

    def take_changes(self) -> list[AlarmEvent]:
        """Episodes opened, escalated or ended since the last call."""
        out = [ep.event() for ep in self._changed.values()]
        self._changed.clear()
        return out

    def events(self, agent: str | None = None, *, every: bool = False) -> list[AlarmEvent]:
        """Active episodes first (most severe, newest first), then ended ones, newest first."""
        active = sorted(self._active.values(), key=lambda e: e.detected_at, reverse=True)
        active.sort(key=lambda e: _RANK[e.severity], reverse=True)
        ended = sorted(self._ended, key=lambda e: e.detected_at, reverse=True)
        return [e.event() for e in (*active, *ended) if every or agent is None or e.agent == agent]

    def active_severity(self) -> dict[str | None, Severity]:
        """The highest severity of the active episodes, per agent."""
        out: dict[str | None, Severity] = {}
        for ep in self._active.values():
            if ep.agent not in out or _RANK[ep.severity] > _RANK[out[ep.agent]]:
                out[ep.agent] = ep.severity
        return out

    def budgets(self, day: str, now: float) -> list[BudgetStatus]:
        """The budgets at ``now`` (``day``: its UTC day): the day budget, the budget of every agent that spent that
        day, and those of the users and sessions that are spending now or passed their warning fraction (they are
        many); each with its burn rate and the time it will be reached at that rate."""
        cfg = self.config
        limits = {
            "day": cfg.budget_day_usd,
            "agent": cfg.budget_agent_usd,
            "user": cfg.budget_user_usd,
            "session": cfg.budget_session_usd,
        }
        end_of_day = epoch(day + "T00:00:00Z") + 86_400
        out: list[BudgetStatus] = []
        if cfg.budget_day_usd is not None and ("day", None, day) not in self._spent:
            out.append(self._status(("day", None, day), 0, cfg.budget_day_usd, now, end_of_day))
        # Every budget with spend is looked at: as many as the budgets of the day and of the sessions kept (bounded).
        for key, spent in self._spent.items():
            scope, _, period = key
            limit = limits[scope]
            if limit is None or (period is not None and period != day):
                continue
            status = self._status(key, spent, limit, now, None if period is None else end_of_day)
            if scope in ("day", "agent") or status.usd_per_min or status.fraction >= cfg.budget_warning_fraction:
                out.append(status)
        return out

    def _status(
        self, key: tuple[str, str | None, str | None], spent: int, limit: float, now: float, ends: float | None
    ) -> BudgetStatus:
        burn = self._burns.get(key)
        per_second = burn.per_second(now) if burn is not None else 0.0
        eta = budget_eta(spent / _PICO, limit, per_second / _PICO, now, ends)
        return BudgetStatus(
            scope=key[0],
            key=key[1],
            limit_usd=Decimal(str(limit)),
            spent_usd=pico_usd(spent),
            usd_per_min=pico_usd(round(per_second * 60)),
            eta=eta,
        )

    # -- episodes -------------------------------------------------------------------------------------------------

    def _trigger(
        self,
        kind: str,
        agent: str | None,
        sub: str,
        *,
        started: str | float,
        detected: str,
        t: float,
        severity: Severity,
        message: Callable[[], str],
        peak: dict[str, float],
        ends_at: float | None = None,
        renew: bool = False,
    ) -> None:
        """Open an episode or extend the active one. ``started`` (epoch seconds are formatted only when an episode
        opens) and ``message`` (called only when it opens or escalates, or with ``renew`` when a peak grows) stay
        cheap while a loop goes on."""
        key = (kind, agent, sub)
        ep = self._active.get(key)
        if ep is None:
            self._serial += 1
            first = iso(started) if isinstance(started, float) else started
            ep = _Episode(f"{kind}-{self._serial}", kind, agent, severity, first, detected, t, message(), peak, ends_at)
            self._active[key] = ep
            self._changed[ep.id] = ep
            end = ends_at if ends_at is not None else t + self.config.quiet_s
            self._next_expiry = min(self._next_expiry, end)
            return
        ep.last = max(ep.last, t)
        if _RANK[severity] > _RANK[ep.severity]:
            ep.severity, ep.message = severity, message()
            self._changed[ep.id] = ep
        grew = False
        for name, value in peak.items():
            if value > ep.peak.get(name, float("-inf")):
                ep.peak[name] = value
                self._changed[ep.id] = ep
                grew = True
        if grew and renew:
            ep.message = message()

    def _severity(self, value: float, threshold: float) -> Severity:
        return "critical" if value >= threshold * self.config.critical_factor else "warning"

    # -- rules ----------------------------------------------------------------------------------------------------

    def _burst(self, r: Record, t: float, agent: str | None, st: _AgentState) -> None:
        cfg = self.config
        if not cfg.burst_calls:  # 0: off
            return
        calls = st.calls
        calls.append(t)
        start = t - cfg.burst_window_s
        while calls[0] < start:
            calls.popleft()
        if len(calls) > cfg.burst_calls * 10:  # bounded: the count saturates far above the threshold
            calls.popleft()
        n = len(calls)
        if n >= cfg.burst_calls:
            self._trigger(
                "burst",
                agent,
                "",
                started=calls[0],
                detected=r.ts,
                t=t,
                severity=self._severity(n, cfg.burst_calls),
                message=lambda: f"{n} calls in {cfg.burst_window_s:g} s",
                peak={"calls": float(n)},
            )

    def _repeat(self, r: Record, t: float, agent: str | None, st: _AgentState) -> None:
        h = r.prompt_hash
        cfg = self.config
        if h is None or not cfg.repeat_calls:  # 0: off
            return
        times = st.hashes.get(h)
        if times is None:
            times = st.hashes[h] = []  # a list, not a deque: a thousand of these per agent, most with one entry
            if len(st.hashes) > 512:
                st.hashes.popitem(last=False)
        else:
            st.hashes.move_to_end(h)
        times.append(t)
        start = t - cfg.repeat_window_s
        drop = 0
        while drop < len(times) and times[drop] < start:
            drop += 1
        drop = max(drop, len(times) - cfg.repeat_calls * 10)
        if drop > 0:
            del times[:drop]
        n = len(times)
        if n >= cfg.repeat_calls:
            self._trigger(
                "repeat",
                agent,
                h,
                started=times[0],
                detected=r.ts,
                t=t,
                severity=self._severity(n, cfg.repeat_calls),
                message=lambda: f"{n} identical requests ({h}) in {cfg.repeat_window_s:g} s",
                peak={"calls": float(n)},
            )

    def _errors(self, r: Record, t: float, agent: str | None, st: _AgentState) -> None:
        cfg = self.config
        if r.status == "error":
            if st.streak == 0:
                st.streak_start = r.ts
            st.streak += 1
        elif r.status == "ok":
            st.streak = 0
        if cfg.error_streak and st.streak >= cfg.error_streak:  # 0: off
            self._trigger(
                "error_streak",
                agent,
                "",
                started=st.streak_start,
                detected=r.ts,
                t=t,
                severity=self._severity(st.streak, cfg.error_streak),
                message=lambda: f"{st.streak} failed calls in a row",
                peak={"failures": float(st.streak), "attempt": float(r.attempt)},
            )
        if cfg.error_attempt and r.attempt >= cfg.error_attempt:  # 0: off
            self._trigger(
                "error_streak",
                agent,
                "",
                started=r.ts,
                detected=r.ts,
                t=t,
                severity=self._severity(r.attempt, cfg.error_attempt),
                message=lambda: f"retry #{r.attempt} of one request",
                peak={"attempt": float(r.attempt), "failures": float(st.streak)},
            )

    def _spend_rate(self, r: Record, t: float, agent: str | None, st: _AgentState, pico: int) -> None:
        cfg = self.config
        window = cfg.spend_window_s
        scale = 3600.0 / window / _PICO
        st.spend_sum = _slide(st.spend, st.spend_sum, t, pico, window)
        rate = st.spend_sum * scale
        if cfg.spend_rate_agent_usd_per_hour and rate > cfg.spend_rate_agent_usd_per_hour:  # 0: off
            self._spend_trigger(r, t, agent, rate, cfg.spend_rate_agent_usd_per_hour, st.spend[0][0])
        self._total_sum = _slide(self._total, self._total_sum, t, pico, window)
        total = self._total_sum * scale
        if cfg.spend_rate_total_usd_per_hour and total > cfg.spend_rate_total_usd_per_hour:  # 0: off
            self._spend_trigger(r, t, None, total, cfg.spend_rate_total_usd_per_hour, self._total[0][0])

    def _spend_trigger(self, r: Record, t: float, agent: str | None, rate: float, limit: float, first: float) -> None:
        # While spending stays high this runs on every record: an ongoing episode with no new peak and no higher
        # severity only moves its last time, so do just that, without building the message and peak.
        severity = self._severity(rate, limit)
        sub = "total" if agent is None else ""
        ep = self._active.get(("spend_rate", agent, sub))
        if (
            ep is not None
            and _RANK[severity] <= _RANK[ep.severity]
            and round(rate, 6) <= ep.peak.get("usd_per_hour", float("-inf"))
        ):
            ep.last = max(ep.last, t)
            return
        who = "all agents" if agent is None else "this agent"
        self._trigger(
            "spend_rate",
            agent,
            sub,
            started=first,
            detected=r.ts,
            t=t,
            severity=severity,
            message=lambda: f"{who} spending ${rate:,.2f}/h (limit ${limit:,.2f}/h)",
            peak={"usd_per_hour": round(rate, 6)},
        )

    def _call_cost(self, r: Record, t: float, agent: str | None, pico: int) -> None:
        limit = self.config.call_cost_usd
        cost = pico / _PICO
        if limit and cost > limit:  # 0: off
            self._trigger(
                "call_cost",
                agent,
                "",
                started=r.ts,
                detected=r.ts,
                t=t,
                severity="critical" if cost >= limit * 10 else "warning",
                message=lambda: f"one call cost ${cost:.4f} (limit ${limit:g})",
                peak={"cost_usd": cost},
            )

    def _budgets(self, r: Record, t: float, agent: str | None, pico: int) -> None:
        cfg = self.config
        day = r.ts[:10]
        end_of_day = (t // 86400 + 1) * 86400.0
        scopes: tuple[tuple[str, str | None, str | None, float | None, float | None], ...] = (
            ("day", None, day, cfg.budget_day_usd, end_of_day),
            ("agent", agent, day, cfg.budget_agent_usd, end_of_day),
            ("user", r.user_id, day, cfg.budget_user_usd, end_of_day),
            ("session", r.session_id, None, cfg.budget_session_usd, None),
        )
        for scope, name, period, limit, ends in scopes:
            if limit is None or (scope != "day" and name is None):
                continue
            key = (scope, name, period)
            spent = self._spent.get(key, 0) + pico
            self._spent[key] = spent
            self._spent.move_to_end(key)
            burn: _Burn = self._burns.touch(key, _Burn)
            burn.add(t, pico)
            usd = spent / _PICO
            label = scope if name is None else f"{scope} {name}"
            if cfg.budget_eta_s and usd < limit:  # 0: off
                self._eta(r, t, agent if scope == "agent" else None, key, label, usd, limit, burn, ends)
            if usd < limit * cfg.budget_warning_fraction:
                continue
            severity: Severity = "critical" if usd >= limit else "warning"
            self._trigger(
                "budget",
                agent if scope == "agent" else None,
                f"{scope}:{name}:{period}",
                started=r.ts,
                detected=r.ts,
                t=t,
                severity=severity,
                message=_budget_message(label, usd, limit),
                peak={"spent_usd": usd, "limit_usd": limit},
                ends_at=ends,
            )
        while len(self._spent) > self._spent.cap:
            self._spent.popitem(last=False)

    def _eta(
        self,
        r: Record,
        t: float,
        agent: str | None,
        key: tuple[str, str | None, str | None],
        label: str,
        usd: float,
        limit: float,
        burn: _Burn,
        ends: float | None,
    ) -> None:
        """``budget_eta``: the budget will be reached within ``budget_eta_s`` at its burn rate. A forecast, so a
        warning: the ``budget`` rule turns critical when the budget is reached."""
        cfg = self.config
        per_second = burn.per_second(t) / _PICO
        eta = budget_eta(usd, limit, per_second, t, ends)
        if eta is None or eta - t > cfg.budget_eta_s:
            return
        per_minute = per_second * 60
        self._trigger(
            "budget_eta",
            agent,
            "{}:{}:{}".format(*key),
            started=r.ts,
            detected=r.ts,
            t=t,
            severity="warning",
            message=lambda: (
                f"{label} budget ${limit:,.2f} reached ~{_utc_time(eta, t)} at ${per_minute:,.2f}/min "
                f"(${usd:,.2f} spent)"
            ),
            peak={"usd_per_min": round(per_minute, 6), "limit_usd": limit},
            renew=True,  # a faster burn brings the time closer: the message says the new one
        )

    def _context(self, r: Record, t: float, agent: str | None, context_window: int | None) -> None:
        cfg = self.config
        tokens = r.input_tokens or 0
        ss: _SessionState = self._sessions.touch((agent, r.session_id), _SessionState)
        if ss.last_input >= 0 and tokens > ss.last_input:
            ss.growths += 1
        else:
            ss.growths = 0
            ss.run_start = r.ts
        ss.last_input = tokens
        if cfg.context_growth_calls and ss.growths >= cfg.context_growth_calls:  # 0: off
            self._trigger(
                "context_growth",
                agent,
                r.session_id or "",
                started=ss.run_start,
                detected=r.ts,
                t=t,
                severity=self._severity(ss.growths, cfg.context_growth_calls),
                message=lambda: (
                    f"input grew on {ss.growths} calls in a row in session {r.session_id} ({tokens:,} tokens)"
                ),
                peak={"growths": float(ss.growths), "input_tokens": float(tokens)},
            )
        if context_window and cfg.context_window_fraction and tokens > context_window * cfg.context_window_fraction:
            fill = tokens / context_window
            self._trigger(
                "context_growth",
                agent,
                r.session_id or "",
                started=ss.run_start,
                detected=r.ts,
                t=t,
                severity="critical" if fill >= 0.95 else "warning",
                message=lambda: f"session {r.session_id} at {fill:.0%} of the context window ({tokens:,} tokens)",
                peak={"input_tokens": float(tokens), "context_fill": round(fill, 4)},
            )


def _utc_time(when: float, now: float) -> str:
    """``15:40 UTC``, with the date when it is not ``now``'s day (a session's budget may be days away)."""
    text = iso(when)
    return f"{text[11:16]} UTC" if text[:10] == iso(now)[:10] else f"{text[:10]} {text[11:16]} UTC"


def _budget_message(label: str, usd: float, limit: float) -> Callable[[], str]:
    return lambda: f"{label} spent ${usd:,.2f} of ${limit:,.2f}"


def _slide(window: deque[tuple[float, int]], total: int, t: float, pico: int, span: float) -> int:
    """Add ``pico`` at ``t`` to a sliding-window sum and drop what fell out of it."""
    window.append((t, pico))
    total += pico
    start = t - span
    while window[0][0] < start:
        total -= window.popleft()[1]
    return total
