from __future__ import annotations

import json

import pytest

from models.categories import SLUGS, categories, categorize, conflicts, display_name, table
from tests.eval_text import CATEGORY_TARGET, ROOT, groups, load, score

VECTORS = load("categories")
TUNED = [v for v in VECTORS if v["split"] == "tuned"]
HELD_OUT = groups([v for v in VECTORS if v["split"] != "tuned"])


@pytest.mark.parametrize("vector", TUNED, ids=[v["name"] for v in TUNED])
def test_tuned_vector(vector: dict[str, str]) -> None:
    assert categorize(vector["name"]) == vector["category"]


@pytest.mark.parametrize("key", list(HELD_OUT), ids=[f"{s}-{lang}" for s, lang in HELD_OUT])
def test_held_out_accuracy(key: tuple[str, str]) -> None:
    group = HELD_OUT[key]
    right, failures = score(group, lambda v: categorize(v["name"]) == v["category"])
    assert len(group) >= 50
    assert right / len(group) >= CATEGORY_TARGET, [v["name"] for v in failures]


def test_vector_labels_are_slugs() -> None:
    assert {v["category"] for v in VECTORS} <= set(SLUGS)


def test_twelve_categories_with_both_names() -> None:
    assert len(SLUGS) == 12
    assert list(categories()) == list(SLUGS)
    assert display_name("personal_care", "ru") == "Гигиена и уход"
    assert display_name("personal_care", "en") == "Personal care"
    assert display_name("dairy", None) == "Dairy & eggs"


def test_table_is_large_and_consistent() -> None:
    raw = json.loads((ROOT / "models" / "data" / "categories.json").read_text(encoding="utf-8"))
    assert set(raw["items"]) == set(SLUGS)
    for lang in ("en", "ru"):
        assert sum(len(langs[lang]) for langs in raw["items"].values()) >= 500
    assert conflicts() == []
    assert len(table()) >= 1500
    misplaced = [
        (name, slug, categorize(name))
        for slug, langs in raw["items"].items()
        for names in langs.values()
        for name in names
        if categorize(name) != slug
    ]
    assert misplaced == []


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("сливочного масла", "dairy"),
        ("масло оливковое", "pantry"),
        ("замороженная клубника", "frozen"),
        ("canned peaches", "pantry"),
        ("губки для мытья посуды", "household"),
        ("a bag of ice", "frozen"),
        ("", "other"),
        ("qwerty", "other"),
        ("шкаф", "other"),
    ],
)
def test_lookup_rules(name: str, slug: str) -> None:
    assert categorize(name) == slug
