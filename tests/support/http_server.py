"""A real HTTP server on 127.0.0.1 serving articles and feeds that a test changes between runs.

The route table maps a path to what is served there (status, body, headers, a delay); a test
edits it between fetches to play an edited article, a withdrawn one (404/410), a slow or failing
server, an oversized body. 200 responses carry an ETag (a hash of the body) and a Last-Modified
(when the route was set) and conditional requests get 304, as a news site's server does. Every
request is recorded, so a test can count the retries a fetcher made.

Use the `article_server` fixture (register this module with
`pytest_plugins = ["tests.support.http_server"]`), or `serve_articles()` as a context manager.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    """What one path serves.

    `stream_bytes`: when set, the body is `body` repeated up to that many bytes, sent without a
    Content-Length (the end is the closed connection), so a client can only stop it by stopping
    reading. `drip_s`: the body goes out one 64-byte piece at a time with that pause between
    pieces (a server too slow to finish). `conditional=False` serves no validators and never
    answers 304.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drip_s: float = 0.0
    content_type: str = "text/html; charset=utf-8"
    conditional: bool = True
    stream_bytes: int | None = None
    last_modified: float = field(default_factory=time.time)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int | None = None
    bytes_sent: int = 0
    done: threading.Event = field(default_factory=threading.Event)  # the answer is over


class ArticleServer:
    """The running server: its route table, the requests it saw, and URLs on it."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: a server-side context to serve HTTPS instead of HTTP."""
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self.lock = threading.Lock()
        self.scheme = "https" if tls is not None else "http"
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._httpd.article_server = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def authority(self) -> str:
        """host:port, as a fetch policy's allow-list names this server."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        """The URL of `path`; `host` names the server another way (e.g. localhost)."""
        return f"{self.scheme}://{host}:{self.port}{path}"

    def set(self, path: str, body: bytes | str = b"", **fields: object) -> Route:
        """Serve `body` (str is encoded as UTF-8) at `path`; other fields as in Route."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(body=data, **fields)  # type: ignore[arg-type]
        with self.lock:
            self.routes[path] = route
        return route

    def remove(self, path: str) -> None:
        with self.lock:
            self.routes.pop(path, None)

    def requests_to(self, path: str) -> list[SeenRequest]:
        with self.lock:
            return [seen for seen in self.requests if seen.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    server_version = "factstore-test"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `requests`, not a log."""

    def do_GET(self) -> None:
        owner: ArticleServer = self.server.article_server  # type: ignore[attr-defined]
        seen = SeenRequest("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
        with owner.lock:
            owner.requests.append(seen)
            route = owner.routes.get(self.path)
        if route is None:
            route = Route(status=404, body=b"not found", content_type="text/plain")
        if route.delay_s:
            time.sleep(route.delay_s)
        # The client may give up (timeout, size cap): that is what some tests want.
        try:
            with suppress(BrokenPipeError, ConnectionResetError):
                self._answer(route, seen)
        finally:
            seen.done.set()

    def _answer(self, route: Route, seen: SeenRequest) -> None:
        validators = route.conditional and route.status == 200
        if validators and self._not_modified(route, seen.headers):
            seen.status = 304
            self.send_response(304)
            self.send_header("ETag", route.etag)
            self.end_headers()
            return
        seen.status = route.status
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        if validators:
            self.send_header("ETag", route.etag)
            self.send_header("Last-Modified", formatdate(route.last_modified, usegmt=True))
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.stream_bytes is None:
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            piece = 64 if route.drip_s else max(1, len(route.body))
            for start in range(0, len(route.body), piece):
                if start and route.drip_s:
                    self.wfile.flush()
                    time.sleep(route.drip_s)
                self.wfile.write(route.body[start : start + piece])
                seen.bytes_sent += len(route.body[start : start + piece])
            return
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = (route.body or b"x") * max(1, 65536 // max(1, len(route.body)))
        while seen.bytes_sent < route.stream_bytes:
            part = chunk[: route.stream_bytes - seen.bytes_sent]
            self.wfile.write(part)
            seen.bytes_sent += len(part)

    def _not_modified(self, route: Route, headers: dict[str, str]) -> bool:
        if "if-none-match" in headers:
            tags = [tag.strip() for tag in headers["if-none-match"].split(",")]
            return "*" in tags or route.etag in tags
        since = headers.get("if-modified-since")
        if since:
            try:
                return int(route.last_modified) <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False


@contextmanager
def serve_articles(tls: ssl.SSLContext | None = None) -> Iterator[ArticleServer]:
    server = ArticleServer(tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def article_server() -> Iterator[ArticleServer]:
    """A fresh server on 127.0.0.1 (port chosen by the OS) with an empty route table."""
    with serve_articles() as server:
        yield server
