"""Short, fixed-width text for figures on screen (no Textual here, so ``--once`` and tests share it)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

__all__ = ["clock_time", "duration", "eta_text", "millis", "peak_text", "reached_text", "tokens", "usd", "usd_rate"]

_DASH = "–"


def usd(value: Decimal | float | None) -> str:
    """Dollars with as many decimals as make the figure readable: ``$1,234``, ``$12.34``, ``$0.123``, ``$0.0012``."""
    if value is None:
        return "?"
    amount = Decimal(str(value)) if isinstance(value, float) else value
    if amount == 0:
        return "$0"
    size = abs(amount)
    if size >= 1000:
        return f"${amount:,.0f}"
    if size >= 1:
        return f"${amount:,.2f}"
    if size >= Decimal("0.01"):
        return f"${amount:.3f}"
    if size >= Decimal("0.0001"):
        return f"${amount:.4f}"
    return "<$0.0001"


def usd_rate(value: Decimal) -> str:
    """A spend rate: blank when nothing is being spent, so moving rows stand out."""
    return "" if value == 0 else usd(value)


def tokens(count: int) -> str:
    """``950``, ``12.3k``, ``1.23M``, ``4.5B``."""
    if count < 1000:
        return str(count)
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= size:
            value = count / size
            return f"{value:.3g}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return str(count)  # pragma: no cover - unreachable


def millis(value: float | None) -> str:
    """Milliseconds as ``850ms``, ``1.2s``, ``12s``; a dash when there is no sample."""
    if value is None:
        return _DASH
    if value < 1000:
        return f"{value:.0f}ms"
    if value < 10_000:
        return f"{value / 1000:.1f}s"
    return f"{value / 1000:.0f}s"


def duration(seconds: float) -> str:
    """``45s``, ``3m07s``, ``1h02m``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def clock_time(iso_ts: str) -> str:
    """Local wall-clock time (``HH:MM:SS``) of a wire-format timestamp."""
    value = dt.datetime.fromisoformat(iso_ts.replace("Z", "+00:00"))
    return value.astimezone().strftime("%H:%M:%S")


def eta_text(eta: float, now: float) -> str:
    """A coming local time: ``~15:40`` within the next 20 hours, else with its day, ``~Mon 09:15``."""
    when = dt.datetime.fromtimestamp(eta)
    return when.strftime("~%H:%M") if eta - now < 20 * 3600 else when.strftime("~%a %H:%M")


def reached_text(reached: bool, eta: float | None, now: float) -> str:
    """When a budget is reached: ``reached`` already, ``reached ~15:40`` at its burn rate, else nothing."""
    if reached:
        return "reached"
    return "" if eta is None else f"reached {eta_text(eta, now)}"


def peak_text(kind: str, peak: dict[str, float]) -> str:
    """The figure that made an alarm, in words a person reads at a glance."""
    if "usd_per_hour" in peak:
        return f"{usd(peak['usd_per_hour'])}/h"
    if kind == "budget_eta" and "usd_per_min" in peak:
        return f"{usd(peak['usd_per_min'])}/min of {usd(peak.get('limit_usd'))}"
    if "spent_usd" in peak:
        return f"{usd(peak['spent_usd'])} of {usd(peak.get('limit_usd'))}"
    if "cost_usd" in peak:
        return f"{usd(peak['cost_usd'])} one call"
    if kind == "context_growth" and "input_tokens" in peak:
        return f"{tokens(int(peak['input_tokens']))} tok in"
    if "failures" in peak:
        return f"{peak['failures']:.0f} fails, try {peak.get('attempt', 0):.0f}"
    if "calls" in peak:
        return f"{peak['calls']:.0f} calls"
    return ", ".join(f"{k}={v:g}" for k, v in sorted(peak.items()))
