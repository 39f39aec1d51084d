"""The activity feed shows the server's summaries (issue 11 item 6): unchecking says
"unchecked", a rename shows, an unnamed person is "someone" (never their role), in the
reader's language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import (
    LIST_URL,
    add_item,
    expect_state,
    list_id_of,
    open_link,
    phone,
    row,
    share_link,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "open_label", "unchecked", "renamed"),
    [
        ("en-US", "Activity", "Someone unchecked salt", "Anna renamed the list to Pantry"),
        ("ru-RU", "События", "Кто-то вернул salt", "Anna переименовал(а) список в «Pantry»"),
    ],
)
def test_activity_says_what_happened(
    live_server: ServerProcess,
    new_page: Callable[..., Page],
    locale: str,
    open_label: str,
    unchecked: str,
    renamed: str,
) -> None:
    anna = phone(new_page, "Anna", locale=locale)
    anna.goto(live_server.url + "/")
    anna.locator("#new-list").fill("Shop")
    anna.locator("#new-list").press("Enter")
    anna.wait_for_url(LIST_URL)
    list_id = list_id_of(anna)
    add_item(anna, "salt")
    expect_state(anna, "saved")
    boris = phone(new_page)  # gives no name
    open_link(boris, live_server.url, share_link(anna, live_server.url, list_id))
    row(boris, "salt").locator(".name").tap()
    expect_state(boris, "saved")
    row(boris, "salt").locator(".name").tap()
    expect_state(boris, "saved")
    anna.locator(".title-btn").click()
    anna.locator(".title-input").fill("Pantry")
    anna.locator(".title-input").press("Enter")
    expect_state(anna, "saved")

    anna.get_by_role("button", name=open_label).click()
    feed = anna.locator("ol.activity")
    expect(feed.locator("li").first).to_contain_text(renamed, timeout=10_000)
    expect(feed).to_contain_text(unchecked)
    for role in ("edit", "owner"):
        expect(feed).not_to_contain_text(role)
