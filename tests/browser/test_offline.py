"""Offline: the app shell from the service worker, lists from IndexedDB, lists made offline."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import (
    add_item,
    create_list,
    expect_state,
    open_names,
    row,
    server_items,
    server_list,
    token_of,
    wait_service_worker,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def test_reload_with_no_network_opens_from_service_worker_and_indexeddb(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = new_page("Anna")
    list_id = create_list(page, live_server.url, "Shop")
    for text in ("milk", "bread", "tea"):
        add_item(page, text)
    expect_state(page, "saved")
    wait_service_worker(page)

    page.context.set_offline(True)
    page.reload()
    expect(page.locator(".groups li.item")).to_have_count(3)
    assert open_names(page) == ["milk", "bread", "tea"]
    expect_state(page, "offline")

    # Still usable: check one, add one, see the home screen with its count.
    row(page, "bread").get_by_role("checkbox").check()
    add_item(page, "honey")
    page.get_by_role("link", name="Lists", exact=True).click()
    card = page.locator(f'li.list-card[data-list-id="{list_id}"]')
    expect(card).to_contain_text("Shop")
    expect(card).to_contain_text("4 items · 3 to buy")

    page.context.set_offline(False)
    card.get_by_role("link").click()
    expect_state(page, "saved")
    items = {i["name"]: i["checked"] for i in server_items(page, live_server.url, list_id)}
    assert items == {"milk": False, "bread": True, "tea": False, "honey": False}


def test_list_created_offline_reaches_the_server_when_the_network_returns(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = new_page("Anna")
    page.goto(live_server.url + "/")
    wait_service_worker(page)
    page.context.set_offline(True)

    list_id = create_list(page, live_server.url, "Camping")
    add_item(page, "matches")
    expect_state(page, "offline")
    token = token_of(page, list_id)
    assert token, "a list made offline gets its owner token on the device"
    assert server_list(live_server.url, list_id, token).status_code in (401, 404)
    page.get_by_role("link", name="Lists", exact=True).click()
    expect(page.locator(f'li.list-card[data-list-id="{list_id}"]')).to_contain_text(
        "not on the server yet"
    )

    page.context.set_offline(False)
    expect(page.locator(f'li.list-card[data-list-id="{list_id}"]')).not_to_contain_text(
        "not on the server yet", timeout=15_000
    )
    page.locator(f'li.list-card[data-list-id="{list_id}"]').get_by_role("link").click()
    expect_state(page, "saved")
    response = server_list(live_server.url, list_id, token)
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Camping"
    assert [i["name"] for i in body["items"]] == ["matches"]
