"""What an alert says: one plain line (command, bell, terminal), Slack-compatible JSON (webhooks), the event as JSON.

The webhook body is only ``{"text": ...}``: Slack, Mattermost, Rocket.Chat and Discord's ``/slack`` endpoint all
take it. The text uses Slack's markup (``*bold*``, ``:emoji:``) and escapes ``&``, ``<`` and ``>`` as Slack asks.
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass
from typing import Any, Literal

from llmcost.alerts._config import PLACEHOLDERS
from llmcost.engine import AlarmEvent

__all__ = ["Alert", "State", "event_env", "event_fields", "event_json", "plain_text", "slack_body", "summary_body"]

State = Literal["opened", "escalated", "ended", "test"]

_ICON = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}
_SHOWN_IN_SUMMARY = 10


@dataclass(frozen=True, slots=True)
class Alert:
    """One notification: an alarm episode and what happened to it (``state``), from which monitor (``source``)."""

    state: State
    event: AlarmEvent
    source: str = "live"  # the monitor's mode: live, demo, replay ×N, test
    host: str = ""

    @classmethod
    def of(cls, state: State, event: AlarmEvent, source: str = "live") -> Alert:
        return cls(state, event, source, _hostname())


def _hostname() -> str:
    try:
        return socket.gethostname()
    except OSError:  # pragma: no cover - no hostname at all
        return ""


def _origin(alert: Alert) -> str:
    where = f"llmcost-top@{alert.host}" if alert.host else "llmcost-top"
    return where if alert.source == "live" else f"{where} ({alert.source})"


def _what(alert: Alert) -> str:
    e = alert.event
    who = f"agent {e.agent}" if e.agent is not None else "all agents"
    if alert.state == "ended":
        peak = ", ".join(f"{name.replace('_', ' ')} {value:g}" for name, value in e.peak.items())
        span = f"from {_clock(e.started_at)} to {_clock(e.ended_at or '')}"
        return f"ended: {e.kind}, {who}" + (f", peak {peak}" if peak else "") + f" ({span})"
    verb = {"opened": "", "escalated": "now ", "test": "TEST "}[alert.state]
    return f"{verb}{e.severity.upper()} {e.kind}, {who}: {e.message} (since {_clock(e.started_at)})"


def _clock(ts: str) -> str:
    """``12:00:03 UTC`` of an ISO timestamp (the date when it is not today's would be noise in a chat line)."""
    return f"{ts[11:19]} UTC" if len(ts) >= 19 else ts


def plain_text(alert: Alert) -> str:
    """One line without markup: ``llmcost-top@host: CRITICAL burst, agent retry-bot: 47 calls in 10 s (since …)``."""
    return f"{_origin(alert)}: {_what(alert)}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(alert: Alert) -> str:
    icon = ":white_check_mark:" if alert.state == "ended" else _ICON[alert.event.severity]
    return f"{icon} *{_slack_escape(_origin(alert))}*: {_slack_escape(_what(alert))}"


def slack_body(alert: Alert) -> dict[str, Any]:
    return {"text": slack_text(alert)}


def summary_body(alerts: list[Alert], limit: int) -> dict[str, Any]:
    """Several alerts held back by the rate limit, in one message."""
    lines = [
        f":bell: *{_slack_escape(_origin(alerts[0]))}*: {len(alerts)} alarm changes "
        f"(more than {limit} a minute, so folded into one message)"
    ]
    for alert in alerts[:_SHOWN_IN_SUMMARY]:
        lines.append(f"• {_slack_escape(_what(alert))}")
    if len(alerts) > _SHOWN_IN_SUMMARY:
        lines.append(f"• and {len(alerts) - _SHOWN_IN_SUMMARY} more")
    return {"text": "\n".join(lines)}


def event_json(alert: Alert) -> dict[str, Any]:
    """What a command reads on stdin: the episode's fields, ``state``, ``source``, ``host`` and the plain ``text``."""
    data: dict[str, Any] = {"state": alert.state, **asdict(alert.event)}
    data.update(active=alert.event.active, source=alert.source, host=alert.host, text=plain_text(alert))
    return data


def event_fields(data: dict[str, Any]) -> dict[str, str]:
    """The :data:`PLACEHOLDERS` of an :func:`event_json` as text (``""`` for a missing value)."""
    return {n: "" if data[n] is None else str(data[n]) for n in PLACEHOLDERS}


def event_env(fields: dict[str, str]) -> dict[str, str]:
    """``LLMCOST_ALERT_*`` variables for a command, from :func:`event_fields`."""
    return {f"LLMCOST_ALERT_{n.upper()}": value for n, value in fields.items()}
