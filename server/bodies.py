"""Every JSON body of the API, declared once as msgspec Structs.

Requests are decoded and validated with these declarations (server/http.py `decode`), and the
OpenAPI components are generated from them (server/openapi.py): the documented limit is the
enforced one. The limits themselves live in server/schema.py. msgspec was chosen over pydantic
by measurement: docs/decisions/request-schemas.md.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from server import schema
from server.events import EVENT_TYPES

if TYPE_CHECKING:
    Category = str
    Aisle = str
    EventType = str
else:
    Category = Literal[("", *schema.CATEGORIES)]
    Aisle = Literal[tuple(schema.CATEGORIES)]
    EventType = Literal[tuple(EVENT_TYPES)]

FORMAT: Final = "listok.list/v1"

Title = Annotated[str, Meta(max_length=schema.TITLE_MAX)]
Name = Annotated[str, Meta(min_length=1, max_length=schema.NAME_MAX)]
Qty = Annotated[float, Meta(ge=0, le=schema.QTY_MAX)]
Unit = Annotated[str, Meta(max_length=schema.UNIT_MAX)]
Note = Annotated[str, Meta(max_length=schema.NOTE_MAX)]
Token = Annotated[str, Meta(pattern=schema.TOKEN_PATTERN)]
Label = Annotated[str, Meta(max_length=schema.LABEL_MAX)]
Prompt = Annotated[str, Meta(min_length=1, max_length=schema.PROMPT_MAX)]
ShortText = Annotated[str, Meta(max_length=schema.IMPORT_TEXT_MAX)]
Stamp = Annotated[float, Meta(ge=0)]
Duplicate = Literal["reject", "add", "merge"]
StoreName = Annotated[str, Meta(min_length=1, max_length=schema.STORE_NAME_MAX)]
Sku = Annotated[str, Meta(min_length=1, max_length=schema.SKU_MAX)]
ProductName = Annotated[str, Meta(max_length=schema.PRODUCT_NAME_MAX)]
Currency = Annotated[str, Meta(max_length=schema.CURRENCY_MAX)]
Price = Annotated[float, Meta(ge=0, le=schema.PRICE_MAX)]


class Body(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A request body: unknown fields are refused."""


def _stripped(value: str, field: str, *, empty: bool = True) -> str:
    value = value.strip()
    if not empty and not value:
        raise ValueError(f"{field} must not be empty")
    return value


def shop_name(value: str, field: str = "store") -> str:
    """A shop's name as given ("Magnum", "Small 24"): spaces collapsed, printable, not empty."""
    name = " ".join(value.split())
    if not name or any(unicodedata.category(c)[0] == "C" for c in name):
        raise ValueError(f"{field} must be 1-{schema.STORE_NAME_MAX} printable characters")
    return name


# -- requests ------------------------------------------------------------------------------


class NewList(Body):
    title: Title = ""
    token: Token | UnsetType = UNSET

    def __post_init__(self) -> None:
        self.title = self.title.strip()


class ListPatch(Body):
    title: Title

    def __post_init__(self) -> None:
        self.title = self.title.strip()


class ItemFields(Body):
    """The editable fields of an item; absent fields are left as they are."""

    name: Name | UnsetType = UNSET
    qty: Qty | UnsetType | None = UNSET
    unit: Unit | UnsetType | None = UNSET
    note: Note | UnsetType = UNSET
    category: Category | UnsetType = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.name, str):
            self.name = _stripped(self.name, "name", empty=False)
        if isinstance(self.unit, str):
            self.unit = self.unit.strip() or None
        if isinstance(self.note, str):
            self.note = self.note.strip()

    def given(self) -> dict[str, Any]:
        """The fields the request carried, cleaned."""
        return {
            f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not UNSET
        }


class Product(Body):
    """A catalog offer an item is linked to (picked in the app, or PATCHed): `product`."""

    store: StoreName
    sku: Sku
    price: Price
    name: ProductName = ""
    currency: Currency = ""
    unit_price: Price | None = None

    def __post_init__(self) -> None:
        self.store = shop_name(self.store, "product.store")
        self.sku = _stripped(self.sku, "product.sku", empty=False)
        self.name = self.name.strip()
        self.currency = self.currency.strip()

    def link(self) -> dict[str, Any]:
        """What the item's document holds (unit_price only when known)."""
        out: dict[str, Any] = {
            "store": self.store,
            "sku": self.sku,
            "name": self.name,
            "currency": self.currency,
            "price": self.price,
        }
        if self.unit_price is not None:
            out["unit_price"] = self.unit_price
        return out


class ItemPatch(ItemFields):
    checked: bool | UnsetType = UNSET
    product: Product | UnsetType | None = UNSET

    def given(self) -> dict[str, Any]:
        out = super().given()
        if isinstance(self.product, Product):
            out["product"] = self.product.link()
        return out


class Position(Body):
    """Next to another item: before or after it (not both); neither: at the end."""

    before: str | UnsetType = UNSET
    after: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.before, str) and isinstance(self.after, str):
            raise ValueError("give before or after, not both")


class NewItem(ItemFields):
    """Either name (with optional fields) or text, parsed into name, qty and unit."""

    text: Name | UnsetType = UNSET
    before: str | UnsetType = UNSET
    after: str | UnsetType = UNSET
    duplicate: Duplicate = "reject"

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.text, str):
            if self.name is not UNSET:
                raise ValueError("give either text or name, not both")
            self.text = _stripped(self.text, "text", empty=False)
        elif self.name is UNSET:
            raise ValueError("name (or text) is required")
        if isinstance(self.before, str) and isinstance(self.after, str):
            raise ValueError("give before or after, not both")

    def where(self) -> dict[str, str]:
        return {k: v for k in ("before", "after") if isinstance(v := getattr(self, k), str)}

    def given(self) -> dict[str, Any]:
        out = super().given()
        for key in ("text", "before", "after", "duplicate"):
            out.pop(key, None)
        return out


class NewItems(Body):
    items: Annotated[list[NewItem], Meta(min_length=1)]


class NewShare(Body):
    role: Literal["owner", "edit", "view"]
    label: Label = ""

    def __post_init__(self) -> None:
        self.label = self.label.strip()


class PromptBody(Body):
    prompt: Prompt

    def __post_init__(self) -> None:
        self.prompt = _stripped(self.prompt, "prompt", empty=False)


class ShopChoice(Body):
    """`PUT /api/lists/{id}/shop`: the list's shop (null: none) and, for that shop, the aisle
    order set by hand (null: back to the learned one). An order needs the shop it is for."""

    shop: StoreName | UnsetType | None = UNSET
    order: Annotated[list[Aisle], Meta(max_length=schema.AISLE_ORDER_MAX)] | UnsetType | None = (
        UNSET
    )

    def __post_init__(self) -> None:
        if isinstance(self.shop, str):
            self.shop = shop_name(self.shop, "shop")
        if self.order is not UNSET and not isinstance(self.shop, str):
            raise ValueError("give the shop whose order this is")
        if isinstance(self.order, list):
            self.order = list(dict.fromkeys(self.order))


class ExportItem(Struct, omit_defaults=True):
    """An item of a JSON export, as imported back (fields the export adds are ignored)."""

    name: Name
    qty: Qty | None = None
    unit: Unit | None = None
    note: Note = ""
    category: Category = ""
    checked: bool = False
    id: ShortText | None = None
    order: ShortText | None = None
    created_by: ShortText | None = None
    checked_at: Stamp | None = None
    created_at: Stamp | None = None
    updated_at: Stamp | None = None

    def __post_init__(self) -> None:
        self.name = _stripped(self.name, "name", empty=False)
        self.unit = self.unit.strip() or None if isinstance(self.unit, str) else None
        self.note = self.note.strip()


class Export(Struct):
    """A lossless export, `GET /export?format=json`; `POST /import` takes it back."""

    format: Literal["listok.list/v1"]
    items: list[ExportItem]
    id: str = ""
    title: str = ""
    created_at: int | None = None
    exported_at: int | None = None


# -- responses -----------------------------------------------------------------------------


class Error(Struct):
    ok: Literal[False]
    error: str
    status: int
    field: str | UnsetType = UNSET


class Item(Struct):
    id: str
    name: str
    qty: float | None
    unit: str | None
    note: str
    category: str
    checked: bool
    checked_at: int | None
    order: str
    created_at: int | None
    updated_at: int | None
    created_by: str
    product: Product | None = None


class Offer(Struct):
    """A catalog offer as `GET /api/products` answers it."""

    store: str
    sku: str
    name: str
    brand: str
    price: float | None
    currency: str
    unit: str
    unit_price: float | None
    unit_base: str  # kg, l or pc: what unit_price is per
    barcode: str
    category: str
    available: bool
    catalog_date: str
    imported_at: int


class Products(Struct):
    items: list[Offer]


class StoreTotal(Struct):
    store: str
    currency: str
    total: float
    priced: int
    unpriced: int
    catalog_date: str
    imported_at: int
    stale: bool


class Totals(Struct):
    """Per imported store: the estimated cost of the unchecked items priced there."""

    stores: list[StoreTotal]
    cheapest: str | None
    items: int
    partial: bool  # more unchecked items than LISTOK_CATALOG_TOTALS_MAX_LOOKUPS allowed


class Shop(Struct):
    shop: str | None
    order: list[str]
    learned: list[str]
    manual: list[str] | None


class CatalogStore(Struct):
    store: str
    format: str
    source: str
    catalog_date: str
    company: str
    currency: str
    imported_at: int
    offers: int
    available: int
    stale: bool


class CatalogStores(Struct):
    stores: list[CatalogStore]


class CatalogImport(Struct):
    store: str
    offers: int
    available: int
    added: int
    kept: int
    repriced: int
    vanished: int
    repeated: int
    seconds: float


class List(Struct):
    id: str
    title: str
    created_at: int | None
    items: list[Item]
    role: Literal["owner", "edit", "view"] | UnsetType = UNSET
    totals: Totals | UnsetType = UNSET  # GET /api/lists/{id}: the catalog's estimate
    shop: str | UnsetType | None = UNSET


class Items(Struct):
    items: list[Item]


class CreatedList(Struct):
    id: str
    title: str
    role: Literal["owner"]
    token: str


class Share(Struct):
    id: str
    role: Literal["owner", "edit", "view"]
    label: str
    created_at: int
    revoked_at: int | None = None
    # ms; null until first used. Recorded at most about once a minute per link (server/uses.py)
    last_used_at: int | None = None
    token: str | UnsetType = UNSET  # only when the link is created
    path: str | UnsetType = UNSET


class Shares(Struct):
    shares: list[Share]


class Suggestion(Struct):
    """`reason` is worded in the list's language; the fields after it (models/history.py
    REASON_FIELDS) let an app word it in its own."""

    name: str
    source: Literal["history", "together", "dish", "model"]
    reason: str
    score: float | UnsetType = UNSET
    item_id: str | UnsetType = UNSET  # a checked item still on the list: accept = uncheck it
    with_: list[str] | UnsetType = msgspec.field(default=UNSET, name="with")  # together
    every_days: int | UnsetType = UNSET  # history: the usual interval
    last_days: int | UnsetType = UNSET  # history: days since the last purchase
    dish: str | UnsetType = UNSET  # the dish it goes with (together) or was asked for (dish)
    occasion: str | UnsetType = UNSET  # together: the table's set it is from (breakfast)
    servings: int | UnsetType = UNSET  # dish
    qty: float | UnsetType = UNSET  # dish
    unit: str | UnsetType = UNSET  # dish


class Suggestions(Struct):
    # used, cached, table, nearest, pending (the model is working: ask again), or why not:
    # absent, loading, failed, busy, timeout, too_long, off, skipped (docs/suggestions.md)
    model: str
    suggestions: list[Suggestion]


class Event(Struct):
    id: int
    type: EventType
    actor: str
    at: int
    item_id: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    summary: str | UnsetType = UNSET


class Activity(Struct):
    activity: list[Event]


class DuplicateAnswer(Struct):
    duplicate: Item | None


REQUESTS: Final = (
    NewList,
    ListPatch,
    NewItem,
    NewItems,
    ItemPatch,
    Position,
    NewShare,
    ShopChoice,
)
RESPONSES: Final = (
    Error,
    Item,
    List,
    Items,
    CreatedList,
    Share,
    Shares,
    Suggestions,
    Activity,
    Products,
    Shop,
    CatalogStores,
    CatalogImport,
)
ALL: Final = (*REQUESTS, PromptBody, Export, *RESPONSES, DuplicateAnswer)


def components() -> dict[str, Any]:
    """The OpenAPI `components.schemas`, generated from the declarations above."""
    _, found = msgspec.json.schema_components(ALL, ref_template="#/components/schemas/{name}")
    return found
