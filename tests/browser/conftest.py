"""Browser tests: Debian's chromium driven by Playwright against a live Listok server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.app import ARTIFACTS, DIST

CHROMIUM = os.environ.get("LISTOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not (DIST / "index.html").is_file():
        pytest.fail("client/dist is missing: run `make client` (npm ci + npm run build)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Opens a page in a fresh context (its own storage, like another device).

    Uncaught JavaScript errors fail the test.
    """
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(name: str | None = None, **options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("locale", "en-US")
        context = browser.new_context(**options)
        contexts.append(context)
        if name:
            context.add_init_script(f"localStorage.setItem('listok.name', {name!r})")
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{name or 'page'}: {exc}"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
