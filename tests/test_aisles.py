"""The aisles' everyday items (models/data/everyday.json, models/aisles.py): the cold-start
fallback where the dish table has little to say. See docs/suggestions.md."""

from __future__ import annotations

from models import aisles
from models.categories import OTHER, SLUGS, categorize, table
from models.text import normalize


def test_every_aisle_name_is_in_the_item_table() -> None:
    # The aisles choose among names the app knows, so an accepted suggestion is filed in its
    # category (pet food and balloons are in the table's "other").
    known = table()
    for aisle in aisles.aisles():
        for entry in (*aisle.ru, *aisle.en):
            for name in entry.names:
                assert normalize(name) in known or categorize(name) != OTHER, (aisle.id, name)


def test_every_category_has_a_main_aisle_long_enough_to_answer_alone() -> None:
    main = {a.category: a for a in aisles.aisles() if a.main}
    assert set(main) == set(SLUGS) - {OTHER}
    for aisle in main.values():
        assert len(aisle.ru) >= 8 and len(aisle.en) >= 8, aisle.id


def test_an_aisle_lists_each_item_once() -> None:
    for aisle in aisles.aisles():
        for entries in (aisle.ru, aisle.en):
            keys = [normalize(n) for e in entries for n in e.names]
            assert len(keys) == len(set(keys)), aisle.id
            assert len({e.key for e in entries}) == len(entries), aisle.id


def test_an_item_joins_the_aisles_that_name_it_else_its_categorys_main_aisle() -> None:
    assert aisles.aisles_of("Шампуня") == ("personal_care",)
    assert aisles.aisles_of("подгузники") == ("baby",)  # not the toiletries: its own aisle
    assert aisles.aisles_of("кошачий корм") == ("cats",)
    assert set(aisles.aisles_of("корм")) == {"cats", "dogs"}  # a generic word: either pet
    # not named by any aisle: the main aisle of its category
    assert aisles.aisles_of("лак для ногтей") == ("personal_care",)
    assert aisles.aisles_of("nail polish") == ("personal_care",)
    assert aisles.aisles_of("газета") == ()  # "other" has no main aisle
    assert aisles.aisles_of("гвозди") == ()


def test_companions_follow_the_everyday_order_in_the_lists_language() -> None:
    ru = aisles.companions({"лак для ногтей": 1.0}, "ru")
    assert [c.entry.shown("ru") for c in ru[:3]] == ["зубная паста", "шампунь", "мыло"]
    assert [c.score for c in ru] == sorted((c.score for c in ru), reverse=True)
    assert ru[1].score == ru[0].score * aisles.EVERYDAY_DECAY
    en = aisles.companions({"nail polish": 1.0}, "en")
    assert en[0].entry.shown("en") == "toothpaste" and en[0].because == "nail polish"


def test_a_food_aisle_counts_less_than_a_non_food_one() -> None:
    food = aisles.companions({"гречка": 1.0}, "ru")[0].score
    other = aisles.companions({"шампунь": 1.0}, "ru")[0].score
    assert food == aisles.FOOD_AISLE_WEIGHT * other
    whole = aisles.companions({"гречка": 1.0}, "ru", food_weight=False)[0].score
    assert whole == other


def test_everyday_items_put_the_lists_kind_first() -> None:
    food = [e.shown("ru") for e in aisles.everyday("ru", True)]
    other = [e.shown("ru") for e in aisles.everyday("ru", False)]
    assert set(food) == set(other) and len(food) == len(set(food))
    assert food[:3] == ["картофель", "молоко", "хлеб"]
    assert other[:2] == ["туалетная бумага", "зубная паста"]


def test_food_does_not_pull_a_list_into_a_non_food_aisle() -> None:
    # An aisle an item joins by name (gifts, party, pets...) lists no food of the main aisles:
    # "вино" on a list is not a gift, so the gifts aisle must not name it.
    food = {
        normalize(n)
        for a in aisles.aisles()
        if a.main and a.category in aisles.FOOD
        for e in (*a.ru, *a.en)
        for n in e.names
    }
    for aisle in aisles.aisles():
        if not aisle.main and aisle.category not in aisles.FOOD:
            named = {normalize(n) for e in (*aisle.ru, *aisle.en) for n in e.names}
            assert not named & food, (aisle.id, named & food)
    assert aisles.aisles_of("wine") == ("drinks",)
