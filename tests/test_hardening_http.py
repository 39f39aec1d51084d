"""Issue 9, HTTP side: each test reproduces an attack a link holder or an anonymous caller could
run against `listok serve`, and checks the server now refuses it without hurting anyone."""

from __future__ import annotations

import secrets
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from store import SQLiteStore
from tests.support import ServerProcess, wait_for

MB = 1 << 20


def rss_kib(server: ServerProcess, field: str = "VmRSS") -> int:
    assert server.proc is not None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for the server")


def raw_request(server: ServerProcess, head: str, body: bytes = b"", timeout: float = 10.0) -> str:
    """Send a hand-made request; the status line and headers of the answer."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.decode("latin-1")


# -- 9.3 bodies are refused on Content-Length, counted while streaming -----------------------


def test_declared_oversized_body_is_refused_before_it_is_sent(live_server: ServerProcess) -> None:
    # 1 GB declared, nothing sent: the old server waited for the whole body.
    head = "POST /api/lists HTTP/1.1\nHost: x\nContent-Type: application/json\n"
    answer = raw_request(live_server, head + f"Content-Length: {1 << 30}\n", timeout=5)
    assert answer.startswith("HTTP/1.1 413"), answer


def test_body_size_is_checked_before_the_token(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    junk = {"Authorization": "Bearer " + "x" * 43, "Content-Length": str(2 * MB)}
    for path in ("/items", "/items/bulk", "/import", "/shares"):
        head = f"POST /api/lists/{list_id}{path} HTTP/1.1\nHost: x\n"
        head += "".join(f"{k}: {v}\n" for k, v in junk.items())
        answer = raw_request(live_server, head, timeout=5)
        assert answer.startswith("HTTP/1.1 413"), (path, answer)


def _stream(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    block = b"[" + b" " * (chunk - 1)
    for _ in range(total // chunk):
        yield block


@pytest.mark.parametrize("path", ["/api/lists", "{list}/import", "{list}/items/bulk"])
def test_streamed_oversized_body_does_not_grow_the_server(
    live_server: ServerProcess, path: str
) -> None:
    list_id = live_server.create_list()
    url = live_server.url + path.format(list=f"/api/lists/{list_id}")
    headers = live_server.auth(list_id)
    httpx.get(f"{live_server.url}/healthz")
    before = rss_kib(live_server)
    try:  # chunked, no Content-Length: only counting while reading can stop it
        response = httpx.post(url, content=_stream(300 * MB), headers=headers, timeout=60)
        assert response.status_code == 413, response.text
    except httpx.TransportError:
        pass  # the server answered 413 and closed while the client was still sending
    peak = rss_kib(live_server, "VmHWM")
    assert peak - before < 64 * 1024, f"server grew {(peak - before) // 1024} MiB for the body"
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200


# -- 9.2 bulk add: limits first, work linear in the request ----------------------------------


def test_bulk_over_the_item_limit_is_refused_before_any_entry_is_looked_at(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory({"LISTOK_MAX_ITEMS": "50"})
    list_id = server.create_list()
    server.api("POST", "/items", list_id, json={"name": "milk"})
    # A duplicate first: the old code ran the per-entry work first and answered 409.
    entries = [{"name": "milk"}] + [{"name": f"thing {n}"} for n in range(60)]
    response = server.api("POST", "/items/bulk", list_id, json={"items": entries})
    assert response.status_code == 413, response.text
    assert len(server.get_list(list_id)["items"]) == 1


# -- 9.6 rate limits and stream caps ---------------------------------------------------------


def test_anonymous_list_creation_is_rate_limited_per_address(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory({"LISTOK_LIST_CREATIONS_PER_MINUTE": "3"})
    codes = [httpx.post(f"{server.url}/api/lists", json={}).status_code for _ in range(3)]
    assert codes == [201, 201, 201]
    over = httpx.post(f"{server.url}/api/lists", json={})
    assert over.status_code == 429 and over.json()["ok"] is False
    assert int(over.headers["retry-after"]) >= 1
    put = httpx.put(
        f"{server.url}/api/lists/{uuid.uuid4()}", json={"token": secrets.token_urlsafe(32)}
    )
    assert put.status_code == 429


def test_requests_per_token_are_rate_limited(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory({"LISTOK_REQUESTS_PER_SECOND": "1", "LISTOK_REQUEST_BURST": "5"})
    list_id = server.create_list()
    codes = [server.api("GET", "", list_id).status_code for _ in range(20)]
    assert 429 in codes and codes[0] == 200
    limited = server.api("GET", "", list_id)
    if limited.status_code == 429:
        assert int(limited.headers["retry-after"]) >= 1
    other = server.create_list()  # another token is not slowed down by this one
    assert server.api("GET", "", other).status_code == 200


async def test_event_streams_are_capped_per_token_and_per_address(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(
        {"LISTOK_MAX_STREAMS_PER_TOKEN": "2", "LISTOK_MAX_STREAMS_PER_ADDRESS": "3"}
    )
    list_id = server.create_list()
    view = server.api("POST", "/shares", list_id, json={"role": "view"}).json()["token"]
    url = f"{server.url}/api/lists/{list_id}/events"
    async with httpx.AsyncClient(timeout=10) as client:
        opened = []

        async def open_stream(token: str) -> httpx.Response:
            request = client.build_request("GET", url, headers={"Authorization": f"Bearer {token}"})
            response = await client.send(request, stream=True)
            opened.append(response)
            return response

        assert (await open_stream(server.tokens[list_id])).status_code == 200
        assert (await open_stream(server.tokens[list_id])).status_code == 200
        third = await open_stream(server.tokens[list_id])
        assert third.status_code == 429 and int(third.headers["retry-after"]) >= 1
        assert (await open_stream(view)).status_code == 200  # the address's third
        assert (await open_stream(view)).status_code == 429  # the address's fourth
        await opened[0].aclose()

        async def slot_freed() -> bool:
            response = await open_stream(server.tokens[list_id])
            if response.status_code == 200:
                return True
            await response.aclose()
            return False

        await wait_for(slot_freed, timeout=10)
        for response in opened:
            await response.aclose()


# -- 9.7 client-chosen tokens, owner-only re-creation ---------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "a" * 32,
        "ab" * 16,
        "abcdefghijklmnopqrstuvwxyzABCDEF",
        "0123456789" * 4,
        secrets.token_urlsafe(12) * 3,  # a random block, repeated
        secrets.token_hex(12) + "0" * 24,  # a short alphabet, padded
    ],
)
def test_low_entropy_tokens_are_refused(live_server: ServerProcess, token: str) -> None:
    put = httpx.put(f"{live_server.url}/api/lists/{uuid.uuid4()}", json={"token": token})
    assert put.status_code == 422 and put.json()["field"] == "token", put.text
    post = httpx.post(f"{live_server.url}/api/lists", json={"token": token})
    assert post.status_code == 422


def test_only_the_owner_token_may_put_an_existing_list(live_server: ServerProcess) -> None:
    list_id, owner = str(uuid.uuid4()), secrets.token_urlsafe(32)
    url = f"{live_server.url}/api/lists/{list_id}"
    assert httpx.put(url, json={"title": "Offline", "token": owner}).status_code == 201
    live_server.tokens[list_id] = owner
    edit = live_server.api("POST", "/shares", list_id, json={"role": "edit"}).json()["token"]
    view = live_server.api("POST", "/shares", list_id, json={"role": "view"}).json()["token"]
    answers = [
        httpx.put(url, json={"title": "Mine"}, headers={"Authorization": f"Bearer {t}"})
        for t in (edit, view, secrets.token_urlsafe(32))
    ]
    assert [a.status_code for a in answers] == [409, 409, 409]
    assert len({a.text for a in answers}) == 1  # one answer, whoever asks
    again = httpx.put(url, json={"title": "Other", "token": owner})
    assert again.status_code == 200 and again.json()["title"] == "Offline"


def test_a_deleted_list_is_not_recreated(live_server: ServerProcess) -> None:
    if not hasattr(SQLiteStore, "restore_list"):
        pytest.skip("needs the store's tombstones (operator's soft delete, CONTRACTS.md)")
    list_id, owner = str(uuid.uuid4()), secrets.token_urlsafe(32)
    url = f"{live_server.url}/api/lists/{list_id}"
    assert httpx.put(url, json={"token": owner}).status_code == 201
    live_server.tokens[list_id] = owner
    view = live_server.api("POST", "/shares", list_id, json={"role": "view"}).json()["token"]
    assert live_server.api("DELETE", "", list_id).status_code == 204
    for token in (owner, view, secrets.token_urlsafe(32)):
        assert httpx.put(url, json={"token": token}).status_code == 409


# -- 9.11 no existence oracle ---------------------------------------------------------------


def test_unknown_and_existing_lists_answer_a_wrong_token_alike(live_server: ServerProcess) -> None:
    real = live_server.create_list()
    wrong = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
    answers = [
        httpx.request(method, f"{live_server.url}/api/lists/{list_id}{path}", headers=wrong)
        for list_id in (real, str(uuid.uuid4()))
        for method, path in (("GET", ""), ("GET", "/items"), ("DELETE", ""), ("GET", "/events"))
    ]
    assert {(a.status_code, a.text) for a in answers} == {
        (401, '{"ok":false,"error":"invalid token","status":401}')
    }
    # PUT: an id in use, and a token in use elsewhere, answer alike.
    taken_token = live_server.tokens[real]
    fresh = secrets.token_urlsafe(32)
    by_id = httpx.put(f"{live_server.url}/api/lists/{real}", json={"token": fresh})
    by_token = httpx.put(f"{live_server.url}/api/lists/{uuid.uuid4()}", json={"token": taken_token})
    assert (by_id.status_code, by_id.text) == (by_token.status_code, by_token.text)
    assert by_token.status_code == 409 and "in use" not in by_token.text


# -- 9.13 deeply nested JSON ----------------------------------------------------------------


def test_deeply_nested_json_is_a_clear_error(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    deep = b'{"format": "listok.list/v1", "items": [], "x": ' + b"[" * 100_000 + b"]" * 100_000
    deep += b"}"
    for method, url in (
        ("POST", f"{live_server.url}/api/lists"),
        ("POST", f"{live_server.url}/api/lists/{list_id}/items"),
        ("POST", f"{live_server.url}/api/lists/{list_id}/import"),
    ):
        headers = {**live_server.auth(list_id), "Content-Type": "application/json"}
        response = httpx.request(method, url, content=deep, headers=headers)
        assert response.status_code in (400, 422), (url, response.status_code)
        assert response.json()["ok"] is False
    assert "Traceback" not in live_server.log()


# -- 9.15 security headers ------------------------------------------------------------------


def test_security_headers_on_every_answer(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    for response in (
        httpx.get(f"{live_server.url}/healthz"),
        live_server.api("GET", "", list_id),
        httpx.get(f"{live_server.url}/api/lists/{uuid.uuid4()}"),
    ):
        csp = dict(
            part.strip().split(" ", 1)
            for part in response.headers["content-security-policy"].split(";")
        )
        assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"
        assert csp["style-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
        assert csp["object-src"] == "'none'" and "unsafe-eval" not in str(csp)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_exports_are_attachments(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    live_server.api("POST", "/items", list_id, json={"name": "<script>alert(1)</script>"})
    for fmt, ext in (("json", "json"), ("text", "txt"), ("markdown", "md")):
        response = live_server.api("GET", f"/export?format={fmt}", list_id)
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["content-disposition"].endswith(f'.{ext}"')
        assert response.headers["x-content-type-options"] == "nosniff"


# -- 9.17 import checks the item limit while parsing ----------------------------------------


def test_import_stops_parsing_at_the_item_limit(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory({"LISTOK_MAX_ITEMS": "10"})
    list_id = server.create_list()
    # Line 11 is over the limit; line 12 is broken. Parsing everything first (the old code)
    # reaches line 12 and answers 422; stopping at the limit answers 413.
    lines = [f"item {n}" for n in range(11)] + ["broken — " + "n" * 2000] + ["x"] * 100_000
    response = server.api("POST", "/import", list_id, content="\n".join(lines).encode())
    assert response.status_code == 413, response.text
    assert server.get_list(list_id)["items"] == []
    exported = {"format": "listok.list/v1", "items": [{"name": f"i{n}"} for n in range(11)]}
    assert server.api("POST", "/import", list_id, json=exported).status_code == 413


# -- 9.18 /metrics setting ------------------------------------------------------------------


def test_metrics_can_be_closed_or_need_a_token(
    server_factory: Callable[..., ServerProcess],
) -> None:
    public = server_factory(name="public")
    assert httpx.get(f"{public.url}/metrics").status_code == 200
    off = server_factory({"LISTOK_METRICS": "off"}, name="off")
    assert httpx.get(f"{off.url}/metrics").status_code == 404
    secret = secrets.token_urlsafe(32)
    guarded = server_factory({"LISTOK_METRICS": "token", "LISTOK_METRICS_TOKEN": secret}, name="t")
    assert httpx.get(f"{guarded.url}/metrics").status_code == 401
    wrong = httpx.get(f"{guarded.url}/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = httpx.get(f"{guarded.url}/metrics", headers={"Authorization": f"Bearer {secret}"})
    assert right.status_code == 200 and "listok" in right.text
