"""Decode + validate our request bodies with msgspec and with pydantic; prints the ratio.

Run: .venv/bin/pip install pydantic && .venv/bin/python bench/bench_bodies.py
(pydantic is not a dependency of Listok: it is installed only to measure it.)
"""

from __future__ import annotations

import json
import timeit
from functools import partial
from typing import Annotated, Literal

import msgspec
import pydantic

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class MItem(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    qty: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    unit: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    category: str = ""
    duplicate: Literal["reject", "add", "merge"] = "reject"


class MBulk(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[MItem], msgspec.Meta(min_length=1)]


class PItem(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    name: Annotated[str, pydantic.Field(min_length=1, max_length=200)]
    qty: Annotated[float, pydantic.Field(ge=0, le=1_000_000)] | None = None
    unit: Annotated[str, pydantic.Field(max_length=20)] | None = None
    note: Annotated[str, pydantic.Field(max_length=1000)] = ""
    category: str = ""
    duplicate: Literal["reject", "add", "merge"] = "reject"


class PBulk(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    items: Annotated[list[PItem], pydantic.Field(min_length=1)]


def main() -> None:
    one = json.dumps({"name": "молоко", "qty": 2, "unit": "л", "note": "3.2%"}).encode()
    bulk = json.dumps(
        {"items": [{"name": f"item {n}", "qty": n % 7, "unit": "kg"} for n in range(500)]}
    ).encode()
    m_one, m_bulk = msgspec.json.Decoder(MItem), msgspec.json.Decoder(MBulk)
    for label, body, m, p in (("one item", one, m_one, PItem), ("bulk 500", bulk, m_bulk, PBulk)):
        n = 20000 if label == "one item" else 100
        tm = min(timeit.repeat(partial(m.decode, body), number=n, repeat=5)) / n
        tp = min(timeit.repeat(partial(p.model_validate_json, body), number=n, repeat=5)) / n
        print(
            f"{label}: msgspec {tm * 1e6:.1f} us, pydantic {tp * 1e6:.1f} us, "
            f"pydantic/msgspec {tp / tm:.1f}x"
        )


if __name__ == "__main__":
    main()
