"""The reverse proxy setup/run.sh puts in front of Odoo's workers, as a production install has one.

Odoo with workers serves pages on its HTTP port and the browsers' live updates (/websocket) on
its gevent port; a proxy routes each connection by the path of its first request. Usage:
loopback_proxy.py LISTEN_PORT HTTP_PORT GEVENT_PORT (all on 127.0.0.1).
"""

import asyncio
import signal
import sys

HOST = "127.0.0.1"
BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


async def _pipe(reader, writer):
    """Copy one direction until its end, then pass the end on (half-close)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


async def _serve(client_reader, client_writer, http_port, gevent_port):
    upstream_writer = None
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
        port = gevent_port if path.startswith(b"/websocket") else http_port
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(HOST, port)
        except OSError:
            client_writer.write(BAD_GATEWAY)
            await client_writer.drain()
            return
        upstream_writer.write(head)
        await asyncio.gather(
            _pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer)
        )
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
        pass
    finally:
        for writer in (client_writer, upstream_writer):
            if writer:
                writer.close()


async def main(listen_port, http_port, gevent_port):
    server = await asyncio.start_server(
        lambda reader, writer: _serve(reader, writer, http_port, gevent_port), HOST, listen_port
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(*(int(port) for port in sys.argv[1:4])))
