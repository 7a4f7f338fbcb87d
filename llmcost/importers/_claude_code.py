"""Claude Code transcripts: ``~/.claude/projects/<encoded project path>/<session id>.jsonl``.

Every line is one JSON object (``user``, ``assistant``, ``summary``, ``system``, ...). An assistant line carries
``message.id``, ``message.model``, ``message.usage`` (Anthropic's counters: ``input_tokens`` without the cache,
``cache_creation_input_tokens`` split by lifetime in ``cache_creation.ephemeral_5m_input_tokens`` /
``ephemeral_1h_input_tokens``, ``cache_read_input_tokens``, ``output_tokens``), ``requestId``, ``sessionId``,
``timestamp``, ``cwd`` and ``isSidechain`` (a subagent's turn).

Claude Code writes one line per content block of a streamed message, and each repeats the message's usage: the
input and cache counts are the same on every line, but ``output_tokens`` grows and only the last line, the one with
``stop_reason`` set, has the final count. So the lines of one ``message.id`` are one call, counted once, with the
usage of its last line (the highest output count). A message is complete when its ``stop_reason`` line arrives, when
a line of another message of the same conversation follows it (the main one, or one subagent's: subagents running
side by side interleave their lines, and without an ``agentId`` a subagent's message waits for its own last line), or
when its file has been quiet for the settle time (older versions leave ``stop_reason`` empty); until then it is held,
in the import state if need be. ``message.id`` alone identifies the
call (some versions omit ``requestId``, and a resumed session copies earlier lines, ids included, into its new
file): the record id is a hash of it, so a copy is never written twice.

Lines of the ``<synthetic>`` model (messages Claude Code makes up itself, such as an API error notice) are no calls.
Claude Code's own ``costUSD`` estimate (older versions) is not used: calls are priced with the catalog.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import msgspec

from llmcost.importers._core import HELD, Draft, decode_lines, wire_ts
from llmcost.log import Count

__all__ = ["ClaudeCode", "decode_project"]

TOOL = "claude-code"
_ENCODE = re.compile(r"[^A-Za-z0-9]")


# Counts are checked while decoding (``Count``: a whole number from 0 to 2**53, as the wire format takes it): a line
# with any other count fails to decode, and is counted as skipped.
class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: Count | None = None
    ephemeral_1h_input_tokens: Count | None = None


class _Usage(msgspec.Struct, gc=False):
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    cache_creation_input_tokens: Count | None = None
    cache_read_input_tokens: Count | None = None
    cache_creation: _CacheCreation | None = None


class _Message(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None
    stop_reason: str | None = None


class _Line(msgspec.Struct, gc=False):
    """The fields of a transcript line a call needs; everything else (the content) is skipped by the decoder."""

    type: str | None = None
    message: _Message | None = None
    requestId: str | None = None
    sessionId: str | None = None
    timestamp: str | None = None
    cwd: str | None = None
    isSidechain: bool | None = None
    agentId: str | None = None
    uuid: str | None = None


_decoder = msgspec.json.Decoder(_Line)


def decode_project(name: str) -> str:
    """The project directory of a ``~/.claude/projects`` folder name, best effort.

    Claude Code names the folder after the path with every character but letters and digits replaced by ``-``
    (``/home/me/my_app`` is ``-home-me-my-app``), which is ambiguous, so the directories that exist on this machine
    decide, level by level, the longest name first. Without a match the dashes become slashes.
    """
    if not name.startswith("-"):
        return name
    pieces = name[1:].split("-")
    path, i = "/", 0
    while i < len(pieces):
        try:
            entries = {_ENCODE.sub("-", e.name): e.name for e in os.scandir(path) if e.is_dir()}
        except OSError:
            break
        for j in range(len(pieces), i, -1):
            found = entries.get("-".join(pieces[i:j]))
            if found is not None:
                path, i = os.path.join(path, found), j
                break
        else:
            break
    return path if i == len(pieces) else "/" + name[1:].replace("-", "/")


class ClaudeCode:
    """Claude Code: ``$CLAUDE_CONFIG_DIR`` (comma-separated), ``~/.config/claude`` and ``~/.claude``, each with its
    ``projects`` directory."""

    tool = TOOL

    def default_roots(self) -> list[Path]:
        homes = [p.strip() for p in os.environ.get("CLAUDE_CONFIG_DIR", "").split(",") if p.strip()]
        homes += [os.path.join(os.path.expanduser("~"), ".config", "claude"), os.path.expanduser("~/.claude")]
        roots: list[Path] = []
        for home in homes:
            projects = Path(os.path.abspath(os.path.expanduser(home))) / "projects"
            if projects.is_dir() and projects not in roots:
                roots.append(projects)
        return roots

    def root_of(self, path: Path) -> Path:
        projects = path / "projects"
        return projects if projects.is_dir() and not any(path.glob("*.jsonl")) else path

    def parser(self, path: Path, root: Path, context: dict[str, Any]) -> _Parser:
        return _Parser(path, root, context)


class _Parser:
    """One transcript file. Holds the message being streamed until it is complete."""

    def __init__(self, path: Path, root: Path, context: dict[str, Any]) -> None:
        self.path = path
        self.root = root
        self._project: str | None = None
        self.held: dict[str, Draft] = {d.key: d for d in msgspec.convert(context.get(HELD, []), list[Draft])}
        self.done: set[str] = set()  # messages already emitted during this read: their later chunks are repeats

    @property
    def project(self) -> str:
        """The project directory decoded from the folder under the root (for lines without ``cwd``)."""
        if self._project is None:
            rel = self.path.relative_to(self.root).parts
            folder = rel[0] if len(rel) > 1 else self.root.name
            self._project = decode_project(folder)
        return self._project

    def feed(self, block: bytes, out: list[Draft]) -> int:
        lines, bad = decode_lines(_decoder, block, _is_call)
        # The chunks of one message follow each other: each run of lines of one message becomes one draft (its
        # highest output count, the last such line on a tie), so the per-line work is a few attribute reads.
        run: _Line | None = None
        run_key: str | None = None
        run_out = -1
        run_final = False
        for line in lines:
            message = line.message
            if message is None or line.type != "assistant":
                continue
            usage = message.usage
            if usage is None or message.model == "<synthetic>":
                continue
            key = message.id or line.requestId or line.uuid
            output = usage.output_tokens or 0
            if key is not None and key == run_key:
                if output >= run_out:
                    run, run_out = line, output
                run_final = run_final or message.stop_reason is not None
                continue
            if run is not None:
                bad += self._take_line(run, run_final, out)
            run, run_key, run_out, run_final = line, key, output, message.stop_reason is not None
        if run is not None:
            bad += self._take_line(run, run_final, out)
        return bad

    def _take_line(self, line: _Line, final: bool, out: list[Draft]) -> int:
        message: Any = line.message  # an assistant line with usage: feed() checked
        draft = self._draft(line, message, message.usage)
        if draft is None:
            return 1
        if final and not draft.final:
            draft = msgspec.structs.replace(draft, final=True)
        self._take(draft, out)
        return 0

    def _draft(self, line: _Line, message: _Message, usage: _Usage) -> Draft | None:
        when = wire_ts(line.timestamp)
        if when is None:
            return None
        fresh, read, write = (
            usage.input_tokens or 0,
            usage.cache_read_input_tokens or 0,
            usage.cache_creation_input_tokens,
        )
        split = usage.cache_creation
        one_hour = 0
        if split is not None:
            one_hour = split.ephemeral_1h_input_tokens or 0
            if write is None:
                write = (split.ephemeral_5m_input_tokens or 0) + one_hour
        write = write or 0
        output = usage.output_tokens or 0
        key = message.id or line.requestId or line.uuid or f"{line.sessionId}:{when[0]}:{fresh}:{read}:{write}:{output}"
        return Draft(
            key=f"{TOOL}:{key}",
            ts=when[0],
            at=when[1],
            provider="anthropic",
            response_model=message.model,
            input_tokens=fresh + read + write,  # the wire format counts the cache inside the input
            output_tokens=output,
            cache_read=read,
            cache_write=write,
            cache_write_1h=min(one_hour, write) or None,
            session_id=line.sessionId or self.path.stem,
            workflow=line.cwd or self.project,
            response_id=message.id,
            sidechain=bool(line.isSidechain),
            final=message.stop_reason is not None,
            # Subagents can run side by side: their chunks interleave, and only an agent id tells them apart.
            thread=(line.agentId or None) if line.isSidechain else "",
        )

    def _take(self, draft: Draft, out: list[Draft]) -> None:
        """One streamed chunk: keep the highest output count of its message; emit the message once complete."""
        key = draft.key
        if key in self.done:
            return
        held = self.held
        before = held.get(key)
        if before is None:
            if draft.thread is not None:  # a new message began: the ones before it in its conversation are complete
                for other, waiting in list(held.items()):
                    if waiting.thread == draft.thread:
                        out.append(held.pop(other))
                        self.done.add(other)
        elif draft.output_tokens < before.output_tokens:  # an earlier chunk counted more: it stays, maybe now final
            draft = msgspec.structs.replace(before, final=True) if draft.final else before
        if draft.final:
            held.pop(key, None)
            self.done.add(key)
            out.append(draft)
        else:
            held[key] = draft

    def finish(self, quiet: bool, out: list[Draft]) -> int:
        if quiet:
            out.extend(self.held.values())
            self.held.clear()
        return len(self.held)

    def context(self) -> dict[str, Any]:
        return {HELD: msgspec.to_builtins(list(self.held.values()))} if self.held else {}


def _is_call(raw: bytes) -> bool:
    """Whether a line that does not decode counts as skipped: not JSON, or a call whose usage cannot be read (valid
    JSON of another shape, such as a line type of a newer version, is no loss)."""
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return True
    message = obj.get("message") if isinstance(obj, dict) else None
    return isinstance(message, dict) and obj.get("type") == "assistant" and "usage" in message
