"""Presence and liveness: frames per change, dead connections, shutdown."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time

import websockets

from server.protocol import decode_awareness, encode_awareness, encode_awareness_update
from tests.support import PyClient, ServerFactory, ServerProcess, wait_for


def awareness_frame(client_id: int, clock: int, state: str) -> bytes:
    return encode_awareness(encode_awareness_update([(client_id, clock, state)]))


def awareness_entries(frames: list[bytes]) -> list[tuple[int, int, str]]:
    out = []
    for frame in frames:
        if frame[0] == 1:
            out.extend(decode_awareness(frame[2:] if frame[1] < 0x80 else frame[3:]))
    return out


async def test_one_awareness_frame_per_other_client(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    peers = [live_server.client(list_id) for _ in range(6)]
    for peer in peers:
        await peer.connect()
        await peer.wait_synced()

    def awareness_count(client: PyClient) -> int:
        return sum(1 for frame in client.frames if frame[0] == 1)

    counts = [awareness_count(p) for p in peers]
    await peers[0].ws.send(awareness_frame(4242, 1, '{"user":{"name":"Аня"}}'))
    await wait_for(
        lambda: all(awareness_count(p) > c for p, c in zip(peers[1:], counts[1:], strict=True))
    )
    # Give a wrong implementation the chance to send more, with a condition that must stay false.
    probe = live_server.client(list_id)
    await probe.connect()
    await probe.wait_synced()
    assert [awareness_count(p) - c for p, c in zip(peers, counts, strict=True)] == [
        0,
        1,
        1,
        1,
        1,
        1,
    ]
    # The late probe was sent the existing presence on join.
    assert (4242, 1, '{"user":{"name":"Аня"}}') in awareness_entries(probe.frames)
    await peers[0].close()
    await wait_for(
        lambda: (4242, 2, "null") in awareness_entries(peers[1].frames), what="removal broadcast"
    )
    for peer in [*peers[1:], probe]:
        await peer.close()


def raw_websocket(url: str) -> socket.socket:
    """A WebSocket handshake by hand, after which the peer never answers anything (a dead tab)."""
    host_port, path = url.removeprefix("ws://").split("/", 1)
    host, port = host_port.split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    assert b" 101 " in response.split(b"\r\n")[0], response
    return sock


def masked_binary_frame(payload: bytes) -> bytes:
    assert len(payload) < 126
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x82, 0x80 | len(payload))) + mask + body


async def test_silent_connection_is_closed_and_its_presence_removed(
    server_factory: ServerFactory,
) -> None:
    server: ServerProcess = server_factory({"LISTOK_LIVENESS_TIMEOUT": "2"})
    list_id = server.create_list()
    async with server.client(list_id) as watcher:
        await watcher.wait_synced()
        dead = raw_websocket(f"{server.ws_url}/{list_id}?token={server.tokens[list_id]}")
        dead.sendall(masked_binary_frame(awareness_frame(777, 1, '{"user":{"name":"ghost"}}')))
        await wait_for(
            lambda: (777, 1, '{"user":{"name":"ghost"}}') in awareness_entries(watcher.frames)
        )
        started = time.monotonic()
        # The dead peer reads nothing and answers no ping from now on.
        await wait_for(
            lambda: (777, 2, "null") in awareness_entries(watcher.frames),
            timeout=10,
            what="presence of the silent connection removed",
        )
        assert time.monotonic() - started < 6
        dead.close()


async def test_sigterm_flushes_and_exits_quickly(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    clients = [live_server.client(list_id) for _ in range(3)]
    for client in clients:
        await client.connect()
        await client.wait_synced()
    from server import schema

    for n, client in enumerate(clients):
        schema.add_item(client.doc, schema.new_item(f"item {n}", order=f"a{n}"), f"i{n}")
    await wait_for(lambda: all(len(schema.items(c.doc)) == 3 for c in clients))
    took = await asyncio.to_thread(live_server.stop)
    assert took < 5, f"shutdown took {took:.1f}s"
    codes = [await c.wait_closed() for c in clients]
    assert all(code in (1001, 1012) for code in codes), codes
    live_server.start()
    assert len(live_server.get_list(list_id)["items"]) == 3
    for client in clients:
        await client.close()


async def test_socket_closed_by_peer_during_load_does_not_hang(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    live_server.restart()
    for _ in range(5):
        ws = await websockets.connect(live_server.sync_url(list_id))
        await ws.close()
    async with live_server.client(list_id) as client:
        await client.wait_synced()
