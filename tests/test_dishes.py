"""The dish table's cold-start ranking (models/dishes.py pairings): generic words, the dish
weights (coverage, main ingredients, how everyday a dish is where the list's language is
spoken) and the vote over several dishes. See docs/suggestions.md."""

from __future__ import annotations

import json

import pytest

from models import dishes
from models.text import normalize


def top_dish(names: list[str], lang: dishes.Lang) -> str:
    weights = dishes.dish_weights(names, lang)
    return max(weights, key=lambda key: weights[key])


def suggested(names: list[str], lang: dishes.Lang, limit: int = 8) -> list[str]:
    return [p.name for p in dishes.pairings(names, lang, limit)]


# -- the tables ---------------------------------------------------------------------------


def test_every_dish_says_how_everyday_it_is_in_both_languages() -> None:
    raw = json.loads(dishes.DATA.read_text(encoding="utf-8"))["dishes"]
    for dish in raw:
        assert set(dish["often"]) == {"ru", "en"}, dish["id"]
        assert all(level in (0, 1, 2, 3) for level in dish["often"].values()), dish["id"]


def test_generic_words_name_known_ingredients_and_do_not_collide() -> None:
    known = dishes.ingredients()
    seen: dict[str, str] = {}
    for entry in dishes.generics():
        assert entry.members and entry.members <= known.keys(), entry.id
        assert entry.own <= entry.members
        for name in (*entry.ru, *entry.en):
            key = normalize(name)
            assert seen.setdefault(key, entry.id) == entry.id, f"{name}: {seen[key]}, {entry.id}"


def test_dish_shares_favour_the_main_ingredients() -> None:
    borscht = next(d for d in dishes.dishes() if d.id == "borscht")
    shares = list(borscht.shares.values())
    assert sum(shares) == pytest.approx(1.0)
    assert shares == sorted(shares, reverse=True) and shares[0] > 3 * shares[-1]
    assert next(iter(borscht.shares)) == "beet"  # the table lists main ingredients first


# -- generic words --------------------------------------------------------------------------


def test_a_generic_word_stands_for_its_kinds() -> None:
    assert {"beef", "pork", "lamb"} <= dishes.meaning("мясо") == dishes.meaning("Meat")
    assert {"cheese", "hard_cheese", "parmesan", "feta"} <= dishes.meaning("сыра")
    assert dishes.meaning("говядина") == {"beef"}  # a specific name stays specific
    assert dishes.meaning("гвозди") == frozenset()
    # and crosses languages like an ingredient (names from other lists)
    assert dishes.translate("мясо", "en") == "meat" and dishes.translate("veggies", "ru") == "овощи"
    assert dishes.translate("фарш", "en") == "ground beef"  # an ingredient's name wins


def test_a_generic_word_finds_the_dish() -> None:
    # "мясо" names no ingredient of the table (lagman says говядина): noodles alone would
    # point to chicken noodle soup.
    assert top_dish(["мясо", "лапша"], "ru") == "lagman"
    assert all(
        dishes.meaning("мясо") & dish.ingredient_ids
        for dish in dishes.dishes()
        if dish.id in dishes.dish_weights(["мясо"], "ru")
    )


def test_a_product_word_hides_its_kinds_a_category_word_does_not() -> None:
    names = suggested(["сыр", "макароны"], "ru", 20)
    assert names and not {
        "твёрдый сыр",
        "пармезан",
        "моцарелла",
        "фета",
        "спагетти",
        "рожки",
    } & set(names)
    # "овощи" is a category: морковь or лук are useful refinements, not duplicates
    assert {"морковь", "лук"} & set(suggested(["овощи", "курица"], "ru"))


def test_a_generic_word_prefers_the_dish_that_uses_it_as_such() -> None:
    # Cheese and wine: the cheese board (сыр, вино), not a bolognese (пармезан, красное вино)
    assert top_dish(["cheese", "wine"], "en") == "cheese_board"


# -- the dish weights and the vote ------------------------------------------------------------


def test_the_lists_language_prefers_its_everyday_dish() -> None:
    # The same two items: chicken soup with noodles is the Russian everyday answer, the roast
    # chicken the English one.
    assert top_dish(["курица", "картошка"], "ru") == "chicken_noodle_ru"
    assert top_dish(["chicken", "potatoes"], "en") == "roast_chicken"


def test_a_dish_that_explains_the_whole_list_wins() -> None:
    weights = dishes.dish_weights(["свёкла", "майонез"], "ru")
    assert max(weights, key=lambda key: weights[key]) == "herring_coat"
    assert weights["herring_coat"] > 5 * weights["borscht"]  # борщ explains свёкла only
    assert sum(weights.values()) == pytest.approx(1.0)


def test_suggestions_are_a_vote_of_the_likely_dishes() -> None:
    names = ["капуста", "морковь"]
    weights = dishes.dish_weights(names, "ru")
    by_id = {dish.id: dish for dish in dishes.dishes()}
    table = dishes.ingredients()
    found = dishes.pairings(names, "ru", 8)
    assert len(found) == 8

    def votes(key: str) -> float:
        total = sum(w for d, w in weights.items() if key in by_id[d].ingredient_ids)
        return total * (dishes.BASIC_WEIGHT if table[key].basic else 1.0)

    best = votes(found[0].ingredient)
    for p in found:
        assert p.score == pytest.approx(votes(p.ingredient) / best, rel=1e-2)
    # an ingredient of several likely dishes outranks one of the single likeliest dish only
    top = max(weights, key=lambda key: weights[key])
    only_top = [
        p for p in found if sum(p.ingredient in by_id[d].ingredient_ids for d in weights) == 1
    ]
    assert all(p.ingredient in by_id[top].ingredient_ids for p in only_top)
    assert found[0].ingredient not in {p.ingredient for p in only_top}


@pytest.mark.parametrize(
    ("names", "lang", "expected"),
    [
        (["пиво", "чипсы"], "ru", {"орешки", "сухарики", "вобла", "фисташки"}),
        (["milk", "bread"], "en", {"butter", "eggs", "cereal", "orange juice"}),
        (["bleach", "sponges"], "en", {"bin bags", "rubber gloves", "washing up liquid"}),
        (["подгузники", "детское пюре"], "ru", {"влажные салфетки", "детский крем"}),
    ],
)
def test_occasions_and_staples_still_answer(
    names: list[str], lang: dishes.Lang, expected: set[str]
) -> None:
    assert len(expected & set(suggested(names, lang))) >= 2


@pytest.mark.parametrize(
    ("names", "lang", "occasions"),
    [
        (["гель для душа", "дезодорант"], "ru", {"toiletries"}),
        (["deodorant", "razors"], "en", {"toiletries"}),
        (["кошачий корм"], "ru", {"cat"}),
        (["dog treats"], "en", {"dog"}),
        (["пластырь", "бинт"], "ru", {"first_aid"}),
        (["водка", "селёдка"], "ru", {"zakuski"}),
        (["торт", "воздушные шарики"], "ru", {"birthday"}),
        (["цветы", "открытка"], "ru", {"gift"}),
        (["кулич", "яйца"], "ru", {"easter_ru"}),
        (["cream", "raspberries"], "en", {"eton_mess", "pavlova", "strawberries_cream"}),
        (["клубника", "сливки"], "ru", {"strawberries_cream", "pavlova", "victoria_sponge"}),
        # a coffee, a brunch, a day at the beach, a game night: in both languages
        (["coffee", "cookies"], "en", {"coffee_time"}),
        (["кофе", "печенье"], "ru", {"coffee_time"}),
        (["prosecco", "croissants"], "en", {"brunch"}),
        (["шампанское", "круассаны"], "ru", {"brunch"}),
        (["sun cream", "beach towels"], "en", {"beach"}),
        (["солнцезащитный крем", "панама"], "ru", {"beach"}),
        (["blue cheese", "chicken wings"], "en", {"game_night"}),
        (["куриные крылья", "сухарики"], "ru", {"football_ru"}),
    ],
)
def test_occasions_that_are_not_dishes_are_in_both_languages(
    names: list[str], lang: dishes.Lang, occasions: set[str]
) -> None:
    assert top_dish(names, lang) in occasions


def test_dough_is_any_dough() -> None:
    # "apples, pastry" is an apple pie (the table says "shortcrust pastry"); "тесто" any dough
    assert top_dish(["apples", "pastry"], "en") == "apple_pie"
    assert "shortcrust pastry" not in suggested(["apples", "pastry"], "en", 20)
    assert {"pastry", "puff_pastry", "dumpling_dough"} <= dishes.meaning("тесто")


def test_nothing_the_list_has_is_suggested_and_unknown_items_give_nothing() -> None:
    assert not {"курица", "куриное филе", "картофель"} & set(
        suggested(["курица", "картошка"], "ru")
    )
    assert dishes.pairings(["гвозди", "шурупы"], "ru") == []


def test_an_ingredient_no_dish_uses_weighs_no_dish() -> None:
    # The table knows such an ingredient (it has names in both languages) but no dish has it:
    # the list is not for any dish, and asking must not fail (it raised ValueError before).
    used = set().union(*(dish.ingredient_ids for dish in dishes.dishes()))
    unused = [key for key in dishes.ingredients() if key not in used]
    assert unused  # tofu, cauliflower... (else this test has nothing to check)
    name = dishes.ingredients()[unused[0]].name("en")
    assert dishes.meaning(name) and dishes.dish_weights([name], "en") == {}
    assert dishes.pairings([name], "en") == []
    assert dishes.explained([name], {}) == [0.0]


def test_a_dish_sold_ready_is_served_with_its_condiments_not_its_ingredients() -> None:
    # "пельмени" on a list is a pack of frozen pelmeni: сметана, кетчуп go with it, not фарш
    assert dishes.ready_dish("пельмени") is not None
    assert dishes.ready_dish("Hot dogs") is not None
    assert dishes.ready_dish("фарш") is None and dishes.ready_dish("борщ") is None
    assert dishes.ready_dish("frozen peas") is None
    assert dishes.ready_dish("готовые манты") is dishes.ready_dish("манты") is not None
    served = [p.name for p in dishes.served_with(["манты", "сметана"], "ru")]
    assert {"уксус", "сливочное масло"} <= set(served[:4])
    assert not {"фарш бараний", "мука", "сметана"} & set(served)
    assert dishes.served_with(["фарш", "мука"], "ru") == []


def test_every_dish_served_with_names_known_ingredients() -> None:
    known = dishes.ingredients()
    ready = [dish for dish in dishes.dishes() if dish.serve]
    assert len(ready) >= 10
    for dish in ready:
        assert set(dish.serve) <= set(known), dish.id
        assert dish.kind == "dish"


def test_every_occasion_is_known_in_both_languages() -> None:
    # the occasions a starter list may stand for exist where each language is spoken
    for ids in [
        {"brunch"},
        {"beach"},
        {"coffee_time"},
        {"tea_party"},
        {"game_night", "football_ru"},
        {"movie_night"},
        {"picnic_ru", "picnic_en"},
        {"bbq", "shashlik"},
    ]:
        for lang in (0, 1):
            best = max(d.often[lang] for d in dishes.dishes() if d.id in ids)
            assert best >= 1, (ids, lang)
