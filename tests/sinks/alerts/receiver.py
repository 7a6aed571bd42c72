"""A local HTTP receiver for alert tests: records what it accepted, fails on demand.

It speaks plain HTTP on loopback like a webhook endpoint (Apprise `json://`, a Slack-compatible
incoming webhook, ...). `faults` is a list consumed one request at a time: an int is an HTTP
status to answer (a 429 carries `Retry-After: retry_after`), "hang" sleeps past the client's
timeout and then drops the connection. A request is *accepted* (recorded in `accepted`) only
when it is answered 200. `down()`/`up()` close and reopen the listening socket on the same
port, for a receiver that is away for a while.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, *, hang: float = 1.5, retry_after: str = "1") -> None:
        self.faults: list = []
        self.accepted: list[dict] = []
        self.requests: list[tuple[float, str, int]] = []
        self.hang = hang
        self.retry_after = retry_after
        self.lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.up()

    def url(self, scheme: str = "json", path: str = "/hook/T0SECRET/B0SECRET/tokensecret") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner.lock:
                    fault = owner.faults.pop(0) if owner.faults else 200
                    owner.requests.append((time.time(), self.path, fault if isinstance(fault, int) else 0))
                if fault == "hang":
                    time.sleep(owner.hang)
                    self.close_connection = True
                    return
                self.send_response(fault)
                if fault == 429:
                    self.send_header("Retry-After", owner.retry_after)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if fault == 200 else b"no")
                if fault == 200:
                    with owner.lock:
                        owner.accepted.append({"path": self.path, "doc": json.loads(body),
                                               "headers": dict(self.headers)})

        return Handler

    def up(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait_for(self, n: int, timeout: float = 20.0) -> list[dict]:
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if len(self.accepted) >= n:
                    return list(self.accepted)
            time.sleep(0.05)
        with self.lock:
            return list(self.accepted)


class SmtpReceiver:
    """A minimal SMTP server on loopback (EHLO, MAIL, RCPT, DATA, QUIT; no TLS): keeps each
    message's bytes, for the email destination (Apprise `mailto://HOST:PORT?mode=insecure`)."""

    def __init__(self) -> None:
        import socketserver

        self.messages: list[bytes] = []
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 localhost ESMTP test\r\n")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go on\r\n")
                        data = []
                        for part in iter(self.rfile.readline, b""):
                            if part == b".\r\n":
                                break
                            data.append(part)
                        owner.messages.append(b"".join(data))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
