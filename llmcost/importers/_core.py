"""The part every importer shares: read new bytes of source files, turn drafts into priced records, write them.

A tool's module (``_claude_code``, ``_codex``) knows its file format and nothing else: it turns complete lines into
:class:`Draft` calls. This module finds the files, reads each from where the last import stopped (complete lines
only: a line still being written waits for its newline), prices the drafts with the catalog at their own time,
gives each record an id derived from its source id (so re-reading never writes a call twice: the state remembers
the ids, and readers de-duplicate by id anyway), and appends the lines to the day file of each call's timestamp in
batches (one ``write`` per day and megabyte, not per call).

Lines are decoded with msgspec into small typed structs that declare only the fields a call needs: the rest of a
line (prompts, tool output, file contents) is scanned but never turned into Python objects, and never recorded.
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec

from llmcost.importers._state import FileState, ImportState, state_path
from llmcost.log import MAX_AMOUNT, FileWriter, LineSplitter, Record, RecorderWarning, epoch, iso

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = [
    "HELD",
    "MAX_SOURCE_LINE",
    "Draft",
    "FileParser",
    "ImportFailed",
    "ImportSummary",
    "Importer",
    "Progress",
    "Source",
    "decode_lines",
    "wire_ts",
]

HELD = "held"  # the context key under which a parser keeps drafts that wait for more lines
MAX_SOURCE_LINE = 64 << 20  # transcript lines carry pasted images and whole files: far longer than log lines
_CHUNK = 8 << 20  # bytes read per system call (fewer Python iterations; lines within a chunk decode in one call)
_WRITE = 1 << 20  # bytes of lines handed to the writer at once (one write() per day file and megabyte)
_HEAD = 256
_SAVE_S = 5.0

Progress = Callable[[int, int], None]
_T = TypeVar("_T")
#: The wire format's fields in ``Record``'s order, built positionally: no keyword matching and no second check of the
#: time (the parsers checked it); a test checks that what it encodes decodes as a ``Record``.
_Line: Any = msgspec.defstruct(
    "_Line",
    [
        (name, Any, None if default is msgspec.NODEFAULT else default)
        for name, default in zip(Record.__struct_fields__, (f.default for f in msgspec.structs.fields(Record)))
    ],
)
_encoder = msgspec.json.Encoder()


class ImportFailed(RuntimeError):
    """The import could not write its records (the state is not saved past them, so nothing is lost)."""


class Draft(msgspec.Struct, kw_only=True, gc=False):
    """One call read from a transcript, before pricing. Counts are inclusive, as in the wire format.

    ``key`` identifies the call in its source (Claude Code's ``message.id``, a Codex session and running total); the
    record id is a hash of it. ``final`` marks the last streamed chunk of a message (Claude Code's ``stop_reason``).
    """

    key: str
    ts: str
    at: float  # ``ts`` as epoch seconds
    provider: str
    operation: str = "chat"
    request_model: str | None = None
    response_model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read: int | None = None
    cache_write: int | None = None
    cache_write_1h: int | None = None
    reasoning: int | None = None
    session_id: str | None = None
    workflow: str | None = None
    response_id: str | None = None
    sidechain: bool = False
    final: bool = False
    # The conversation of its file the call belongs to ("" the main one, an agent id for a subagent's; ``None``
    # when unknown): a new message completes the held ones of its own conversation only.
    thread: str | None = ""


class FileParser(Protocol):
    """Turns the complete lines of one source file into drafts, keeping its context between reads."""

    def feed(self, block: bytes, out: list[Draft]) -> int:
        """Parse a block of complete lines; append drafts to ``out``; return the number of lines skipped."""
        ...

    def finish(self, quiet: bool, out: list[Draft]) -> int:
        """The end of the file was reached (``quiet``: unchanged for the settle time); the number of drafts held."""
        ...

    def context(self) -> dict[str, Any]:
        """What to remember for the next read (JSON values; drafts still held go under ``HELD``)."""
        ...


class Source(Protocol):
    """One tool's transcripts: where they are and how to read them."""

    tool: str

    def default_roots(self) -> list[Path]:
        """The tool's transcript directories that exist on this machine, in the tool's own order."""
        ...

    def root_of(self, path: Path) -> Path:
        """The directory to read for a DIR argument (the tool's home may be given instead of its transcripts)."""
        ...

    def parser(self, path: Path, root: Path, context: dict[str, Any]) -> FileParser: ...


def wire_ts(text: str | None) -> tuple[str, float] | None:
    """``("2026-01-31T12:00:00.123Z", epoch seconds)`` for an ISO-8601 time (UTC without an offset), else ``None``."""
    if not text:
        return None
    try:
        at = epoch(text)  # a time that does not exist (February 30) raises
        if len(text) == 24 and text[10] == "T" and text[19] == "." and text[23] == "Z":
            return text, at
        return iso(at), at
    except (ValueError, OverflowError, OSError):
        return None


def decode_lines(
    decoder: msgspec.json.Decoder[_T], block: bytes, bad_line: Callable[[bytes], bool]
) -> tuple[list[_T], int]:
    """The lines of a block that decode, and how many of the others ``bad_line`` counts.

    The whole block is one call to msgspec when every line decodes (the usual case). Otherwise it is split in two
    at a newline, and so on: a malformed line among thousands costs a few extra calls, not a Python loop over all.
    """
    out: list[_T] = []
    bad = _decode_part(decoder, block, 0, len(block), bad_line, out)
    return out, bad


def _decode_part(
    decoder: msgspec.json.Decoder[_T],
    block: bytes,
    start: int,
    end: int,
    bad_line: Callable[[bytes], bool],
    out: list[_T],
) -> int:
    try:
        out.extend(decoder.decode_lines(memoryview(block)[start:end]))
        return 0
    except msgspec.DecodeError:  # ValidationError is a DecodeError too
        pass
    middle = block.find(b"\n", (start + end) // 2, end - 1)
    if middle < 0:
        middle = block.rfind(b"\n", start, (start + end) // 2)
    if middle < 0:  # one line
        line = block[start:end]
        return 1 if line.strip() and bad_line(line) else 0
    return _decode_part(decoder, block, start, middle + 1, bad_line, out) + _decode_part(
        decoder, block, middle + 1, end, bad_line, out
    )


@dataclass
class ImportSummary:
    """What an import did. ``records`` were written; ``already_imported`` had ids written before (a re-import, or a
    resumed session's copy of its history); ``in_progress`` messages wait for their last streamed chunk."""

    tool: str
    sources: list[str]
    log_dir: str
    files: int = 0
    files_read: int = 0
    bytes_read: int = 0
    records: int = 0
    already_imported: int = 0
    in_progress: int = 0
    cost_usd: Decimal = Decimal(0)
    skipped_lines: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)  # file: why it could not be opened
    unknown_models: dict[str, int] = field(default_factory=dict)
    days: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, every field in order: the cost as a number, the tables sorted by key, days sorted."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["cost_usd"] = float(self.cost_usd)
        for table in ("skipped_lines", "unreadable", "unknown_models"):
            data[table] = dict(sorted(data[table].items()))
        data["days"] = sorted(self.days)
        return data


class _Pricer:
    """Prices drafts with the catalog in force at each call's own time (the catalog is loaded on first use).

    As the recorder does, the integer rates of each (model, provider) are kept with the time range they hold for
    (``Catalog.rate_plan``): a priced call is a few integer products in pico-dollars, exactly what
    ``Catalog.price`` computes. Everything else (unknown models, tiers that need ``Decimal``) goes through
    ``Catalog.price``.
    """

    def __init__(self, catalog: Catalog | None) -> None:
        import pricing  # ~25 ms: only once there is something to price

        self.catalog = catalog if catalog is not None else pricing.load_catalog()
        self.usage = pricing.Usage
        self.impossible = pricing.ImpossibleUsage
        self.plans: dict[tuple[str, str], tuple[Any, float, float]] = {}

    def price(self, d: Draft) -> tuple[Decimal | None, str, str | None]:
        model = d.response_model or d.request_model
        if model is None:
            return None, "unknown_model", None
        hit = self.plans.get((model, d.provider))
        if hit is None or not hit[1] <= d.at < hit[2]:
            hit = self._plan(model, d.provider, d.at)
        plan = hit[0]
        if plan is not None:
            pico = plan.pico_total(
                d.input_tokens, d.output_tokens, d.cache_read, d.cache_write, d.cache_write_1h, d.reasoning
            )
            if pico >= 0:
                return Decimal(pico).scaleb(-12), "priced", plan.ref
        usage = self.usage.from_wire(
            d.input_tokens, d.output_tokens, d.cache_read, d.cache_write, d.cache_write_1h, d.reasoning
        )
        try:
            price = self.catalog.price(usage, model, d.provider, at=d.at)
        except self.impossible:  # parsers hand over consistent counts; a catalog quirk must not stop the import
            return None, "unknown_model", None
        return price.cost_usd, price.status, price.price_ref

    def _plan(self, model: str, provider: str, at: float) -> tuple[Any, float, float]:
        try:
            found = self.catalog.rate_plan(model, provider, at)
        except Exception:  # an odd name: Catalog.price says what is wrong with it
            found = (None, -math.inf, math.inf)
        if len(self.plans) > 4096:  # names come from the transcripts: keep the memo bounded
            self.plans.clear()
        self.plans[model, provider] = found
        return found


class Importer:
    """Imports one tool's transcripts under ``roots`` into the log directory ``log_dir``.

    ``scan()`` reads what is new (all files, or the ones named) and writes the records; ``close()`` saves the state
    and releases the lock. ``settle_s``: a message still waiting for its last streamed chunk is written anyway once
    its file has not changed for this long. ``home`` is where the state lives (default ``llmcost_home()``). ``host``
    names the machine on the records (default: this one, ``llmcost.paths.host_name()``: the transcripts are its own).
    """

    def __init__(
        self,
        source: Source,
        roots: Iterable[Path],
        log_dir: Path,
        *,
        catalog: Catalog | None = None,
        home: Path | None = None,
        settle_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        host: str | None = None,
    ) -> None:
        from llmcost.paths import host_name, llmcost_home

        if home is None:
            home = llmcost_home()
        self.host = (host_name() if host is None else str(host)[:255]) or None  # "" writes none
        self.source = source
        self.roots = [Path(os.path.abspath(r)) for r in roots]
        self.log_dir = Path(os.path.abspath(log_dir))
        self.settle_s = settle_s
        self.clock = clock
        self.state = ImportState(state_path(home, source.tool, self.log_dir), source.tool, self.log_dir)
        self.summary = ImportSummary(source.tool, [str(r) for r in self.roots], str(self.log_dir))
        self._catalog = catalog
        self._pricer: _Pricer | None = None
        self._writer = FileWriter(self.log_dir)
        self._buffers: dict[str, list[bytes]] = {}
        self._buffered = 0
        self._dirty = False
        self._failed = False
        self._saved_at = 0.0
        self._locked = False

    # -- lifecycle --------------------------------------------------------------------------------------------------

    def __enter__(self) -> Importer:
        self.state.lock()
        self._locked = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Write what is buffered, save the state (only when every record was written) and release the lock."""
        try:
            self.save()
        finally:
            self._writer.close()
            if self._locked:
                self.state.unlock()
                self._locked = False

    def save(self) -> None:
        """Flush the buffered lines, then save the state: offsets never run ahead of what is in the log."""
        self._flush()
        if self._dirty and not self._failed:
            self.state.save()
            self._dirty = False
            self._saved_at = time.monotonic()

    def save_every(self, seconds: float) -> None:
        """Save when something changed and the last save is older than ``seconds`` (long and live imports)."""
        if self._dirty and time.monotonic() - self._saved_at >= seconds:
            self.save()

    # -- reading ----------------------------------------------------------------------------------------------------

    def files(self) -> Iterator[tuple[Path, Path]]:
        """``(file, root)`` for every ``*.jsonl`` under the roots, each file once, in path order."""
        seen: set[str] = set()
        for root in self.roots:
            found: list[str] = []
            for folder, dirs, names in os.walk(root):
                dirs.sort()
                found.extend(os.path.join(folder, n) for n in names if n.endswith(".jsonl"))
            for name in sorted(found):
                if name not in seen:
                    seen.add(name)
                    yield Path(name), root

    def root_for(self, path: Path) -> Path | None:
        """The root a file belongs to, or ``None`` when it is outside every root."""
        text = os.path.abspath(path)
        for root in self.roots:
            if text.startswith(str(root) + os.sep):
                return root
        return None

    def scan(
        self,
        only: Iterable[Path] | None = None,
        progress: Progress | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> int:
        """Read what is new in every file (or in ``only``, plus files holding drafts); the records written.

        ``progress(done_bytes, total_bytes)`` is called as bytes are read; ``stop()`` is asked between files (a file
        is always read to its end, so the state stays consistent when the import is interrupted).
        """
        if only is None:
            targets = list(self.files())
            self.summary.files = len(targets)
        else:
            wanted = {Path(os.path.abspath(p)) for p in only}
            wanted.update(Path(p) for p, fs in self.state.files.items() if fs.context.get(HELD))
            pairs = [(p, self.root_for(p)) for p in sorted(wanted) if p.suffix == ".jsonl"]
            targets = [(p, r) for p, r in pairs if r is not None]
        plans = []
        for path, root in targets:
            try:
                st = os.stat(path)
            except OSError:  # vanished since it was listed
                continue
            if not stat.S_ISREG(st.st_mode):  # a FIFO would block open(), a socket cannot be read
                continue
            plans.append((path, root, st, self._file_state(str(path), st)))
        total = sum(max(0, st.st_size - fs.offset) for _, _, st, fs in plans)
        before = self.summary.records
        done = 0
        held = 0
        for path, root, st, fs in plans:
            if stop is not None and stop():
                break
            done += self._read(path, root, st, fs, done, total, progress)
            self.save_every(_SAVE_S)  # a long import that dies halfway resumes near where it stopped
            held += len(fs.context.get(HELD, ()))
        if only is None:
            self.summary.in_progress = held
            # after the reads: a file moved to another root was adopted by its inode, not forgotten
            self._dirty |= self.state.forget_missing({str(p) for p, _ in targets})
        self._flush()
        return self.summary.records - before

    def _file_state(self, path: str, st: os.stat_result) -> FileState:
        fs, changed = self.state.entry(path, st.st_dev, st.st_ino)
        self._dirty |= changed
        return fs

    def _read(
        self,
        path: Path,
        root: Path,
        st: os.stat_result,
        fs: FileState,
        done: int,
        total: int,
        progress: Progress | None,
    ) -> int:
        """Read one file from its offset; returns the bytes read."""
        if st.st_size == fs.offset and not fs.context.get(HELD):
            return 0
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            self.summary.unreadable[str(path)] = exc.strerror or str(exc)
            return 0
        try:
            if st.st_size < fs.offset or not _same_head(fd, fs):  # truncated or rewritten: read it again
                fs.offset, fs.head, fs.context = 0, "", {}
            return self._consume(fd, path, root, st, fs, done, total, progress)
        finally:
            os.close(fd)

    def _consume(
        self, fd: int, path: Path, root: Path, st: os.stat_result, fs: FileState, done: int, total: int, progress: Any
    ) -> int:
        parser = self.source.parser(path, root, fs.context)
        splitter = LineSplitter(MAX_SOURCE_LINE)
        offset = start = fs.offset
        drafts: list[Draft] = []
        bad = 0
        while True:
            chunk = os.pread(fd, _CHUNK, offset)
            if not chunk:
                break
            offset += len(chunk)
            block, too_long = splitter.feed(chunk)
            bad += too_long + parser.feed(block, drafts)
            self._emit(drafts)
            drafts.clear()
            if progress is not None and total:
                progress(min(done + offset - start, total), total)
            if len(chunk) < _CHUNK:
                break
        quiet = self.clock() - os.fstat(fd).st_mtime >= self.settle_s  # now: the file may have grown while read
        parser.finish(quiet and not splitter.partial, drafts)
        self._emit(drafts)
        consumed = offset - len(splitter.partial)  # a line without its newline yet is read again next time
        if consumed != fs.offset or parser.context() != fs.context:
            fs.offset = consumed
            fs.context = parser.context()
            if not fs.head or int(fs.head.partition(":")[0]) < min(consumed, _HEAD):
                fs.head = _head(fd, consumed)
            self._dirty = True
        if bad:
            self._skip(path, bad)
        self.summary.files_read += 1
        self.summary.bytes_read += offset - start
        return offset - start

    def _skip(self, path: Path, lines: int) -> None:
        self.summary.skipped_lines[str(path)] = self.summary.skipped_lines.get(str(path), 0) + lines

    # -- writing ----------------------------------------------------------------------------------------------------

    def _emit(self, drafts: list[Draft]) -> None:
        """Price and encode new drafts into the day buffers (drafts whose id was written before are counted only)."""
        if not drafts:
            return
        if self._pricer is None:
            self._pricer = _Pricer(self._catalog)
        state, summary, tool, host = self.state, self.summary, self.source.tool, self.host
        for d in drafts:
            rid = hashlib.blake2b(d.key.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
            if state.seen(rid):
                summary.already_imported += 1
                continue
            cost, status, ref = self._pricer.price(d)
            cost_f = None if cost is None else float(cost)
            if cost_f is not None and not 0 <= cost_f <= MAX_AMOUNT:  # not a cost the wire format takes
                cost, cost_f, status, ref = None, None, "unknown_model", None
            one_hour = d.cache_write_1h or None
            line = (
                _encoder.encode(
                    _Line(
                        1,
                        d.ts,
                        None,  # start_ts: transcripts say when a call ended, not when it began
                        rid,
                        None,
                        None,
                        tool,  # source
                        d.operation,
                        d.provider,
                        None,
                        d.request_model,
                        d.response_model,
                        d.response_id,
                        True,  # stream: both tools stream every call
                        d.input_tokens,
                        d.output_tokens,
                        d.cache_read,
                        d.cache_write,
                        d.reasoning,
                        "provider",
                        None,
                        cost_f,
                        status,
                        ref,
                        None,  # latency_ms, ttft_ms: not in the transcripts
                        None,
                        "ok",
                        None,
                        None,
                        0,
                        None,
                        tool,  # agent
                        d.session_id,
                        None,
                        d.workflow,
                        ["sidechain"] if d.sidechain else None,
                        None,
                        None,
                        None,
                        host,
                        cache_creation_1h_input_tokens=one_hour,  # the one-hour part of the writes, priced apart
                    )
                )
                + b"\n"
            )
            day = d.ts[:10]
            self._buffers.setdefault(day, []).append(line)
            self._buffered += len(line)
            state.add(rid)
            self._dirty = True
            summary.records += 1
            summary.days.add(day)
            if cost is not None:
                summary.cost_usd += cost
            if status == "unknown_model":
                name = d.response_model or d.request_model or "(no model)"
                summary.unknown_models[name] = summary.unknown_models.get(name, 0) + 1
            if self._buffered >= _WRITE:
                self._flush()

    def _flush(self) -> None:
        if not self._buffers:
            return
        writer = self._writer
        before = writer.errors
        with warnings.catch_warnings():  # a failure is reported once, as an error of the import (below)
            warnings.simplefilter("ignore", RecorderWarning)
            for day, lines in sorted(self._buffers.items()):
                for piece in _pieces(lines):
                    writer.write_line(day, piece)
        self._buffers.clear()
        self._buffered = 0
        if writer.errors != before:
            self._failed = True  # from now on the state is never saved: it must not claim records the log lacks
            raise ImportFailed(f"cannot write to the log directory {self.log_dir}")


def _pieces(lines: list[bytes]) -> Iterator[bytes]:
    """Complete lines joined into pieces of about ``_WRITE`` bytes: one system call each, never a split line."""
    piece: list[bytes] = []
    size = 0
    for line in lines:
        piece.append(line)
        size += len(line)
        if size >= _WRITE:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)


def _head(fd: int, consumed: int) -> str:
    n = min(consumed, _HEAD)
    return f"{n}:{hashlib.blake2b(os.pread(fd, n, 0), digest_size=8).hexdigest()}"


def _same_head(fd: int, fs: FileState) -> bool:
    """Whether the first bytes are the ones read before (a file rewritten in place starts over)."""
    if not fs.head:
        return True
    return _head(fd, int(fs.head.partition(":")[0])) == fs.head
