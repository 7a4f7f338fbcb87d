"""A loopback webhook for the alert tests: takes Slack-style JSON posts, answers from a script, records every request."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests._loopback import LoopbackServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    body: Any  # the decoded JSON
    at: float  # time.monotonic() on arrival


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw), time.monotonic())
        with self.server.lock:
            self.server.hits.append(hit)
            reply = self.server.script.pop(0) if self.server.script else Reply()
        self.server.release.wait(10)  # a test can hold every answer back
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class WebhookServer(LoopbackServer):
    """``script``: the replies to give, in order (then 200 ``ok``, as Slack answers)."""

    def __init__(self, *script: Reply) -> None:
        super().__init__(_Handler)
        self.script = list(script)
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()

    @property
    def url(self) -> str:
        return self.base_url + "/services/T000/B000/secret"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def texts(self) -> list[str]:
        with self.lock:
            return [h.body["text"] for h in self.hits]

    def unblock(self) -> None:
        self.release.set()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def wait_for(check: Any, timeout: float = 10.0, step: float = 0.02) -> None:
    """Wait until ``check()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(step)
