"""``llmcost alarms``: the alarm episodes in the logs."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict

from llmcost.cli._common import alarm_config, batches, printable
from llmcost.engine import alarm_history

__all__ = ["run_alarms"]


def run_alarms(args: argparse.Namespace) -> int:
    config = alarm_config(args)
    records, bar = batches(args, "reading")
    try:
        events = alarm_history(records, config=config, now=time.time())
    finally:
        bar.close()
    if args.json:
        print(json.dumps([asdict(e) for e in events], indent=2))
        return 0
    if not events:
        print("no alarms")
    for e in events:
        end = e.ended_at or "active"
        agent, message = printable(e.agent or "-"), printable(e.message)  # both carry names from the logs
        print(f"{e.detected_at}  {e.severity:<8}  {e.kind:<14}  {agent:<16}  {message}  (from {e.started_at} to {end})")
    return 0
