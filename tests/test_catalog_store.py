"""The catalog tables: atomic imports, re-pricing, lookup by word forms, prefixes and typos."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from models.catalog import FeedError
from server.catalog import import_feed, learned_order, search, trip_pairs
from store.catalog import CatalogError, CatalogStore

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"
sys.path.insert(0, str(FIXTURES))
from generate import csv_feed, kaspi_feed, offers  # noqa: E402


@pytest.fixture
def catalog(tmp_path: Path) -> CatalogStore:
    store = CatalogStore(tmp_path / "listok.db")
    yield store  # type: ignore[misc]
    store.close()


def rows(db: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_import_and_look_up_by_word_form_prefix_and_typo(catalog: CatalogStore) -> None:
    result = import_feed(catalog, FIXTURES / "kaspi.xml", "Magnum")
    assert (result.offers, result.added, result.kept, result.vanished) == (300, 300, 0, 0)
    (record,) = catalog.stores()
    assert record.name == "Magnum" and record.format == "kaspi" and record.offers == 300
    assert record.feed_date == "2026-11-20 08:00" and record.currency == "KZT"

    def names(query: str) -> list[str]:
        return [p.name for p in search(catalog, query, limit=5)]

    assert names("молоко")[0].startswith("Молоко")
    assert names("молока")[0].startswith("Молоко")  # another case of the same word
    assert names("мол")[0].startswith("Молоко")  # typed so far: a prefix
    assert names("сыр российский")[0].startswith("Сыр «Российский»")
    assert names("малоко")[0].startswith("Молоко")  # one letter wrong
    assert names("пелмени")[0].startswith("Пельмени")  # one letter missing
    assert names("apple")[0].startswith("Apples")  # English plural
    assert names("шоколад молочный") and all("Шоколад" in n for n in names("шоколад молочный"))
    assert names("несуществующий") == []
    assert names('"; DROP TABLE x; --') == []  # FTS syntax is quoted, never an error


def test_store_filter_and_unavailable_last(catalog: CatalogStore) -> None:
    import_feed(catalog, FIXTURES / "kaspi.xml", "Magnum")
    import_feed(catalog, FIXTURES / "shop.yml")
    assert {r.name for r in catalog.stores()} == {"Magnum", "Фикстура-Маркет"}
    found = search(catalog, "хлеб", store="Фикстура-Маркет", limit=10)
    assert found and {p.store for p in found} == {"Фикстура-Маркет"}
    assert all(p.currency == "RUB" for p in found)
    everything = search(catalog, "молоко", limit=50)
    flags = [p.available for p in everything]
    assert flags == sorted(flags, reverse=True)


def test_reimport_reprices_without_duplicates_and_marks_vanished(
    catalog: CatalogStore, tmp_path: Path
) -> None:
    import_feed(catalog, kaspi_feed(tmp_path / "a.xml", 200, seed=1), "Shop")
    before = {p.sku: p.price for p in search(catalog, "молоко", store="Shop", limit=50)}
    # The shop's next price list: new prices, and the last 50 offers gone.
    result = import_feed(catalog, kaspi_feed(tmp_path / "b.xml", 150, seed=2), "Shop")
    assert (result.offers, result.kept, result.added, result.vanished) == (200, 150, 0, 50)
    assert result.repriced > 0
    (record,) = catalog.stores()
    assert record.offers == 200
    after = {p.sku: p for p in search(catalog, "молоко", store="Shop", limit=50)}
    assert after.keys() == before.keys()
    changed = [sku for sku, p in after.items() if p.price != before[sku]]
    assert changed
    # One row per sku in the current import: no duplicates.
    db = tmp_path / "listok.db"
    assert rows(db, "SELECT count(*), count(DISTINCT sku) FROM catalog_offers") == [(200, 200)]
    gone = catalog.offer("Shop", "FX-000199")
    assert gone is not None and not gone.available
    kept = catalog.offer("Shop", "FX-000000")
    assert kept is not None
    # Brought back by a later file: available again.
    import_feed(catalog, kaspi_feed(tmp_path / "c.xml", 200, seed=2), "Shop")
    expected = {str(o["sku"]): bool(o["available"]) for o in offers(200, seed=2)}
    for n in range(150, 200):
        back = catalog.offer("Shop", f"FX-{n:06d}")
        assert back is not None and back.available == expected[f"FX-{n:06d}"]
    assert any(expected[f"FX-{n:06d}"] for n in range(150, 200))
    assert rows(db, "SELECT count(*) FROM catalog_offers") == [(200,)]
    assert rows(db, "SELECT count(*) FROM catalog_fts") == [(200,)]


def test_a_failed_import_keeps_the_old_catalog_and_leaves_nothing(
    catalog: CatalogStore, tmp_path: Path
) -> None:
    import_feed(catalog, FIXTURES / "kaspi.xml", "Magnum")
    db = tmp_path / "listok.db"
    count = rows(db, "SELECT count(*) FROM catalog_offers")
    # Broken at offer 2500 of 3000: the first batch was already staged when it failed.
    bad = kaspi_feed(tmp_path / "bad.xml", 3000)
    text = bad.read_text()
    cut = text.index('sku="FX-002500"')
    bad.write_text(text[:cut] + text[cut:].replace("<price>", "<price>abc", 1))
    with pytest.raises(FeedError, match="FX-002"):
        import_feed(catalog, bad, "Magnum")
    assert rows(db, "SELECT count(*) FROM catalog_offers") == count
    assert rows(db, "SELECT count(*) FROM catalog_fts") == count
    assert rows(db, "SELECT count(*) FROM catalog_imports") == [(1,)]
    (record,) = catalog.stores()
    assert record.offers == 300 and search(catalog, "молоко")


def test_readers_see_the_old_catalog_until_the_new_one_is_complete(
    catalog: CatalogStore, tmp_path: Path
) -> None:
    import_feed(catalog, kaspi_feed(tmp_path / "a.xml", 3000, seed=1), "Shop")
    old = catalog.offer("Shop", "FX-000001")
    assert old is not None
    other = CatalogStore(tmp_path / "listok.db")  # another connection, as the server has
    seen: list[float | None] = []

    def progress(done: int) -> None:
        offer = other.offer("Shop", "FX-000001")
        seen.append(offer.price if offer else None)

    import_feed(catalog, kaspi_feed(tmp_path / "b.xml", 3000, seed=9), "Shop", progress=progress)
    assert len(seen) > 3 and set(seen) == {old.price}
    new = other.offer("Shop", "FX-000001")
    assert new is not None and new.price != old.price
    other.close()


def test_empty_file_and_remove(catalog: CatalogStore, tmp_path: Path) -> None:
    empty = tmp_path / "e.csv"
    empty.write_text("name,price\n")
    with pytest.raises(CatalogError, match="no offers"):
        import_feed(catalog, empty, "X")
    assert catalog.stores() == []
    import_feed(catalog, csv_feed(tmp_path / "p.csv", 10, encoding="utf-8", delimiter=","), "P")
    assert catalog.remove("P") and not catalog.remove("P")
    assert catalog.stores() == [] and search(catalog, "молоко") == []
    assert rows(tmp_path / "listok.db", "SELECT count(*) FROM catalog_offers") == [(0,)]


def test_aisle_order_is_learned_from_ticks() -> None:
    trip: list[str] = []
    pairs = []
    for category in ["produce", "bakery", "dairy", "produce", "frozen"]:
        pairs += [(a, b, 1) for a, b in trip_pairs(trip, category)]
        if category not in trip:
            trip.append(category)
    assert learned_order(pairs) == ["produce", "bakery", "dairy", "frozen"]
    # Later trips outweigh earlier ones when they disagree more often.
    pairs += [("dairy", "bakery", 1), ("dairy", "bakery", 1)]
    assert learned_order(pairs)[:3] == ["produce", "dairy", "bakery"]


def test_the_sqlite_catalog_has_the_whole_interface(catalog: CatalogStore) -> None:
    from store.catalog import Catalog

    backend: Catalog = catalog  # mypy checks the signatures; this checks the names
    names = [n for n in vars(Catalog) if not n.startswith("_")]
    assert names and all(callable(getattr(backend, n)) for n in names)
