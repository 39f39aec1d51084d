"""Everyday features (issue 11 items 7 and 9): clear all ticked with undo; +/- steppers;
autocomplete from the list's history; the folded Done section is remembered; an item deleted
by someone else while being edited can be put back with what was typed; items others changed
while this device was offline are marked."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import (
    add_item,
    create_list,
    expect_state,
    open_link,
    open_names,
    phone,
    row,
    server_items,
    share_link,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "clear", "undo", "more", "less"),
    [
        ("en-US", "Clear 2 ticked items", "Undo", "One more", "One less"),
        ("ru-RU", "Убрать купленное (2)", "Отменить", "На одну больше", "На одну меньше"),
    ],
)
def test_clear_ticked_with_undo_steppers_autocomplete_and_folded_done(
    live_server: ServerProcess,
    new_page: Callable[..., Page],
    locale: str,
    clear: str,
    undo: str,
    more: str,
    less: str,
) -> None:
    page = phone(new_page, "Anna", locale=locale)
    page.goto(live_server.url + "/")
    page.locator("#new-list").fill("Shop")
    page.locator("#new-list").press("Enter")
    page.wait_for_url("**/l/*")
    for text in ("milk", "bread", "eggs"):
        add_item(page, text)
    row(page, "milk").locator(".name").click()
    row(page, "bread").locator(".name").click()
    expect(page.locator(".done-items li.item")).to_have_count(2)

    page.get_by_role("button", name=clear).click()
    expect(page.locator(".done-items li.item")).to_have_count(0)
    assert open_names(page) == ["eggs"]
    page.locator(".toast").get_by_role("button", name=undo).click()
    expect(page.locator(".done-items li.item")).to_have_count(2)

    # Autocomplete offers what this list had before (the ticked ones), not what is open; the
    # server's suggestions (the built-in dish table on a fresh server) may join them.
    options = page.locator("datalist#item-names option")
    expect(options.and_(page.locator("[value=bread]"))).to_have_count(1)
    expect(options.and_(page.locator("[value=milk]"))).to_have_count(1)
    values = options.evaluate_all("os => os.map((o) => o.getAttribute('value'))")
    assert "eggs" not in values
    assert page.locator("#add-item").get_attribute("list") == "item-names"

    row(page, "eggs").locator("button.edit").click()
    editor = row(page, "eggs").locator(".editor")
    editor.get_by_role("button", name=more).click()
    editor.get_by_role("button", name=more).click()
    expect(editor.locator("[name=qty]")).to_have_value("3")
    editor.get_by_role("button", name=less).click()
    expect(row(page, "eggs").locator(".qty")).to_contain_text("2")

    page.locator("details.done summary").click()  # fold Done; a reload keeps it folded
    expect(page.locator("details.done")).not_to_have_attribute("open", "")
    # Polled with evaluate: wait_for_function evaluates a string, which the CSP refuses.
    deadline = time.monotonic() + 15
    while not page.evaluate("() => Object.keys(localStorage).some((k) => localStorage[k] === '0')"):
        assert time.monotonic() < deadline, "the folded Done section was not remembered"
        page.wait_for_timeout(50)
    page.reload()
    expect(page.locator(".done-items li.item")).to_have_count(2)
    assert page.locator("details.done").evaluate("d => d.open") is False
    names = page.locator(".done-items li.item .name").all_text_contents()
    assert sorted(names) == ["bread", "milk"]


def test_an_item_deleted_while_being_edited_can_be_put_back(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Shop")
    add_item(anna, "cheese")
    expect_state(anna, "saved")
    boris = phone(new_page, "Boris")
    open_link(boris, live_server.url, share_link(anna, live_server.url, list_id))

    anna.locator("button.edit").first.click()
    anna.get_by_label("Note").fill("the Dutch one")
    row(boris, "cheese").get_by_role("button", name="Delete cheese").click()

    toast = anna.locator(".toast")
    expect(toast).to_contain_text("Someone else deleted “cheese”")
    expect(toast.get_by_role("button", name="Restore it")).to_be_focused()  # not the page
    toast.get_by_role("button", name="Restore it").click()
    expect(row(anna, "cheese").locator(".note")).to_have_text("the Dutch one")
    expect(row(boris, "cheese").locator(".note")).to_have_text("the Dutch one", timeout=15_000)
    expect_state(anna, "saved")
    assert [i["note"] for i in server_items(anna, live_server.url, list_id)] == ["the Dutch one"]


def test_items_others_changed_while_offline_are_marked(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Shop")
    for text in ("milk", "bread"):
        add_item(anna, text)
    expect_state(anna, "saved")
    boris = phone(new_page, "Boris")
    open_link(boris, live_server.url, share_link(anna, live_server.url, list_id))
    expect(row(boris, "bread")).to_be_visible()

    anna.context.set_offline(True)
    expect_state(anna, "offline")
    row(boris, "bread").locator("button.edit").click()
    row(boris, "bread").get_by_label("Note").fill("rye")
    row(boris, "bread").get_by_role("button", name="Done").click()
    add_item(boris, "apples")
    expect_state(boris, "saved")
    anna.context.set_offline(False)

    expect(row(anna, "bread")).to_have_class("item changed", timeout=15_000)
    expect(row(anna, "apples")).to_have_class("item changed")
    expect(row(anna, "bread").locator(".changed-mark")).to_have_text("changed by someone else")
    expect(row(anna, "milk")).to_have_class("item")
    row(anna, "bread").locator(".name").click()  # touching it clears the mark
    expect(row(anna, "bread")).to_have_class("item checked")


def test_categories_in_the_shops_order_shared_with_the_list(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Shop")
    for text, category in (("apples", "produce"), ("soap", "household")):
        add_item(anna, text)
        row(anna, text).locator("button.edit").click()
        row(anna, text).locator("[name=category]").select_option(category)
        row(anna, text).get_by_role("button", name="Done").click()
    groups = anna.locator("section.group")
    expect(groups).to_have_count(2)
    assert groups.evaluate_all("gs => gs.map((g) => g.dataset.group)") == ["produce", "household"]
    boris = phone(new_page, "Boris", locale="ru-RU")
    open_link(boris, live_server.url, share_link(anna, live_server.url, list_id))
    expect(boris.locator("section.group")).to_have_count(2)

    anna.get_by_role("button", name="Shop order").click()
    dialog = anna.get_by_role("dialog")
    for _ in range(9):  # household is 10th of 12 by default: up to the top
        dialog.get_by_role("button", name="Move Household up").click()
    expect(dialog.locator("li").first).to_have_attribute("data-cat", "household")
    expect(dialog.get_by_role("button", name="Move Household down")).to_be_focused()
    dialog.get_by_role("button", name="Close").click()
    expect(anna.locator("section.group").first).to_have_attribute("data-group", "household")
    expect(boris.locator("section.group").first).to_have_attribute(
        "data-group", "household", timeout=15_000
    )
