"""Managing share links (issue 11 items 5 and 8): a role's link is reused unless a new one is
asked for, links carry a label and their last use, revoking asks first, the native share sheet
and a QR code are offered, and an owner link makes a second owner device."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.app import (
    add_item,
    create_list,
    docs_screenshot,
    expect_state,
    list_id_of,
    open_link,
    phone,
    row,
    share_link,
    token_of,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def new_link(dialog: Locator, before: str = "") -> str:
    """The link the dialog shows once "Get link" has answered: not empty, and not the one shown
    before (reading the box straight after the click can still give the previous link)."""
    out = dialog.locator(".share-out input")
    expect(out).not_to_have_value(re.compile(rf"^({re.escape(before)})?$"))
    return out.input_value()


# Chromium on a desktop has no navigator.share: record what the page would hand the OS.
SHARE_SHEET = "navigator.share = async (data) => { window.__shared = data }"


@pytest.mark.parametrize(
    ("locale", "share", "get", "new", "for_", "allows", "revoke", "edit"),
    [
        ("en-US", "Share", "Get link", "New link", "Who is it for? (optional)",
         "What may they do?", "Revoke", "Change the list"),
        ("ru-RU", "Поделиться", "Получить ссылку", "Новая ссылка", "Для кого? (необязательно)",
         "Что можно делать?", "Отозвать", "Менять список"),
    ],
)  # fmt: skip
def test_links_are_reused_labelled_confirmed_and_shown_as_qr(
    live_server: ServerProcess,
    new_page: Callable[..., Page],
    artifacts: Path,
    locale: str,
    share: str,
    get: str,
    new: str,
    for_: str,
    allows: str,
    revoke: str,
    edit: str,
) -> None:
    anna = phone(new_page, "Anna", locale=locale)
    anna.context.add_init_script(SHARE_SHEET)
    anna.goto(live_server.url + "/")
    anna.locator("#new-list").fill("Dinner")
    anna.locator("#new-list").press("Enter")
    anna.wait_for_url("**/l/*")
    add_item(anna, "rice")
    expect_state(anna, "saved")

    anna.get_by_role("button", name=share, exact=True).click()
    dialog = anna.get_by_role("dialog")
    dialog.get_by_label(for_).fill("Boris")
    dialog.get_by_label(allows).select_option("edit")
    dialog.get_by_role("button", name=get).click()
    first = new_link(dialog)
    expect(dialog.get_by_role("img")).to_be_visible()  # the QR code
    expect(dialog.locator(".shares li")).to_have_count(1)
    expect(dialog.locator(".shares li")).to_contain_text("Boris")
    anna.screenshot(path=artifacts / f"share-dialog-phone-{locale[:2]}.png", full_page=True)

    dialog.get_by_role("button", name=get).click()  # the same link again, no new one
    expect(dialog.locator(".share-out input")).to_have_value(first)
    expect(dialog.locator(".shares li")).to_have_count(1)
    dialog.get_by_role("button", name=new).click()
    expect(dialog.locator(".shares li")).to_have_count(2)
    assert dialog.locator(".share-out input").input_value() != first

    dialog.locator(".share-out").get_by_role("button").nth(1).click()  # Send… (share sheet)
    assert anna.evaluate("window.__shared.url") == dialog.locator(".share-out input").input_value()

    # Revoke asks first; Cancel keeps the link.
    dialog.locator(".shares li").first.get_by_role("button", name=revoke).click()
    anna.get_by_role("dialog").last.get_by_role("button").first.click()  # Cancel
    expect(dialog.locator(".shares li")).to_have_count(2)
    dialog.locator(".shares li").first.get_by_role("button", name=revoke).click()
    anna.get_by_role("dialog").last.get_by_role("button", name=revoke).click()
    expect(dialog.locator(".shares li")).to_have_count(1)
    assert edit in dialog.get_by_label(allows).inner_text()


def test_an_owner_link_makes_a_second_owner_device(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    create_list(anna, live_server.url, "Home")
    add_item(anna, "soap")
    expect_state(anna, "saved")
    anna.get_by_role("button", name="Share", exact=True).click()
    dialog = anna.get_by_role("dialog")
    dialog.get_by_label("Who is it for? (optional)").fill("Anna's tablet")
    dialog.get_by_label("What may they do?").select_option("owner")
    dialog.get_by_role("button", name="Get link").click()
    link = dialog.locator(".share-out input").input_value()

    tablet = phone(new_page, "Anna")
    open_link(tablet, live_server.url, link)
    expect(row(tablet, "soap")).to_be_visible()
    expect(tablet.get_by_role("button", name="Delete list")).to_be_visible(timeout=15_000)
    expect(tablet.get_by_role("button", name="Share", exact=True)).to_be_visible(timeout=15_000)


def wait_for_use(base_url: str, list_id: str, token: str, share_id: str) -> int:
    """Until the server says the link was used (its write is queued off the request path)."""
    deadline = time.monotonic() + 15
    while True:
        response = httpx.get(
            f"{base_url}/api/lists/{list_id}/shares",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        used = {s["id"]: s["last_used_at"] for s in response.json()["shares"]}
        if used[share_id] is not None:
            return int(used[share_id])
        assert time.monotonic() < deadline, "the server never recorded the link's use"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("locale", "share", "get", "for_", "allows", "view", "never", "used", "offline", "ago"),
    [
        ("en-US", "Share", "Get link", "Who is it for? (optional)", "What may they do?",
         "Only look", "never used", "used ", "Offline", "used 5 min. ago"),
        ("ru-RU", "Поделиться", "Получить ссылку", "Для кого? (необязательно)",
         "Что можно делать?", "Только смотреть", "ещё не использовалась", "использовалась ",
         "Нет связи", "использовалась 5 мин. назад"),
    ],
)  # fmt: skip
def test_the_links_say_when_they_were_last_used(
    live_server: ServerProcess,
    new_page: Callable[..., Page],
    artifacts: Path,
    locale: str,
    share: str,
    get: str,
    for_: str,
    allows: str,
    view: str,
    never: str,
    used: str,
    offline: str,
    ago: str,
) -> None:
    anna = phone(new_page, "Anna", locale=locale, device_scale_factor=2)  # a sharp screenshot
    anna.goto(live_server.url + "/")
    anna.locator("#new-list").fill("Dinner")
    anna.locator("#new-list").press("Enter")
    anna.wait_for_url("**/l/*")
    list_id = list_id_of(anna)
    add_item(anna, "rice")
    expect_state(anna, "saved")

    anna.get_by_role("button", name=share, exact=True).click()
    dialog = anna.get_by_role("dialog")
    dialog.get_by_label(for_).fill("Fridge tablet")
    dialog.get_by_label(allows).select_option(label=view)
    dialog.get_by_role("button", name=get).click()
    expect(dialog.locator(".shares li")).to_have_count(1)
    fridge_link = new_link(dialog)
    dialog.get_by_label(for_).fill("Boris")
    dialog.get_by_label(allows).select_option("edit")
    dialog.get_by_role("button", name=get).click()
    link = new_link(dialog, fridge_link)
    fridge = dialog.locator(".shares li").filter(has_text="Fridge tablet")
    boris = dialog.locator(".shares li").filter(has_text="Boris")
    expect(boris.locator(".share-used")).to_have_text(never)
    expect(fridge.locator(".share-used")).to_have_text(never)
    anna.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    other = phone(new_page, "Boris", locale=locale)
    open_link(other, live_server.url, link)
    expect(row(other, "rice")).to_be_visible()
    owner_token = token_of(anna, list_id)
    assert owner_token
    boris_id = next(
        s["id"]
        for s in httpx.get(
            f"{live_server.url}/api/lists/{list_id}/shares",
            headers={"Authorization": f"Bearer {owner_token}"},
            timeout=10,
        ).json()["shares"]
        if s["label"] == "Boris"
    )
    last_used = wait_for_use(live_server.url, list_id, owner_token, boris_id)

    anna.get_by_role("button", name=share, exact=True).click()
    expect(boris.locator(".share-used")).to_have_text(re.compile(f"^{used}"))
    expect(fridge.locator(".share-used")).to_have_text(never)
    if locale == "en-US":
        docs_screenshot(anna, "client-share-dialog.png")
    anna.screenshot(path=artifacts / f"share-dialog-last-use-{locale[:2]}.png")
    anna.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Offline the dialog shows what it last fetched, says so, and the time since moves on.
    anna.context.set_offline(True)
    anna.clock.set_fixed_time(last_used / 1000 + 5.5 * 60)
    anna.get_by_role("button", name=share, exact=True).click()
    expect(dialog.locator(".share-stale")).to_contain_text(offline)
    expect(boris.locator(".share-used")).to_have_text(ago)
    expect(fridge.locator(".share-used")).to_have_text(never)
    anna.screenshot(path=artifacts / f"share-dialog-offline-{locale[:2]}.png")


# The role a device holds comes from the server (GET /api/lists/{id}), and may well arrive
# after the socket has synced the items: the tests below hold that answer back until the list
# is "Saved", so the late role is the only thing left to redraw the view. No other device is
# connected meanwhile (its presence would redraw the view by chance).


def hold_list_reads(page: Page, list_id: str) -> Callable[[], None]:
    """Holds the page's GET /api/lists/{id} until the returned function lets them through."""
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(f"**/api/lists/{list_id}", hold)

    def release() -> None:
        assert held, "the page never asked the server for its role"
        for route in held:
            route.continue_()
        page.unroute(f"**/api/lists/{list_id}", hold)

    return release


def settle(page: Page) -> None:
    """Waits until the list's session has told the view nothing new for a second, so that
    whatever comes next is the only thing that can redraw it."""
    page.evaluate(
        "() => { window.__told = 0; window.listok.view.session.on(() => { window.__told++ }) }"
    )
    deadline = time.monotonic() + 20
    told, since = -1, time.monotonic()
    while time.monotonic() - since < 1:
        assert time.monotonic() < deadline, "the list never settled"
        now = page.evaluate("() => window.__told")
        if now != told:
            told, since = now, time.monotonic()
        page.wait_for_timeout(100)


def device(new_page: Callable[..., Page]) -> Page:
    # No service worker: page.route does not see what a service worker fetches.
    return phone(new_page, "Anna", service_workers="block")


def edit_controls_hidden(page: Page, item: str) -> None:
    expect(page.locator("#add-item")).to_be_hidden()
    expect(row(page, item).get_by_role("checkbox")).to_be_disabled()
    expect(page.get_by_role("button", name=f"Delete {item}")).to_be_hidden()
    expect(page.get_by_role("button", name="Delete list")).to_be_hidden()


def test_an_owner_role_learned_after_the_items_is_drawn(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Home")
    add_item(anna, "soap")
    expect_state(anna, "saved")
    link = share_link(anna, live_server.url, list_id, role="owner")
    anna.context.close()

    tablet = device(new_page)
    release = hold_list_reads(tablet, list_id)
    open_link(tablet, live_server.url, link)
    expect(row(tablet, "soap")).to_be_visible()
    expect_state(tablet, "saved")
    settle(tablet)
    # Not confirmed yet: nothing beyond looking is offered.
    edit_controls_hidden(tablet, "soap")
    release()
    expect(tablet.get_by_role("button", name="Delete list")).to_be_visible()
    expect(tablet.locator("#add-item")).to_be_visible()
    expect(tablet.get_by_role("button", name="Share", exact=True)).to_be_visible()


def test_an_owner_link_upgrades_a_device_that_could_edit(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Home")
    add_item(anna, "soap")
    expect_state(anna, "saved")
    edit_link = share_link(anna, live_server.url, list_id, role="edit")
    owner_link = share_link(anna, live_server.url, list_id, role="owner")
    anna.context.close()

    tablet = device(new_page)
    open_link(tablet, live_server.url, edit_link)
    expect(tablet.locator("#add-item")).to_be_visible()
    expect_state(tablet, "saved")
    expect(tablet.get_by_role("button", name="Delete list")).to_be_hidden()

    release = hold_list_reads(tablet, list_id)
    open_link(tablet, live_server.url, owner_link)
    expect_state(tablet, "saved")
    settle(tablet)
    release()
    expect(tablet.get_by_role("button", name="Delete list")).to_be_visible()
    expect(tablet.get_by_role("button", name="Share", exact=True)).to_be_visible()


def test_a_view_link_never_offers_changes_not_even_before_the_server_answers(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    """A device that could edit the list opens a view link of it: the edit role it had
    belonged to the other link, so it must not be shown while the server has not answered."""
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Home")
    add_item(anna, "soap")
    expect_state(anna, "saved")
    edit_link = share_link(anna, live_server.url, list_id, role="edit")
    view_link = share_link(anna, live_server.url, list_id, role="view")
    anna.context.close()

    tablet = device(new_page)
    open_link(tablet, live_server.url, edit_link)
    expect(tablet.locator("#add-item")).to_be_visible()
    expect_state(tablet, "saved")

    release = hold_list_reads(tablet, list_id)
    open_link(tablet, live_server.url, view_link)
    expect(row(tablet, "soap")).to_be_visible()
    expect_state(tablet, "saved")
    settle(tablet)
    edit_controls_hidden(tablet, "soap")
    release()
    expect(tablet.get_by_text("You can view this list but not change it.")).to_be_visible()
    edit_controls_hidden(tablet, "soap")


def test_a_role_question_left_unanswered_is_asked_again(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    """Without a role the list is only shown: a failed ask must not leave it that way."""
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Home")
    add_item(anna, "soap")
    expect_state(anna, "saved")
    link = share_link(anna, live_server.url, list_id, role="edit")
    anna.context.close()

    tablet = device(new_page)
    failed: list[str] = []

    def fail_once(route: Route) -> None:
        failed.append(route.request.url)
        route.abort()  # as if the network dropped the request
        tablet.unroute(f"**/api/lists/{list_id}", fail_once)

    tablet.route(f"**/api/lists/{list_id}", fail_once)
    open_link(tablet, live_server.url, link)
    expect(row(tablet, "soap")).to_be_visible()
    expect(tablet.locator("#add-item")).to_be_visible(timeout=10_000)
    assert failed, "the page never asked the server for its role"
