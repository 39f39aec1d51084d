"""The catalog in the real app (client/src/ui/list/shop.js) in Chromium at a phone viewport.

Price lists are imported with `listok catalog import` into the live server's data dir, as an
operator does while the server runs; then a person types a product, sees offers with prices,
picks one, sees the total and the "cheaper at" line, and picks a shop whose aisle order the
list follows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from playwright.sync_api import Page, expect

from tests.browser.app import (
    ARTIFACTS,
    PHONE,
    ROOT,
    docs_screenshot,
    expect_state,
    list_id_of,
    token_of,
)
from tests.support import ServerProcess

FIXTURES = ROOT / "tests" / "fixtures" / "catalog"
TENGE = r"\d[\d\s.,]*\s?₸|₸\s?\d[\d\s.,]*"
T = TypeVar("T")


def poll(check: Callable[[], T | None], timeout: float = 10) -> T:
    """The server-side effect of a click, polled with a deadline (the page's own waits are
    Playwright's expect)."""
    deadline = time.monotonic() + timeout
    while (got := check()) is None:
        assert time.monotonic() < deadline, "the server never showed the change"
        time.sleep(0.05)
    return got


def import_catalog(server: ServerProcess, feed: str, store: str, *extra: str) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "server.cli", "catalog", "import", str(FIXTURES / feed)),
            *("--store", store, "--data-dir", str(server.data_dir), *extra),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "LISTOK_MODEL": "off"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def two_shops(server: ServerProcess) -> None:
    import_catalog(server, "kaspi.xml", "Magnum")
    import_catalog(server, "prices_utf8.csv", "Small", "--currency", "KZT")


def open_new_list(page: Page, server: ServerProcess, title: str) -> str:
    page.goto(server.url + "/")
    page.locator("#new-list").fill(title)
    page.locator("#new-list").press("Enter")
    page.wait_for_url("**/l/*")
    expect_state(page, "saved")
    return list_id_of(page)


def test_offers_with_prices_pick_total_and_cheaper_line_in_russian(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    two_shops(live_server)
    page = new_page("Аня", **{**PHONE, "locale": "ru-KZ"})
    list_id = open_new_list(page, live_server, "Продукты")
    page.locator("#add-item").press_sequentially("гречка яд", delay=20)
    offers = page.locator(".catalog-offer")
    expect(offers.first).to_be_visible()
    expect(offers.first.locator(".catalog-name")).to_contain_text("Гречка")
    # Tenge in Russian: a space between groups and before the sign, a comma for kopecks.
    expect(offers.first.locator(".catalog-price")).to_have_text(re.compile(rf"^({TENGE})$"))
    assert "₸" in offers.first.locator(".catalog-price").inner_text()
    expect(offers.first.locator(".catalog-store")).to_have_text(re.compile("^(Magnum|Small)$"))
    name = offers.first.locator(".catalog-name").inner_text()
    price = offers.first.locator(".catalog-price").inner_text()
    store = offers.first.locator(".catalog-store").inner_text()

    offers.first.click()
    expect(offers).to_have_count(0)
    expect(page.locator("#add-item")).to_have_value("")
    row = page.locator("li.item").filter(has_text="Гречка")
    expect(row.locator(".price")).to_have_text(f"{price} · {store}")

    # The item carries the link on the server, and the totals line shows where it is cheaper.
    token = token_of(page, list_id)
    headers = {"Authorization": f"Bearer {token}"}

    def linked() -> dict[str, Any] | None:
        items = httpx.get(f"{live_server.url}/api/lists/{list_id}", headers=headers).json()["items"]
        return next((i for i in items if i.get("product")), None)

    item = poll(linked)
    assert item["product"]["store"] == store
    assert item["product"]["name"] == name
    # The item is named without the brand ("Гречка ядрица 900 г"), so Small can match it.
    assert item["name"] == "Гречка ядрица 900 г" and item["name"] != name
    totals = httpx.get(f"{live_server.url}/api/lists/{list_id}", headers=headers).json()["totals"]
    cheapest = totals["cheapest"]
    other = next(s["store"] for s in totals["stores"] if s["store"] != cheapest)
    line = page.locator(".catalog-totals")
    expect(line).to_be_visible(timeout=10_000)
    expect(line).to_have_text(
        re.compile(rf"^≈ ({TENGE}) в {cheapest} · на ({TENGE}) дешевле, чем в {other}$")
    )

    first_line = line.inner_text()

    # A second item typed without picking still counts in the totals by its name.
    page.locator("#add-item").fill("хлеб белый")
    page.locator("#add-item").press("Enter")
    expect(page.locator("li.item")).to_have_count(2)
    page.locator("#add-item").press_sequentially("молоко паст", delay=20)
    expect(offers.first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(offers.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page.locator("li.item")).to_have_count(3)
    expect(page.locator("li.item").filter(has_text="Молоко").locator(".price")).to_contain_text("₸")
    # The line follows the list: two more items change the totals once the changes settle.
    expect(line).not_to_have_text(first_line, timeout=10_000)
    expect(line).to_contain_text("≈")
    page.locator("#add-item").blur()
    docs_screenshot(page, "client-catalog-phone.png")


def test_shop_picker_sets_the_aisle_order_and_shop_order_edits_the_shops(
    live_server: ServerProcess, new_page: Callable[..., Page]
) -> None:
    two_shops(live_server)
    # Someone else's list at Magnum has set Magnum's order by hand: bakery before dairy.
    other = live_server.create_list("Elsewhere")
    assert (
        live_server.api(
            "PUT", "/shop", other, json={"shop": "Magnum", "order": ["bakery", "dairy"]}
        ).status_code
        == 200
    )
    page = new_page("Anna", **{**PHONE, "locale": "en-US"})
    list_id = open_new_list(page, live_server, "Groceries")
    for text in ("milk", "bread"):
        page.locator("#add-item").fill(text)
        page.locator("#add-item").press("Enter")
    groups = page.locator("section.group")
    # The fixed order without a shop: dairy before bakery.
    expect(groups).to_have_count(2, timeout=15_000)
    expect(groups.first).to_have_attribute("data-group", "dairy")
    # English words against Russian price lists: a total where something matched, in English.
    expect(page.locator(".catalog-totals")).to_have_text(
        re.compile(r"^≈ ₸[\d,.]+ at (Magnum|Small)"), timeout=10_000
    )

    picker = page.get_by_label("Shop", exact=True)
    expect(picker).to_have_value("")
    picker.select_option("Magnum")
    expect(groups.first).to_have_attribute("data-group", "bakery")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "catalog-shop-phone-en.png"))
    token = token_of(page, list_id)
    headers = {"Authorization": f"Bearer {token}"}
    shop = httpx.get(f"{live_server.url}/api/lists/{list_id}/shop", headers=headers).json()
    assert shop["shop"] == "Magnum"

    # With a shop picked, "Shop order" edits that shop's order (every list at Magnum).
    page.get_by_role("button", name="Shop order").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Magnum")
    dialog.get_by_role("button", name="Move Dairy & eggs up").click()
    expect(dialog.locator("li").first).to_have_attribute("data-cat", "dairy")

    def magnum_manual() -> list[str] | None:
        got = live_server.api("GET", "/shop", other).json()["manual"]
        return got if got and got[0] == "dairy" else None

    assert poll(magnum_manual)[:2] == ["dairy", "bakery"]
    page.keyboard.press("Escape")
    expect(groups.first).to_have_attribute("data-group", "dairy")

    # Back to no shop: the list's own order (untouched by the shop's) applies again.
    live_server.api("PUT", "/shop", other, json={"shop": "Magnum", "order": ["bakery", "dairy"]})
    picker.select_option("")
    expect(groups.first).to_have_attribute("data-group", "dairy")
    picker.select_option("Magnum")
    expect(groups.first).to_have_attribute("data-group", "bakery")

    # Someone else sets the list to another shop: the picker and the order follow it once the
    # list changes (the totals refresh asks for the shop too).
    assert (
        httpx.put(
            f"{live_server.url}/api/lists/{list_id}/shop", json={"shop": "Small"}, headers=headers
        ).status_code
        == 200
    )
    page.locator("#add-item").fill("eggs")
    page.locator("#add-item").press("Enter")
    expect(picker).to_have_value("Small", timeout=10_000)
    expect(groups.first).to_have_attribute("data-group", "dairy")
