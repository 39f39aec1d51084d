"""The local product catalog: merchants' offers, their full-text index and per-shop aisle order.

Tables live in the lists' database file with their own migrations (`listok.catalog`). The SQL
is plain (one FTS5 table aside) so a PostgreSQL mirror can follow the same interface:

- `replace(store, info, rows)`: import a whole price list. Rows go in short batches under a new
  import id that no query sees; offers the new file no longer has are carried over as
  unavailable; then one small transaction makes the new import current, and the old one is
  deleted in batches. A failure at any point deletes the new rows: nothing half-imported, and
  the server (another connection, WAL) keeps reading the old catalog meanwhile.
- `search(match, store=, limit=)`: an FTS5 match over the current imports, best first.
- `typo_terms(keys)`: indexed words one edit away (symmetric-delete keys, see models/catalog).
- shops and aisles: which shop a list is set to, the category order learned from ticks, and
  an order set by hand.

This module imports nothing from models/ or server/: terms are computed by the caller.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from sqlite_utils import Database, Migrations

from store.sqlite_conn import SQLiteFile

migrations = Migrations("listok.catalog")

BATCH: Final = 2000
CANDIDATES: Final = 200
STORE_NAME_MAX: Final = 60


class CatalogError(Exception):
    """An import that could not be completed; nothing of it was kept."""


@migrations()
def c001_catalog(db: Database) -> None:
    db.execute(
        "CREATE TABLE catalog_stores (name TEXT PRIMARY KEY, import_id INTEGER NOT NULL,"
        " format TEXT NOT NULL, source TEXT NOT NULL, feed_date TEXT NOT NULL,"
        " company TEXT NOT NULL, currency TEXT NOT NULL, imported_at INTEGER NOT NULL,"
        " offers INTEGER NOT NULL, available INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TABLE catalog_imports (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " store TEXT NOT NULL, started_at INTEGER NOT NULL, state TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE catalog_offers (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " import_id INTEGER NOT NULL, store TEXT NOT NULL, sku TEXT NOT NULL,"
        " name TEXT NOT NULL, brand TEXT NOT NULL, price REAL, currency TEXT NOT NULL,"
        " unit TEXT NOT NULL, unit_price REAL, unit_base TEXT NOT NULL,"
        " barcode TEXT NOT NULL, category TEXT NOT NULL, available INTEGER NOT NULL,"
        " city_prices TEXT NOT NULL, terms TEXT NOT NULL, UNIQUE (import_id, sku))"
    )
    db.execute("CREATE INDEX idx_catalog_offers_store_sku ON catalog_offers (store, sku)")
    # The index of search terms; its rowid is catalog_offers.id.
    db.execute(
        "CREATE VIRTUAL TABLE catalog_fts USING fts5(terms,"
        " tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')"
    )
    # Symmetric-delete keys of indexed words: a word and each one-letter deletion of it.
    db.execute(
        "CREATE TABLE catalog_typos (key TEXT NOT NULL, term TEXT NOT NULL,"
        " PRIMARY KEY (key, term)) WITHOUT ROWID"
    )
    # Shops and aisles: a list set to a shop; the learned pairwise order of categories there
    # (before came before after `count` times); an order set by hand.
    db.execute("CREATE TABLE catalog_list_shops (list_id TEXT PRIMARY KEY, shop TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE catalog_aisle_pairs (shop TEXT NOT NULL, before TEXT NOT NULL,"
        " after TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (shop, before, after))"
    )
    db.execute(
        "CREATE TABLE catalog_aisle_manual (shop TEXT PRIMARY KEY, categories TEXT NOT NULL,"
        " updated_at INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TABLE catalog_tick_cursors (list_id TEXT PRIMARY KEY, event_id INTEGER NOT NULL,"
        " last_at INTEGER NOT NULL, trip TEXT NOT NULL)"
    )


@dataclass(frozen=True)
class OfferRow:
    """One offer to import; `terms` are its search words (models.catalog.index_terms)."""

    sku: str
    name: str
    price: float | None
    currency: str
    terms: str
    brand: str = ""
    unit: str = ""
    unit_price: float | None = None
    unit_base: str = ""
    barcode: str = ""
    category: str = ""
    available: bool = True
    city_prices: str = ""
    typo_words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ImportInfo:
    format: str
    source: str
    feed_date: str = ""
    company: str = ""
    currency: str = ""


@dataclass(frozen=True)
class CatalogRecord:
    name: str
    format: str
    source: str
    feed_date: str
    company: str
    currency: str
    imported_at: int
    offers: int
    available: int


@dataclass(frozen=True)
class Product:
    store: str
    sku: str
    name: str
    brand: str
    price: float | None
    currency: str
    unit: str
    unit_price: float | None
    unit_base: str
    barcode: str
    category: str
    available: bool
    feed_date: str
    imported_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "sku": self.sku,
            "name": self.name,
            "brand": self.brand,
            "price": self.price,
            "currency": self.currency,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "unit_base": self.unit_base,
            "barcode": self.barcode,
            "category": self.category,
            "available": self.available,
            "catalog_date": self.feed_date,
            "imported_at": self.imported_at,
        }


@dataclass(frozen=True)
class ImportResult:
    store: str
    offers: int
    available: int
    added: int  # new skus
    kept: int  # skus the previous import had too
    repriced: int  # of those, how many changed price
    vanished: int  # skus only the previous import had: kept, marked unavailable
    repeated: int  # rows whose sku came again later in the file (the last one counts)
    seconds: float


_PRODUCT_COLUMNS: Final = (
    "o.store, o.sku, o.name, o.brand, o.price, o.currency, o.unit, o.unit_price, o.unit_base,"
    " o.barcode, o.category, o.available, s.feed_date, s.imported_at"
)


class Catalog(Protocol):
    """What the server uses; a PostgreSQL catalog implements the same methods."""

    def replace(
        self, store: str, info: ImportInfo, rows: Iterable[OfferRow], *, batch: int = ...
    ) -> ImportResult: ...
    def stores(self) -> list[CatalogRecord]: ...
    def remove(self, store: str) -> bool: ...
    def search(
        self, lead: str, every: str, *, store: str | None = ..., limit: int = ...
    ) -> list[Product]: ...
    def offer(self, store: str, sku: str) -> Product | None: ...
    def typo_terms(self, word: str, *, limit: int = ...) -> list[str]: ...
    def list_shop(self, list_id: str) -> str | None: ...
    def set_list_shop(self, list_id: str, shop: str | None) -> None: ...
    def manual_order(self, shop: str) -> list[str] | None: ...
    def set_manual_order(self, shop: str, categories: Sequence[str] | None) -> None: ...
    def aisle_pairs(self, shop: str) -> list[tuple[str, str, int]]: ...
    def tick_cursor(self, list_id: str) -> tuple[int, int, list[str]]: ...
    def learn(
        self,
        shop: str,
        list_id: str,
        pairs: Sequence[tuple[str, str]],
        cursor: tuple[int, int, list[str]],
    ) -> None: ...
    def close(self) -> None: ...


def _product(row: Sequence[Any]) -> Product:
    fields = list(row[:14])
    fields[11] = bool(fields[11])
    return Product(*fields)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _batches(rows: Iterable[OfferRow], size: int) -> Iterator[list[OfferRow]]:
    batch: list[OfferRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class CatalogStore(SQLiteFile):
    """The catalog tables of one database file; safe to open beside a running server."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        super().__init__(path, synchronous=synchronous, timeout=30)
        self._migrate(migrations)

    # -- imports ----------------------------------------------------------------------------

    def replace(
        self, store: str, info: ImportInfo, rows: Iterable[OfferRow], *, batch: int = BATCH
    ) -> ImportResult:
        """Make `rows` the store's catalog; see the module docstring for how it stays atomic."""
        started = time.monotonic()
        with self._transaction() as conn:
            cur = conn.execute(
                "INSERT INTO catalog_imports (store, started_at, state) VALUES (?, ?, 'staging')",
                (store, _now_ms()),
            )
            import_id = int(cur.lastrowid or 0)
            row = conn.execute(
                "SELECT import_id FROM catalog_stores WHERE name = ?", (store,)
            ).fetchone()
            old_id: int | None = row[0] if row else None
        try:
            added = updated = 0
            keyed: set[str] = set()  # words whose typo keys this import has written
            for chunk in _batches(rows, batch):
                a, u = self._stage(import_id, store, chunk, keyed)
                added += a
                updated += u
            if added == 0:
                raise CatalogError("the file has no offers")
            kept, repriced = self._compare(old_id, import_id) if old_id is not None else (0, 0)
            vanished = self._carry_over(old_id, import_id) if old_id is not None else 0
            with self._transaction() as conn:
                offers, available = conn.execute(
                    "SELECT count(*), coalesce(sum(available), 0) FROM catalog_offers"
                    " WHERE import_id = ?",
                    (import_id,),
                ).fetchone()
                conn.execute(
                    "INSERT INTO catalog_stores (name, import_id, format, source, feed_date,"
                    " company, currency, imported_at, offers, available)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                    " import_id = excluded.import_id, format = excluded.format,"
                    " source = excluded.source, feed_date = excluded.feed_date,"
                    " company = excluded.company, currency = excluded.currency,"
                    " imported_at = excluded.imported_at, offers = excluded.offers,"
                    " available = excluded.available",
                    (
                        store,
                        import_id,
                        info.format,
                        info.source,
                        info.feed_date,
                        info.company,
                        info.currency,
                        _now_ms(),
                        offers,
                        available,
                    ),
                )
                conn.execute("UPDATE catalog_imports SET state = 'live' WHERE id = ?", (import_id,))
                if old_id is not None:
                    conn.execute("UPDATE catalog_imports SET state = 'old' WHERE id = ?", (old_id,))
        except BaseException:
            self._drop_import(import_id)
            raise
        self._drop_stale(store)
        self._merge_index()
        return ImportResult(
            store=store,
            offers=offers,
            available=available,
            added=added - kept,
            kept=kept,
            repriced=repriced,
            vanished=vanished,
            repeated=updated,
            seconds=round(time.monotonic() - started, 3),
        )

    def _compare(self, old_id: int, new_id: int) -> tuple[int, int]:
        """How many of the new file's offers the old import had, and how many changed price."""
        row = (
            self._reader()
            .execute(
                "SELECT count(*), coalesce(sum(o.price IS NOT n.price), 0) FROM catalog_offers n"
                " JOIN catalog_offers o ON o.import_id = ? AND o.sku = n.sku"
                " WHERE n.import_id = ?",
                (old_id, new_id),
            )
            .fetchone()
        )
        return int(row[0]), int(row[1])

    def _stage(
        self, import_id: int, store: str, chunk: list[OfferRow], keyed: set[str]
    ) -> tuple[int, int]:
        """Insert a batch under the staging import; a repeated sku replaces the earlier one."""
        added = repeated = 0
        keys: set[tuple[str, str]] = set()
        with self._transaction() as conn:
            for r in chunk:
                values = (
                    r.name,
                    r.brand,
                    r.price,
                    r.currency,
                    r.unit,
                    r.unit_price,
                    r.unit_base,
                    r.barcode,
                    r.category,
                    int(r.available),
                    r.city_prices,
                    r.terms,
                )
                cur = conn.execute(
                    "INSERT INTO catalog_offers (import_id, store, sku, name, brand, price,"
                    " currency, unit, unit_price, unit_base, barcode, category, available,"
                    " city_prices, terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (import_id, sku) DO NOTHING",
                    (import_id, store, r.sku, *values),
                )
                if cur.rowcount:
                    conn.execute(
                        "INSERT INTO catalog_fts (rowid, terms) VALUES (?, ?)",
                        (cur.lastrowid, r.terms),
                    )
                    added += 1
                else:
                    repeated += 1
                    (offer_id,) = conn.execute(
                        "SELECT id FROM catalog_offers WHERE import_id = ? AND sku = ?",
                        (import_id, r.sku),
                    ).fetchone()
                    conn.execute(
                        "UPDATE catalog_offers SET name = ?, brand = ?, price = ?, currency = ?,"
                        " unit = ?, unit_price = ?, unit_base = ?, barcode = ?, category = ?,"
                        " available = ?, city_prices = ?, terms = ? WHERE id = ?",
                        (*values, offer_id),
                    )
                    conn.execute("DELETE FROM catalog_fts WHERE rowid = ?", (offer_id,))
                    conn.execute(
                        "INSERT INTO catalog_fts (rowid, terms) VALUES (?, ?)", (offer_id, r.terms)
                    )
                for word in r.typo_words - keyed:
                    keyed.add(word)
                    keys.update((key, word) for key in _typo_keys(word))
            conn.executemany("INSERT OR IGNORE INTO catalog_typos (key, term) VALUES (?, ?)", keys)
        return added, repeated

    def _carry_over(self, old_id: int, new_id: int) -> int:
        """Copy offers of the old import that the new file lacks, marked unavailable."""
        carried = 0
        after = 0
        while True:
            with self._transaction() as conn:
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM catalog_offers WHERE import_id = ? AND id > ?"
                        " ORDER BY id LIMIT ?",
                        (old_id, after, BATCH),
                    )
                ]
                if not ids:
                    return carried
                after = ids[-1]
                (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM catalog_offers").fetchone()
                marks = ",".join("?" * len(ids))
                cur = conn.execute(
                    "INSERT INTO catalog_offers (import_id, store, sku, name, brand, price,"
                    " currency, unit, unit_price, unit_base, barcode, category, available,"
                    " city_prices, terms) SELECT ?, store, sku, name, brand, price, currency,"
                    " unit, unit_price, unit_base, barcode, category, 0, city_prices, terms"
                    f" FROM catalog_offers o WHERE o.id IN ({marks}) AND NOT EXISTS"
                    " (SELECT 1 FROM catalog_offers n WHERE n.import_id = ? AND n.sku = o.sku)",
                    (new_id, *ids, new_id),
                )
                carried += cur.rowcount
                conn.execute(
                    "INSERT INTO catalog_fts (rowid, terms) SELECT id, terms FROM catalog_offers"
                    " WHERE id > ? AND import_id = ?",
                    (top, new_id),
                )

    def _drop_import(self, import_id: int) -> None:
        while True:
            with self._transaction() as conn:
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM catalog_offers WHERE import_id = ? LIMIT ?",
                        (import_id, BATCH),
                    )
                ]
                if ids:
                    marks = ",".join("?" * len(ids))
                    conn.execute(f"DELETE FROM catalog_fts WHERE rowid IN ({marks})", ids)
                    conn.execute(f"DELETE FROM catalog_offers WHERE id IN ({marks})", ids)
                else:
                    conn.execute("DELETE FROM catalog_imports WHERE id = ?", (import_id,))
                    return

    def _drop_stale(self, store: str) -> None:
        """Delete the store's imports that are not current (old ones, crashed ones)."""
        with self._transaction() as conn:
            stale = [
                r[0]
                for r in conn.execute(
                    "SELECT i.id FROM catalog_imports i WHERE i.store = ? AND i.id NOT IN"
                    " (SELECT import_id FROM catalog_stores WHERE name = ?)"
                    " AND (i.state != 'staging' OR i.started_at < ?)",
                    (store, store, _now_ms() - 24 * 3600 * 1000),
                )
            ]
        for import_id in stale:
            self._drop_import(import_id)

    def _merge_index(self, *, pages: int = 1000, rounds: int = 1000) -> None:
        """Merge the FTS5 index's segments in short steps after an import: a re-imported,
        fragmented index costs about twice the CPU per lookup (docs/catalog.md)."""
        with self._transaction() as conn:
            conn.execute("INSERT INTO catalog_fts (catalog_fts, rank) VALUES ('usermerge', 2)")
        for _ in range(rounds):
            with self._transaction() as conn:
                before = conn.total_changes
                conn.execute(
                    "INSERT INTO catalog_fts (catalog_fts, rank) VALUES ('merge', ?)", (pages,)
                )
                if conn.total_changes - before < 2:  # SQLite's sign that no work was left
                    return

    # -- reading ----------------------------------------------------------------------------

    def stores(self) -> list[CatalogRecord]:
        rows = self._reader().execute(
            "SELECT name, format, source, feed_date, company, currency, imported_at, offers,"
            " available FROM catalog_stores ORDER BY name"
        )
        return [CatalogRecord(*row) for row in rows]

    def remove(self, store: str) -> bool:
        with self._transaction() as conn:
            cur = conn.execute("DELETE FROM catalog_stores WHERE name = ?", (store,))
            removed = cur.rowcount > 0
        self._drop_stale(store)
        return removed

    def search(
        self,
        lead: str,
        every: str,
        *,
        store: str | None = None,
        limit: int = 10,
        candidates: int = CANDIDATES,
    ) -> list[Product]:
        """Offers matching FTS5 expression `every`: available first, then those matching `lead`
        (the name starts with the query's first word), then shorter names.

        The work is bounded: at most `candidates` rows of each expression are ranked, so a
        query matching most of a big catalog costs no more than one matching a few thousand.
        """
        if not every:
            return []
        where = " AND o.store = ?4" if store else ""
        try:
            rows = (
                self._reader()
                .execute(
                    "WITH lead AS (SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ?1"
                    " LIMIT ?3), every AS (SELECT rowid FROM catalog_fts WHERE catalog_fts"
                    " MATCH ?2 LIMIT ?3), found AS (SELECT rowid, 1 AS lead FROM lead UNION ALL"
                    " SELECT rowid, 0 FROM every)"
                    f" SELECT {_PRODUCT_COLUMNS}, max(found.lead) AS first FROM found"
                    " JOIN catalog_offers o ON o.id = found.rowid"
                    " JOIN catalog_stores s ON s.name = o.store AND s.import_id = o.import_id"
                    f" WHERE 1{where} GROUP BY o.id"
                    " ORDER BY o.available DESC, first DESC, length(o.name), o.price LIMIT ?5",
                    (lead or every, every, candidates, store, limit),
                )
                .fetchall()
            )
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc):
                return []
            raise
        return [_product(row) for row in rows]

    def offer(self, store: str, sku: str) -> Product | None:
        row = (
            self._reader()
            .execute(
                f"SELECT {_PRODUCT_COLUMNS} FROM catalog_offers o"
                " JOIN catalog_stores s ON s.name = o.store AND s.import_id = o.import_id"
                " WHERE o.store = ? AND o.sku = ?",
                (store, sku),
            )
            .fetchone()
        )
        return _product(row) if row else None

    def typo_terms(self, word: str, *, limit: int = 20) -> list[str]:
        """Indexed words at most one edit (delete, insert, substitute, swap) from `word`."""
        keys = _typo_keys(word)
        marks = ",".join("?" * len(keys))
        rows = self._reader().execute(
            f"SELECT DISTINCT term FROM catalog_typos WHERE key IN ({marks}) LIMIT ?",
            (*keys, limit),
        )
        return [r[0] for r in rows]

    # -- shops and aisles -------------------------------------------------------------------

    def list_shop(self, list_id: str) -> str | None:
        row = (
            self._reader()
            .execute("SELECT shop FROM catalog_list_shops WHERE list_id = ?", (list_id,))
            .fetchone()
        )
        return str(row[0]) if row else None

    def set_list_shop(self, list_id: str, shop: str | None) -> None:
        with self._transaction() as conn:
            if shop:
                conn.execute(
                    "INSERT INTO catalog_list_shops (list_id, shop) VALUES (?, ?)"
                    " ON CONFLICT (list_id) DO UPDATE SET shop = excluded.shop",
                    (list_id, shop),
                )
            else:
                conn.execute("DELETE FROM catalog_list_shops WHERE list_id = ?", (list_id,))

    def manual_order(self, shop: str) -> list[str] | None:
        row = (
            self._reader()
            .execute("SELECT categories FROM catalog_aisle_manual WHERE shop = ?", (shop,))
            .fetchone()
        )
        return [str(c) for c in json.loads(row[0])] if row else None

    def set_manual_order(self, shop: str, categories: Sequence[str] | None) -> None:
        with self._transaction() as conn:
            if categories is None:
                conn.execute("DELETE FROM catalog_aisle_manual WHERE shop = ?", (shop,))
                return
            conn.execute(
                "INSERT INTO catalog_aisle_manual (shop, categories, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (shop) DO UPDATE SET categories = excluded.categories,"
                " updated_at = excluded.updated_at",
                (shop, json.dumps(list(categories)), _now_ms()),
            )

    def aisle_pairs(self, shop: str) -> list[tuple[str, str, int]]:
        rows = self._reader().execute(
            "SELECT before, after, count FROM catalog_aisle_pairs WHERE shop = ?", (shop,)
        )
        return [(str(a), str(b), int(n)) for a, b, n in rows]

    def tick_cursor(self, list_id: str) -> tuple[int, int, list[str]]:
        """(last event id read, time of the last tick, categories of the trip so far)."""
        row = (
            self._reader()
            .execute(
                "SELECT event_id, last_at, trip FROM catalog_tick_cursors WHERE list_id = ?",
                (list_id,),
            )
            .fetchone()
        )
        if row is None:
            return 0, 0, []
        return int(row[0]), int(row[1]), [str(c) for c in json.loads(row[2])]

    def learn(
        self,
        shop: str,
        list_id: str,
        pairs: Sequence[tuple[str, str]],
        cursor: tuple[int, int, list[str]],
    ) -> None:
        """Count each (before, after) category pair once more and move the list's cursor."""
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO catalog_aisle_pairs (shop, before, after, count) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (shop, before, after) DO UPDATE SET count = count + 1",
                [(shop, a, b) for a, b in pairs],
            )
            event_id, last_at, trip = cursor
            conn.execute(
                "INSERT INTO catalog_tick_cursors (list_id, event_id, last_at, trip)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (list_id) DO UPDATE SET"
                " event_id = excluded.event_id, last_at = excluded.last_at, trip = excluded.trip",
                (list_id, event_id, last_at, json.dumps(trip)),
            )


def _typo_keys(word: str) -> list[str]:
    """The word and each one-letter deletion of it: two words one edit apart share a key."""
    keys = {word}
    keys.update(word[:i] + word[i + 1 :] for i in range(len(word)))
    return sorted(keys)
