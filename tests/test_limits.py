"""The documented limit is the enforced one: each maxLength/maximum in /api/openapi.json is sent
to the running server at the limit (accepted) and one past it (422 naming the field). And the
token bucket that the rate limits share (server/limits.py), on a clock the test sets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import pytest

from server import bodies
from server.errors import RateLimitError
from server.limits import RateLimiter, TokenBucket
from tests.support import ServerProcess


def documented(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/openapi.json")
    assert response.status_code == 200
    schemas: dict[str, Any] = response.json()["components"]["schemas"]
    return schemas


def bound(schemas: dict[str, Any], body: str, field: str, key: str) -> Any:
    prop = schemas[body]["properties"][field]
    for option in prop.get("anyOf", [prop]):
        if key in option:
            return option[key]
    raise AssertionError(f"{body}.{field} documents no {key}")


def test_documented_limits_are_enforced(live_server: ServerProcess) -> None:
    schemas = documented(live_server)
    list_id = live_server.create_list()
    item = live_server.api("POST", "/items", list_id, json={"name": "seed"}).json()
    created = iter(range(10_000))

    def items_post(field: str, value: Any) -> httpx.Response:
        body = (
            {field: value}
            if field in ("name", "text")
            else {"name": f"n{next(created)}", field: value}
        )
        return live_server.api("POST", "/items", list_id, json={**body, "duplicate": "add"})

    def bulk_post(field: str, value: Any) -> httpx.Response:
        entry = {"name": f"b{next(created)}", field: value} if field != "name" else {field: value}
        return live_server.api("POST", "/items/bulk", list_id, json={"items": [entry]})

    def item_patch(field: str, value: Any) -> httpx.Response:
        return live_server.api("PATCH", f"/items/{item['id']}", list_id, json={field: value})

    def list_post(field: str, value: Any) -> httpx.Response:
        return httpx.post(f"{live_server.url}/api/lists", json={field: value})

    def list_patch(field: str, value: Any) -> httpx.Response:
        return live_server.api("PATCH", "", list_id, json={field: value})

    def share_post(field: str, value: Any) -> httpx.Response:
        return live_server.api("POST", "/shares", list_id, json={"role": "view", field: value})

    def prompt_post(field: str, value: Any) -> httpx.Response:
        return live_server.api("POST", "/suggestions", list_id, json={field: value})

    cases: list[tuple[str, str, Callable[[str, Any], httpx.Response]]] = [
        ("NewList", "title", list_post),
        ("ListPatch", "title", list_patch),
        ("NewItem", "name", items_post),
        ("NewItem", "text", items_post),
        ("NewItem", "unit", items_post),
        ("NewItem", "note", items_post),
        ("NewItem", "qty", items_post),
        ("NewItem", "note", bulk_post),
        ("ItemPatch", "name", item_patch),
        ("ItemPatch", "unit", item_patch),
        ("ItemPatch", "note", item_patch),
        ("ItemPatch", "qty", item_patch),
        ("NewShare", "label", share_post),
        ("PromptBody", "prompt", prompt_post),
    ]
    checked = 0
    for body, field, send in cases:
        if field == "qty":
            top = bound(schemas, body, field, "maximum")
            at, past = top, top + 1
        else:
            top = bound(schemas, body, field, "maxLength")
            at, past = "x" * top, "x" * (top + 1)
        ok = send(field, at)
        # The model is off in tests: a valid prompt is answered 503, never 422.
        assert ok.status_code in (200, 201, 503), (body, field, ok.text)
        refused = send(field, past)
        assert refused.status_code == 422, (body, field, refused.text)
        assert refused.json()["ok"] is False
        assert refused.json()["field"].endswith(field), refused.json()
        checked += 1
    assert checked == len(cases)


def test_every_request_body_limit_is_covered(live_server: ServerProcess) -> None:
    """A new limit in server/bodies.py shows up here until test_documented_limits drives it."""
    schemas = documented(live_server)
    limited = {
        (name, field)
        for name in ("NewList", "ListPatch", "NewItem", "ItemPatch", "NewShare", "PromptBody")
        for field, prop in schemas[name]["properties"].items()
        for option in prop.get("anyOf", [prop])
        if "maxLength" in option or "maximum" in option
    }
    driven = {
        ("NewList", "title"),
        ("ListPatch", "title"),
        ("NewItem", "name"),
        ("NewItem", "text"),
        ("NewItem", "unit"),
        ("NewItem", "note"),
        ("NewItem", "qty"),
        ("ItemPatch", "name"),
        ("ItemPatch", "unit"),
        ("ItemPatch", "note"),
        ("ItemPatch", "qty"),
        ("NewShare", "label"),
        ("PromptBody", "prompt"),
    }
    assert limited == driven


def test_validation_errors_name_the_field(live_server: ServerProcess) -> None:
    list_id = live_server.create_list()
    body = {"items": [{"name": "ok"}, {"name": "x", "qty": "lots"}]}
    response = live_server.api("POST", "/items/bulk", list_id, json=body)
    assert response.status_code == 422
    assert response.json()["field"] == "items[1].qty"
    assert response.json()["error"].startswith("items[1].qty:")
    unknown = live_server.api("POST", "/items", list_id, json={"name": "x", "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.json()["error"]


def test_answers_match_their_declarations(live_server: ServerProcess) -> None:
    """The response bodies documented in /api/openapi.json are the ones the server sends."""
    list_id = live_server.create_list()
    api = live_server.api
    item = api("POST", "/items", list_id, json={"text": "молоко 2 л", "note": "3.2%"})
    msgspec.json.decode(item.content, type=bodies.Item, strict=True)
    bulk = api("POST", "/items/bulk", list_id, json={"items": [{"name": "хлеб"}]})
    msgspec.json.decode(bulk.content, type=bodies.Items, strict=True)
    api("PATCH", f"/items/{item.json()['id']}", list_id, json={"checked": True})
    msgspec.json.decode(api("GET", "", list_id).content, type=bodies.List, strict=True)
    msgspec.json.decode(api("GET", "/items", list_id).content, type=bodies.Items, strict=True)
    share = api("POST", "/shares", list_id, json={"role": "view", "label": "fridge"})
    msgspec.json.decode(share.content, type=bodies.Share, strict=True)
    msgspec.json.decode(api("GET", "/shares", list_id).content, type=bodies.Shares, strict=True)
    activity = api("GET", "/activity", list_id)
    assert msgspec.json.decode(activity.content, type=bodies.Activity, strict=True).activity
    export = api("GET", "/export", list_id)
    msgspec.json.decode(export.content, type=bodies.Export, strict=True)
    created = httpx.post(f"{live_server.url}/api/lists", json={"title": "x"})
    msgspec.json.decode(created.content, type=bodies.CreatedList, strict=True)
    error = api("GET", "/items/nope", list_id)
    msgspec.json.decode(error.content, type=bodies.Error, strict=True)
    dup = api("GET", "/duplicate?name=Хлеба", list_id)
    assert msgspec.json.decode(dup.content, type=bodies.DuplicateAnswer, strict=True).duplicate


CATALOG_DRIVEN = {
    ("Product", "store"),
    ("Product", "sku"),
    ("Product", "name"),
    ("Product", "currency"),
    ("Product", "price"),
    ("Product", "unit_price"),
    ("ShopChoice", "shop"),
    ("ShopChoice", "order"),
}


def test_catalog_limits_are_enforced(live_server: ServerProcess) -> None:
    """The catalog's bodies too: an item's `product` link and a list's shop (server/catalog.py)."""
    schemas = documented(live_server)
    limited = {
        (name, field)
        for name in ("Product", "ShopChoice")
        for field, prop in schemas[name]["properties"].items()
        for option in prop.get("anyOf", [prop])
        if {"maxLength", "maximum", "maxItems"} & set(option)
    }
    assert limited == CATALOG_DRIVEN
    list_id = live_server.create_list()
    item = live_server.api("POST", "/items", list_id, json={"name": "сыр"}).json()
    link = {"store": "Magnum", "sku": "1", "name": "Сыр", "price": 100, "currency": "KZT"}

    def product_patch(field: str, value: Any) -> httpx.Response:
        body = {"product": {**link, field: value}}
        return live_server.api("PATCH", f"/items/{item['id']}", list_id, json=body)

    def shop_put(field: str, value: Any) -> httpx.Response:
        body = {"shop": "Magnum", field: value}
        return live_server.api("PUT", "/shop", list_id, json=body)

    for body, field in sorted(CATALOG_DRIVEN):
        send = product_patch if body == "Product" else shop_put
        if field in ("price", "unit_price"):
            top = bound(schemas, body, field, "maximum")
            at, past = top, top + 1
        elif field == "order":
            top = bound(schemas, body, field, "maxItems")
            at, past = ["dairy"] * top, ["dairy"] * (top + 1)
        else:
            top = bound(schemas, body, field, "maxLength")
            at, past = "x" * top, "x" * (top + 1)
        ok = send(field, at)
        assert ok.status_code == 200, (body, field, ok.text)
        refused = send(field, past)
        assert refused.status_code == 422, (body, field, refused.text)
        assert refused.json()["ok"] is False
        assert refused.json()["field"].endswith(field), refused.json()


def test_a_token_bucket_gives_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3, now=0)
    assert [bucket.take(now=0) for _ in range(4)] == [True, True, True, False]
    assert bucket.wait() == 0.5
    assert bucket.take(now=0.5) and not bucket.take(now=0.5)
    assert [bucket.take(now=100) for _ in range(4)] == [True, True, True, False]  # burst: 3
    off = TokenBucket(rate=0, burst=0, now=0)
    assert all(off.take(now=0) for _ in range(1000))


def test_a_rate_limiter_keeps_a_bucket_per_key() -> None:
    limiter = RateLimiter(rate=1, burst=2, what="requests")
    limiter.take("a", now=0)
    limiter.take("a", now=0)
    with pytest.raises(RateLimitError, match="too many requests") as refused:
        limiter.take("a", now=0.25)
    assert refused.value.retry_after == pytest.approx(0.75)
    limiter.take("b", now=0.25)  # another key: its own bucket
    limiter.take("a", now=1.25)
    slow = RateLimiter(rate=1 / 60, burst=0.5, what="lists")  # a burst under 1 still allows one
    slow.take("a", now=0)
