"""Reading price lists: Kaspi XML, YML, CSV in two encodings, and the files that must be refused."""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest

from models.catalog import (
    Feed,
    FeedError,
    _offers_of,
    detect_format,
    index_terms,
    match_expressions,
    parse_price,
    path_reader,
    unit_price,
)

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"
sys.path.insert(0, str(FIXTURES))
from generate import kaspi_feed  # noqa: E402


def read(name: str, **kwargs: object) -> tuple[Feed, list]:  # type: ignore[type-arg]
    feed = Feed(FIXTURES / name, **kwargs)  # type: ignore[arg-type]
    return feed, list(feed.offers())


def test_kaspi_price_list_with_cyrillic_names_entities_and_city_prices() -> None:
    feed, offers = read("kaspi.xml")
    assert feed.info.format == "kaspi"
    assert feed.info.date == "2026-11-20 08:00"
    assert feed.info.company == 'Тестовый магазин "Фикстура" (fixture)'  # &quot; decoded
    assert len(offers) == 300
    assert len({o.sku for o in offers}) == 300
    by_sku = {o.sku: o for o in offers}
    first = by_sku["FX-000000"]
    assert first.name == "Молоко пастеризованное 3,2% Тестовая ферма 900 мл"
    assert first.currency == "KZT"
    assert first.city_prices == {"750000000": 540.0, "710000000": 550.0, "511010000": 560.0}
    assert first.price == 540.0  # the first city the file lists
    assert first.unit_base == "l" and first.unit_price == pytest.approx(600.0)
    assert any("&" in o.name for o in offers)  # "Шампунь & бальзам": &amp; decoded
    assert any(not o.available for o in offers)  # availability available="no"


def test_kaspi_city_choice() -> None:
    _, offers = read("kaspi.xml", city="710000000")
    assert offers[0].price == 550.0
    _, offers = read("kaspi.xml", city="999")
    assert offers[0].price is None and not offers[0].available  # not sold in that city
    assert offers[1].price is not None  # a plain <price> holds everywhere


def test_yml_with_categories_vendor_and_currency() -> None:
    feed, offers = read("shop.yml")
    assert feed.info.format == "yml"
    assert feed.info.shop == "Фикстура-Маркет"
    assert feed.info.currency == "RUB"  # RUR is the old code for the rouble
    assert len(offers) == 60
    milk = offers[0]
    assert milk.category == "dairy" and milk.brand == "Тестовая ферма"
    assert milk.barcode.startswith("46")
    assert milk.currency == "RUB"


def test_yml_declared_windows_1251() -> None:
    _, utf8 = read("shop.yml")
    _, cp1251 = read("shop_cp1251.yml")
    assert (
        (FIXTURES / "shop_cp1251.yml")
        .read_bytes()
        .startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    )
    assert [(o.name, o.price, o.category) for o in cp1251] == [
        (o.name, o.price, o.category) for o in utf8
    ]


def test_csv_in_utf8_and_cp1251_reads_the_same() -> None:
    _, utf8 = read("prices_utf8.csv")
    _, cp1251 = read("prices_cp1251.csv")
    assert len(utf8) == len(cp1251) == 40
    assert [o.name for o in utf8] == [o.name for o in cp1251]
    assert [o.price for o in utf8] == [o.price for o in cp1251]  # "480.5" and "480,50"
    assert utf8[0].name == "Молоко пастеризованное 3,2% Тестовая ферма 900 мл"  # quoted comma
    assert utf8[0].price == 480.5 and utf8[0].sku == "FX-000000"


def test_csv_without_sku_uses_the_name(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("Название\tЦена\tЕд.\nХлеб «Бородинский»\t1 250,00 ₸\tшт\n", encoding="utf-8")
    (offer,) = Feed(path).offers()
    assert offer.sku == "name:хлеб «бородинский»"
    assert offer.price == 1250.0 and offer.unit == "шт"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("xxe.xml", "DTD"),
        ("bomb.xml", "DTD"),
        ("broken.xml", "line 6"),
        ("bad_price.xml", "offer 2 (sku 2): price 'двести' is not a number"),
        ("bad_price.csv", "line 3: price 'не знаю' is not a number"),
        ("no_price_column.csv", "no price column"),
        ("unknown_root.xml", "root element 'catalog'"),
    ],
)
def test_bad_files_are_refused_with_a_clear_error(name: str, message: str) -> None:
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        read(name)
    assert "root:" not in str(err.value)  # /etc/passwd never read into a name


def test_xxe_entity_is_never_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    path = tmp_path / "evil.xml"
    path.write_text(
        (FIXTURES / "xxe.xml").read_text().replace("file:///etc/passwd", secret.as_uri())
    )
    with pytest.raises(FeedError) as err:
        list(Feed(path).offers())
    assert "TOP-SECRET" not in str(err.value)


def test_empty_and_binary_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FeedError, match="empty"):
        detect_format(empty)
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(FeedError, match="binary"):
        detect_format(binary)


def test_offers_are_dropped_from_the_tree_once_read(tmp_path: Path) -> None:
    """What keeps memory bounded: the tree holds only the offers of the chunk being parsed."""
    path = kaspi_feed(tmp_path / "k.xml", 3000)
    roots: list[Element] = []
    most = count = 0

    def header(name: str, elem: Element) -> None:
        if name == "root":
            roots.append(elem)

    with path_reader(path, None) as raw:
        for _, elem in _offers_of(raw, header):
            count += 1
            parent = next(iter(roots[0].iter("{kaspiShopping}offers")))
            most = max(most, len(parent))
            assert len(elem)  # the offer itself is complete
    assert count == 3000
    assert most < 200  # one read-ahead chunk, not the file
    assert len(parent) == 0


def test_prices_and_units() -> None:
    assert parse_price("1 299,50", "x") == 1299.5
    assert parse_price("1,299.50", "x") == 1299.5
    assert parse_price("", "x") is None
    with pytest.raises(FeedError):
        parse_price("-5", "x")
    assert unit_price("Гречка 900 г", 630) == (700.0, "kg")
    assert unit_price("Яйца С1 10 шт", 900) == (90.0, "pc")
    assert unit_price("Хлеб", 200) == (None, "")


def test_terms_hold_dictionary_and_surface_forms() -> None:
    assert index_terms("Молока пастеризованного") == (
        "молоко молока пастеризовать пастеризованного"
    ) or index_terms("Молока пастеризованного").startswith("молоко молока")
    assert index_terms("Apples Golden").split()[:2] == ["apple", "apples"]
    lead, every = match_expressions("сыр рос")
    assert lead.startswith('(^"сыр"') and '"рос"*' in every
    assert match_expressions("") == ("", "")
