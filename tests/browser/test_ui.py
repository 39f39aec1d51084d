"""One person's list: reorder by keyboard and drag, delete with undo, rename, languages, looks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import (
    add_item,
    create_list,
    edit_field,
    expect_state,
    open_link,
    row,
    server_items,
    server_list,
    share_link,
    token_of,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def test_reorder_by_keyboard_and_drag_delete_with_undo_and_rename(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = new_page("Anna")
    list_id = create_list(page, live_server.url, "Order")
    for text in ("a", "b", "c"):
        add_item(page, text)

    handle = page.get_by_role("button", name="Move c")
    handle.focus()
    handle.press("ArrowUp")
    handle.press("ArrowUp")
    expect(page.locator(".groups li.item .name")).to_have_text(["c", "a", "b"])
    expect(page.get_by_role("button", name="Move c")).to_be_focused()

    # Drag b above everything with the pointer.
    grip = row(page, "b").get_by_role("button", name="Move b").bounding_box()
    top = row(page, "c").bounding_box()
    assert grip and top
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(grip["x"] + grip["width"] / 2, top["y"] + 2, steps=8)
    page.mouse.up()
    expect(page.locator(".groups li.item .name")).to_have_text(["b", "c", "a"])

    row(page, "c").get_by_role("button", name="Delete c").click()
    expect(page.locator(".groups li.item .name")).to_have_text(["b", "a"])
    page.locator(".toast").get_by_role("button", name="Undo").click()
    expect(page.locator(".groups li.item .name")).to_have_text(["b", "c", "a"])

    page.locator(".title-btn").click()
    page.get_by_label("List name").fill("Order, renamed")
    page.get_by_label("List name").press("Enter")
    expect(page.locator(".title-btn")).to_have_text("Order, renamed")

    expect_state(page, "saved")
    body = server_list(live_server.url, list_id, token_of(page, list_id)).json()
    assert body["title"] == "Order, renamed"
    assert [i["name"] for i in body["items"]] == ["b", "c", "a"]
    page.reload()
    expect(page.locator(".groups li.item .name")).to_have_text(["b", "c", "a"])


def test_russian_locale_shows_russian_text_and_switches(
    live_server: ServerProcess, new_page: Callable[..., Page], artifacts: Path
) -> None:
    page = new_page("Аня", locale="ru-RU")
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ваши списки")
    page.get_by_label("Название нового списка").fill("Продукты")
    page.get_by_role("button", name="Создать").click()
    page.wait_for_url("**/l/*")
    page.get_by_label("Добавить покупку").fill("молоко 2 л")
    page.get_by_role("button", name="Добавить", exact=True).click()
    expect(row(page, "молоко").locator(".qty")).to_have_text("2 л")
    expect(page.locator(".sync")).to_have_text("Сохранено", timeout=15_000)
    expect(page.get_by_role("link", name="Списки", exact=True)).to_be_visible()
    row(page, "молоко").get_by_role("button", name="Изменить «молоко»").click()
    expect(page.get_by_label("Количество")).to_have_value("2")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts / "list-phone-light-ru-editor.png", full_page=True)

    page.get_by_label("Язык").select_option("en")
    expect(page.locator(".sync")).to_have_text("Saved")
    expect(page.get_by_label("Add an item")).to_be_visible()
    page.reload()  # the choice is remembered
    expect(page.get_by_label("Add an item")).to_be_visible()


def test_screenshots_phone_and_laptop_light_and_dark(
    live_server: ServerProcess, new_page: Callable[..., Page], artifacts: Path
) -> None:
    author = new_page("Anna")
    list_id = create_list(author, live_server.url, "Groceries")
    for text in ("2 kg potatoes", "milk", "sourdough bread", "dish soap", "apples", "coffee beans"):
        add_item(author, text)
    for name, category in (
        ("potatoes", "produce"),
        ("apples", "produce"),
        ("milk", "dairy"),
        ("sourdough bread", "bakery"),
        ("dish soap", "household"),
    ):
        edit_field(author, name, "category", category)
    expect(row(author, "potatoes").locator(".qty")).to_have_text("2 kg")  # parsed on entry
    edit_field(author, "milk", "note", "lactose free, the blue one")
    row(author, "coffee beans").get_by_role("checkbox").check()
    expect_state(author, "saved")
    groups = author.locator(".group-title:not(.sr-only)").all_text_contents()
    assert groups == ["Fruit & vegetables", "Dairy & eggs", "Bakery", "Household"]

    link = share_link(author, live_server.url, list_id)
    sizes = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
    for size, viewport in sizes.items():
        for scheme in ("light", "dark"):
            extra = {"is_mobile": True, "has_touch": True} if size == "phone" else {}
            page = new_page("Boris", viewport=viewport, color_scheme=scheme, **extra)
            open_link(page, live_server.url, link)
            expect(row(page, "dish soap")).to_be_visible()
            expect_state(page, "saved")
            expect(page.locator(".presence [aria-label='Anna']")).to_have_count(1)
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (
                f"horizontal overflow on {size}"
            )
            page.screenshot(path=artifacts / f"list-{size}-{scheme}.png", full_page=True)
            page.get_by_role("link", name="Lists", exact=True).click()
            expect(page.locator(".list-card")).to_have_count(1)
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
            page.screenshot(path=artifacts / f"home-{size}-{scheme}.png", full_page=True)
    assert next(i["name"] for i in server_items(author, live_server.url, list_id)) == "potatoes"


def test_leave_a_list_forgets_it_on_this_device_only(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = new_page("Anna")
    list_id = create_list(page, live_server.url, "Old list")
    add_item(page, "nails")
    expect_state(page, "saved")
    page.get_by_role("link", name="Lists", exact=True).click()
    page.get_by_role("button", name="Leave “Old list”").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("You own “Old list”")  # the only owner device: a warning
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(".list-card")).to_have_count(1)
    token = token_of(page, list_id)

    page.get_by_role("button", name="Leave “Old list”").click()
    page.get_by_role("dialog").get_by_role("button", name="Leave anyway").click()
    expect(page.locator(".list-card")).to_have_count(0)
    expect(page.get_by_text("No lists on this device yet.", exact=False)).to_be_visible()
    databases = page.evaluate("indexedDB.databases().then((d) => d.map((x) => x.name))")
    assert f"listok:{list_id}" not in databases
    assert server_list(live_server.url, list_id, token).status_code == 200
