"""``pricing update``: fetch a source, check it, fold it into the catalog, write a new version.

Order matters for safety: everything that can fail (download, checksum, parsing, conversion, validation, the shrink
and jump guards) happens before the first byte is written, and each write is atomic. A failed update leaves every
catalog file as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

from pricing import _load, _paths, _versions
from pricing._catalog import Catalog
from pricing._diff import JUMP_FACTOR, Diff, diff_documents
from pricing._fetch import (
    DEADLINE_S,
    MAX_BYTES,
    Deadline,
    Fetched,
    Progress,
    UpdateError,
    fetch,
    fetch_sha256,
    is_url,
    make_client,
    read_path,
    sha256_hex,
)
from pricing._load import CatalogError, Document
from pricing._merge import merge_rates

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_URL",
    "JUMP_FACTOR",
    "SHRINK_LIMIT",
    "SOURCES",
    "SOURCE_URLS",
    "UpdateOptions",
    "UpdateResult",
    "configured_url",
    "detect_source",
    "dump_document",
    "run_update",
]

#: Where the project publishes its catalog (``<url>.sha256`` beside it). ``[pricing] url`` in config.toml overrides.
DEFAULT_URL = "https://raw.githubusercontent.com/llmcost-top/llmcost-top/main/pricing_catalog.toml"
SOURCES = ("ours", "litellm", "openrouter", "genai-prices")
#: Where each third-party source publishes its data: ``--source NAME`` without ``--from`` reads from here.
SOURCE_URLS = {
    "litellm": "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
    "openrouter": "https://openrouter.ai/api/v1/models",
    "genai-prices": "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json",
}
#: An update that would drop more than this share of the models needs ``--force``.
SHRINK_LIMIT = 0.20

Status = Literal["up_to_date", "no_changes", "dry_run", "updated", "written"]


@dataclass
class UpdateOptions:
    origin: str | None = None  # URL or path; None = the source's own URL, else the configured or default URL
    source: str | None = None  # one of SOURCES; None = detect from the content
    dry_run: bool = False
    force: bool = False
    output: Path | None = None  # write the result here instead of a new version (maintainers)
    base: Path | None = None  # the catalog to update (default: the active one, or ``output`` when it exists)
    day: dt.date | None = None  # effective date of changed rates and of the version (default: today, UTC)
    max_bytes: int = MAX_BYTES
    timeout_s: float = DEADLINE_S  # the whole download, every request included (httpx bounds each read)
    client: httpx.Client | None = None  # injected by tests; otherwise one is made with make_client()
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))


@dataclass
class UpdateResult:
    status: Status
    source: str
    origin: str
    version: str | None = None
    diff: Diff | None = None
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "source": self.source,
            "origin": self.origin,
            "version": self.version,
            "path": None if self.path is None else str(self.path),
            "diff": None if self.diff is None else self.diff.to_dict(),
            "warnings": self.warnings,
        }


@dataclass
class _Base:
    path: Path
    data: bytes
    doc: Document


def configured_url() -> str:
    """``[pricing] url`` from ``$LLMCOST_HOME/config.toml``, else :data:`DEFAULT_URL`."""
    try:
        path, config = _paths.read_config()
    except ValueError as exc:
        raise UpdateError(str(exc)) from None
    url = config.get("pricing", {}).get("url")
    if url is None:
        return DEFAULT_URL
    if not isinstance(url, str) or not url:
        raise UpdateError(f"{path}: [pricing] url must be a non-empty string")
    return url


def run_update(opts: UpdateOptions) -> UpdateResult:
    """Do one update (see the module docstring); raises :class:`UpdateError` with a one-line reason."""
    origin = opts.origin or SOURCE_URLS.get(opts.source or "") or configured_url()
    day = opts.day or dt.datetime.now(dt.timezone.utc).date()
    base = _load_base(opts)
    if is_url(origin):
        client = opts.client or make_client()
        deadline = Deadline(opts.timeout_s, client, owned=opts.client is None)
        try:
            return _update_from_url(opts, origin, day, base, deadline)
        finally:
            deadline.close()
    opts.progress.step(f"reading {origin}", force=True)
    fetched = read_path(Path(origin), max_bytes=opts.max_bytes)
    return _apply(opts, origin, fetched, day, base, sidecar=_path_sidecar(Path(origin)))


def _update_from_url(opts: UpdateOptions, origin: str, day: dt.date, base: _Base, deadline: Deadline) -> UpdateResult:
    state = _versions.read_state() if opts.output is None else {}
    remembered = state.get(origin, {}) if isinstance(state.get(origin), dict) else {}
    # The ETag only proves the source is unchanged; it is sent only while the catalog it produced is still active.
    etag = remembered.get("etag") if remembered.get("result_sha256") == sha256_hex(base.data) else None
    client = deadline.client
    fetched = fetch(client, origin, etag=etag, max_bytes=opts.max_bytes, progress=opts.progress, deadline=deadline)
    if fetched.not_modified:
        version = str(base.doc.get("catalog_version", "?"))
        return UpdateResult("up_to_date", str(remembered.get("source", opts.source or "?")), origin, version=version)

    def sidecar() -> str:
        try:
            return fetch_sha256(client, origin, deadline=deadline)
        except UpdateError as exc:
            raise UpdateError(f"no usable sha256 published beside the catalog: {exc}") from None

    return _apply(opts, origin, fetched, day, base, sidecar=sidecar)


def _path_sidecar(path: Path) -> Any:
    checksum = path.with_name(path.name + ".sha256")

    def read() -> str | None:
        if not checksum.is_file():
            return None  # a local file needs no checksum; one that sits beside it is checked
        text = checksum.read_text(encoding="ascii", errors="replace").strip()
        return text.split()[0].lower() if text else ""

    return read


def _load_base(opts: UpdateOptions) -> _Base:
    if opts.base is not None:
        path = opts.base
    elif opts.output is not None and opts.output.is_file():
        path = opts.output
    else:
        path = _versions.current_path()
        if not path.is_file():
            path = _load.bundled_catalog_path()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UpdateError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        doc = _load.parse_document(data.decode("utf-8"), str(path))
    except (CatalogError, UnicodeDecodeError) as exc:
        raise UpdateError(f"the catalog to update is unusable: {exc}") from None
    return _Base(path, data, doc)


def _apply(
    opts: UpdateOptions, origin: str, fetched: Fetched, day: dt.date, base: _Base, *, sidecar: Any
) -> UpdateResult:
    opts.progress.step(f"parsing {len(fetched.body) / 1_048_576:.1f} MiB", force=True)
    try:
        kind, parsed = _parse(fetched, opts.source)
        opts.progress.step(f"checking {kind} data", force=True)
        if kind == "ours":
            _check_sha256(fetched, sidecar)
            new_doc, new_data, warnings = _ours(fetched, parsed, base)
        else:
            new_doc, new_data, warnings = _convert(kind, parsed, fetched.origin, day, base)
        opts.progress.step("comparing with the catalog in use", force=True)
        diff = diff_documents(base.doc, new_doc, at=day)
        _guard_shrink(diff, opts.force)
        _guard_jumps(diff, opts.force)
    finally:
        opts.progress.done()
    version = str(new_doc["catalog_version"])
    result = UpdateResult("dry_run", kind, fetched.origin, version, diff, warnings)
    if new_data == base.data or (kind != "ours" and diff.empty):
        result.status = "no_changes"
        result.version = str(base.doc.get("catalog_version", "?"))
        _remember(opts, origin, kind, fetched, base.data)
        return result
    if opts.dry_run:
        return result
    if opts.output is not None:
        _versions.atomic_write(opts.output, new_data)
        result.status, result.path = "written", opts.output
        return result
    result.path = _versions.activate(version, new_data)
    result.status = "updated"
    _remember(opts, origin, kind, fetched, new_data)
    return result


def _remember(opts: UpdateOptions, origin: str, kind: str, fetched: Fetched, active: bytes) -> None:
    """Store the source's ETag with the catalog it produced, so the next update can ask "changed since?"."""
    if opts.output is not None or not is_url(fetched.origin) or not fetched.etag or opts.dry_run:
        return
    if active != _current_bytes():
        return  # the catalog in use is not the one this ETag led to
    state = _versions.read_state()
    state[origin] = {"etag": fetched.etag, "result_sha256": sha256_hex(active), "source": kind}
    _versions.write_state(state)


def _current_bytes() -> bytes | None:
    path = _versions.current_path()
    if not path.is_file():
        path = _load.bundled_catalog_path()
    try:
        return path.read_bytes()
    except OSError:
        return None


# -- parsing and checking -----------------------------------------------------------------------------------------


def detect_source(data: Any) -> str | None:
    """Which adapter reads parsed JSON ``data``: genai-prices (a list of providers), OpenRouter (``{"data": [...]}``)
    or LiteLLM (a map of model name to ``*_cost_per_token`` entries)."""
    if isinstance(data, list):
        return "genai-prices" if all(isinstance(p, dict) and "models" in p for p in data[:5]) and data else None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("data"), list):
        return "openrouter"
    for value in list(data.values())[:50]:
        if isinstance(value, dict) and ("litellm_provider" in value or "input_cost_per_token" in value):
            return "litellm"
    return None


def _parse(fetched: Fetched, source: str | None) -> tuple[str, Any]:
    try:
        text = fetched.body.decode("utf-8")
    except UnicodeDecodeError:
        raise UpdateError(f"{fetched.origin}: not UTF-8 text") from None
    looks_json = text.lstrip()[:1] in ("{", "[")
    if source == "ours" or (source is None and not looks_json):
        try:
            return "ours", tomllib.loads(text, parse_float=_decimal)
        except tomllib.TOMLDecodeError as exc:
            raise UpdateError(f"{fetched.origin}: not valid TOML: {exc}") from None
        except RecursionError:
            raise UpdateError(f"{fetched.origin}: TOML nested too deeply to be a catalog") from None
    try:
        data = json.loads(text, parse_float=_decimal)
    except ValueError as exc:
        raise UpdateError(f"{fetched.origin}: not valid JSON: {exc}") from None
    except RecursionError:
        raise UpdateError(f"{fetched.origin}: JSON nested too deeply to be price data") from None
    kind = source or detect_source(data)
    if kind is None:
        raise UpdateError(f"{fetched.origin}: unrecognised price data; name it with --source ({', '.join(SOURCES)})")
    return kind, data


def _decimal(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def _check_sha256(fetched: Fetched, sidecar: Any) -> None:
    expected = fetched.sha256 or sidecar()
    if expected is None:
        return
    actual = sha256_hex(fetched.body)
    if expected.lower() != actual:
        raise UpdateError(f"{fetched.origin}: sha256 mismatch (published {expected[:16]}…, received {actual[:16]}…)")


def _ours(fetched: Fetched, doc: Document, base: _Base) -> tuple[Document, bytes, list[str]]:
    """A full catalog of ours is taken as published, byte for byte, once it passes every check."""
    _validate(doc, fetched.origin)
    version = str(doc["catalog_version"])
    _versions.check_version(version)
    warnings = []
    before = str(base.doc.get("catalog_version", ""))
    if _versions.VERSION_RE.match(before) and _versions.version_key(version) < _versions.version_key(before):
        warnings.append(f"the fetched catalog ({version}) is older than the one in use ({before})")
    return doc, fetched.body, warnings


def _convert(kind: str, data: Any, origin: str, day: dt.date, base: _Base) -> tuple[Document, bytes, list[str]]:
    adapter = _adapter(kind)
    try:
        converted, warnings = adapter(data, today=day)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UpdateError(f"{origin}: not a usable {kind} document: {type(exc).__name__}: {exc}") from None
    except RecursionError:
        raise UpdateError(f"{origin}: not a usable {kind} document: nested too deeply") from None
    problems = _load.validate_document(converted, strict=False)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UpdateError(f"{origin}: rejected, {problems[0]}{more}")
    taken = {v.version for v in _versions.list_versions()}
    version = _versions.next_version(day, taken, str(base.doc.get("catalog_version", "")) or None)
    merged, report = merge_rates(base.doc, converted, day=day, version=version, origin=origin)
    _validate(merged, "the merged catalog")
    # The writer is deterministic and round-trips (tested); reading 4,500 models back would double the cost.
    return merged, dump_document(merged), [*warnings, *report.warnings]


def _validate(doc: Document, origin: str) -> None:
    problems = _load.validate_document(doc, strict=True)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UpdateError(f"{origin}: rejected, {problems[0]}{more}")
    try:
        Catalog(doc, origin=origin)
    except CatalogError as exc:
        raise UpdateError(f"rejected, {exc}") from None


def _guard_shrink(diff: Diff, force: bool) -> None:
    removed = len(diff.of_kind("removed"))
    if diff.before_models and removed / diff.before_models > SHRINK_LIMIT and not force:
        share = removed / diff.before_models
        raise UpdateError(
            f"the update would remove {removed} of {diff.before_models} models ({share:.0%}); "
            "check the source, or rerun with --force"
        )


def _guard_jumps(diff: Diff, force: bool) -> None:
    """A stated rate that moves more than ``JUMP_FACTOR``-fold either way, or to zero, is more likely a broken source
    (a unit mistake, an empty price list) than a price change: the update stops unless forced."""
    odd = diff.suspicious
    if not odd or force:
        return
    more = sum(len(c.suspicious) for c in odd) - 1
    also = f", and {more} more such change{'s' if more != 1 else ''}" if more else ""
    raise UpdateError(
        f"{odd[0].key}: {odd[0].suspicious[0]}{also} (beyond ×{JUMP_FACTOR} or to zero); "
        "check the source, or rerun with --force"
    )


_ADAPTERS = {"litellm": "litellm", "openrouter": "openrouter", "genai-prices": "genai_prices"}


def _adapter(kind: str) -> Any:
    """``convert(data, *, today) -> (document, warnings)`` of ``pricing._sources.<kind>``, imported when needed."""
    import importlib

    module = _ADAPTERS.get(kind)
    if module is None:
        raise UpdateError(f"unknown source {kind!r} (one of {', '.join(SOURCES)})")
    try:
        return importlib.import_module(f"pricing._sources.{module}").convert
    except ImportError as exc:
        raise UpdateError(f"the {kind} converter is not available: {exc}") from None


def dump_document(doc: Document) -> bytes:
    """The catalog as TOML bytes in the bundled catalog's layout (sorted, one provider block after another).

    The same document always gives the same bytes, so an update that changes nothing writes nothing new.
    """
    from pricing._sources._doc import dump

    return dump(doc).encode("utf-8")
