"""Real HTTP servers on 127.0.0.1 for the tests: :class:`LoopbackServer`, the base of every one the tests start
(``FixtureServer`` here, the webhook, the fake LLM APIs, the OTLP receiver), and :class:`FixtureServer`, for the
update tests: fixed routes, ETags, and deliberately broken answers."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self


class LoopbackServer(ThreadingHTTPServer):
    """A real HTTP server on 127.0.0.1 (a free port), answering from a daemon thread while its ``with`` block runs;
    each request is handled by ``handler``, in a thread of its own."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], poll: float = 0.02) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self.serve_forever, args=(poll,), daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def unblock(self) -> None:
        """Let go the handlers a test holds back, before the server stops (nothing to do here)."""

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unblock()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    truncate: bool = False  # announce more bytes than are sent, then close the connection
    drip: float = 0.0  # send the body one byte at a time, this many seconds apart, forever (a stalling server)
    drip_headers: bool = False  # with drip: stall in the status line and headers already


class _Handler(BaseHTTPRequestHandler):
    server: FixtureServer

    def do_GET(self) -> None:
        self.server.hits.append((self.path, self.headers.get("If-None-Match")))
        route = self.server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self._send(404, b"not found\n", {})
            return
        if route.etag and self.headers.get("If-None-Match") == route.etag:
            self._send(304, b"", {"ETag": route.etag})
            return
        if route.drip:
            self._drip(route)
            return
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.truncate:
            self.send_response(route.status)
            self.send_header("Content-Length", str(len(route.body) + 1000))
            self.end_headers()
            self.wfile.write(route.body)
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(route.status, route.body, headers)

    def _drip(self, route: Route) -> None:
        """Every read the client makes gets a byte well within its read timeout, and the answer never ends."""
        payload: Iterator[int]
        if route.drip_headers:
            payload = itertools.chain(b"HTTP/1.1 200 OK\r\nX-Slow: ", itertools.repeat(ord("x")))
        else:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
            payload = itertools.chain(b"[", itertools.cycle(b"1,"))
        try:
            for byte in payload:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.server.stopping.wait(route.drip):
                    return
        except OSError:
            return  # the client gave up

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FixtureServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, str | None]] = []
        self.stopping = threading.Event()

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def unblock(self) -> None:
        self.stopping.set()  # a dripping answer stops
