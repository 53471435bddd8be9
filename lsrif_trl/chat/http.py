"""A small asyncio HTTP/1.1 client for JSON POSTs to one server: a keep-alive connection pool, TLS, bounded replies.

It exists because the general clients cost too much CPU per request for a judge that must answer thousands of
soft leaves per second from one process (measured in `benchmarks/bench_judges.py --transports`). It speaks only
what a chat-completions server needs: POST with a Content-Length body; replies framed by Content-Length, chunked
transfer encoding or the end of the connection. No proxies, no redirects. Time limits belong to the caller
(`asyncio.timeout` around `post`): any exception, cancellation included, closes the connection it was using.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

HEAD_LIMIT = 64 * 1024  # status line + headers


class ProtocolError(ConnectionError):
    """The server's reply is not well-formed HTTP/1.x, or is larger than the caller allows."""


@dataclass(frozen=True)
class HTTPReply:
    """A whole reply: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port of a URL, and the path that follows them."""

    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> Origin:
        """ValueError naming the URL when it is not http(s)://host[:port]/path."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ValueError(f"{url!r} has a bad port") from None
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, parts.hostname, port, path)

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @property
    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class ConnectionPool:
    """Keep-alive connections to one origin, used by one event loop; at most `max_idle` are kept open between
    requests (the caller bounds how many are in use at once)."""

    def __init__(self, origin: Origin, max_idle: int = 64, max_reply_bytes: int = 16 * 1024 * 1024) -> None:
        self.origin, self.max_idle, self.max_reply_bytes = origin, max_idle, max_reply_bytes
        self._idle: list[_Connection] = []
        self._ssl = ssl.create_default_context() if origin.scheme == "https" else None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> HTTPReply:
        """POST `body` to `path`; a kept-alive connection the server has meanwhile closed is replaced once."""
        head = [f"POST {path} HTTP/1.1", f"Host: {self.origin.host_header}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        while self._idle:
            connection = self._idle.pop()
            if not connection.usable:
                connection.close()
                continue
            try:
                return await self._exchange(connection, request)
            except (ConnectionError, asyncio.IncompleteReadError) as err:
                if getattr(err, "partial", b"") or isinstance(err, ProtocolError):
                    raise  # the server did answer something: a real failure, not a stale connection
        return await self._exchange(await self._open(), request)

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(
            self.origin.host, self.origin.port, ssl=self._ssl, limit=HEAD_LIMIT
        )
        return _Connection(reader, writer)

    async def _exchange(self, connection: _Connection, request: bytes) -> HTTPReply:
        try:
            connection.writer.write(request)
            await connection.writer.drain()
            reply, keep_alive = await self._read_reply(connection.reader)
        except BaseException:
            connection.close()
            raise
        if keep_alive and len(self._idle) < self.max_idle:
            self._idle.append(connection)
        else:
            connection.close()
        return reply

    async def _read_reply(self, reader: asyncio.StreamReader) -> tuple[HTTPReply, bool]:
        try:
            return await self._read_framed(reader)
        except asyncio.LimitOverrunError:
            raise ProtocolError(f"a reply header or chunk-size line is longer than {HEAD_LIMIT} bytes") from None

    async def _read_framed(self, reader: asyncio.StreamReader) -> tuple[HTTPReply, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        status_text = rest[:3]
        if not version.startswith("HTTP/1.") or not status_text.isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        status = int(status_text)
        if 100 <= status < 200:  # an interim reply (we never ask for one): the real one follows
            return await self._read_framed(reader)
        connection_header = headers.get("connection", "").lower()
        keep_alive = "close" not in connection_header and (version == "HTTP/1.1" or "keep-alive" in connection_header)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(reader)
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise ProtocolError(f"bad Content-Length {length[:40]!r}")
            body = await reader.readexactly(self._bounded(int(length)))
        elif status in (204, 304):
            body = b""
        else:  # framed by the end of the connection
            body = await reader.read(self.max_reply_bytes + 1)
            while body and len(body) <= self.max_reply_bytes and not reader.at_eof():
                more = await reader.read(self.max_reply_bytes + 1 - len(body))
                if not more:
                    break
                body += more
            self._bounded(len(body))
            keep_alive = False
        return HTTPReply(status, headers, body), keep_alive

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {size_line[:40]!r}") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            total = self._bounded(total + size)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    def _bounded(self, size: int) -> int:
        if size > self.max_reply_bytes:
            raise ProtocolError(f"reply body larger than {self.max_reply_bytes} bytes")
        return size

    def close(self) -> None:
        """Close every idle connection."""
        for connection in self._idle:
            connection.close()
        self._idle.clear()
