"""Ticking off on a phone (issue 11, items 3 and 10): a tap on the name ticks, editing has its
own button, every control is at least 44x44 px, and focus stays in place when an item leaves."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import add_item, create_list, done_names, open_names, phone, row
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def test_a_tap_on_the_name_ticks_and_the_pencil_edits(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = phone(new_page, "Anna")
    create_list(page, live_server.url, "Shop")
    for text in ("milk", "bread", "eggs"):
        add_item(page, text)

    row(page, "bread").locator(".name").tap()
    expect(row(page, "bread").get_by_role("checkbox")).to_be_checked()
    assert done_names(page) == ["bread"]
    assert open_names(page) == ["milk", "eggs"]
    expect(row(page, "bread").locator(".editor")).to_be_hidden()  # ticking never opens the editor

    row(page, "bread").locator(".name").tap()  # and back
    expect(row(page, "bread").get_by_role("checkbox")).not_to_be_checked()

    row(page, "milk").get_by_role("button", name="Edit milk").tap()
    expect(row(page, "milk").get_by_label("Quantity")).to_be_visible()
    expect(row(page, "milk").get_by_role("checkbox")).not_to_be_checked()


def test_touch_targets_are_at_least_44_px(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = phone(new_page, "Anna")
    create_list(page, live_server.url, "Shop")
    add_item(page, "milk")
    controls = page.locator(
        "a.back, .title-btn, li.item label.tick, li.item button, #add-item, .add button"
    )
    expect(controls.first).to_be_visible()
    small = page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.className || el.id, el.getBoundingClientRect()])
            .map(([n, r]) => [n, Math.round(r.width), Math.round(r.height)])
            .filter(([, w, h]) => w < 44 || h < 44)""",
        "a.back, .title-btn, li.item label.tick, li.item button, #add-item, .add button",
    )
    assert small == [], f"controls under 44x44 px: {small}"


def test_focus_stays_in_place_when_a_ticked_item_leaves(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = new_page("Anna")
    create_list(page, live_server.url, "Shop")
    for text in ("milk", "bread", "eggs"):
        add_item(page, text)
    check = row(page, "bread").get_by_role("checkbox")
    check.focus()
    page.keyboard.press("Space")
    expect(check).to_be_checked()
    # Focus went to the next open item's checkbox, not along with bread into Done.
    expect(row(page, "eggs").get_by_role("checkbox")).to_be_focused()
    page.keyboard.press("Space")
    expect(row(page, "eggs").get_by_role("checkbox")).to_be_checked()
    expect(row(page, "milk").get_by_role("checkbox")).to_be_focused()
