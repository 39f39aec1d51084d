"""The catalog widgets (client/src/ui/catalog.js) in real Chromium against a live server.

ui/list.js is not wired to them yet (changes/catalog.md says where the hooks go), so this
test bundles the widgets into a small page of its own, served by a real Listok server as its
client directory, and uses them as the list screen will: type, see prices, pick, see totals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.app import ARTIFACTS, ROOT
from tests.support import ServerProcess

ESBUILD = ROOT / "client" / "node_modules" / ".bin" / "esbuild"
FIXTURES = ROOT / "tests" / "fixtures" / "catalog"

HARNESS = """
import { attachProductSuggestions, renderTotals, shopPicker } from %(ui)s
import { formatPrice } from %(lib)s
const params = new URLSearchParams(location.hash.slice(1))
const token = params.get('token')
const listId = params.get('list')
const auth = { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }
const input = document.querySelector('#add-item')
const picked = document.querySelector('#picked')
const totals = document.querySelector('#totals')
fetch('/api/lists/' + listId, { headers: auth }).then(r => r.json()).then(list => shopPicker(
  document.querySelector('#shop'), {
    listId, token, lang: 'ru', stores: list.totals.stores.map(s => s.store),
    onChange (shop) { document.querySelector('#order').textContent = 'shop:' + (shop.shop || '-') }
  }))
attachProductSuggestions(input, {
  token: () => token, locale: navigator.language, lang: 'ru',
  async onPick (name, link) {
    const base = '/api/lists/' + listId + '/items'
    const item = await (await fetch(base, { method: 'POST', headers: auth,
      body: JSON.stringify({ name, duplicate: 'add' }) })).json()
    await fetch(base + '/' + item.id, { method: 'PATCH', headers: auth,
      body: JSON.stringify({ product: link }) })
    picked.textContent = name + ' — ' + formatPrice(link.price, link.currency, navigator.language)
    const list = await (await fetch('/api/lists/' + listId, { headers: auth })).json()
    renderTotals(totals, list.totals, { locale: navigator.language, lang: 'ru' })
  }
})
"""

PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui;margin:1rem} input{width:100%%;font-size:1.1rem;padding:.5rem}
.catalog-suggestions{list-style:none;margin:0;padding:0;border:1px solid #ccc;border-radius:8px}
.catalog-offer{display:grid;grid-template-columns:1fr auto;gap:0 .5rem;padding:.5rem .75rem}
.catalog-price{font-weight:600}.catalog-store{grid-column:1/-1;font-size:.8em;opacity:.7}</style>
</head><body><label for="add-item">Добавить</label><input id="add-item" autocomplete="off">
<p id="shop" hidden></p><p id="order"></p><p id="picked"></p><p id="totals" hidden></p>
<script type="module" src="harness.js"></script>
</body></html>"""


def build_harness(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    entry = out / "entry.js"
    entry.write_text(
        HARNESS
        % {
            "ui": json.dumps(str(ROOT / "client" / "src" / "ui" / "catalog.js")),
            "lib": json.dumps(str(ROOT / "client" / "src" / "lib" / "catalog.js")),
        }
    )
    subprocess.run(
        [str(ESBUILD), str(entry), "--bundle", "--format=esm", f"--outfile={out / 'harness.js'}"],
        check=True,
        capture_output=True,
    )
    (out / "index.html").write_text(PAGE)


def test_product_suggestions_with_prices_and_the_total(
    server_factory: Callable[..., ServerProcess],
    new_page: Callable[..., Page],
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    build_harness(site)
    server = server_factory({"LISTOK_CLIENT_DIR": str(site)})
    feed = str(FIXTURES / "kaspi.xml")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "catalog",
            "import",
            feed,
            "--store",
            "Magnum",
            "--data-dir",
            str(server.data_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "LISTOK_MODEL": "off"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    list_id = server.create_list("Покупки")
    token = server.tokens[list_id]

    page = new_page(viewport={"width": 390, "height": 844}, locale="ru-KZ")
    page.goto(f"{server.url}/#token={token}&list={list_id}")
    page.locator("#add-item").press_sequentially("мол", delay=30)
    offers = page.locator(".catalog-offer")
    expect(offers.first).to_be_visible()
    expect(offers.first.locator(".catalog-name")).to_contain_text("Молоко")
    expect(offers.first.locator(".catalog-price")).to_have_text(_tenge())
    expect(offers.first.locator(".catalog-store")).to_have_text("Magnum")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "catalog-suggestions-phone.png"))

    offers.first.dispatch_event("mousedown")
    expect(page.locator("#picked")).to_contain_text("Молоко")
    expect(page.locator("#totals")).to_be_visible()
    expect(page.locator("#totals")).to_have_text(_total_line())
    page.screenshot(path=str(ARTIFACTS / "catalog-total-phone.png"))

    # The shop picker: the list is set to a shop through the API.
    expect(page.locator("#order")).to_have_text("shop:-")
    page.get_by_label("Магазин").select_option("Magnum")
    expect(page.locator("#order")).to_have_text("shop:Magnum")
    shop = httpx.get(f"{server.url}/api/lists/{list_id}/shop", headers=server.auth(list_id))
    assert shop.json()["shop"] == "Magnum"

    items = httpx.get(
        f"{server.url}/api/lists/{list_id}/items", headers=server.auth(list_id)
    ).json()["items"]
    assert items[0]["product"]["store"] == "Magnum"
    assert items[0]["product"]["currency"] == "KZT"


def _tenge() -> object:
    import re

    return re.compile(r"^\d[\d\s]*\s₸$")


def _total_line() -> object:
    import re

    return re.compile(r"^≈ \d[\d\s]*\s₸ в Magnum$")
