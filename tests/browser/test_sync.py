"""Two people on one list: live adds, checks, deletes and presence; offline edits converge."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import (
    add_item,
    create_list,
    done_names,
    edit_field,
    expect_state,
    list_id_of,
    open_link,
    open_names,
    row,
    server_items,
    share_link,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def test_two_browsers_see_each_others_adds_checks_and_deletes(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = new_page("Anna")
    boris = new_page("Boris")
    create_list(anna, live_server.url, "Party")
    add_item(anna, "bread")
    expect_state(anna, "saved")

    open_link(boris, live_server.url, share_link(anna, live_server.url, list_id_of(anna)))
    expect(row(boris, "bread")).to_be_visible()
    expect(boris.locator(".title-btn")).to_have_text("Party")

    add_item(boris, "cheese")
    expect(row(anna, "cheese")).to_be_visible()

    row(anna, "bread").get_by_role("checkbox").check()
    expect(boris.locator(".done-items").get_by_text("bread", exact=True)).to_be_visible()
    assert done_names(boris) == ["bread"]

    row(boris, "cheese").get_by_role("button", name="Delete cheese").click()
    expect(row(anna, "cheese")).to_have_count(0)
    assert open_names(anna) == []

    # Presence: each sees the other by the name they chose.
    expect(anna.locator('.presence [aria-label="Boris"]')).to_have_count(1)
    expect(boris.locator('.presence [aria-label="Anna"]')).to_have_count(1)

    expect_state(anna, "saved")
    expect_state(boris, "saved")
    items = server_items(anna, live_server.url, anna.url.rsplit("/", 1)[-1])
    assert [(i["name"], i["checked"], i["created_by"]) for i in items] == [("bread", True, "Anna")]


def test_offline_edits_on_both_sides_converge_with_nothing_lost(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = new_page("Anna")
    boris = new_page("Boris")
    list_id = create_list(anna, live_server.url, "Weekend")
    add_item(anna, "eggs")
    add_item(anna, "flour")
    expect_state(anna, "saved")
    open_link(boris, live_server.url, share_link(anna, live_server.url, list_id_of(anna)))
    expect(row(boris, "flour")).to_be_visible()
    expect_state(boris, "saved")

    boris.context.set_offline(True)
    expect_state(boris, "offline")

    # Both edit while apart, including different fields of the same item.
    add_item(boris, "apples")
    row(boris, "flour").get_by_role("checkbox").check()
    edit_field(boris, "eggs", "qty", "12")
    add_item(anna, "butter")
    edit_field(anna, "eggs", "note", "free range")
    row(anna, "flour").get_by_role("button", name="Delete flour").click()
    expect_state(anna, "saved")
    expect(row(boris, "butter")).to_have_count(0)  # really apart

    boris.context.set_offline(False)
    expect_state(boris, "saved", timeout=20_000)
    expect_state(anna, "saved")

    for page in (anna, boris):
        expect(page.locator(".groups li.item")).to_have_count(3)
        assert sorted(open_names(page)) == ["apples", "butter", "eggs"]
        expect(row(page, "eggs").locator(".qty")).to_have_text("12")
        expect(row(page, "eggs").locator(".note")).to_have_text("free range")
        assert done_names(page) == []  # flour: checked by one, deleted by the other
    items = {i["name"]: i for i in server_items(anna, live_server.url, list_id)}
    assert sorted(items) == ["apples", "butter", "eggs"]
    assert items["eggs"]["qty"] == 12
    assert items["eggs"]["note"] == "free range"
    assert items["apples"]["created_by"] == "Boris"
