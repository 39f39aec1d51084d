"""Statistics suggestions on synthetic histories."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from models.history import Entry, ListRecord, list_lang
from models.stats import DAY_MS, StatsEngine

NOW = 1_750_000_000_000


def days_ago(n: float) -> int:
    return NOW - int(n * DAY_MS)


def bought(name: str, *ages: float, present: bool = False, item_id: str = "") -> list[Entry]:
    """Entries for `name` bought `ages` days ago (oldest first or not: order does not matter)."""
    return [
        Entry(name, days_ago(a) - 3_600_000, days_ago(a), present=present, item_id=item_id)
        for a in ages
    ]


def open_item(name: str) -> Entry:
    return Entry(name, days_ago(0.1))


def names(found: list) -> list[str]:  # type: ignore[type-arg]
    return [s.name for s in found]


def test_history_suggests_items_due_by_their_usual_interval() -> None:
    record = ListRecord(
        "home",
        "en",
        [
            *bought("Milk", 36, 29, 22, 15, 8),  # weekly, last 8 days ago: due
            *bought("Bread", 30, 23, 16, 9, 2),  # weekly, last 2 days ago: not yet
            *bought("Candles", 40),  # once: no interval known
            open_item("Eggs"),
        ],
    )
    found = StatsEngine().suggest(record, now_ms=NOW)
    assert names(found) == ["Milk"]
    milk = found[0]
    assert milk.source == "history"
    assert "every 7 days" in milk.reason and "8 days ago" in milk.reason
    assert 0 < milk.score <= 1


def test_history_reason_is_in_the_lists_language() -> None:
    record = ListRecord("dom", "ru", bought("Кефир", 12, 9, 6, 3, 0.0))
    assert (
        StatsEngine()
        .suggest(record, now_ms=NOW + 3 * DAY_MS)[0]
        .reason.startswith("обычно раз в 3 дн.")
    )


def test_more_overdue_ranks_higher_than_just_due() -> None:
    record = ListRecord(
        "home",
        "en",
        [*bought("Coffee", 50, 40, 30, 20, 10.5), *bought("Rice", 50, 40, 30, 20, 8.5)],
    )
    found = StatsEngine().suggest(record, now_ms=NOW)
    assert names(found) == ["Coffee", "Rice"]
    assert found[0].score > found[1].score


def test_purchases_on_one_trip_count_once() -> None:
    # Two checks an hour apart are one trip: one trip gives no interval, so no suggestion.
    entries = [
        Entry("Tea", days_ago(20), days_ago(20)),
        Entry("Tea", days_ago(20), days_ago(19.96)),
    ]
    assert StatsEngine().suggest(ListRecord("l", "en", entries), now_ms=NOW) == []


def test_never_suggests_what_is_on_the_list_by_normalized_name() -> None:
    history = bought("молоко", 30, 23, 16, 9)
    record = ListRecord("dom", "ru", [*history, open_item("Молока")])
    assert StatsEngine().suggest(record, now_ms=NOW) == []
    record = ListRecord("dom", "ru", [*history, open_item("Хлеб")])
    assert names(StatsEngine().suggest(record, now_ms=NOW)) == ["молоко"]


def test_checked_item_still_in_the_document_is_offered_for_revival() -> None:
    entries = [*bought("Milk", 22, 15), *bought("Milk", 8, present=True, item_id="abc")]
    found = StatsEngine().suggest(ListRecord("l", "en", entries), now_ms=NOW)
    assert [(s.name, s.item_id) for s in found] == [("Milk", "abc")]
    assert found[0].to_json()["item_id"] == "abc"


def other_list(list_id: str, *items: str, lang: str = "en") -> ListRecord:
    """An established list (three weeks old, shopped twice) with `items` on it."""
    trips = [Entry(items[0], days_ago(a), days_ago(a)) for a in (20, 10)] if items else []
    entries = [*trips, *(Entry(n, days_ago(1)) for n in items)]
    return ListRecord(list_id, lang, entries)  # type: ignore[arg-type]


def fresh_list(list_id: str, *items: str) -> ListRecord:
    return ListRecord(list_id, "en", [Entry(n, days_ago(1)) for n in items])


def test_only_established_lists_count_for_together() -> None:
    """Issue 9 item 10: lists made to lift a rare item over the threshold do not count."""
    victim = other_list("victim", "pasta", "truffle oil")
    throwaways = [fresh_list(f"x{i}", "pasta", "truffle oil") for i in range(2)]
    engine = StatsEngine.from_records([victim, *throwaways])
    asker = fresh_list("attacker", "pasta")
    assert "truffle oil" not in names(engine.suggest(asker, now_ms=NOW))
    lax = StatsEngine.from_records([victim, *throwaways], min_age_days=0, min_trips=0)
    assert "truffle oil" in names(lax.suggest(asker, now_ms=NOW))  # the same lists, counted


def test_what_makes_a_list_established() -> None:
    engine = StatsEngine(min_age_days=7, min_trips=2, min_people=2)
    old_two_trips = other_list("a", "milk")
    assert not engine.established(old_two_trips, now_ms=NOW)  # one person
    two_people = ListRecord("a", "en", old_two_trips.entries, people=2)
    assert engine.established(two_people, now_ms=NOW)
    one_trip = ListRecord("b", "en", [Entry("milk", days_ago(20), days_ago(20))], people=2)
    assert not engine.established(one_trip, now_ms=NOW)
    young = ListRecord("c", "en", bought("milk", 3, 1), people=2)
    assert not engine.established(young, now_ms=NOW)
    assert not engine.established(ListRecord("d", "en", [], people=2), now_ms=NOW)


def test_together_suggests_what_other_lists_have_with_this_lists_items() -> None:
    engine = StatsEngine.from_records(
        [
            other_list("a", "pasta", "parmesan", "basil"),
            other_list("b", "Pasta", "Parmesan", "tomatoes"),
            other_list("c", "pasta", "parmesan", "olive oil"),
            other_list("d", "soap", "shampoo", "toothpaste"),
            other_list("e", "soap", "shampoo", "parmesan"),
        ]
    )
    target = other_list("t", "pasta")
    found = engine.suggest(target, now_ms=NOW)
    assert found, "expected a together suggestion"
    top = found[0]
    assert (top.name, top.source) == ("parmesan", "together")
    assert "pasta" in top.reason
    # basil, tomatoes, olive oil are each on one list only: never revealed
    assert set(names(found)) == {"parmesan"}


def test_an_item_counts_only_once_on_three_other_lists() -> None:
    lists = [other_list(f"l{i}", "tacos", "salsa", "lime") for i in range(2)]
    engine = StatsEngine.from_records(lists)
    target = ListRecord("t", "en", [open_item("tacos"), Entry("lime", days_ago(30), days_ago(30))])
    engine.update(target)
    # lime is on 2 other lists plus the asking one: still not enough
    assert engine.suggest(target, now_ms=NOW) == []
    engine.update(other_list("l2", "tacos", "lime"))
    assert "lime" in names(engine.suggest(target, now_ms=NOW))
    engine.remove("l2")
    assert engine.suggest(target, now_ms=NOW) == []


def test_updating_a_list_replaces_its_contribution() -> None:
    engine = StatsEngine.from_records([other_list(f"l{i}", "chips", "salsa") for i in range(3)])
    target = other_list("t", "chips")
    assert names(engine.suggest(target, now_ms=NOW)) == ["salsa"]
    engine.update(other_list("l0", "chips", "dip"))
    assert engine.suggest(target, now_ms=NOW) == []
    assert len(engine) == 3


def test_together_and_history_merge_without_duplicates() -> None:
    engine = StatsEngine.from_records([other_list(f"l{i}", "bread", "milk") for i in range(4)])
    target = ListRecord("t", "en", [open_item("Bread"), *bought("Milk", 22, 15, 8)])
    found = engine.suggest(target, now_ms=NOW)
    assert names(found) == ["Milk"]  # once, in this list's own spelling
    assert found[0].source == "history"  # this list's own evidence ranks first


def test_russian_forms_meet_in_cooccurrence() -> None:
    engine = StatsEngine.from_records(
        [
            other_list("a", "свекла", "капуста", "морковь", lang="ru"),
            other_list("b", "Свёкла", "капусты", "морковь", lang="ru"),
            other_list("c", "свеклу", "Капуста", "лук", lang="ru"),
        ]
    )
    found = engine.suggest(other_list("t", "свекла", lang="ru"), now_ms=NOW)
    assert [s.name.lower() for s in found][:1] == ["капуста"]
    assert found[0].reason.startswith("часто берут вместе с")


def test_limit_is_respected() -> None:
    engine = StatsEngine.from_records(
        [other_list(f"l{i}", "x", *[f"item{j}" for j in range(20)]) for i in range(3)]
    )
    assert len(engine.suggest(other_list("t", "x"), now_ms=NOW, limit=5)) == 5
    assert engine.suggest(other_list("t", "x"), now_ms=NOW, limit=0) == []


WORDS = ["milk", "Milk", "milks", "bread", "eggs", "egg", "tea", "Tea ", "rice", "soap"]


@settings(max_examples=60, deadline=None)
@given(
    others=st.lists(st.lists(st.sampled_from(WORDS), max_size=6), max_size=8),
    history=st.lists(st.tuples(st.sampled_from(WORDS), st.floats(0, 60)), max_size=12),
    on_list=st.lists(st.sampled_from(WORDS), max_size=4),
)
def test_no_suggestion_is_ever_on_the_list(
    others: list[list[str]], history: list[tuple[str, float]], on_list: list[str]
) -> None:
    engine = StatsEngine.from_records(other_list(f"o{i}", *items) for i, items in enumerate(others))
    entries = [*(b for n, age in history for b in bought(n, age)), *map(open_item, on_list)]
    target = ListRecord("t", "en", entries)
    engine.update(target)
    keys = engine.on_list_keys(target)
    for s in engine.suggest(target, now_ms=NOW):
        assert engine.key(s.name, "en") not in keys
        if s.source == "together":
            holders = sum(
                engine.key(s.name, "en") in {engine.key(n, "en") for n in items} for items in others
            )
            assert holders >= 3


def test_record_from_document_items() -> None:
    items = [
        {"id": "a", "name": "Молоко", "checked": True, "checked_at": days_ago(8), "created_at": 1},
        {"id": "b", "name": "хлеб", "checked": False, "checked_at": None, "created_at": 2},
        {"id": "c", "name": "", "checked": False, "created_at": 3},
    ]
    rec = ListRecord.from_items("l", "Дом", items)
    assert rec.lang == "ru" and rec.title == "Дом"
    assert rec.open_names() == ["хлеб"]
    assert rec.entries[0] == Entry("Молоко", 1, days_ago(8), item_id="a")
    assert ListRecord.from_items("l", "", items, lang="en").lang == "en"


def test_list_language_is_the_majority_alphabet() -> None:
    assert list_lang(["сыр Gouda", "молоко"]) == "ru"
    assert list_lang(["Milk", "eggs", "кефир"]) == "en"
    assert list_lang(["", "123"], default="ru") == "ru"
