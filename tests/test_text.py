from __future__ import annotations

import pytest

from models.text import detect_lang, normalize, singular_en, tokens_key
from tests.eval_text import load

VECTORS = load("normalize")


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['a']}|{v['b']}" for v in VECTORS])
def test_normalize_vector(vector: dict[str, object]) -> None:
    a, b = normalize(str(vector["a"])), normalize(str(vector["b"]))
    assert (a == b) is vector["same"], (a, b)
    if "key" in vector:
        assert a == vector["key"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("молоко", "ru"),
        ("Milk", "en"),
        ("Coca-Cola Zero", "en"),
        ("кола Zero", "ru"),
        ("12", None),
        ("", None),
        ("сыр Gouda", "ru"),
        ("cheddar сыр", "ru"),
        ("Cheddar, Gouda", "en"),
    ],
)
def test_detect_lang(text: str, lang: str | None) -> None:
    assert detect_lang(text) == lang


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("tomatoes", "tomato"),
        ("shoes", "shoe"),
        ("knives", "knife"),
        ("olives", "olive"),
        ("dishes", "dish"),
        ("bus", "bus"),
        ("swiss", "swiss"),
        ("brownies", "brownie"),
        ("cherries", "cherry"),
        ("jeans", "jeans"),
    ],
)
def test_singular_en(plural: str, singular: str) -> None:
    assert singular_en(plural) == singular


def test_tokens_key_ignores_word_order() -> None:
    assert tokens_key("молоко топлёное") == tokens_key("Топленое молоко")
    assert normalize("молоко топлёное") != normalize("Топленое молоко")


def test_normalize_drops_punctuation_and_space() -> None:
    assert normalize(" «Хлеб»,  бородинский!! ") == "хлеб бородинский"
    assert normalize("...") == ""
