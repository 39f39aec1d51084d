"""Typing items in (issue 11 items 1, 2 and 11): the duplicate prompt, online and offline; the
dictionary form of Russian names; categories filed in the browser; unsent text survives a reload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import (
    add_item,
    create_list,
    expect_state,
    open_names,
    phone,
    row,
    server_items,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def type_item(page: Page, text: str) -> None:
    page.locator("#add-item").fill(text)
    page.locator("#add-item").press("Enter")


@pytest.mark.parametrize(
    ("locale", "first", "again", "merge", "anyway"),
    [
        ("en-US", "milk 1 l", "Milk 2 l", "Add to the existing one: 3 l", "Add anyway"),
        ("ru-RU", "молоко 1 л", "Молоко 2 л", "Добавить к имеющемуся: 3 л", "Всё равно добавить"),
    ],
)
def test_a_duplicate_asks_merge_or_add_online_and_offline(
    live_server: ServerProcess,
    new_page: Callable[..., Page],
    artifacts: Path,
    locale: str,
    first: str,
    again: str,
    merge: str,
    anyway: str,
) -> None:
    page = phone(new_page, "Anna", locale=locale)
    list_id = create_list(page, live_server.url, "Shop") if locale == "en-US" else None
    if list_id is None:
        page.goto(live_server.url + "/")
        page.locator("#new-list").fill("Shop")
        page.locator("#new-list").press("Enter")
        page.wait_for_url("**/l/*")
    add_item(page, first)
    name = first.rsplit(" ", 2)[0]

    type_item(page, again)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"{name} ({first.rsplit(' ', 2)[1]} {first.rsplit(' ', 1)[1]})")
    page.screenshot(path=artifacts / f"duplicate-prompt-{locale[:2]}.png")
    dialog.get_by_role("button", name=merge).click()
    expect(page.locator("#add-item")).to_have_value("")
    assert open_names(page) == [name]
    expect(row(page, name).locator(".qty")).to_have_text("3 l" if locale == "en-US" else "3 л")

    page.context.set_offline(True)  # in the shop, no signal: the same question
    expect_state(page, "offline")
    type_item(page, again)
    page.get_by_role("dialog").get_by_role("button", name=anyway).click()
    expect(page.locator(".groups li.item")).to_have_count(2)
    page.context.set_offline(False)
    expect_state(page, "saved")


def test_a_duplicate_in_another_form_asks_too(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = phone(new_page, "Аня", locale="ru-RU")
    page.goto(live_server.url + "/")
    page.locator("#new-list").fill("Продукты")
    page.locator("#new-list").press("Enter")
    page.wait_for_url("**/l/*")
    add_item(page, "молоко")
    type_item(page, "Молока")
    expect(page.get_by_role("dialog")).to_contain_text("молоко", timeout=3_000)
    page.get_by_role("dialog").get_by_role("button", name="Отмена").click()
    add_item(page, "десяток яиц")
    type_item(page, "яйца 10 шт")
    expect(page.get_by_role("dialog")).to_contain_text("яйца", timeout=3_000)


def test_russian_names_are_stored_in_dictionary_form_offline(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = phone(new_page, "Аня", locale="ru-RU")
    page.goto(live_server.url + "/")
    page.locator("#new-list").fill("Продукты")
    page.locator("#new-list").press("Enter")
    page.wait_for_url("**/l/*")
    page.context.set_offline(True)
    for text in ("десяток яиц", "полкило гречки", "1 л молока", "cheese, grated"):
        add_item(page, text)
    names = page.locator(".groups li.item .name")
    expect(names).to_have_count(4)
    expect(page.locator(".groups li.item .name", has_text="гречка")).to_have_count(1, timeout=3_000)
    assert sorted(names.all_text_contents()) == ["cheese, grated", "гречка", "молоко", "яйца"]


def test_items_added_offline_are_filed_in_a_category_at_once(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = phone(new_page, "Anna")
    create_list(page, live_server.url, "Shop")
    page.context.set_offline(True)
    add_item(page, "milk")
    add_item(page, "apples")
    expect(page.locator("section.group[data-group='dairy']")).to_contain_text("milk", timeout=3_000)
    expect(page.locator("section.group[data-group='produce']")).to_contain_text("apples")


def test_unsent_text_and_an_open_editor_survive_a_reload(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    page = phone(new_page, "Anna")
    list_id = create_list(page, live_server.url, "Shop")
    add_item(page, "bread")
    expect_state(page, "saved")
    page.locator("#add-item").fill("2 kg potatoes")
    row(page, "bread").get_by_role("button", name="Edit bread").click()
    row(page, "bread").get_by_label("Note").fill("the dark one, slic")  # not committed yet
    page.reload()
    expect(page.locator("#add-item")).to_have_value("2 kg potatoes")
    expect(row(page, "bread").get_by_label("Note")).to_have_value("the dark one, slic")
    row(page, "bread").get_by_label("Note").press("Tab")
    row(page, "bread").get_by_role("button", name="Done").click()
    expect_state(page, "saved")
    assert [i["note"] for i in server_items(page, live_server.url, list_id)] == [
        "the dark one, slic"
    ]
