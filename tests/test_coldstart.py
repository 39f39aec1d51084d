"""Cold start (models/coldstart.py): the dish table's vote, the aisles' everyday companions
where the dishes explain little, and a fill that never leaves a fresh list short. See
docs/suggestions.md."""

from __future__ import annotations

import pytest

from models import coldstart, dishes
from models.duplicates import find_duplicate
from models.history import Entry, ListRecord
from models.suggest import Suggester
from models.text import Lang, detect_lang


def picked(names: list[str], lang: Lang, limit: int = 8) -> list[str]:
    return [p.name for p in coldstart.starter(names, lang, limit)]


async def suggested(names: list[str], lang: Lang, limit: int = 8) -> list[str]:
    record = ListRecord("fresh", lang, [Entry(n, 1) for n in names])
    result = await Suggester().suggest(record, limit=limit)
    return [s.name for s in result.suggestions]


# Starter lists of every kind: dishes, occasions, staples, non-food, and items no table knows.
LISTS: list[tuple[list[str], Lang]] = [
    (["свёкла", "капуста"], "ru"),
    (["лак для ногтей", "жидкость для снятия лака"], "ru"),
    (["nail polish", "nail polish remover"], "en"),
    (["кошачий корм"], "ru"),
    (["dog food"], "en"),
    (["памперсы", "влажные салфетки"], "ru"),
    (["лампочки", "батарейки"], "ru"),
    (["cheese", "crackers", "grapes"], "en"),
    (["водка", "селёдка"], "ru"),
    (["гвозди", "шурупы"], "ru"),
    (["xyzzy"], "en"),
    (["tofu"], "en"),
]


@pytest.mark.parametrize(("names", "lang"), LISTS)
async def test_a_fresh_list_always_gets_the_limit_in_its_language(
    names: list[str], lang: Lang
) -> None:
    found = await suggested(names, lang)
    assert len(found) == 8, found
    assert all(detect_lang(n) in (lang, None) for n in found), found


@pytest.mark.parametrize(("names", "lang"), LISTS)
def test_nothing_on_the_list_nor_a_duplicate_of_it_nor_one_item_twice(
    names: list[str], lang: Lang
) -> None:
    found = picked(names, lang, 30)
    assert not [n for n in found if find_duplicate(n, names) is not None]
    assert all(find_duplicate(n, found[:i]) is None for i, n in enumerate(found)), found


def test_a_name_the_aisles_know_for_an_item_counts_as_that_item() -> None:
    # "памперсы" are подгузники (the dish table's baby set says only "подгузники")
    assert "подгузники" not in picked(["памперсы", "детское пюре"], "ru", 30)
    assert "кошачий корм" not in picked(["корм для кошек"], "ru", 30)


async def test_a_non_food_list_no_dish_uses_gets_its_aisles_everyday_items() -> None:
    # Nail polish is in no dish or occasion: before the aisles, such a list got nothing.
    found = await suggested(["лак для ногтей", "жидкость для снятия лака"], "ru")
    assert found[:3] == ["зубная паста", "шампунь", "мыло"]  # the aisle's most everyday first
    assert (await suggested(["nail polish"], "en"))[0] == "toothpaste"


def test_pets_get_their_own_animals_things() -> None:
    cat = picked(["кошачий корм"], "ru")
    assert {"наполнитель", "лакомство для кошек"} <= set(cat[:4])
    assert not {"корм для собак", "лакомство для собак", "пакеты для выгула"} & set(cat)
    dog = picked(["dog food"], "en")
    assert {"dog treats", "poop bags"} <= set(dog[:4]) and "cat litter" not in dog


def test_strong_dish_evidence_comes_first() -> None:
    found = coldstart.starter(["свёкла", "капуста"], "ru", 8)
    assert all(p.source == "dish" for p in found)
    top = [p.name for p in dishes.pairings(["свёкла", "капуста"], "ru", 8)]
    assert len(set(top) & {p.name for p in found}) >= 7


def test_an_item_the_dishes_leave_unexplained_brings_its_aisle_in() -> None:
    # свёкла is half the list: the dishes' votes count half, nail polish's aisle the other half
    found = coldstart.starter(["свёкла", "лак для ногтей"], "ru", 8)
    sources = {p.name: p.source for p in found}
    assert sources.get("морковь") == "dish" and sources.get("зубная паста") == "aisle"
    assert sum(s == "aisle" for s in sources.values()) >= 3
    assert next(p.because for p in found if p.name == "зубная паста") == "лак для ногтей"


def test_the_fill_follows_what_the_list_is() -> None:
    # The cat set has four items; after the cat aisle, everyday non-food things, not potatoes
    found = coldstart.starter(["корм для кошек", "наполнитель"], "ru", 10)
    assert [p.source for p in found][-2:] == ["everyday", "everyday"]
    assert "картофель" not in {p.name for p in found}
    assert "туалетная бумага" in {p.name for p in found}
    # an unknown item: everyday food first
    assert picked(["xyzzy"], "en", 3) == ["bananas", "milk", "bread"]


@pytest.mark.parametrize(
    ("names", "lang", "expected", "not_expected"),
    [
        # a Russian table: zakuski, not a borscht
        (
            ["водка", "селёдка"],
            "ru",
            {"солёные огурцы", "сало", "чёрный хлеб", "квашеная капуста", "маринованные грибы"},
            {"свёкла", "говядина"},
        ),
        # berries and cream are a dessert
        (["сливки", "клубника"], "ru", {"сахар", "безе", "мята", "малина"}, {"лук", "чеснок"}),
        (["cream", "raspberries"], "en", {"sugar", "meringue", "strawberries"}, {"onions"}),
        # toiletries, a first-aid kit, a birthday
        (["гель для душа", "дезодорант"], "ru", {"зубная паста", "шампунь", "мыло"}, set()),
        (["plasters", "painkillers"], "en", {"bandages", "antiseptic"}, set()),
        (["торт", "воздушные шарики"], "ru", {"свечи", "сок", "одноразовая посуда"}, set()),
    ],
)
def test_occasions_that_are_not_dishes(
    names: list[str], lang: Lang, expected: set[str], not_expected: set[str]
) -> None:
    found = picked(names, lang)
    assert len(expected & set(found)) >= 2, found
    assert not not_expected & set(found[:6]), found


async def test_the_reasons_say_where_a_pick_comes_from() -> None:
    async def answer(lang: Lang, *names: str) -> dict[str, dict[str, object]]:
        record = ListRecord("fresh", lang, [Entry(n, 1) for n in names])
        result = await Suggester().suggest(record, limit=8)
        return {s.name: s.to_json() for s in result.suggestions}

    ru = await answer("ru", "свёкла", "лак для ногтей")
    assert ru["зубная паста"]["reason"] == "часто берут вместе с: лак для ногтей"
    assert ru["зубная паста"]["with"] == ["лак для ногтей"]  # the facts, for an app's wording
    assert (ru["морковь"]["reason"], ru["морковь"]["dish"]) == ("к блюду «борщ»", "борщ")
    en = await answer("en", "toothpaste", "shampoo")
    assert (en["soap"]["reason"], en["soap"]["occasion"]) == ("for toiletries", "toiletries")
    fill = await answer("en", "xyzzy")
    assert fill["milk"]["reason"] == "often bought"
    assert not {"with", "dish", "occasion"} & fill["milk"].keys()


@pytest.mark.parametrize(
    ("names", "lang", "expected", "not_expected"),
    [
        # a dish bought ready: what it is served with comes first, not its raw ingredients
        (["вареники", "сметана"], "ru", {"сливочное масло", "лук", "укроп"}, {"мука", "фарш"}),
        (["манты"], "ru", {"сметана", "уксус", "сливочное масло"}, {"фарш бараний", "мука"}),
        (["pizza", "beer"], "en", {"soda", "dip", "crisps"}, {"pizza dough", "mozzarella"}),
        (["burgers", "buns"], "en", {"cheddar", "lettuce", "tomatoes"}, {"ground beef"}),
        (["суши"], "ru", {"соевый соус", "васаби", "маринованный имбирь"}, {"рис"}),
        # a qualifier that says it is bought made does not hide the product
        (["frozen pizza"], "en", {"soda", "beer", "dip"}, {"pizza dough", "mozzarella"}),
        (["замороженные пельмени"], "ru", {"сметана", "майонез", "кетчуп"}, {"фарш", "мука"}),
        (["fish fingers", "peas"], "en", {"fries", "ketchup"}, {"white fish", "breadcrumbs"}),
    ],
)
def test_a_dish_sold_ready_brings_what_it_is_served_with(
    names: list[str], lang: Lang, expected: set[str], not_expected: set[str]
) -> None:
    found = picked(names, lang)
    assert expected <= set(found[:4]), found
    assert not not_expected & set(found[:4]), found


@pytest.mark.parametrize(
    ("names", "lang", "expected"),
    [
        (["кофе", "сливки"], "ru", {"сахар", "печенье", "шоколад", "торт"}),
        (["coffee", "cream"], "en", {"sugar", "cookies", "chocolate", "cake"}),
        (["prosecco", "orange juice"], "en", {"croissants", "strawberries", "smoked salmon"}),
        (["sun cream", "bottled water"], "en", {"beach towels", "sandwiches", "snacks"}),
        (["солнцезащитный крем", "вода"], "ru", {"пляжное полотенце", "панама", "арбуз"}),
        (["chicken wings", "beer"], "en", {"hot sauce", "blue cheese", "celery", "ranch"}),
    ],
)
def test_occasions_coffee_brunch_beach_game_night(
    names: list[str], lang: Lang, expected: set[str]
) -> None:
    found = picked(names, lang)
    assert len(expected & set(found)) >= 2, found
