"""When access ends (issue 11 items 4 and 5): a revoked link shows the truth, goes read-only and
keeps what was typed (copy to a list of one's own); the owner deletes a list for everyone, with
a confirmation and an undo window; the last owner device is warned before it leaves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import (
    LIST_URL,
    add_item,
    create_list,
    expect_state,
    open_link,
    open_names,
    phone,
    row,
    token_of,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def anna_with_a_list(
    new_page: Callable[..., Page], base_url: str, title: str, item: str
) -> tuple[Page, str, str]:
    """Anna's phone with a new list holding one saved item: (page, list id, owner token)."""
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, base_url, title)
    add_item(anna, item)
    expect_state(anna, "saved")
    token = token_of(anna, list_id)
    assert token
    return anna, list_id, token


def make_share(base_url: str, list_id: str, token: str | None, role: str) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/api/lists/{list_id}/shares",
        json={"role": role},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    data: dict[str, str] = response.json()
    return data


@pytest.mark.parametrize(
    ("locale", "truth", "copy", "badge"),
    [
        ("en-US", "This link no longer gives access", "Copy to a new list of my own", "no access"),
        ("ru-RU", "Эта ссылка больше не даёт", "Скопировать в свой новый список", "нет доступа"),
    ],
)
def test_a_revoked_link_says_so_and_keeps_unsent_changes(
    live_server: ServerProcess,
    new_page: Callable[..., Page],
    artifacts: Path,
    locale: str,
    truth: str,
    copy: str,
    badge: str,
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Shop")
    add_item(anna, "milk")
    expect_state(anna, "saved")
    share = make_share(live_server.url, list_id, token_of(anna, list_id), "edit")

    boris = phone(new_page, "Boris", locale=locale)
    open_link(boris, live_server.url, f"{live_server.url}{share['path']}")
    expect(row(boris, "milk")).to_be_visible()
    expect_state(boris, "saved")
    boris.context.set_offline(True)  # Boris adds something in a shop without signal...
    add_item(boris, "bread")
    expect_state(boris, "offline")
    revoked = httpx.delete(
        f"{live_server.url}/api/lists/{list_id}/shares/{share['id']}",
        headers={"Authorization": f"Bearer {token_of(anna, list_id)}"},
        timeout=10,
    )
    assert revoked.status_code == 204
    boris.context.set_offline(False)  # ...and comes back to a revoked link.

    expect(boris.get_by_role("alert")).to_contain_text(truth, timeout=15_000)
    expect(boris.locator(".sync")).to_have_attribute("data-state", "revoked")
    expect(boris.locator("#add-item")).to_be_hidden()  # read-only now
    expect(row(boris, "bread").get_by_role("checkbox")).to_be_disabled()
    boris.screenshot(path=artifacts / f"revoked-phone-{locale[:2]}.png", full_page=True)
    items = live_server.get_list(list_id, token_of(anna, list_id))["items"]
    assert "bread" not in {i["name"] for i in items}

    boris.get_by_role("button", name=copy).click()
    boris.wait_for_url(lambda url: LIST_URL.search(url) is not None and list_id not in url)
    expect(boris.locator(".groups li.item .name")).to_have_text(["milk", "bread"])
    expect_state(boris, "saved")  # a list of Boris's own, on the server
    boris.locator("a.back").click()
    card = boris.locator(f"li.list-card[data-list-id='{list_id}']")
    expect(card.locator(".badge")).to_have_text(badge)


def test_the_owner_deletes_a_list_for_everyone_with_undo(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Party")
    add_item(anna, "cake")
    expect_state(anna, "saved")
    share = make_share(live_server.url, list_id, token_of(anna, list_id), "edit")
    boris = phone(new_page, "Boris")
    open_link(boris, live_server.url, f"{live_server.url}{share['path']}")
    expect(row(boris, "cake")).to_be_visible()
    expect(boris.get_by_role("button", name="Delete list")).to_be_hidden()  # owner only

    # Cancel, then undo within the window: nothing happens to the list.
    anna.get_by_role("button", name="Delete list").click()
    anna.get_by_role("button", name="Cancel").click()
    anna.get_by_role("button", name="Delete list").click()
    anna.get_by_role("button", name="Delete for everyone").click()
    anna.wait_for_url(live_server.url + "/")
    anna.locator(".toast").get_by_role("button", name="Undo").click()
    expect(anna.locator(f"li.list-card[data-list-id='{list_id}']")).to_be_visible()
    anna.wait_for_timeout(9_000)  # past the undo window: still there, still served
    assert live_server.get_list(list_id, token_of(anna, list_id))["title"] == "Party"

    anna.locator(f"li.list-card[data-list-id='{list_id}'] a").click()
    anna.get_by_role("button", name="Delete list").click()
    anna.get_by_role("button", name="Delete for everyone").click()
    expect(anna.locator(f"li.list-card[data-list-id='{list_id}']")).to_have_count(0)
    # The other device hears of it through its socket (4404) and keeps its copy, read-only.
    expect(boris.locator(".sync")).to_have_attribute("data-state", "deleted", timeout=20_000)
    expect(boris.get_by_role("alert")).to_contain_text("The owner deleted this list")
    assert open_names(boris) == ["cake"]
    gone = httpx.get(
        f"{live_server.url}/api/lists/{list_id}",
        headers={"Authorization": f"Bearer {share['token']}"},
        timeout=10,
    )
    assert gone.status_code in (401, 404)


def test_the_last_owner_device_is_warned_before_it_leaves(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Home")
    expect_state(anna, "saved")
    anna.locator("a.back").click()
    card = anna.locator(f"li.list-card[data-list-id='{list_id}']")
    card.get_by_role("button", name="Leave “Home”").click()
    expect(anna.get_by_role("dialog")).to_contain_text("You own “Home”")
    anna.get_by_role("button", name="Cancel").click()

    # With a second owner device (an owner link) the plain question comes back.
    make_share(live_server.url, list_id, token_of(anna, list_id), "owner")
    card.get_by_role("button", name="Leave “Home”").click()
    expect(anna.get_by_role("dialog")).to_contain_text("others keep it")
    anna.get_by_role("button", name="Leave", exact=True).click()
    expect(card).to_have_count(0)


def test_a_fresh_link_gives_a_revoked_device_access_again_and_sends_what_it_kept(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna, list_id, owner = anna_with_a_list(new_page, live_server.url, "Shop", "milk")
    first = make_share(live_server.url, list_id, owner, "edit")

    boris = phone(new_page, "Boris")
    open_link(boris, live_server.url, f"{live_server.url}{first['path']}")
    expect_state(boris, "saved")
    boris.context.set_offline(True)
    add_item(boris, "bread")
    revoked = httpx.delete(
        f"{live_server.url}/api/lists/{list_id}/shares/{first['id']}",
        headers={"Authorization": f"Bearer {owner}"},
        timeout=10,
    )
    assert revoked.status_code == 204
    boris.context.set_offline(False)
    expect(boris.locator(".sync")).to_have_attribute("data-state", "revoked", timeout=15_000)

    # Anna sends Boris a new link: it works, and what he typed while cut off reaches the list.
    second = make_share(live_server.url, list_id, owner, "edit")
    open_link(boris, live_server.url, f"{live_server.url}{second['path']}")
    expect_state(boris, "saved")
    expect(boris.locator("#add-item")).to_be_visible()
    expect(row(anna, "bread")).to_be_visible(timeout=15_000)
    boris.locator("a.back").click()
    card = boris.locator(f"li.list-card[data-list-id='{list_id}']")
    expect(card.locator(".badge.warn")).to_have_count(0)


def test_an_owner_device_opening_a_view_link_of_its_own_list_stays_owner(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna, list_id, owner = anna_with_a_list(new_page, live_server.url, "Shop", "milk")
    view = make_share(live_server.url, list_id, owner, "view")

    open_link(anna, live_server.url, f"{live_server.url}{view['path']}")
    expect_state(anna, "saved")
    assert token_of(anna, list_id) == owner
    expect(anna.locator("#add-item")).to_be_visible()
    expect(anna.get_by_role("button", name="Delete list")).to_be_visible(timeout=15_000)
