"""The suggestions panel (issue 11 item 9): what the server suggests, each with its reason in
the app's language; "+" adds it like typing, "✕" hides it on this list for good; folding and
the last answer (offline) are kept on the device.

The history is real: other households' lists and this list's earlier purchases are imported
through the API (a JSON export with dates), then the list is used in Chromium at a phone's size.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.app import (
    LIST_URL,
    add_item,
    docs_screenshot,
    expect_state,
    list_id_of,
    phone,
    row,
    server_items,
    token_of,
    wait_service_worker,
)
from tests.support import ServerProcess, import_history, seed_households

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Case:
    title: str
    names: tuple[str, str, str, str]  # milk, bread, eggs, coffee
    together: re.Pattern[str]
    due: str
    add: str
    hide: str
    stale: str


CASES = {
    "en-US": Case(
        title="Groceries",
        names=("milk", "bread", "eggs", "coffee"),
        together=re.compile(r"^usually with (milk, bread|bread, milk)$"),
        due="due again: usually every 7 days, last bought 9 days ago",
        add="Add eggs",
        hide="Hide coffee",
        stale="Offline: these suggestions may be out of date.",
    ),
    "ru-RU": Case(
        title="Продукты",
        names=("молоко", "хлеб", "яйца", "кофе"),
        together=re.compile(r"^обычно берут вместе: (молоко, хлеб|хлеб, молоко)$"),
        due="пора снова: обычно раз в 7 дней, последний раз 9 дней назад",
        add="Добавить «яйца»",
        hide="Скрыть «кофе»",
        stale="Нет связи: подсказки могли устареть.",
    ),
}


def suggestion(page: Page, name: str) -> Locator:
    return page.locator("details.suggest li.suggestion").filter(
        has=page.locator(".suggest-name").get_by_text(name, exact=True)
    )


def at_least_44(control: Locator) -> None:
    box = control.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box


@pytest.mark.parametrize("locale", list(CASES))
def test_suggestions_panel(
    live_server: ServerProcess, new_page: Callable[..., Page], artifacts: Path, locale: str
) -> None:
    case = CASES[locale]
    milk, bread, eggs, coffee = case.names
    seed_households(live_server, [milk, bread, eggs])
    page = phone(new_page, "Anna", locale=locale)
    page.goto(live_server.url + "/")
    page.locator("#new-list").fill(case.title)
    page.locator("#new-list").press("Enter")
    page.wait_for_url(LIST_URL)
    list_id = list_id_of(page)
    expect_state(page, "saved")
    # Coffee bought 16 and 9 days ago: due again (every 7 days).
    import_history(live_server, list_id, [(coffee, 16), (coffee, 9)], token_of(page, list_id))
    add_item(page, milk)
    add_item(page, bread)

    panel = page.locator("details.suggest")
    expect(suggestion(page, eggs).locator(".suggest-why")).to_have_text(case.together)
    expect(suggestion(page, coffee).locator(".suggest-why")).to_have_text(case.due)
    assert panel.evaluate("d => d.open") is True
    for control in panel.locator("summary, button").all():
        at_least_44(control)
    shot = artifacts / f"suggestions-{locale}.png"
    panel.screenshot(path=str(shot))
    if locale == "en-US":
        docs_screenshot(panel, "client-suggestions-phone.png")

    # "+" adds it as typing would: on the list, filed in its aisle, on the server.
    page.get_by_role("button", name=case.add, exact=True).click()
    expect(row(page, eggs)).to_be_visible()
    expect(suggestion(page, eggs)).to_have_count(0)
    expect_state(page, "saved")
    added = [i for i in server_items(page, live_server.url, list_id) if i["name"] == eggs]
    assert len(added) == 1 and added[0]["category"] == "dairy" and not added[0]["checked"]

    # "✕" hides one on this list, and it stays hidden after a reload (with a fresh answer).
    page.get_by_role("button", name=case.hide, exact=True).click()
    expect(suggestion(page, coffee)).to_have_count(0)
    with page.expect_response(re.compile(r"/suggestions$")) as answer:
        page.reload()
    assert coffee in {s["name"] for s in answer.value.json()["suggestions"]}  # still suggested
    expect(panel.locator("li.suggestion").first).to_be_visible()
    expect(suggestion(page, coffee)).to_have_count(0)
    expect(panel.locator(".suggest-stale")).to_be_hidden()

    # Folding is remembered, like Done.
    panel.locator("summary").click()
    page.reload()
    expect(panel).to_be_visible()
    assert panel.evaluate("d => d.open") is False
    panel.locator("summary").click()

    # Offline: the last answer stays, said to be possibly out of date; back online, a fresh one.
    shown = panel.locator(".suggest-name").all_inner_texts()
    wait_service_worker(page)
    page.context.set_offline(True)
    expect(panel.locator(".suggest-stale")).to_have_text(case.stale)
    with page.expect_response(re.compile(r"/suggestions$")):
        page.context.set_offline(False)
    expect(panel.locator(".suggest-stale")).to_be_hidden()
    # ... and a list opened with no network at all shows the answer kept on the device.
    page.context.set_offline(True)
    page.reload()
    expect(panel.locator(".suggest-stale")).to_have_text(case.stale)
    assert panel.locator(".suggest-name").all_inner_texts() == shown
    page.context.set_offline(False)
    expect_state(page, "saved")
    expect(panel.locator(".suggest-stale")).to_be_hidden()
