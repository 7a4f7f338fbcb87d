"""``pricing serve``: publish the active catalog read-only over HTTP (see ``pricing._serve``)."""

from __future__ import annotations

import argparse
from typing import Any

from pricing import _versions
from pricing._commands._common import error

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``serve`` to the ``pricing`` parser."""
    p = sub.add_parser(
        "serve",
        help="serve the active catalog over HTTP (read-only)",
        description="Serve the active catalog so other machines can `pricing update --from http://HOST:PORT/`.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    p.add_argument("--quiet", action="store_true", help="do not log requests")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    from pricing._serve import make_server

    try:
        server = make_server(args.host, args.port, quiet=args.quiet)
    except OSError as exc:
        return error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    data, _sha = server.snapshot.get()
    version = _versions.version_of(data)
    print(f"serving catalog {version} from {server.snapshot.path()} at {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
