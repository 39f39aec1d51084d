from __future__ import annotations

import pytest

from models.duplicates import find_duplicate


@pytest.mark.parametrize(
    ("name", "existing", "match"),
    [
        ("Молока", ["хлеб", "молоко"], "молоко"),
        ("яиц", ["Яйца", "яйцо"], "Яйца"),
        ("Eggs", ["bread", "egg"], "egg"),
        ("тушенка", ["тушёнка"], "тушёнка"),
        ("топлёное молоко", ["молоко", "молоко топленое"], "молоко топленое"),
        ("молоко топленое", ["топлёное молоко", "молоко топленое"], "молоко топленое"),
        ("сыр", ["сырок", "сыры"], "сыры"),
        ("сыр", ["сырок"], None),
        ("milk", [], None),
        ("", [""], None),
        ("!!!", ["???"], None),
    ],
)
def test_find_duplicate(name: str, existing: list[str], match: str | None) -> None:
    assert find_duplicate(name, existing) == match


def test_accepts_any_iterable() -> None:
    assert find_duplicate("Tomatoes", (n for n in ["potato", "tomato"])) == "tomato"
