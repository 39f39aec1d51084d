"""The catalog on the server: product lookup, imports, item prices, list totals and aisle order.

Routes (wired in server/app.py, one block each):
- `GET /api/products?q=&limit=&store=`: any valid list token; best match first.
- `GET|PUT /api/lists/{id}/shop`: the shop a list is set to and that shop's aisle order, learned
  from the order items are ticked off there, or set by hand (body: bodies.ShopChoice).
- `GET|POST /api/admin/catalog`, `DELETE /api/admin/catalog/{store}`: the operator's admin
  token (server/admin.py `check_admin`), the same as `listok catalog list|import|remove`. An
  upload is imported by a child process and shown on /admin as a `catalog import` job.

server/api.py calls `follow_product` (a linked item takes the product's category) and
`list_extras` (the list's `totals` and `shop`); the item's `product` body is bodies.Product.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from msgspec import UNSET
from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models.catalog import (
    TYPO_MAX,
    TYPO_MIN,
    Feed,
    FeedError,
    Offer,
    city_prices_json,
    match_expressions,
    typo_words,
    words,
)
from models.categories import categorize
from server import bodies, schema
from server.admin import check_admin
from server.auth import token_from, token_hash, valid_token
from server.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    TooLargeError,
    UnauthorizedError,
    UnprocessableError,
)
from server.http import (
    address_of,
    authorize,
    body_of,
    document,
    int_param,
    limits_of,
    refuse_declared_size,
    services_of,
)
from server.jobs import Job
from server.services import Services
from server.settings import Settings
from store.catalog import CatalogError, CatalogStore, ImportInfo, ImportResult, OfferRow, Product

IMPORT_JOB: Final = "catalog import"
PROGRESS_STEP: Final = 1 << 20  # bytes read between two progress reports


def catalog_of(request: Request) -> CatalogStore:
    return services_of(request).catalog


# -- importing ------------------------------------------------------------------------------


def store_name(raw: str | None) -> str:
    """A shop's name as given ("Magnum", "Small 24"): the rule of bodies.shop_name."""
    try:
        name = bodies.shop_name(raw or "")
    except ValueError as exc:
        raise UnprocessableError(str(exc)) from exc
    if len(name) > schema.STORE_NAME_MAX:
        raise UnprocessableError(f"store must be 1-{schema.STORE_NAME_MAX} printable characters")
    return name


def offer_row(offer: Offer) -> OfferRow:
    terms = offer.terms()
    return OfferRow(
        sku=offer.sku,
        name=offer.name,
        price=offer.price,
        currency=offer.currency,
        terms=terms,
        brand=offer.brand,
        unit=offer.unit,
        unit_price=offer.unit_price,
        unit_base=offer.unit_base,
        barcode=offer.barcode,
        category=offer.category,
        available=offer.available,
        city_prices=city_prices_json(offer.city_prices),
        typo_words=frozenset(typo_words(terms)),
    )


def import_feed(
    catalog: CatalogStore,
    path: Path,
    store: str | None = None,
    *,
    city: str | None = None,
    currency: str = "",
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Read a Kaspi XML, YML or CSV file and make it the store's catalog (all or nothing).

    Raises FeedError or CatalogError with a message for the operator; nothing is kept then.
    """
    feed = Feed(path, city=city, progress=progress)

    def rows() -> Iterator[OfferRow]:
        for offer in feed.offers():
            if not offer.currency:
                offer.currency = currency
            yield offer_row(offer)

    iterator = rows()
    first = next(iterator, None)  # reads the header: the feed's shop name and date
    if first is None:
        raise CatalogError("the file has no offers")
    name = store_name(store or feed.info.shop or feed.info.company or path.stem)

    def all_rows() -> Iterator[OfferRow]:
        yield first
        yield from iterator

    info = ImportInfo(
        format=feed.info.format,
        source=source or path.name,
        feed_date=feed.info.date,
        company=feed.info.company,
        currency=feed.info.currency or currency or first.currency,
    )
    return catalog.replace(name, info, all_rows())


def result_json(result: ImportResult) -> dict[str, Any]:
    return {
        "store": result.store,
        "offers": result.offers,
        "available": result.available,
        "added": result.added,
        "kept": result.kept,
        "repriced": result.repriced,
        "vanished": result.vanished,
        "repeated": result.repeated,
        "seconds": result.seconds,
    }


# -- search ---------------------------------------------------------------------------------


def search(
    catalog: CatalogStore, query: str, *, store: str | None = None, limit: int = 10
) -> list[Product]:
    """Best matches first; a query that finds nothing is retried with one-edit typo fixes."""
    found = catalog.search(*match_expressions(query), store=store, limit=limit)
    if found:
        return found
    query_words = words(query)[:3]
    extra = {w: catalog.typo_terms(w) for w in query_words if TYPO_MIN <= len(w) <= TYPO_MAX + 1}
    if not any(extra.values()):
        return []
    return catalog.search(*match_expressions(query, extra=extra), store=store, limit=limit)


TOKEN_TTL: Final = 5.0
_known_tokens: OrderedDict[str, float] = OrderedDict()


def any_list_token(store: Any, token: str | None) -> None:
    """Any list's valid token may look products up. A good token is remembered for TOKEN_TTL
    seconds (a revoked link may look products up that much longer); run off the event loop."""
    if not token:
        raise UnauthorizedError("a token is required")
    if not valid_token(token):
        raise UnauthorizedError("invalid token")
    digest = token_hash(token)
    now = time.monotonic()
    if _known_tokens.get(digest, 0.0) > now:
        return
    if store.find_token(digest) is None:
        raise UnauthorizedError("invalid token")
    _known_tokens[digest] = now + TOKEN_TTL
    _known_tokens.move_to_end(digest)
    while len(_known_tokens) > 10_000:
        _known_tokens.popitem(last=False)


async def products(request: Request) -> JSONResponse:
    """`GET /api/products?q=TEXT&limit=N[&store=NAME]`"""
    token = token_from(request)
    limits_of(request).request(token or address_of(request))
    if not token or not valid_token(token):
        raise UnauthorizedError("a token is required" if not token else "invalid token")
    query = request.query_params.get("q", "").strip()
    if not query or len(query) > schema.PRODUCT_QUERY_MAX:
        raise UnprocessableError(f"q must be 1-{schema.PRODUCT_QUERY_MAX} characters")
    limit = int_param(request.query_params.get("limit"), "limit", 10, 1, schema.PRODUCT_LIMIT_MAX)
    store = request.query_params.get("store") or None
    if store is not None and len(store) > schema.STORE_NAME_MAX:
        raise UnprocessableError(f"store must be at most {schema.STORE_NAME_MAX} characters")
    services = services_of(request)

    def lookup() -> list[dict[str, Any]]:  # one trip off the event loop for both steps
        any_list_token(services.store, token)
        return [p.to_json() for p in search(services.catalog, query, store=store, limit=limit)]

    return JSONResponse({"items": await asyncio.to_thread(lookup)})


# -- the operator's API (server/admin.py's token) -------------------------------------------


def record_json(record: Any, stale_days: float) -> dict[str, Any]:
    return {
        "store": record.name,
        "format": record.format,
        "source": record.source,
        "catalog_date": record.feed_date,
        "company": record.company,
        "currency": record.currency,
        "imported_at": record.imported_at,
        "offers": record.offers,
        "available": record.available,
        "stale": is_stale(record.imported_at, stale_days),
    }


def is_stale(imported_at: int, stale_days: float) -> bool:
    return time.time() * 1000 - imported_at > stale_days * 86_400_000


def admin_status(services: Services) -> dict[str, Any]:
    """The catalog section of /api/admin/state: imported shops and the imports (jobs)."""
    stale_days = services.settings.catalog_stale_days
    return {
        "stores": [record_json(r, stale_days) for r in services.catalog.stores()],
        "imports": [j for j in services.jobs.to_json() if j["kind"] == IMPORT_JOB],
    }


async def admin_list(request: Request) -> JSONResponse:
    check_admin(request)
    settings = services_of(request).settings
    records = await asyncio.to_thread(catalog_of(request).stores)
    return JSONResponse({"stores": [record_json(r, settings.catalog_stale_days) for r in records]})


async def admin_import(request: Request) -> JSONResponse:
    """`POST /api/admin/catalog?store=NAME[&city=ID][&currency=KZT]` with the file as the body.

    One import at a time (409 otherwise); it shows on /admin as a `catalog import` job whose
    progress is the bytes of the file read so far. The answer comes when it is done.
    """
    check_admin(request)
    services = services_of(request)
    settings = services.settings
    limit = settings.catalog_max_upload_bytes
    refuse_declared_size(request, limit)
    store = request.query_params.get("store")
    name = store_name(store) if store is not None else None
    city = request.query_params.get("city") or None
    currency = request.query_params.get("currency", "").upper()[: schema.CURRENCY_MAX]
    if services.jobs.running(IMPORT_JOB) is not None:
        raise ConflictError("another price list is being imported: try again when it is done")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="listok-catalog-", dir=settings.data_dir)
    path = Path(tmp)
    job: Job | None = None
    try:
        size = 0
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise TooLargeError(f"a price list may be at most {limit} bytes")
                f.write(chunk)
        if size == 0:
            raise BadRequestError("send the price list file as the request body")
        if services.jobs.running(IMPORT_JOB) is not None:  # another upload finished first
            raise ConflictError("another price list is being imported: try again when it is done")
        job = services.jobs.start(IMPORT_JOB, size, detail=name or "")
        result = await run_import(settings, path, name, city=city, currency=currency, job=job)
        job.detail = str(result["store"])
        job.done = job.total
        job.finish()
    except BaseException as exc:
        if job is not None and job.state == "running":  # failed, or the client went away
            job.finish(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        raise
    finally:
        path.unlink(missing_ok=True)
    return JSONResponse(result, status_code=201)


async def run_import(
    settings: Settings,
    path: Path,
    store: str | None,
    *,
    city: str | None,
    currency: str,
    job: Job | None = None,
) -> dict[str, Any]:
    """`listok catalog import --json` in a child process: parsing and lemmatizing a big file
    takes CPU for minutes, which must not hold the server's GIL. The child reports the bytes
    read on stderr (`progress N`), which move the job's progress."""
    args = [sys.executable, "-m", "server.cli", "catalog", "import", str(path), "--json"]
    args += ["--data-dir", str(settings.data_dir), "--source", "upload"]
    if store:
        args += ["--store", store]
    if city:
        args += ["--city", city]
    if currency:
        args += ["--currency", currency]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None

    async def follow(stream: asyncio.StreamReader) -> None:
        async for line in stream:
            word, _, number = line.decode(errors="replace").partition(" ")
            if word == "progress" and number.strip().isdigit() and job is not None:
                job.done = min(int(number), job.total)

    try:
        out, _ = await asyncio.gather(proc.stdout.read(), follow(proc.stderr))
        await proc.wait()
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    try:
        answer: dict[str, Any] = json.loads(out.decode() or "{}")
    except ValueError:
        answer = {}
    if proc.returncode == 0 and "store" in answer:
        return answer
    raise UnprocessableError(f"not imported: {answer.get('error') or 'the importer failed'}")


async def admin_remove(request: Request) -> Response:
    check_admin(request)
    name = store_name(request.path_params["store"])
    if not await asyncio.to_thread(catalog_of(request).remove, name):
        raise NotFoundError(f"no catalog for {name}")
    return Response(status_code=204)


# -- items: the product field ----------------------------------------------------------------


def category_of(catalog: CatalogStore, link: dict[str, Any]) -> str:
    """An aisle category for a linked product: the catalog's own when it is one of ours, else
    what the curated table says for the product's name or for the shop's category name."""
    offer = catalog.offer(link["store"], link["sku"])
    shop_category = offer.category if offer is not None else ""
    if shop_category in schema.CATEGORIES and shop_category != "other":
        return shop_category
    for text in (link["name"], shop_category):
        found = categorize(text) if text else ""
        if found and found != "other":
            return found
    return ""


async def follow_product(request: Request, fields: dict[str, Any], item: Any) -> None:
    """PATCH with a product on an item the table could not file ("" or "other"): the item
    takes the product's category."""
    link = fields.get("product")
    if not link or "category" in fields or item.get("category") not in (None, "", "other"):
        return
    category = await asyncio.to_thread(category_of, catalog_of(request), link)
    if category:
        fields["category"] = category


# -- list totals ----------------------------------------------------------------------------

_WEIGHT: Final = {"кг": ("kg", 1.0), "kg": ("kg", 1.0), "г": ("kg", 0.001), "g": ("kg", 0.001)}
_VOLUME: Final = {"л": ("l", 1.0), "l": ("l", 1.0), "мл": ("l", 0.001), "ml": ("l", 0.001)}
_PIECES: Final = ("", "шт", "pcs", "pc", "шт.")


def line_cost(item: dict[str, Any], price: float, unit_price: float | None, base: str) -> float:
    """What an item costs at a price: qty packs, or qty kg/l at the unit price."""
    qty = item.get("qty")
    unit = (item.get("unit") or "").strip().lower()
    if not isinstance(qty, int | float) or qty <= 0:
        return price
    if unit in _PIECES:
        return price * qty
    measure = _WEIGHT.get(unit) or _VOLUME.get(unit)
    if measure and unit_price is not None and measure[0] == base:
        return unit_price * qty * measure[1]
    return price


class NameMatches:
    """Best available offer per (store, name), remembered until the catalog changes."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.cache: OrderedDict[tuple[str, str, int], Product | None] = OrderedDict()

    def best(self, catalog: CatalogStore, store: str, name: str, version: int) -> Product | None:
        key = (store, name.casefold(), version)
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        found = [p for p in search(catalog, name, store=store, limit=3) if p.available]
        product = found[0] if found else None
        self.cache[key] = product
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return product


_matches = NameMatches()


def totals(
    catalog: CatalogStore, items: list[dict[str, Any]], settings: Settings
) -> dict[str, Any]:
    """Per store: estimated total of the unchecked items priced there, priced/unpriced counts."""
    records = catalog.stores()
    open_items = [i for i in items if not i.get("checked")]
    per_store = settings.catalog_totals_max_lookups // max(1, len(records))
    counted = open_items[: max(1, per_store)]
    out: list[dict[str, Any]] = []
    for record in records:
        version = record.imported_at
        total = 0.0
        priced = 0
        for item in counted:
            product = None
            link = item.get("product")
            if isinstance(link, dict) and link.get("store") == record.name:
                product = catalog.offer(record.name, str(link.get("sku", "")))
            if product is None and item.get("name"):
                product = _matches.best(catalog, record.name, str(item["name"]), version)
            if product is None or product.price is None:
                continue
            total += line_cost(item, product.price, product.unit_price, product.unit_base)
            priced += 1
        out.append(
            {
                "store": record.name,
                "currency": record.currency,
                "total": round(total, 2),
                "priced": priced,
                "unpriced": len(counted) - priced,
                "catalog_date": record.feed_date,
                "imported_at": record.imported_at,
                "stale": is_stale(record.imported_at, settings.catalog_stale_days),
            }
        )
    most = max((int(s["priced"]) for s in out), default=0)
    contenders = [s for s in out if s["priced"] == most and most > 0]
    cheapest = min(contenders, key=lambda s: float(s["total"]))["store"] if contenders else None
    return {
        "stores": out,
        "cheapest": cheapest,
        "items": len(open_items),
        "partial": len(open_items) > len(counted),
    }


async def list_extras(request: Request, list_id: str, doc: Doc[Any]) -> dict[str, Any]:
    """What GET /api/lists/{id} adds: `totals` (and `shop`)."""
    catalog = catalog_of(request)
    settings = services_of(request).settings
    items = schema.list_items(doc)
    result = await asyncio.to_thread(totals, catalog, items, settings)
    shop = await asyncio.to_thread(catalog.list_shop, list_id)
    return {"totals": result, "shop": shop}


# -- shops and aisle order -------------------------------------------------------------------

TRIP_GAP_MS: Final = 2 * 3600 * 1000
TICKS_PER_REQUEST: Final = 1000


def learned_order(pairs: list[tuple[str, str, int]]) -> list[str]:
    """Categories ranked by how often each came before the others (wins minus losses)."""
    score: dict[str, int] = {}
    for before, after, count in pairs:
        score[before] = score.get(before, 0) + count
        score[after] = score.get(after, 0) - count
    return sorted(score, key=lambda c: (-score[c], c))


def trip_pairs(trip: list[str], category: str) -> list[tuple[str, str]]:
    """Ticking `category` after the trip so far: every earlier category came before it."""
    if category in trip:
        return []
    return [(before, category) for before in trip]


def learn_ticks(services: Services, list_id: str, shop: str, doc: Doc[Any]) -> None:
    """Fold the list's new item.checked events into the shop's pairwise aisle counts.

    Reads at most TICKS_PER_REQUEST events per call. A gap of two hours starts a new trip.
    """
    catalog: CatalogStore = services.catalog
    after, last_at, trip = catalog.tick_cursor(list_id)
    events = services.store.events_after(list_id, after, TICKS_PER_REQUEST)
    if not events:
        return
    categories = {i["id"]: i["category"] for i in schema.list_items(doc)}
    pairs: list[tuple[str, str]] = []
    for event in events:
        after = event.event_id
        if event.type != "item.checked":
            continue
        data = json.loads(event.data)
        category = categories.get(data.get("item_id"), "")
        if not data.get("checked") or not category:
            continue
        if event.created_at - last_at > TRIP_GAP_MS:
            trip = []
        last_at = event.created_at
        pairs.extend(trip_pairs(trip, category))
        if category not in trip:
            trip.append(category)
    catalog.learn(shop, list_id, pairs, (after, last_at, trip))


def shop_json(catalog: CatalogStore, list_id: str) -> dict[str, Any]:
    shop = catalog.list_shop(list_id)
    if shop is None:
        return {"shop": None, "order": [], "learned": [], "manual": None}
    learned = learned_order(catalog.aisle_pairs(shop))
    manual = catalog.manual_order(shop)
    order = list(manual) if manual is not None else list(learned)
    order += [c for c in learned if c not in order]
    return {"shop": shop, "order": order, "learned": learned, "manual": manual}


async def get_shop(request: Request) -> JSONResponse:
    """`GET /api/lists/{id}/shop`: the list's shop and its aisle order (learning new ticks)."""
    list_id, _ = await authorize(request, "view")
    services = services_of(request)
    shop = await asyncio.to_thread(services.catalog.list_shop, list_id)
    if shop is not None:
        doc = await document(request, list_id)
        await asyncio.to_thread(learn_ticks, services, list_id, shop, doc)
    return JSONResponse(await asyncio.to_thread(shop_json, services.catalog, list_id))


async def put_shop(request: Request) -> JSONResponse:
    """`PUT /api/lists/{id}/shop {"shop": NAME|null, "order"?: [category...]|null}`"""
    list_id, _ = await authorize(request, "edit")
    data = await body_of(request, bodies.ShopChoice)
    services = services_of(request)
    catalog = services.catalog
    if data.shop is not UNSET:
        await _change_shop(services, list_id, data.shop)
    if data.order is not UNSET and isinstance(data.shop, str):
        await asyncio.to_thread(catalog.set_manual_order, data.shop, data.order)
    return JSONResponse(await asyncio.to_thread(shop_json, catalog, list_id))


async def _change_shop(services: Services, list_id: str, shop: str | None) -> None:
    """Ticks made at the old shop are learned for it; the new one starts from now."""
    catalog = services.catalog
    old = await asyncio.to_thread(catalog.list_shop, list_id)
    if old == shop:
        return
    if old is not None:
        doc = await services.rooms.document(list_id)
        await asyncio.to_thread(learn_ticks, services, list_id, old, doc)
    recent = await asyncio.to_thread(services.store.recent_events, list_id, 1)
    newest = max((e.event_id for e in recent), default=0)
    await asyncio.to_thread(catalog.learn, shop or "", list_id, [], (newest, 0, []))
    await asyncio.to_thread(catalog.set_list_shop, list_id, shop)


# -- the command line -----------------------------------------------------------------------


def add_catalog_commands(commands: Any) -> None:
    """`listok catalog import|list|remove|search`; each sets `catalog_command` to run."""
    parser = commands.add_parser("catalog", help="import and manage shops' price lists")
    sub = parser.add_subparsers(dest="catalog_action", required=True)
    data_dir = {"type": Path, "help": "where listok.db lives (LISTOK_DATA_DIR, ./data)"}
    run = sub.add_parser("import", help="import a Kaspi XML, YML or CSV price list")
    run.add_argument("file", type=Path)
    run.add_argument("--store", help="the shop's name (default: from the file)")
    run.add_argument("--city", help="Kaspi city id for cityprices (default: the first listed)")
    run.add_argument("--currency", default="", help="currency of a CSV without one, e.g. KZT")
    run.add_argument("--data-dir", **data_dir)
    run.add_argument("--json", action="store_true", help="print the result (or error) as JSON")
    run.add_argument("--source", help=argparse.SUPPRESS)
    run.set_defaults(catalog_command=_cli_import)
    show = sub.add_parser("list", help="imported catalogs")
    show.add_argument("--json", action="store_true")
    show.add_argument("--data-dir", **data_dir)
    show.set_defaults(catalog_command=_cli_list)
    remove = sub.add_parser("remove", help="remove a store's catalog")
    remove.add_argument("store")
    remove.add_argument("--data-dir", **data_dir)
    remove.set_defaults(catalog_command=_cli_remove)
    find = sub.add_parser("search", help="look products up as the app does")
    find.add_argument("query")
    find.add_argument("--store")
    find.add_argument("--limit", type=int, default=10)
    find.add_argument("--data-dir", **data_dir)
    find.set_defaults(catalog_command=_cli_search)


def _open(args: Any) -> tuple[Settings, CatalogStore]:
    settings = Settings.from_env(data_dir=args.data_dir)
    return settings, CatalogStore(settings.catalog_path, synchronous=settings.synchronous)


def _import(args: Any, catalog: CatalogStore, progress: Callable[[int], None]) -> ImportResult:
    store = store_name(args.store) if args.store else None
    return import_feed(
        catalog,
        args.file,
        store,
        city=args.city,
        currency=args.currency.upper(),
        source=args.source or str(args.file.resolve()),
        progress=progress,
    )


def every_step(report: Callable[[int], None], total: int) -> Callable[[int], None]:
    """A progress callback that passes bytes read on every PROGRESS_STEP and at the end."""
    last = 0

    def progress(done: int) -> None:
        nonlocal last
        if done - last >= PROGRESS_STEP or done >= total:
            report(done)
            last = done

    return progress


def _cli_import(args: Any) -> int:
    from server.maintenance import err, progress

    path: Path = args.file
    if not path.is_file():
        print(f"listok: no file {path}", file=sys.stderr)
        return 1
    total = path.stat().st_size
    _, catalog = _open(args)
    if args.json:  # for the server's admin import: progress lines on stderr, the result on stdout
        try:
            result = _import(
                args, catalog, every_step(lambda n: print(f"progress {n}", file=sys.stderr), total)
            )
        except (FeedError, CatalogError, UnprocessableError) as exc:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
            return 1
        finally:
            catalog.close()
        print(json.dumps(result_json(result), ensure_ascii=False))
        return 0
    try:
        with progress(bytes_=True) as bar:  # rich, on stderr, only on a terminal
            task = bar.add_task(f"importing {path.name}", total=total)
            result = _import(
                args, catalog, every_step(lambda n: bar.update(task, completed=n), total)
            )
    except (FeedError, CatalogError, UnprocessableError) as exc:
        err.print(f"listok: {path.name} was not imported: {exc}", markup=False, highlight=False)
        return 1
    finally:
        catalog.close()
    r = result
    print(
        f"{r.store}: {r.offers} offers ({r.available} available) in {r.seconds:.1f} s; "
        f"new {r.added}, kept {r.kept} ({r.repriced} repriced), "
        f"vanished {r.vanished} (marked unavailable)"
        + (f", {r.repeated} repeated skus (the last one kept)" if r.repeated else "")
    )
    return 0


def _cli_list(args: Any) -> int:
    settings, catalog = _open(args)
    try:
        records = [record_json(r, settings.catalog_stale_days) for r in catalog.stores()]
    finally:
        catalog.close()
    if args.json:
        print(json.dumps({"stores": records}, ensure_ascii=False, indent=2))
        return 0
    if not records:
        print("no catalogs imported (listok catalog import FILE)")
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["imported_at"] / 1000))
        print(
            f"{r['store']}\t{r['format']}\t{r['offers']} offers ({r['available']} available)\t"
            f"feed {r['catalog_date'] or '?'}\timported {when}" + ("\tSTALE" if r["stale"] else "")
        )
    return 0


def _cli_remove(args: Any) -> int:
    _, catalog = _open(args)
    try:
        removed = catalog.remove(args.store)
    finally:
        catalog.close()
    if not removed:
        print(f"listok: no catalog for {args.store}", file=sys.stderr)
        return 1
    print(f"removed {args.store}")
    return 0


def _cli_search(args: Any) -> int:
    _, catalog = _open(args)
    try:
        found = search(catalog, args.query, store=args.store, limit=args.limit)
    finally:
        catalog.close()
    for p in found:
        price = "-" if p.price is None else f"{p.price:g} {p.currency}"
        flag = "" if p.available else "\t(unavailable)"
        print(f"{p.store}\t{p.sku}\t{p.name}\t{price}{flag}")
    return 0
