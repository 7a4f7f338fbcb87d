"""Messages from the ingest thread to the screen: small dataclasses, named as events."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from llmcost.engine import AlarmEvent

__all__ = ["AlarmsChanged", "BellRequested", "HistoryProgressed"]


@dataclass
class HistoryProgressed(Message):
    """Start-up replay: ``done`` of ``total`` bytes read (equal when finished)."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        # A burst of progress reports collapses into the latest one.
        return isinstance(message, HistoryProgressed)


@dataclass
class AlarmsChanged(Message):
    """Alarm episodes opened, escalated or ended by new records (not by the start-up history)."""

    events: list[AlarmEvent]


@dataclass
class BellRequested(Message):
    """An alert wants the terminal bell (the app rings it; the notifier only asks, from the ingest thread)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BellRequested)
