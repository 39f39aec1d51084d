"""The listening socket: accepted connections must have Nagle off."""

from __future__ import annotations

import asyncio
import socket

from server.cli import listening_socket


async def test_accepted_connections_have_tcp_nodelay() -> None:
    """Regression: a socket made with proto 0 left Nagle on; fan-out p50 was ~20 ms, not ~3."""
    sock = listening_socket("127.0.0.1", 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = writer.get_extra_info("socket")
        accepted.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=sock)
    async with server:
        port = sock.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(accepted, 5) == 1
        writer.close()
