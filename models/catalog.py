"""Merchants' price lists: Kaspi XML, YML and CSV read as a stream of offers, and search terms.

The readers know nothing of the server or the store. XML is parsed with defusedxml (no DTD, no
entity declarations, no external references) through iterparse, and each offer's element is
dropped once read, so memory stays bounded whatever the file's size. Any problem raises
`FeedError` with a message that names the place in the file; the importer then keeps nothing.

Search terms: each word of a name is indexed by its dictionary form (pymorphy3 for Russian, a
small plural rule set for English, models/text.py) and by its folded surface form, so both
"молока" and a half-typed "мол" find "Молоко 3,2%".
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from models.text import fold, normalize_word

Format = Literal["kaspi", "yml", "csv"]
FORMATS: Final = ("kaspi", "yml", "csv")
Progress = Callable[[int], None]  # bytes read so far

NAME_MAX: Final = 300
TEXT_MAX: Final = 200
PRICE_MAX: Final = 1e12
_CURRENCIES: Final = {
    "RUR": "RUB",
    "KZT": "KZT",
    "TENGE": "KZT",
    "₸": "KZT",
    "₽": "RUB",
    "€": "EUR",
}


class FeedError(ValueError):
    """A file that cannot be imported; the message says where and why."""


@dataclass
class Offer:
    sku: str
    name: str
    price: float | None
    currency: str
    brand: str = ""
    unit: str = ""
    barcode: str = ""
    category: str = ""
    available: bool = True
    city_prices: dict[str, float] = field(default_factory=dict)
    unit_price: float | None = None
    unit_base: str = ""  # "kg", "l" or "pc": what unit_price is per

    def terms(self) -> str:
        return index_terms(f"{self.name} {self.brand}")


@dataclass
class FeedInfo:
    format: Format
    date: str = ""
    company: str = ""
    shop: str = ""
    currency: str = ""
    cities: list[str] = field(default_factory=list)


class Feed:
    """One file: `info` is filled as the header is read; iterate `offers()` once."""

    def __init__(
        self, path: Path, *, city: str | None = None, progress: Progress | None = None
    ) -> None:
        self.path = path
        self.city = city
        self.progress = progress
        self.info = FeedInfo(detect_format(path))

    def offers(self) -> Iterator[Offer]:
        with path_reader(self.path, self.progress) as raw:
            if self.info.format == "kaspi":
                yield from _kaspi(raw, self.info, self.city)
            elif self.info.format == "yml":
                yield from _yml(raw, self.info)
            else:
                yield from _csv(raw, self.info)


# -- reading with progress ------------------------------------------------------------------


class _Counting(io.RawIOBase):
    """A binary file that reports how many bytes were read, for the progress bar."""

    def __init__(self, raw: IO[bytes], progress: Progress | None) -> None:
        self.raw = raw
        self.progress = progress
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.done += n
        if self.progress is not None:
            self.progress(self.done)
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def path_reader(path: Path, progress: Progress | None) -> io.BufferedReader:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise FeedError(f"cannot read {path}: {exc.strerror}") from exc
    return io.BufferedReader(_Counting(raw, progress), buffer_size=1 << 16)


_ROOT_TAG = re.compile(rb"<(?![?!])([A-Za-z_][\w:.-]*)")


def detect_format(path: Path) -> Format:
    """kaspi or yml by the XML root element's name, else csv; anything else is an error."""
    try:
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError as exc:
        raise FeedError(f"cannot read {path}: {exc.strerror}") from exc
    if not head.strip():
        raise FeedError("the file is empty")
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"<"):
        # Skip the declaration, comments and a DOCTYPE (which the parser then refuses).
        body = re.sub(rb"<!--.*?-->", b"", text, flags=re.S)
        body = re.sub(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", b"", body, flags=re.S)
        match = _ROOT_TAG.search(body)
        root = match.group(1).decode("ascii", "replace").rsplit(":", 1)[-1] if match else ""
        if root == "kaspi_catalog":
            return "kaspi"
        if root == "yml_catalog":
            return "yml"
        raise FeedError(
            f"unknown XML price list (root element {root or '?'!r}): "
            "expected kaspi_catalog (Kaspi) or yml_catalog (YML)"
        )
    if b"\x00" in head:
        raise FeedError("the file is binary, not a price list (Kaspi XML, YML or CSV)")
    return "csv"


# -- values ---------------------------------------------------------------------------------


_SPACES = re.compile(r"[\s\u00a0\u202f']+")


def parse_price(raw: str | None, where: str) -> float | None:
    """'1 299,50' -> 1299.5; '' -> None; anything else that is not a number is an error."""
    if raw is None:
        return None
    text = _SPACES.sub("", raw.strip())
    for sign in ("₸", "₽", "€", "$", "тг", "руб", "тенге"):
        text = text.replace(sign, "")
    if not text:
        return None
    if "," in text and "." in text:
        text = text.replace(",", "")
    text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise FeedError(f"{where}: price {raw.strip()[:40]!r} is not a number") from None
    if not 0 <= value < PRICE_MAX or value != value:
        raise FeedError(f"{where}: price {raw.strip()[:40]!r} is out of range")
    return value


def currency_code(raw: str, default: str) -> str:
    code = raw.strip().upper()
    if not code:
        return default
    return _CURRENCIES.get(code, code[:8])


def _clean(text: str | None, limit: int = TEXT_MAX) -> str:
    return " ".join((text or "").split())[:limit]


_PACK = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(кг|kg|г|гр|g|л|l|мл|ml|шт|pcs)\b\.?", re.IGNORECASE | re.UNICODE
)
_PACK_UNITS: Final = {
    "кг": ("kg", 1.0),
    "kg": ("kg", 1.0),
    "г": ("kg", 0.001),
    "гр": ("kg", 0.001),
    "g": ("kg", 0.001),
    "л": ("l", 1.0),
    "l": ("l", 1.0),
    "мл": ("l", 0.001),
    "ml": ("l", 0.001),
    "шт": ("pc", 1.0),
    "pcs": ("pc", 1.0),
}


def unit_price(name: str, price: float | None) -> tuple[float | None, str]:
    """Price per kg, litre or piece from a pack size in the name ("Молоко 900 мл")."""
    if price is None:
        return None, ""
    matches = _PACK.findall(name)
    if not matches:
        return None, ""
    amount, unit = matches[-1]
    base, factor = _PACK_UNITS[unit.lower()]
    quantity = float(amount.replace(",", ".")) * factor
    if quantity <= 0:
        return None, ""
    return round(price / quantity, 2), base


def _finish(offer: Offer) -> Offer:
    offer.unit_price, offer.unit_base = unit_price(offer.name, offer.price)
    return offer


# -- XML ------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_events(raw: IO[bytes]) -> Iterator[tuple[str, Element]]:
    try:
        yield from iterparse(raw, events=("start", "end"), forbid_dtd=True, forbid_entities=True)
    except DefusedXmlException as exc:
        raise FeedError(
            f"the file declares a DTD or entities ({type(exc).__name__}): refused, "
            "price lists never need one (XXE protection)"
        ) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(":")[0]
        raise FeedError(f"not well-formed XML at line {line}, column {column}: {reason}") from exc


def _children(elem: Element) -> dict[str, Element]:
    return {_local(child.tag): child for child in elem}


def _text(elem: Element | None) -> str:
    return "" if elem is None else "".join(elem.itertext()).strip()


def _offers_of(
    raw: IO[bytes], header: Callable[[str, Element], None]
) -> Iterator[tuple[int, Element]]:
    """(number, element) for each complete <offer>; other elements go to `header` once closed.

    Each offer is removed from its parent after use, so the tree never holds more than one.
    """
    stack: list[Element] = []
    count = 0
    root_seen = False
    for event, elem in _xml_events(raw):
        if event == "start":
            if not root_seen:
                root_seen = True
                header("root", elem)
            stack.append(elem)
            continue
        stack.pop()
        name = _local(elem.tag)
        if name == "offer":
            count += 1
            yield count, elem
            elem.clear()
            if stack:
                stack[-1].remove(elem)
        elif stack and _local(stack[-1].tag) != "offer" and name != "offers":
            header(name, elem)


def _kaspi(raw: IO[bytes], info: FeedInfo, city: str | None) -> Iterator[Offer]:
    info.currency = "KZT"
    cities: set[str] = set()

    def header(name: str, elem: Element) -> None:
        if name == "root":
            info.date = _clean(elem.get("date"), 40)
        elif name == "company":
            info.company = _clean(_text(elem))

    for n, elem in _offers_of(raw, header):
        sku = _clean(elem.get("sku"), 100)
        where = f"offer {n}" + (f" (sku {sku})" if sku else "")
        if not sku:
            raise FeedError(f"{where}: the sku attribute is missing")
        parts = _children(elem)
        name = _clean(_text(parts.get("model")), NAME_MAX)
        if not name:
            raise FeedError(f"{where}: <model> (the name) is missing")
        prices: dict[str, float] = {}
        if "cityprices" in parts:
            for cp in parts["cityprices"]:
                value = parse_price(_text(cp), where)
                if value is not None:
                    prices[_clean(cp.get("cityId"), 20)] = value
        price = parse_price(_text(parts.get("price")), where) if "price" in parts else None
        if price is None and prices:
            # The city asked for, else the first one the file lists.
            price = prices.get(city) if city else next(iter(prices.values()))
        if price is None and not prices:
            raise FeedError(f"{where}: no <price> and no <cityprices>")
        cities.update(prices)
        states = [
            a.get("available", "yes").strip().lower() for a in parts.get("availabilities", [])
        ]
        available = not states or "yes" in states
        yield _finish(
            Offer(
                sku=sku,
                name=name,
                price=price,
                currency="KZT",
                brand=_clean(_text(parts.get("brand"))),
                available=available and price is not None,
                city_prices=prices,
            )
        )
    info.cities = sorted(cities)


def _yml(raw: IO[bytes], info: FeedInfo) -> Iterator[Offer]:
    categories: dict[str, str] = {}
    default_currency = ""

    def header(name: str, elem: Element) -> None:
        nonlocal default_currency
        if name == "root":
            info.date = _clean(elem.get("date"), 40)
        elif name == "category":
            categories[_clean(elem.get("id"), 40)] = _clean(_text(elem), 100)
            elem.clear()
        elif name == "currency" and elem.get("rate", "1").strip() == "1":
            default_currency = default_currency or currency_code(elem.get("id") or "", "")
        elif name == "name" and not info.shop:
            info.shop = _clean(_text(elem))
        elif name == "company":
            info.company = _clean(_text(elem))

    for n, elem in _offers_of(raw, header):
        sku = _clean(elem.get("id"), 100)
        where = f"offer {n}" + (f" (id {sku})" if sku else "")
        if not sku:
            raise FeedError(f"{where}: the id attribute is missing")
        parts = _children(elem)
        vendor = _clean(_text(parts.get("vendor")))
        name = _clean(_text(parts.get("name")), NAME_MAX)
        if not name:
            name = _clean(f"{_text(parts.get('typePrefix'))} {vendor} {_text(parts.get('model'))}")
        if not name:
            raise FeedError(f"{where}: <name> (or <vendor> and <model>) is missing")
        price = parse_price(_text(parts.get("price")), where)
        if price is None:
            raise FeedError(f"{where}: <price> is missing")
        unit = ""
        for param in elem:
            if _local(param.tag) == "param" and fold(param.get("name") or "") in (
                "единица измерения",
                "unit",
            ):
                unit = _clean(_text(param), 20)
        currency = currency_code(_text(parts.get("currencyId")), default_currency or "RUB")
        info.currency = info.currency or currency
        yield _finish(
            Offer(
                sku=sku,
                name=name,
                price=price,
                currency=currency,
                brand=vendor,
                unit=unit,
                barcode=_clean(_text(parts.get("barcode")), 40),
                category=categories.get(_text(parts.get("categoryId")), ""),
                available=elem.get("available", "true").strip().lower() not in ("false", "0"),
            )
        )


# -- CSV ------------------------------------------------------------------------------------

_COLUMNS: Final = {
    "name": ("name", "title", "model", "product", "название", "наименование", "товар", "модель"),
    "price": ("price", "цена", "стоимость", "цена, тг", "цена, руб"),
    "sku": ("sku", "id", "code", "article", "артикул", "код", "код товара"),
    "brand": ("brand", "vendor", "manufacturer", "бренд", "производитель", "марка"),
    "unit": ("unit", "ед", "ед.", "ед. изм.", "ед.изм.", "единица", "единица измерения"),
    "barcode": ("barcode", "ean", "gtin", "штрихкод", "штрих-код"),
    "category": ("category", "категория", "группа", "раздел"),
    "currency": ("currency", "валюта"),
    "available": ("available", "availability", "in stock", "наличие", "в наличии"),
}


def _encoding(raw: io.BufferedReader) -> str:
    """utf-8 (with or without BOM) when the head decodes as UTF-8, else cp1251."""
    head = raw.peek(1 << 16)[: 1 << 16]
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8"


def _header_map(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = fold(title.strip().strip('"'))
        for column, aliases in _COLUMNS.items():
            if key in aliases and column not in columns:
                columns[column] = index
    missing = [c for c in ("name", "price") if c not in columns]
    if missing:
        raise FeedError(
            f"line 1: the header has no {' or '.join(missing)} column "
            f"(found: {', '.join(h.strip() for h in header[:10]) or 'nothing'})"
        )
    return columns


def _csv(raw: IO[bytes], info: FeedInfo) -> Iterator[Offer]:
    assert isinstance(raw, io.BufferedReader)
    encoding = _encoding(raw)
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    try:
        sample = text.read(1 << 15)
    except UnicodeDecodeError as exc:
        raise FeedError(f"the file is neither UTF-8 nor cp1251 text: {exc.reason}") from exc
    try:
        dialect: Any = csv.Sniffer().sniff("\n".join(sample.splitlines()[:20]), ",;\t|")
    except csv.Error:
        first = sample.split("\n", 1)[0]
        dialect = csv.excel
        best = max(",;\t|", key=first.count)
        if first.count(best):
            dialect = type("Sniffed", (csv.excel,), {"delimiter": best})
    rest = io.StringIO(sample)
    reader = csv.reader(_chain(rest, text), dialect)
    try:
        header = next(reader)
        columns = _header_map(header)
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            yield _csv_offer(row, columns, f"line {line}")
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"line {reader.line_num}: not {encoding} text ({exc.reason}); "
            "save the file as UTF-8 or cp1251"
        ) from exc
    except csv.Error as exc:
        raise FeedError(f"line {reader.line_num}: {exc}") from exc
    except StopIteration:
        raise FeedError("the file has no header row") from None


def _chain(first: io.StringIO, rest: io.TextIOWrapper) -> Iterator[str]:
    yield from first
    yield from rest


def _csv_offer(row: list[str], columns: dict[str, int], where: str) -> Offer:
    def cell(column: str) -> str:
        index = columns.get(column)
        return row[index].strip() if index is not None and index < len(row) else ""

    name = _clean(cell("name"), NAME_MAX)
    if not name:
        raise FeedError(f"{where}: the name is empty")
    price = parse_price(cell("price"), where)
    sku = _clean(cell("sku"), 100) or "name:" + fold(name)[:100]
    state = fold(cell("available"))
    available = state not in ("0", "no", "false", "нет")
    return _finish(
        Offer(
            sku=sku,
            name=name,
            price=price,
            currency=currency_code(cell("currency"), ""),
            brand=_clean(cell("brand")),
            unit=_clean(cell("unit"), 20),
            barcode=_clean(cell("barcode"), 40),
            category=_clean(cell("category"), 100),
            available=available and price is not None,
        )
    )


# -- search terms ---------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def index_terms(text: str) -> str:
    """Each word's dictionary form, then its surface form where that differs."""
    out: list[str] = []
    for word in words(text):
        lemma = normalize_word(word)
        out.append(lemma)
        if lemma != word:
            out.append(word)
    return " ".join(out)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expressions(query: str, *, extra: dict[str, list[str]] | None = None) -> tuple[str, str]:
    """Two FTS5 queries: every word must match, by dictionary form, surface form or (the last
    word, as being typed) as a prefix; the first also wants the name to start with word one.

    `extra` adds alternatives per word (typo corrections found by the store).
    """
    found = words(query)[:8]
    options: list[list[str]] = []
    for n, word in enumerate(found):
        terms = {_quote(word), _quote(normalize_word(word))}
        if n == len(found) - 1 and len(word) >= 2:
            terms.add(_quote(word) + "*")
        terms.update(_quote(t) for t in (extra or {}).get(word, []))
        options.append(sorted(terms))
    if not options:
        return "", ""
    every = " AND ".join("(" + " OR ".join(o) + ")" for o in options)
    lead = "(" + " OR ".join("^" + t for t in options[0]) + ")"
    rest = " AND ".join("(" + " OR ".join(o) + ")" for o in options[1:])
    return (f"{lead} AND {rest}" if rest else lead), every


TYPO_MIN: Final = 4
TYPO_MAX: Final = 12


def typo_words(terms: str) -> set[str]:
    return {t for t in terms.split() if TYPO_MIN <= len(t) <= TYPO_MAX and t.isalpha()}


def city_prices_json(prices: dict[str, float]) -> str:
    return json.dumps(prices, separators=(",", ":")) if prices else ""
