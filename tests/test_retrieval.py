"""Retrieval over the dish table: the dishes nearest to a prompt or a list (models/retrieval.py),
and the dish prompt answered from them when the table does not know the dish by name."""

from __future__ import annotations

import pytest

from models import retrieval
from models.history import Entry, ListRecord
from models.retrieval import blend, context, nearest_dishes, similarity, translit
from models.suggest import ModelUnavailableError, Suggester


def ids(prompt: str = "", items: tuple[str, ...] = (), k: int = 3) -> list[str]:
    return [r.dish.id for r in nearest_dishes(prompt, items, k=k)]


def test_a_variant_of_a_known_dish_retrieves_both_dishes() -> None:
    found = nearest_dishes("борщ зелёный на 4")
    assert [r.dish.id for r in found[:2]] == ["green_borscht", "borscht"]
    assert found[0].score == 1.0 and 0.3 <= found[1].score < 1.0
    assert all(0 <= r.score <= 1 for r in found)


@pytest.mark.parametrize(
    ("prompt", "dish"),
    [
        ("борщ на 6", "borscht"),  # servings are not part of the name
        ("Борщом", "borscht"),  # lemmatised
        ("гречку с грибами", "buckwheat_mushrooms"),
        ("pelmeni for 4", "pelmeni"),
        ("kotlety", "kotlety"),  # transliterated: the English name is "russian meat patties"
        ("lazagne", "lasagne"),  # a typo
    ],
)
def test_the_nearest_dish_by_name(prompt: str, dish: str) -> None:
    assert ids(prompt)[0] == dish


def test_a_list_s_items_retrieve_by_ingredient_overlap() -> None:
    assert ids(items=("свёкла", "капуста"))[0] == "borscht"
    assert "tacos" in ids(items=("tortillas", "ground beef", "salsa"))


def test_nothing_near_is_nothing() -> None:
    assert nearest_dishes("что-то неслыханное") == []
    assert nearest_dishes(items=("гвозди", "шурупы")) == []
    assert nearest_dishes("") == [] and nearest_dishes("на 4") == []


def test_word_similarity() -> None:
    word = retrieval._word
    assert similarity(word("грибами"), word("грибы")) == 1.0
    assert similarity(word("грибной"), word("гриб")) == 0.6  # a Russian stem
    assert similarity(word("breakfast"), word("bread")) == 0.0  # not an English one
    assert similarity(word("pelmeni"), word("пельмени")) == 0.8
    assert similarity(word("toast"), word("roast")) == 0.8
    assert similarity(word("toast"), word("roast"), {"toast"}) == 0.0  # a known word, no typo
    assert translit("щи") == "shchi" and translit("Пельмени") == "pelmeni"


def test_blend_puts_what_the_near_dishes_agree_on_first() -> None:
    found = nearest_dishes("борщ зелёный на 4", k=2)
    blended = blend(found, 4, "ru")
    names = [b.item.name for b in blended]
    shared = {"картофель", "лук", "морковь", "сметана", "говядина"}  # in both borschts
    assert set(names[: len(shared)]) == shared
    assert "свёкла" in names and blended[0].score == 1.0
    potato = next(b for b in blended if b.item.name == "картофель")
    assert potato.item.qty == 0.5 and potato.item.unit == "kg"  # the 4-serving green borscht's
    assert potato.dishes == ("зелёный борщ", "борщ")
    assert blend(found, 4, "en")[0].item.name == "potatoes"
    assert blend([], 4, "ru") == []


def test_context_shows_the_dishes_in_the_lists_language_basics_last() -> None:
    found = nearest_dishes("salmon salad")
    shown = context(found, "ru", per_dish=6)
    assert shown and all(len(items) <= 6 for _, items in shown)
    name, items = shown[0]
    assert name == found[0].dish.ru[0] and "лосось" in items
    basic = context(nearest_dishes("блины"), "en")[0][1]
    assert basic.index("flour") > basic.index("milk")  # a basic goes after the rest


def test_a_weak_neighbour_is_left_out_of_blend_and_context() -> None:
    found = nearest_dishes("борщ зелёный на 4")
    weak = [r for r in found if r.score < retrieval.KEEP_RATIO * found[0].score]
    assert weak, "expected a weak third dish (тайское зелёное карри) to test the cut"
    assert {n for n, _ in context(found, "ru")}.isdisjoint({r.dish.ru[0] for r in weak})


async def test_the_dish_prompt_answers_from_the_nearest_dishes_without_a_model() -> None:
    suggester = Suggester()
    record = ListRecord("l", "en", [Entry("lemons", 0)])
    result = await suggester.for_prompt(record, "salmon salad for 4", limit=20)
    assert result.model == "nearest"  # no dish of that name: its nearest dishes answer
    names = [s.name for s in result.suggestions]
    assert names[0] == "salmon" and "lemons" not in names  # already on the list
    first = result.suggestions[0]
    assert first.source == "dish" and first.reason.startswith("as in ")
    assert "salmon" in first.reason and str(first.to_json()["dish"]) in first.reason
    assert first.to_json().get("qty") is not None
    ru = await suggester.for_prompt(ListRecord("r", "ru", []), "борщ зелёный на 4")
    assert ru.model == "table"  # the table knows зелёный борщ by name: no retrieval
    with pytest.raises(ModelUnavailableError):
        await suggester.for_prompt(record, "что-то неслыханное")
