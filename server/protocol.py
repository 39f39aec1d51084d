"""The y-websocket wire protocol: a strict decoder and the encoders the server sends.

Frame layout (lib0 encoding): varUint message type, then
- SYNC (0): varUint sync type (STEP1 0 / STEP2 1 / UPDATE 2), varUint8Array payload;
- AWARENESS (1): varUint8Array awareness update;
- AUTH (2): varUint auth type, varString reason (server -> client only);
- QUERY_AWARENESS (3): nothing.
A frame holds exactly one message; anything truncated, unknown or trailing is a ProtocolError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

from server.errors import BadRequestError


class ProtocolError(BadRequestError):
    """The peer sent something that is not a valid y-websocket message (close 4400)."""


class MessageType(IntEnum):
    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3


class SyncType(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


AUTH_PERMISSION_DENIED: Final = 0
MAX_SAFE_INTEGER: Final = 2**53 - 1


@dataclass(frozen=True, slots=True)
class Message:
    type: MessageType
    sync_type: SyncType | None
    payload: bytes


def read_var_uint(buf: bytes, pos: int) -> tuple[int, int]:
    value = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ProtocolError("truncated message")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 53:
            raise ProtocolError("integer too large")


def read_var_bytes(buf: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = read_var_uint(buf, pos)
    end = pos + length
    if end > len(buf):
        raise ProtocolError("truncated message")
    return buf[pos:end], end


def write_var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def write_var_bytes(data: bytes) -> bytes:
    return write_var_uint(len(data)) + data


def decode(frame: bytes) -> Message:
    if not frame:
        raise ProtocolError("empty message")
    kind, pos = read_var_uint(frame, 0)
    if kind == MessageType.SYNC:
        sub, pos = read_var_uint(frame, pos)
        if sub > SyncType.UPDATE:
            raise ProtocolError(f"unknown sync message type {sub}")
        payload, pos = read_var_bytes(frame, pos)
        message = Message(MessageType.SYNC, SyncType(sub), payload)
    elif kind == MessageType.AWARENESS:
        payload, pos = read_var_bytes(frame, pos)
        message = Message(MessageType.AWARENESS, None, payload)
    elif kind == MessageType.QUERY_AWARENESS:
        message = Message(MessageType.QUERY_AWARENESS, None, b"")
    elif kind == MessageType.AUTH:
        _, pos = read_var_uint(frame, pos)
        _, pos = read_var_bytes(frame, pos)
        message = Message(MessageType.AUTH, None, b"")
    else:
        raise ProtocolError(f"unknown message type {kind}")
    if pos != len(frame):
        raise ProtocolError("trailing bytes after message")
    return message


def encode_sync(sync_type: SyncType, payload: bytes) -> bytes:
    return bytes((MessageType.SYNC, sync_type)) + write_var_bytes(payload)


def encode_awareness(payload: bytes) -> bytes:
    return bytes((MessageType.AWARENESS,)) + write_var_bytes(payload)


def encode_auth_denied(reason: str) -> bytes:
    return bytes((MessageType.AUTH, AUTH_PERMISSION_DENIED)) + write_var_bytes(
        reason.encode("utf-8")
    )


# Awareness updates: varUint count, then per client varUint id, varUint clock, varString JSON.

AwarenessEntry = tuple[int, int, str]  # (client id, clock, state JSON; "null" when gone)


def decode_awareness(payload: bytes) -> list[AwarenessEntry]:
    """The entries, states as sent; `parse_state` checks the ones a room accepts.

    Most awareness messages a server receives are stale echoes (the stock client re-sends every
    update it applies), so their JSON is not parsed only to be dropped.
    """
    count, pos = read_var_uint(payload, 0)
    entries: list[AwarenessEntry] = []
    for _ in range(count):
        client_id, pos = read_var_uint(payload, pos)
        clock, pos = read_var_uint(payload, pos)
        raw, pos = read_var_bytes(payload, pos)
        try:
            entries.append((client_id, clock, raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise ProtocolError("awareness state is not UTF-8") from exc
    if pos != len(payload):
        raise ProtocolError("trailing bytes after awareness update")
    return entries


def parse_state(text: str) -> dict[str, Any] | None:
    """An awareness state: a JSON object, or null for a client that left."""
    try:
        state = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("awareness state is not JSON") from exc
    if state is not None and not isinstance(state, dict):
        raise ProtocolError("awareness state must be an object or null")
    return state


def encode_awareness_update(entries: list[AwarenessEntry]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for client_id, clock, state in entries:
        parts.append(write_var_uint(client_id))
        parts.append(write_var_uint(clock))
        parts.append(write_var_bytes(state.encode("utf-8")))
    return b"".join(parts)
