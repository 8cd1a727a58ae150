"""Run the page with uvicorn on this computer until Ctrl-C."""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

import uvicorn

from toolkit.web.app import create_app
from toolkit.web.security import is_loopback


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one chosen by the system)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 0, password: str | None = None,
          open_browser: bool = True, announce: Callable[[str], None] = print) -> None:
    """Serve the workspace ``root``; ``announce`` gets the address once it is listening."""
    remote = not is_loopback(host) and host != "localhost"
    app = create_app(root, allow_remote=remote, password=password)
    sock = bind(host, port)
    real_port = sock.getsockname()[1]
    shown = "127.0.0.1" if not remote else host
    url = f"http://{shown}:{real_port}/"
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    def started() -> None:
        announce(url)
        if open_browser:
            webbrowser.open(url)

    threading.Timer(0.3, started).start()
    server.run(sockets=[sock])
