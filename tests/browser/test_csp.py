"""The built app works under the server's Content-Security-Policy, with no violation reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.app import add_item, create_list, row, server_items
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


def test_app_runs_under_the_csp_without_violations(
    live_server: ServerProcess, new_page: Callable[..., Page], artifacts: Path
) -> None:
    page = new_page("Anna", viewport={"width": 390, "height": 844})
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    response = page.goto(live_server.url + "/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    list_id = create_list(page, live_server.url, "CSP")
    add_item(page, "молоко 2 л")
    expect(row(page, "молоко")).to_be_visible()
    expect(page.locator(".sync")).to_have_attribute("data-state", "saved", timeout=15_000)
    names = [item["name"] for item in server_items(page, live_server.url, list_id)]
    assert names == ["молоко"]
    page.screenshot(path=str(artifacts / "csp-phone.png"))
    assert violations == []
