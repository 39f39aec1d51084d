"""Driving the Listok browser app the way a person does: by labels, roles and visible text."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "client" / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
LIST_URL = re.compile(r"/l/([0-9a-f-]{36})$")


def docs_screenshot(page: Page | Locator, name: str) -> Path:
    """A screenshot the docs show (docs/images/NAME). A test run writes it to the artifacts
    folder, so running the tests leaves the checkout clean; LISTOK_DOCS_SCREENSHOTS=1 writes it
    to docs/images instead (docs/client.md: "Screenshots")."""
    folder = ROOT / "docs" / "images" if os.environ.get("LISTOK_DOCS_SCREENSHOTS") else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name))
    return folder / name


def list_id_of(page: Page) -> str:
    match = LIST_URL.search(page.url)
    assert match, f"not on a list page: {page.url}"
    return match.group(1)


def create_list(page: Page, base_url: str, title: str) -> str:
    page.goto(base_url + "/")
    page.get_by_label("Name of the new list").fill(title)
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(LIST_URL)
    expect(page.locator(".title-btn")).to_have_text(title)
    return list_id_of(page)


def open_link(page: Page, base_url: str, link: str) -> str:
    """Opens a shared link through the home screen's "Open a shared list" form."""
    page.goto(base_url + "/")
    page.locator("#open-link").fill(link)  # by id: the same in every language
    page.locator("#open-link").press("Enter")
    page.wait_for_url(LIST_URL)
    return list_id_of(page)


def add_item(page: Page, text: str) -> None:
    field = page.locator("#add-item")
    field.fill(text)
    field.press("Enter")
    expect(field).to_have_value("")


def row(page: Page, name: str) -> Locator:
    return page.locator("li.item").filter(has=page.locator(".name").get_by_text(name, exact=True))


def open_names(page: Page) -> list[str]:
    return page.locator(".groups li.item .name").all_inner_texts()


def done_names(page: Page) -> list[str]:
    return page.locator(".done-items li.item .name").all_inner_texts()


def expect_state(page: Page, state: str, timeout: float = 15_000) -> None:
    expect(page.locator(".sync")).to_have_attribute("data-state", state, timeout=timeout)


def wait_service_worker(page: Page) -> None:
    # Polled with evaluate: wait_for_function evaluates a string in the page, which the
    # server's CSP (script-src 'self', no unsafe-eval) refuses.
    deadline = time.monotonic() + 30
    while not page.evaluate("() => Boolean(navigator.serviceWorker?.controller)"):
        assert time.monotonic() < deadline, "no service worker took control of the page"
        page.wait_for_timeout(50)


def token_of(page: Page, list_id: str) -> str | None:
    """The token this device keeps for the list (made on the device, or from a share link)."""
    token: str | None = page.evaluate(
        "(id) => (JSON.parse(localStorage.getItem('listok.lists.v1') || '[]')"
        ".find((r) => r.id === id) || {}).token || null",
        list_id,
    )
    return token


def server_list(base_url: str, list_id: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{base_url}/api/lists/{list_id}", headers=headers, timeout=10)


def server_items(page: Page, base_url: str, list_id: str) -> list[dict[str, Any]]:
    """The list as the server has it, read with the token the page holds."""
    response = server_list(base_url, list_id, token_of(page, list_id))
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def edit_field(page: Page, name: str, field: str, value: str) -> None:
    """Opens the item's inline editor, sets one field and closes the editor."""
    item = row(page, name)
    item.locator("button.edit").click()
    control = item.locator(f"[name={field}]")
    if field == "category":
        control.select_option(value)
    else:
        control.fill(value)
        control.press("Tab")
    item.get_by_role("button", name="Done").click()
    expect(item.locator(".editor")).to_be_hidden()


def share_link(page: Page, base_url: str, list_id: str, role: str = "edit") -> str:
    """A link another person opens: a share link with a token when the server has them."""
    token = token_of(page, list_id)
    response = httpx.post(
        f"{base_url}/api/lists/{list_id}/shares",
        json={"role": role},
        headers={"Authorization": f"Bearer {token}"} if token else {},
        timeout=10,
    )
    if response.status_code in (404, 405):  # a server without share links: the id is enough
        return f"{base_url}/l/{list_id}"
    response.raise_for_status()
    data = response.json()
    if data.get("url"):
        return str(data["url"])
    return (
        f"{base_url}{data['path']}"
        if data.get("path")
        else f"{base_url}/l/{list_id}#token={data['token']}"
    )


PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def phone(new_page: Callable[..., Page], name: str | None = None, **options: Any) -> Page:
    """A page in a fresh context the size of a phone, with touch."""
    return new_page(name, **{**PHONE, **options})


def go_home(page: Page) -> None:
    page.locator("a.back").click()
    page.wait_for_url("**/")
