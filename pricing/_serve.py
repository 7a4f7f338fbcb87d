"""``pricing serve``: publish the active catalog read-only over HTTP, so one machine can feed a fleet.

Routes: ``/`` and ``/catalog.toml`` (the TOML, with ``ETag`` and ``X-Checksum-Sha256``; ``If-None-Match`` gives 304),
``/catalog.toml.sha256`` (``sha256sum`` format) and ``/versions.json`` (the stored versions). The catalog is read
from disk when its file changes, so a ``pricing update`` or ``rollback`` on the serving machine is served at once.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pricing import _load, _versions
from pricing._fetch import sha256_hex

__all__ = ["CatalogServer", "make_server"]


class _Snapshot:
    """The served file's bytes and digest, re-read only when its path, size or mtime changes."""

    def __init__(self, path: Path | None) -> None:
        self._fixed = path
        self.directory = _versions.current_path().parent  # fixed at start: the environment may change later
        self._key: tuple[str, int, int] | None = None
        self._data = b""
        self._sha = ""
        self._lock = threading.Lock()

    def path(self) -> Path:
        if self._fixed is not None:
            return self._fixed
        current = self.directory / "current.toml"
        return current if current.is_file() else _load.bundled_catalog_path()

    def get(self) -> tuple[bytes, str]:
        path = self.path()
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key != self._key:
                self._data = path.read_bytes()
                self._sha = sha256_hex(self._data)
                self._key = key
            return self._data, self._sha


class CatalogServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, catalog: Path | None = None, quiet: bool = False) -> None:
        super().__init__(address, _Handler)
        self.snapshot = _Snapshot(catalog)
        self.quiet = quiet

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    server: CatalogServer
    server_version = "llmcost-pricing"
    sys_version = ""

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, *, head: bool) -> None:
        route = self.path.split("?", 1)[0]
        try:
            data, sha = self.server.snapshot.get()
        except OSError:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"catalog unavailable\n", "text/plain", head=head)
            return
        etag = f'"{sha}"'
        if route in ("/", "/catalog.toml"):
            if _matches(self.headers.get("If-None-Match"), etag):
                self._send(HTTPStatus.NOT_MODIFIED, b"", None, head=True, etag=etag)
                return
            self._send(HTTPStatus.OK, data, "application/toml; charset=utf-8", head=head, etag=etag, sha=sha)
        elif route == "/catalog.toml.sha256":
            self._send(HTTPStatus.OK, f"{sha}  catalog.toml\n".encode(), "text/plain; charset=utf-8", head=head)
        elif route == "/versions.json":
            body = json.dumps(_index(data, sha, self.server.snapshot.directory), indent=2).encode() + b"\n"
            self._send(HTTPStatus.OK, body, "application/json", head=head)
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head=head)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        *,
        head: bool,
        etag: str | None = None,
        sha: str | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        if sha:
            self.send_header("X-Checksum-Sha256", sha)
        self.send_header("Cache-Control", "no-cache")
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _index(data: bytes, sha: str, directory: Path) -> dict[str, Any]:
    return {
        "current": {"version": _versions.version_of(data), "sha256": sha, "size": len(data)},
        "versions": [
            {"version": v.version, "sha256": v.sha256, "size": v.size, "current": v.current}
            for v in _versions.list_versions(directory)
        ],
    }


def make_server(
    host: str = "127.0.0.1", port: int = 8787, *, catalog: Path | None = None, quiet: bool = False
) -> CatalogServer:
    """A server bound to ``host:port`` (port 0 picks a free one); call ``serve_forever()`` to run it."""
    return CatalogServer((host, port), catalog=catalog, quiet=quiet)
