from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from models.categories import SLUGS, categories, categorize, conflicts, display_name, table
from tests.eval_text import CATEGORY_TARGET, CATEGORY_TARGET_2, ROOT, groups, load, score

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


HELD_OUT_2 = load("categories_heldout2")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_issue16_brands_and_units_held_out(lang: str) -> None:
    """Brands in both scripts and the unit in the category, on the set written before them."""
    group = [v for v in HELD_OUT_2 if v["lang"] == lang]
    right = [v for v in group if categorize(v["name"], v.get("unit")) == v["category"]]
    assert len(group) >= 50
    assert len(right) / len(group) >= CATEGORY_TARGET_2


@pytest.mark.parametrize(
    ("name", "unit", "slug"),
    [
        ("tomatoes", None, "produce"),
        ("tomatoes", "can", "pantry"),
        ("tuna", "can", "pantry"),
        ("beer", "can", "drinks"),
        ("face cream", "jar", "personal_care"),
        ("Fairy", None, "household"),
        ("фейри", None, "household"),
        ("Ролтон", None, "pantry"),
        ("Dove chocolate", None, "personal_care"),
    ],
)
def test_unit_and_brand_rules(name: str, unit: str | None, slug: str) -> None:
    assert categorize(name, unit) == slug


@pytest.mark.node
def test_js_categories_agree_with_python() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    vectors = load("categories") + HELD_OUT_2
    cases = [[v["name"], v.get("unit")] for v in vectors]
    cases += [[w, None] for w in ("сливочного масла", "масло оливковое", "a bag of ice", "шкаф")]
    script = (
        "import { categorize } from './client/src/lib/categories.js';"
        "import { readFileSync } from 'node:fs';"
        "const cases = JSON.parse(readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(cases.map(([n, u]) => categorize(n, u))));"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        cwd=ROOT,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    differ = [(c, j, categorize(c[0], c[1])) for c, j in zip(cases, js, strict=True)]
    assert [d for d in differ if d[1] != d[2]] == []
