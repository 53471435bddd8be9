"""The HTTP/1.1 transport against raw scripted replies: framings, keep-alive reuse, stale connections, limits."""

import asyncio

import pytest

from lsrif_trl.chat.http import ConnectionPool, Origin, ProtocolError

BODY = b'{"ok": true}'


def run_against(replies: list[bytes], requests: int, max_reply_bytes: int = 1024, close_after_each: bool = False):
    """Send `requests` POSTs through one pool to a server answering the i-th request of a connection with
    replies[i]; the replies received and how many connections the server saw."""
    connections = []

    async def handle(reader, writer):
        connections.append(writer)
        try:
            for reply in replies:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(
                        b":"
                    )[1]
                )
                await reader.readexactly(length)
                writer.write(reply)
                await writer.drain()
                if close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = ConnectionPool(Origin.parse(f"http://127.0.0.1:{port}/v1/chat/completions"), 4, max_reply_bytes)
        out = []
        try:
            for _ in range(requests):
                out.append(await pool.post("/v1/chat/completions", b"{}", {}))
                await asyncio.sleep(0.05)  # lets a closing server's FIN arrive before the next request
        finally:
            pool.close()
            server.close()
        return out

    return asyncio.run(main()), len(connections)


def test_content_length_replies_reuse_one_connection():
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
    replies, connections = run_against([reply] * 3, 3)
    assert [r.body for r in replies] == [BODY] * 3 and connections == 1


def test_chunked_replies_are_joined():
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"ok"\r\n7;x=1\r\n: true}\r\n0\r\n\r\n'
    (reply,), _ = run_against([chunked], 1)
    assert reply.status == 200 and reply.body == BODY


def test_a_reply_framed_by_closing_is_read_to_the_end_and_a_new_connection_follows():
    closing = b"HTTP/1.0 503 Service Unavailable\r\n\r\n" + BODY
    replies, connections = run_against([closing], 2, close_after_each=True)
    assert [(r.status, r.body) for r in replies] == [(503, BODY)] * 2 and connections == 2


def test_a_connection_the_server_closed_while_idle_is_replaced():
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
    replies, connections = run_against([reply], 3, close_after_each=True)
    assert [r.body for r in replies] == [BODY] * 3 and connections == 3


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\n",
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
    ],
    ids=["too-long", "chunk-too-long", "not-http", "bad-length"],
)
def test_replies_that_are_too_large_or_not_http_are_protocol_errors(reply):
    with pytest.raises(ProtocolError):
        run_against([reply], 1, max_reply_bytes=1024)
