"""Fetching articles and feeds over HTTP, guarded against server-side request forgery.

The client is urllib3 (2.x), used one hop at a time:
- each hop's host is resolved here, every address it resolves to is checked (private, loopback,
  link-local, multicast, reserved and unspecified ones are refused unless the policy allows
  them), and the connection goes to the checked address itself, with the name only in the Host
  header and in TLS (SNI and certificate check): a second DNS answer cannot swap the target
  after the check (DNS rebinding);
- redirects are followed by hand, so every hop goes through the same check;
- bodies are streamed, so the size cap stops reading at the cap (or at once, from a declared
  Content-Length), and the read stops at the attempt's deadline;
- urllib3 reads no proxy settings from the environment, which could route around the checks.
httpx could do the same; urllib3 is already in the environment and takes the checked address
and the TLS server name as plain arguments.

Retries, with exponential backoff, only for what may pass: connection errors, timeouts, 5xx,
408 and 429 (honouring Retry-After when it fits in the deadline). Other 4xx, refusals and
oversized bodies fail at once. 404 and 410 mean the article was withdrawn (`Gone`). Every
failure is a `FetchFailed` with a reason: the caller records the attempt and changes nothing.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import SSLError

from factstore.ingest.feeds import FeedError, FeedItem, parse_feed
from factstore.ingest.html_text import decode_body, extract_article, media_type
from factstore.ingest.sources import ArticleInput, article_id_for
from factstore.whole_numbers import parse_whole_number

__all__ = [
    "FeedFetched",
    "FeedItem",
    "FeedOutcome",
    "FetchFailed",
    "FetchOutcome",
    "FetchPolicy",
    "Fetched",
    "Gone",
    "NotModified",
    "fetch_article",
    "fetch_feed",
]

USER_AGENT = "factstore/0.1 (article fetcher)"
HTML_TYPES = {"text/html", "application/xhtml+xml"}
_REDIRECTS = {301, 302, 303, 307, 308}
_TRANSIENT_STATUSES = {408, 425, 429}
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """How far a fetch may go.

    timeout_s: one attempt (connect, redirects, headers and the whole body) must finish in it.
    retries: further attempts after a transient failure, waiting backoff_s, 2×, 4×… between.
    deadline_s: all attempts and waits together.
    allow_private: fetch from private and loopback addresses too (a trusted intranet source).
    allow_hosts: "host" or "host:port" entries fetched even when they resolve to a private
        address; every other private address stays refused (a redirect from an allowed host
        to another private one is refused).
    ca_certs: a CA bundle file for HTTPS sources signed by a private CA (None: the system's
        trust store).
    """

    timeout_s: float = 10.0
    retries: int = 2
    backoff_s: float = 0.5
    max_bytes: int = 5_000_000
    allow_private: bool = False
    allow_hosts: frozenset[str] = field(default_factory=frozenset)
    max_redirects: int = 5
    deadline_s: float = 60.0
    ca_certs: str | None = None


@dataclass(frozen=True)
class Fetched:
    url: str
    article: ArticleInput
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class NotModified:
    url: str


@dataclass(frozen=True)
class Gone:
    url: str
    status: int


@dataclass(frozen=True)
class FetchFailed:
    """Transient or refused: the caller records the attempt and changes nothing else."""

    url: str
    reason: str


@dataclass(frozen=True)
class FeedFetched:
    url: str
    items: list[FeedItem]
    etag: str | None
    last_modified: str | None


FetchOutcome = Fetched | NotModified | Gone | FetchFailed
FeedOutcome = FeedFetched | NotModified | Gone | FetchFailed


def fetch_article(
    url: str,
    *,
    policy: FetchPolicy,
    etag: str | None = None,
    last_modified: str | None = None,
    outlet: str | None = None,
) -> FetchOutcome:
    """One article page: its body text (boilerplate removed), title and date from the page.

    The article id is the hash of the canonical requested URL (not of a redirect target, which
    may change between runs); `article.source` is the URL finally read.
    """
    got = _get(
        url,
        policy,
        etag=etag,
        last_modified=last_modified,
        accept="text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5",
    )
    if not isinstance(got, _Response):
        return got
    kind = media_type(got.content_type)
    text = decode_body(got.body, got.content_type)
    if kind in HTML_TYPES or (not kind and "<html" in text[:1024].lower()):
        page = extract_article(text, url=got.final_url)
        if page is None:
            return FetchFailed(url, "no article text found in the page")
        body, title, published_at = page.text, page.title, page.published_at
    elif kind == "text/plain":
        body, title, published_at = text.strip(), None, None
    else:
        return FetchFailed(url, f"not an article page (Content-Type {kind or 'missing'})")
    if not body:
        return FetchFailed(url, "the page has no text")
    article = ArticleInput(
        article_id=article_id_for(None, url, url),
        text=body.replace("\x00", ""),
        title=title,
        outlet=outlet or _outlet_of(url),
        published_at=published_at,
        url=url,
        source=got.final_url,
    )
    return Fetched(url, article, got.etag, got.last_modified)


def fetch_feed(
    url: str,
    *,
    policy: FetchPolicy,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FeedOutcome:
    """An RSS or Atom feed's items (links, titles, dates); the articles are fetched apart."""
    got = _get(
        url,
        policy,
        etag=etag,
        last_modified=last_modified,
        accept="application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1",
    )
    if not isinstance(got, _Response):
        return got
    try:
        items = parse_feed(got.body, url=got.final_url, content_type=got.content_type)
    except FeedError as error:
        return FetchFailed(url, str(error))
    return FeedFetched(url, items, got.etag, got.last_modified)


def _outlet_of(url: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None


# --- the guarded client -------------------------------------------------------------------


class _Refused(Exception):
    """Not to be retried: refused by policy, a 4xx, an oversized body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Transient(Exception):
    """May pass on a later attempt: connection trouble, timeouts, 5xx, 429."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Response:
    final_url: str
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class _Target:
    """One checked hop: where to connect (a checked address) and what to ask for."""

    scheme: str
    host: str  # ASCII (IDNA) host name, for the Host header and TLS
    port: int
    address: str
    host_header: str
    path: str


def _get(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None,
    last_modified: str | None,
    accept: str,
) -> _Response | NotModified | Gone | FetchFailed:
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
        "Connection": "close",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    overall = time.monotonic() + policy.deadline_s
    attempt = 0
    while True:
        attempt_deadline = min(time.monotonic() + policy.timeout_s, overall)
        try:
            status, response = _get_once(url, policy, headers, attempt_deadline)
        except _Refused as refusal:
            return FetchFailed(url, refusal.reason)
        except _Transient as failure:
            attempts = f"{attempt + 1} attempt{'s' if attempt else ''}"
            if attempt >= policy.retries:
                return FetchFailed(url, f"{failure.reason} ({attempts})")
            wait = policy.backoff_s * 2**attempt
            if failure.retry_after is not None:
                wait = max(wait, failure.retry_after)
            if time.monotonic() + wait >= overall:
                return FetchFailed(url, f"{failure.reason} ({attempts}; no time left to retry)")
            time.sleep(wait)
            attempt += 1
            continue
        if status == 304:
            return NotModified(url)
        if status in (404, 410):
            return Gone(url, status)
        assert response is not None
        return response


def _get_once(
    url: str, policy: FetchPolicy, headers: dict[str, str], deadline: float
) -> tuple[int, _Response | None]:
    """One attempt: follows redirects (each hop checked), reads the body of a 200."""
    current = url
    for _ in range(policy.max_redirects + 1):
        target = _check_target(current, policy)
        with _open(target, {**headers, "Host": target.host_header}, policy, deadline) as response:
            status = response.status
            if status in _REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise _Refused(f"HTTP {status} redirect without a Location from {current}")
                current = urljoin(current, location.strip())
                continue
            if status in (200, 203):
                body = _read_body(response, policy, deadline)
                return status, _Response(
                    final_url=current,
                    body=body,
                    content_type=response.headers.get("Content-Type"),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                )
            if status in (304, 404, 410):
                return status, None
            if status >= 500 or status in _TRANSIENT_STATUSES:
                raise _Transient(
                    f"HTTP {status} from {current}",
                    _retry_after(response.headers.get("Retry-After")),
                )
            raise _Refused(f"HTTP {status} from {current}")
    raise _Refused(f"more than {policy.max_redirects} redirects")


@contextmanager
def _open(
    target: _Target, headers: dict[str, str], policy: FetchPolicy, deadline: float
) -> Iterator[urllib3.BaseHTTPResponse]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Transient(f"timed out after {policy.timeout_s:g} s")
    timeout = urllib3.Timeout(connect=remaining, read=remaining)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=policy.ca_certs,
            assert_hostname=target.host,
            server_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=timeout, maxsize=1, retries=False
        )
    try:
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
                timeout=timeout,
            )
        except SSLError as error:
            raise _Refused(f"TLS failed for {target.host}: {error}") from error
        except (Urllib3Error, OSError) as error:
            raise _Transient(f"cannot get {target.host}:{target.port}: {_why(error)}") from error
        try:
            yield response
        finally:
            response.release_conn()
            response.close()
    finally:
        pool.close()


def _read_body(response: urllib3.BaseHTTPResponse, policy: FetchPolicy, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "").strip()
    if (size := parse_whole_number(declared)) is not None and size > policy.max_bytes:
        raise _Refused(f"response too large: {declared} bytes declared, limit {policy.max_bytes}")
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            # Each read waits at most for what is left of the attempt, so a server dripping
            # bytes cannot hold the fetch past its deadline; read1 returns what one read got.
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Transient(f"timed out reading the body after {policy.timeout_s:g} s")
            _limit_read_wait(response, remaining)
            chunk = response.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise _Refused(
                    f"response too large: stopped reading past the {policy.max_bytes} byte limit"
                )
            chunks.append(chunk)
    except (Urllib3Error, OSError) as error:
        raise _Transient(f"reading the body failed: {_why(error)}") from error
    return b"".join(chunks)


def _limit_read_wait(response: urllib3.BaseHTTPResponse, seconds: float) -> None:
    sock = getattr(response.connection, "sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(seconds)


def _why(error: BaseException) -> str:
    text = str(error)
    if "timed out" in text.lower() or isinstance(error, TimeoutError):
        return "timed out"
    return text or type(error).__name__


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    seconds = parse_whole_number(value)
    if seconds is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# --- SSRF checks --------------------------------------------------------------------------


def _check_target(url: str, policy: FetchPolicy) -> _Target:
    """The hop's checked address, or _Refused saying why it may not be fetched."""
    if any(ord(ch) <= 32 or ch == "\\" for ch in url):
        raise _Refused("URL contains spaces, control characters or backslashes")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _Refused(f"scheme {scheme or '(none)'!r} refused: only http and https are fetched")
    if "@" in parts.netloc:
        raise _Refused("credentials in the URL (user@host) are refused")
    host = parts.hostname
    if not host:
        raise _Refused("the URL has no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        ascii_host = host.encode("idna").decode("ascii") if not _is_ip(host) else host
    except (ValueError, UnicodeError) as error:
        raise _Refused(f"invalid host or port in the URL: {error}") from error
    try:
        infos = socket.getaddrinfo(ascii_host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno == socket.EAI_AGAIN:
            raise _Transient(f"cannot resolve {ascii_host}: {error.strerror}") from error
        raise _Refused(f"cannot resolve {ascii_host}: {error.strerror}") from error
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise _Refused(f"{ascii_host} resolves to no address")
    if not (policy.allow_private or _host_allowed(policy.allow_hosts, ascii_host, port)):
        for address in addresses:
            why = forbidden_reason(address)
            if why is not None:
                raise _Refused(
                    f"{ascii_host} resolves to {address}, a {why} address: refused "
                    "(private addresses are fetched only when the source allows them)"
                )
    # IPv4 first: the likelier to be routable from a server without IPv6.
    address = min(addresses, key=lambda a: a.version)
    host_header = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if parts.port is not None:
        host_header += f":{port}"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(scheme, ascii_host, port, str(address), host_header, path)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host_allowed(allowed: frozenset[str], host: str, port: int) -> bool:
    if not allowed:
        return False
    names = {host, f"{host}:{port}", f"[{host}]", f"[{host}]:{port}"}
    return any(entry.strip().lower() in names for entry in allowed)


def forbidden_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is no place to fetch from (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return forbidden_reason(embedded)
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)
