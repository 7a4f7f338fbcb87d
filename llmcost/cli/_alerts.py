"""``llmcost alerts`` (its arguments are in ``llmcost.cli``): show where alerts go (the ``[alerts]`` table, checked), ``--test`` sends a sample one."""

from __future__ import annotations

import argparse
import math
import shlex

from llmcost.alerts import AlertConfig, AlertConfigError, Notifier, load_alert_config
from llmcost.cli._common import UsageError
from llmcost.paths import config_file

__all__ = ["run_alerts"]


MAX_TIMEOUT_S = 3600.0


def run_alerts(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT_S):
        raise UsageError(f"--timeout must be a number of seconds more than 0 and at most 3,600, not {args.timeout:g}")
    try:
        config = load_alert_config()
    except AlertConfigError as exc:
        raise UsageError(str(exc)) from None
    if not config.enabled:
        print(f"no alerts configured (add an [alerts] table to {config_file()}; see docs/alerts.md)")
        return 0
    if not args.test:
        print(f"alerts from {config_file()}:")
        for line in describe(config):
            print(f"  {line}")
        return 0
    with Notifier(config, source="test") as notifier:
        notifier.send_test()
        finished = notifier.flush(args.timeout)
        stats = notifier.stats()
    failed = not finished
    for s in stats:
        if s.sent:
            outcome = "sent"
        elif s.destination == "bell":
            outcome = f"not rung ({s.last_error})" if s.last_error else "not rung"
        elif s.failed:
            outcome, failed = f"FAILED: {s.last_error}", True
        else:
            outcome, failed = "no answer in time", True
        print(f"{s.destination}: {outcome}")
    return 1 if failed else 0


def describe(config: AlertConfig) -> list[str]:
    """The destinations and their filters, one line each (a webhook's URL shows its host only: it is a secret)."""
    kinds = ", ".join(config.kinds) if config.kinds else "every kind"
    lines = [f"severity {config.min_severity} and above, {kinds}, {'with' if config.on_end else 'without'} ends"]
    if config.bell:
        lines.append("bell: on")
    if config.command:
        lines.append(f"command: {shlex.join(config.command)} (timeout {config.command_timeout_s:g} s)")
    for hook in config.webhooks:
        extra = []
        if hook.min_severity is not None:
            extra.append(f"severity {hook.min_severity} and above")
        if hook.kinds is not None:
            extra.append(", ".join(hook.kinds) or "no kind")
        if hook.on_end is not None:
            extra.append("with ends" if hook.on_end else "without ends")
        extra.append(f"at most {hook.max_per_minute} a minute, {hook.retries} retries")
        lines.append(f"webhook {hook.host}: {', '.join(extra)}")
    return lines
