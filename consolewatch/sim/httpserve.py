"""What the HTTP simulators (EC2, GCE, OpenStack, DigitalOcean) share: a threaded loopback
server that a `with` block stops, and the connection reset they inject as a fault."""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout, a reset the sim injected) is not worth a traceback."""


class HttpSim:
    """Base of the simulators: `_serve()` starts answering, `close()` (or leaving `with`) stops."""

    _server: QuietServer
    _thread: threading.Thread

    def _serve(self, host: str, port: int, handler: type[BaseHTTPRequestHandler], name: str) -> str:
        """Start the server on a thread of its own; the base URL it answers on."""
        self._server = QuietServer((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=name, daemon=True)
        self._thread.start()
        return f"http://{host}:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def reset_connection(handler: BaseHTTPRequestHandler) -> None:
    """Close the handler's connection with a TCP reset (SO_LINGER 0), as a failing load balancer does."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()
