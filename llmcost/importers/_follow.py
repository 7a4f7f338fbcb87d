"""Keep importing while the tool writes: file-system notifications on the transcript directories.

watchfiles reports the files that changed; only those are read (from their offsets), plus files holding a message
that still waits for its last chunk (it is written once its file has been quiet for the settle time). A new directory
(a new project, a new day of Codex sessions) and every ``rescan_s`` seconds bring a full scan, so a file written
before its directory was watched, or a missed notification, delays a call by at most that long. The state is saved at
most every ``save_s`` seconds and when following stops, so a restart resumes where it stopped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmcost.importers._core import Importer

__all__ = ["follow"]


def _wanted(change: Any, path: str) -> bool:
    """Transcripts, and directories (a new project or day folder: its files may be written before it is watched)."""
    return path.endswith(".jsonl") or os.path.isdir(path)


def follow(
    importer: Importer,
    stop: threading.Event,
    *,
    on_records: Callable[[int], None] | None = None,
    tick_s: float = 1.0,
    rescan_s: float = 10.0,
    save_s: float = 2.0,
    debounce_ms: int = 50,
) -> None:
    """Import new calls as they are written until ``stop`` is set; ``on_records(n)`` after each batch written.

    The caller has run a first ``importer.scan()``; the directories to watch are the importer's roots (those that
    exist when following starts).
    """
    import time

    from watchfiles import watch  # ~30 ms import, only when following

    roots = [str(r) for r in importer.roots if r.is_dir()]
    # The first batch (at the latest after ``tick_s``, when the watcher runs) is a full scan: what was written
    # between the caller's scan and the start of the watcher is found there, not a rescan period later.
    last_full = -rescan_s
    changes_seen = watch(
        *roots,
        watch_filter=_wanted,
        debounce=debounce_ms,
        step=min(50, debounce_ms),
        rust_timeout=int(tick_s * 1000),
        yield_on_timeout=True,
        stop_event=stop,
        recursive=True,
        raise_interrupt=False,
    )
    for changes in changes_seen:
        if stop.is_set():
            break
        if time.monotonic() - last_full >= rescan_s or any(not path.endswith(".jsonl") for _, path in changes):
            written = importer.scan(stop=stop.is_set)
            last_full = time.monotonic()
        else:
            written = importer.scan(only=[Path(path) for _, path in changes], stop=stop.is_set)
        if written and on_records is not None:
            on_records(written)
        importer.save_every(save_s)
