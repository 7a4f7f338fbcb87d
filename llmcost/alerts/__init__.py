"""Alerts: alarm events sent to a webhook (Slack-compatible JSON), a command, the terminal bell.

Configured by the ``[alerts]`` table of ``$LLMCOST_HOME/config.toml`` (see ``docs/alerts.md``); ``llmcost-top`` sends
them as the engine raises alarms, ``llmcost alerts --test`` sends a sample one. Importing this package is light:
httpx is imported by a webhook's worker thread when its first alert comes.

>>> from llmcost.alerts import AlertConfig, Notifier
>>> with Notifier(AlertConfig(command=("notify-send", "llmcost", "{text}"))) as notifier:  # doctest: +SKIP
...     notifier.handle(engine.ingest(records))
"""

from __future__ import annotations

from llmcost.alerts._config import (
    KINDS,
    PLACEHOLDERS,
    AlertConfig,
    AlertConfigError,
    WebhookConfig,
    load_alert_config,
    parse_alert_config,
)
from llmcost.alerts._message import Alert, event_json, plain_text, slack_body
from llmcost.alerts._notifier import Notifier
from llmcost.alerts._sinks import AlertStats

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "Alert",
    "AlertConfig",
    "AlertConfigError",
    "AlertStats",
    "Notifier",
    "WebhookConfig",
    "event_json",
    "load_alert_config",
    "parse_alert_config",
    "plain_text",
    "slack_body",
]
