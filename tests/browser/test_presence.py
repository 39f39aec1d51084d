"""Presence (issue 11 items 9 and 10, issue 9 item 16): a closed tab leaves at once; a peer's
colour reaches a style attribute only as #rrggbb; an unnamed self is "You"; a view-only visitor
is not asked for a name."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import add_item, create_list, expect_state, open_link, phone, share_link
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def test_a_closed_tab_leaves_at_once_and_colours_are_checked(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = phone(new_page, "Anna")
    list_id = create_list(anna, live_server.url, "Shop")
    add_item(anna, "milk")
    expect_state(anna, "saved")
    link = share_link(anna, live_server.url, list_id)

    boris = phone(new_page, "Boris")
    # A hostile colour: CSS that would paint a picture over the page.
    boris.context.add_init_script(
        "localStorage.setItem('listok.color', 'red;background:url(https://example.invalid/x)')"
    )
    open_link(boris, live_server.url, link)
    carla = phone(new_page, "Carla")
    carla.context.add_init_script("localStorage.setItem('listok.color', '#1971c2')")
    open_link(carla, live_server.url, link)

    avatars = anna.locator(".presence li")
    carla_avatar = anna.locator(".presence li[aria-label='Carla']")
    expect(carla_avatar).to_have_attribute("style", "--c:#1971c2")
    # Boris's presence never reaches Anna: the server refuses a state whose colour is not
    # #rrggbb (the client would not put it into a style attribute either).
    expect(avatars).to_have_count(2, timeout=15_000)
    expect(anna.locator(".presence li[aria-label='Boris']")).to_have_count(0)
    assert all("url(" not in (a.get_attribute("style") or "") for a in avatars.all())

    # The tab is hidden for good (closed, or put in the back/forward cache with its socket
    # still open): gone from the others at once, not after the 30 s awareness timeout.
    carla.evaluate("dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))")
    expect(avatars).to_have_count(1, timeout=5_000)
    carla.evaluate("dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(avatars).to_have_count(2, timeout=5_000)
    carla.close()
    expect(avatars).to_have_count(1, timeout=5_000)


def test_unnamed_self_is_you_and_a_viewer_is_not_asked_for_a_name(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    anna = new_page()  # no name chosen yet
    list_id = create_list(anna, live_server.url, "Shop")
    expect(anna.locator(".presence li[data-me]")).to_have_attribute("aria-label", "You")
    expect(anna.get_by_text("What should others on this list call you?")).to_be_visible()
    view = share_link(anna, live_server.url, list_id, role="view")

    viewer = new_page(locale="ru-RU")
    open_link(viewer, live_server.url, view)
    expect(viewer.locator(".banner.readonly")).to_be_visible()
    expect(viewer.locator(".presence li[data-me]")).to_have_attribute("aria-label", "Вы")
    expect(viewer.locator("#presence-name")).to_be_hidden()
