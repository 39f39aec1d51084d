"""Every JSON body of the API, declared once as msgspec Structs.

Requests are decoded and validated with these declarations (server/http.py `decode`), and the
OpenAPI components are generated from them (server/openapi.py): the documented limit is the
enforced one. The limits themselves live in server/schema.py. msgspec was chosen over pydantic
by measurement: docs/decisions/request-schemas.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from server import schema
from server.events import EVENT_TYPES

if TYPE_CHECKING:
    Category = str
    EventType = str
else:
    Category = Literal[("", *schema.CATEGORIES)]
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


class Body(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A request body: unknown fields are refused."""


def _stripped(value: str, field: str, *, empty: bool = True) -> str:
    value = value.strip()
    if not empty and not value:
        raise ValueError(f"{field} must not be empty")
    return value


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


class ItemPatch(ItemFields):
    checked: bool | UnsetType = UNSET


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


class List(Struct):
    id: str
    title: str
    created_at: int | None
    items: list[Item]
    role: Literal["owner", "edit", "view"] | UnsetType = UNSET


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
    token: str | UnsetType = UNSET  # only when the link is created
    path: str | UnsetType = UNSET


class Shares(Struct):
    shares: list[Share]


class Suggestion(Struct):
    name: str
    source: Literal["history", "together", "model"]
    reason: str
    score: float | UnsetType = UNSET


class Suggestions(Struct):
    model: str  # used, cached, or why not: absent, loading, failed, busy, timeout
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


REQUESTS: Final = (NewList, ListPatch, NewItem, NewItems, ItemPatch, Position, NewShare)
RESPONSES: Final = (Error, Item, List, Items, CreatedList, Share, Shares, Suggestions, Activity)
ALL: Final = (*REQUESTS, PromptBody, Export, *RESPONSES, DuplicateAnswer)


def components() -> dict[str, Any]:
    """The OpenAPI `components.schemas`, generated from the declarations above."""
    _, found = msgspec.json.schema_components(ALL, ref_template="#/components/schemas/{name}")
    return found
