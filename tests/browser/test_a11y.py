"""Accessibility (issue 11 item 10): axe-core (client's devDependency) finds no serious or
critical violation on home, list (with its suggestions panel), editor, share and activity, in
both languages, light and dark, at a phone's size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import ROOT, add_item, expect_state, phone, row
from tests.support import ServerProcess

pytestmark = pytest.mark.browser

AXE = ROOT / "client" / "node_modules" / "axe-core" / "axe.min.js"
LABELS = {
    "en-US": {"share": "Share", "activity": "Activity", "edit": "Edit milk"},
    "ru-RU": {"share": "Поделиться", "activity": "События", "edit": "Изменить «milk»"},
}


def serious(page: Page, what: str) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated, not a <script> tag: the app's Content-Security-Policy allows no inline script.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{what}: {v['id']} ({v['impact']}) {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("locale", ["en-US", "ru-RU"])
def test_no_serious_axe_violations(
    live_server: ServerProcess, new_page: Callable[..., Page], locale: str, scheme: str
) -> None:
    if not AXE.is_file():
        pytest.fail("client/node_modules/axe-core is missing: run `make client`")
    labels = LABELS[locale]
    page = phone(new_page, "Anna", locale=locale, color_scheme=scheme)
    found: list[str] = []
    page.goto(live_server.url + "/")
    page.locator("#new-list").fill("Groceries")
    page.locator("#new-list").press("Enter")
    page.wait_for_url("**/l/*")
    add_item(page, "milk 2 l")
    add_item(page, "bread")
    row(page, "bread").locator(".name").click()
    expect_state(page, "saved")
    page.locator("a.back").click()
    expect(page.locator("li.list-card")).to_have_count(1)
    found += serious(page, "home")

    page.locator("li.list-card a").click()
    expect(row(page, "milk")).to_be_visible()
    expect(page.get_by_role("button", name=labels["share"], exact=True)).to_be_visible()
    # The suggestions panel (the dish table's pairings for milk on a fresh server) is checked too.
    expect(page.locator("details.suggest li.suggestion").first).to_be_visible(timeout=10_000)
    found += serious(page, "list")

    row(page, "milk").get_by_role("button", name=labels["edit"]).click()
    found += serious(page, "editor")
    page.keyboard.press("Escape")

    page.get_by_role("button", name=labels["share"], exact=True).click()
    page.get_by_role("dialog").locator(".share-out").wait_for(state="attached")
    page.get_by_role("dialog").locator("button.primary").first.click()  # a link and its QR code
    expect(page.get_by_role("dialog").get_by_role("img")).to_be_visible()
    expect(page.get_by_role("dialog").locator(".shares .badge")).to_be_visible()
    found += serious(page, "share")
    page.keyboard.press("Escape")

    page.get_by_role("button", name=labels["activity"], exact=True).click()
    expect(page.locator("ol.activity li").first).not_to_have_class("muted", timeout=10_000)
    found += serious(page, "activity")
    assert found == []
