"""Getting a source's bytes: over HTTP with httpx, or from a local file.

httpx is imported inside the functions that need it (about 60 ms), so ``import pricing`` stays light. Every failure
becomes an :class:`UpdateError` whose message is one line a user can act on.

httpx's timeouts bound each connect and each read, not a whole exchange: a server that sends a byte every few seconds
keeps every read under the limit forever. :class:`Deadline` bounds the whole exchange on top of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from pricing._version import package_version

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEADLINE_S",
    "MAX_BYTES",
    "Deadline",
    "Fetched",
    "Progress",
    "UpdateError",
    "fetch",
    "fetch_sha256",
    "is_url",
    "make_client",
    "read_path",
    "sha256_hex",
]

#: The largest body accepted (LiteLLM's map is about 3 MiB today).
MAX_BYTES = 64 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
#: The default limit on a whole update's downloads (LiteLLM's 3 MiB map takes about a second on a slow line).
DEADLINE_S = 60.0
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class UpdateError(Exception):
    """An update that cannot go ahead; ``str(exc)`` is the one-line reason shown to the user."""


@dataclass(frozen=True)
class Fetched:
    """A fetched body and what the server said about it."""

    body: bytes
    origin: str  # the URL (after redirects) or the file path
    etag: str | None = None
    sha256: str | None = None  # a checksum announced in a response header
    not_modified: bool = False


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Progress:
    """A one-line progress display on stderr, drawn only when stderr is a terminal and at most ten times a second."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._drawn = False

    def step(self, text: str, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._drawn = True

    def bytes(self, label: str, done: int, total: int | None) -> None:
        size = _mib(done) + (f" / {_mib(total)}" if total else "")
        self.step(f"{label}: {size}")

    def done(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _mib(n: int) -> str:
    return f"{n / 1_048_576:.1f} MiB"


def make_client() -> httpx.Client:
    """A client with the limits every update uses: timeouts, few redirects, TLS verified, proxy from the environment."""
    import httpx

    return httpx.Client(
        timeout=httpx.Timeout(TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        verify=True,
        trust_env=True,
        headers={"User-Agent": f"llmcost-top/{package_version()} (pricing update)"},
    )


_T = TypeVar("_T")


class Deadline:
    """An overall time limit on the requests of one update, on top of httpx's per-read timeouts.

    Each request runs in a worker thread and the update stops waiting when the time is up; the worker sees the
    deadline at its next chunk and stops too. A client made for the update (``owned``) is closed by whichever of the
    two finishes last, never under a read in progress.
    """

    def __init__(self, seconds: float, client: httpx.Client, *, owned: bool) -> None:
        self.seconds = seconds
        self.until = time.monotonic() + seconds
        self.client = client
        self.owned = owned
        self._lock = threading.Lock()
        self._running = False
        self._close_when_done = False

    def expired(self) -> bool:
        return time.monotonic() >= self.until

    def run(self, request: Callable[[], _T], url: str) -> _T:
        """``request()``'s result, or :class:`UpdateError` when it does not finish in time (its own errors pass)."""
        outcome: list[tuple[bool, object]] = []
        done = threading.Event()

        def work() -> None:
            try:
                outcome.append((True, request()))
            except BaseException as exc:  # handed to the waiting thread, never lost in this one
                outcome.append((False, exc))
            finally:
                with self._lock:
                    self._running = False
                    close = self._close_when_done
                done.set()
                if close:
                    self._close_client()

        with self._lock:
            self._running = True
        threading.Thread(target=work, name="pricing-update-fetch", daemon=True).start()
        if not done.wait(max(0.0, self.until - time.monotonic())) or not outcome:
            raise UpdateError(f"{url}: no complete answer within {self.seconds:g} s (a longer --timeout waits more)")
        ok, value = outcome[0]
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def close(self) -> None:
        """Close an owned client now, or as soon as a request still running returns."""
        with self._lock:
            if self._running:
                self._close_when_done = True
                return
        self._close_client()

    def _close_client(self) -> None:
        if self.owned:
            with contextlib.suppress(Exception):  # closing is best effort: the update has already been decided
                self.client.close()


def read_path(path: Path, *, max_bytes: int = MAX_BYTES) -> Fetched:
    """A local source file, with the same size cap as a download."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UpdateError(f"{path}: {_mib(size)} is larger than the {_mib(max_bytes)} limit")
        return Fetched(path.read_bytes(), str(path))
    except OSError as exc:
        raise UpdateError(f"{path}: cannot read: {exc.strerror or exc}") from None


def fetch(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None = None,
    max_bytes: int = MAX_BYTES,
    progress: Progress | None = None,
    label: str = "downloading",
    deadline: Deadline | None = None,
) -> Fetched:
    """GET ``url`` with a size cap; ``etag`` makes the request conditional (a 304 comes back as ``not_modified``).

    With a ``deadline`` the request runs under it (see :class:`Deadline`).
    """
    if deadline is None:
        return _get(client, url, etag, max_bytes, progress, label, None)
    return deadline.run(lambda: _get(client, url, etag, max_bytes, progress, label, deadline), url)


def _get(
    client: httpx.Client,
    url: str,
    etag: str | None,
    max_bytes: int,
    progress: Progress | None,
    label: str,
    deadline: Deadline | None,
) -> Fetched:
    import httpx

    headers = {"If-None-Match": etag} if etag else {}
    try:
        with client.stream("GET", url, headers=headers) as resp:
            final = str(resp.url)
            if resp.status_code == 304:
                return Fetched(b"", final, etag=resp.headers.get("etag", etag), not_modified=True)
            if resp.status_code >= 400:
                raise UpdateError(f"{final}: HTTP {resp.status_code} {resp.reason_phrase}".rstrip())
            if resp.status_code >= 300:
                raise UpdateError(f"{final}: HTTP {resp.status_code} redirect without a usable Location")
            body = _read_body(resp, max_bytes, progress, label, deadline)
            return Fetched(body, final, etag=resp.headers.get("etag"), sha256=_header_sha256(resp.headers))
    except UpdateError:
        raise
    except httpx.TimeoutException:
        raise UpdateError(f"{url}: timed out") from None
    except httpx.TooManyRedirects:
        raise UpdateError(f"{url}: more than {MAX_REDIRECTS} redirects") from None
    except httpx.ConnectError as exc:
        raise UpdateError(f"{url}: cannot connect: {_reason(exc)}") from None
    except httpx.RemoteProtocolError as exc:
        raise UpdateError(f"{url}: the connection broke before the whole body arrived ({_reason(exc)})") from None
    except httpx.HTTPError as exc:
        raise UpdateError(f"{url}: {type(exc).__name__}: {_reason(exc)}") from None
    except httpx.InvalidURL as exc:  # not an HTTPError: raised before any request is made
        raise UpdateError(f"{url}: not a usable URL: {_reason(exc)}") from None
    finally:
        if progress is not None:
            progress.done()


def _read_body(
    resp: httpx.Response, max_bytes: int, progress: Progress | None, label: str, deadline: Deadline | None
) -> bytes:
    declared = _content_length(resp)
    if declared is not None and declared > max_bytes:
        raise UpdateError(f"{resp.url}: {_mib(declared)} is larger than the {_mib(max_bytes)} limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > max_bytes:  # counts decoded bytes, so a compressed bomb stops here too
            raise UpdateError(f"{resp.url}: body is larger than the {_mib(max_bytes)} limit")
        chunks.append(chunk)
        if deadline is not None and deadline.expired():  # the waiting thread has given up: stop reading
            raise UpdateError(f"{resp.url}: no complete answer within {deadline.seconds:g} s")
        if progress is not None:
            progress.bytes(label, resp.num_bytes_downloaded, declared)
    # Content-Length counts the bytes on the wire, before any content decoding.
    encoded = resp.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
    received = resp.num_bytes_downloaded if encoded else size
    if declared is not None and received != declared:
        raise UpdateError(f"{resp.url}: truncated body ({received} of {declared} bytes)")
    return b"".join(chunks)


def _content_length(resp: httpx.Response) -> int | None:
    raw = resp.headers.get("content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _header_sha256(headers: httpx.Headers) -> str | None:
    """A sha256 announced by the server: ``X-Checksum-Sha256: <hex>`` or ``Repr-Digest: sha-256=:<base64>:``."""
    explicit = str(headers.get("x-checksum-sha256", "")).strip()
    if _HEX64.match(explicit):
        return explicit.lower()
    for header in ("repr-digest", "content-digest"):
        match = re.search(r"sha-256=:([A-Za-z0-9+/=]+):", headers.get(header, ""))
        if match:
            import base64
            import binascii

            try:
                digest: bytes = base64.b64decode(str(match.group(1)), validate=True)
                return digest.hex()
            except (binascii.Error, ValueError):
                return None
    return None


def fetch_sha256(client: httpx.Client, url: str, *, deadline: Deadline | None = None) -> str:
    """The checksum published beside a catalog: ``<url>.sha256`` (``sha256sum`` format or a bare hex digest)."""
    sidecar = sidecar_url(url)
    fetched = fetch(client, sidecar, max_bytes=4096, deadline=deadline)
    text = fetched.body.decode("ascii", errors="replace").strip()
    digest = text.split()[0] if text else ""
    if not _HEX64.match(digest):
        raise UpdateError(f"{sidecar}: not a sha256 checksum")
    return digest.lower()


def sidecar_url(url: str) -> str:
    """``https://h/c.toml`` -> ``https://h/c.toml.sha256``; a directory URL (``http://h:8/``) names ``catalog.toml``."""
    base, _, query = url.partition("?")
    if base.endswith("/"):
        base += "catalog.toml"
    return base + ".sha256" + (f"?{query}" if query else "")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
