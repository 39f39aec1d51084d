"""Prompts for the local model and the strict parser of its answers.

The model answers with one line of comma-separated item names; generation stops at the
first newline and after a few dozen tokens. Anything that does not look like a short item
name in the list's alphabet is dropped. The system message and the worked example are the
same for every request and language, so llama.cpp reuses their evaluated prefix (KV cache)
from one request to the next and only the list itself is evaluated each time.

Grounded prompts (`similar=`) also show the dishes of the built-in table nearest to the request
(models/retrieval.py), with their ingredients in the list's language, and ask the model to adapt
them; a second worked exchange shows an adaptation. The answer is still filtered against the
known vocabulary (models.suggest.grounded).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from models.history import Lang

Similar = tuple[str, list[str]]  # a dish's name and its ingredients (models.retrieval.context)

Message = dict[str, str]

SYSTEM = (
    "You help people complete their shopping lists. Reply with ONE line: item names "
    "separated by commas, nothing else. No quantities, no numbering, no explanations. "
    "Never repeat an item that is already on the list. Use the language you are asked for."
)

# One worked exchange shows the format; kept identical across requests (prefix cache).
_EXAMPLE_USER = "Language: English. List: pasta, minced beef. Suggest 4 missing items."
_EXAMPLE_ANSWER = "tomato sauce, onions, garlic, parmesan"

_LANG_NAME = {"ru": "Russian", "en": "English"}


def _items(names: Iterable[str]) -> str:
    joined = ", ".join(n.strip() for n in names if n.strip())
    return joined or "(empty)"


def missing_items(
    lang: Lang, title: str, names: list[str], n: int, similar: Sequence[Similar] = ()
) -> list[Message]:
    about = f' called "{title.strip()}"' if title.strip() else ""
    user = f"Language: {_LANG_NAME[lang]}. List{about}: {_items(names)}. Suggest {n} missing items."
    if not similar:
        return _messages(user)
    user = (
        f"Language: {_LANG_NAME[lang]}. List{about}: {_items(names)}.\n"
        f"Dishes these items are often for, with their ingredients:\n{_context(similar)}\n"
        f"Suggest {n} missing items, using the names above where they fit."
    )
    return _messages(user, grounded=True)


def dish_items(
    lang: Lang, prompt: str, names: list[str], n: int, similar: Sequence[Similar] = ()
) -> list[Message]:
    """The dish prompt; with `similar` (the table's nearest dishes and their ingredients, in
    the list's language) the model is asked to adapt them to the request."""
    if not similar:
        user = (
            f"Language: {_LANG_NAME[lang]}. List: {_items(names)}. "
            f'I am cooking or planning: "{prompt.strip()}". '
            f"Suggest up to {n} ingredients or things to buy that are not on the list."
        )
        return _messages(user)
    user = (
        f"Language: {_LANG_NAME[lang]}. List: {_items(names)}. "
        f'I am cooking or planning: "{prompt.strip()}".\n'
        f"Recipes we know that are close to it:\n{_context(similar)}\n"
        f"Adapt them to the request: suggest up to {n} ingredients or things to buy that are "
        "not on the list, using the names above where they fit."
    )
    return _messages(user, grounded=True)


def _context(similar: Sequence[Similar]) -> str:
    return "\n".join(f"- {name}: {', '.join(items)}" for name, items in similar)


# A second worked exchange for the prompts that carry retrieved dishes: it shows an adaptation
# (chicken instead of beef, the beans kept), not a copy. Identical across requests (prefix cache).
_GROUNDED_USER = (
    "Language: English. List: rice. "
    'I am cooking or planning: "chicken chili".\n'
    "Recipes we know that are close to it:\n"
    "- chili con carne: ground beef, kidney beans, canned tomatoes, onions, chili powder, "
    "peppers, rice\n"
    "- veggie chili: kidney beans, black beans, canned tomatoes, peppers, onions, cumin\n"
    "Adapt them to the request: suggest up to 6 ingredients or things to buy that are not on "
    "the list, using the names above where they fit."
)
_GROUNDED_ANSWER = "chicken breast, kidney beans, canned tomatoes, onions, chili powder, peppers"


def _messages(user: str, *, grounded: bool = False) -> list[Message]:
    example = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": _EXAMPLE_USER},
        {"role": "assistant", "content": _EXAMPLE_ANSWER},
    ]
    if grounded:
        example += [
            {"role": "user", "content": _GROUNDED_USER},
            {"role": "assistant", "content": _GROUNDED_ANSWER},
        ]
    return [*example, {"role": "user", "content": user}]


# Category words are not things to buy.
GENERIC = {
    "овощи",
    "фрукты",
    "продукты",
    "еда",
    "зелень",
    "специи",
    "напитки",
    "vegetables",
    "fruits",
    "fruit",
    "groceries",
    "food",
    "spices",
    "drinks",
    "snacks",
}


STOP = ["\n", "<|im_end|>", "<|endoftext|>"]

_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)]|\d+\s*x\b)\s*", re.IGNORECASE)
_QTY = re.compile(r"^\d+(?:[.,]\d+)?\s*(?:kg|g|l|ml|pcs|кг|г|л|мл|шт)?\.?\s+", re.IGNORECASE)
_PAREN = re.compile(r"\s*\([^)]*\)\s*")
_WORDS = {
    "ru": re.compile(r"^[а-яё]+(?:[ -][а-яё]+){0,3}$", re.IGNORECASE),
    "en": re.compile(r"^[a-z]+(?:[ '-][a-z]+){0,3}$", re.IGNORECASE),
}


def parse_items(
    text: str,
    lang: Lang,
    exclude: set[str],
    normalize: Callable[[str, str | None], str],
    limit: int,
) -> list[str]:
    """Item names from one answer line: short, in the list's alphabet, new, distinct."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = line.split(":", 1)[1] if re.match(r"^[^,]{0,30}:", line) else line
    out: list[str] = []
    seen = set(exclude)
    for raw in re.split(r"[,;]", line):
        name = _PAREN.sub(" ", raw).strip()
        name = _QTY.sub("", _BULLET.sub("", name)).strip(" .!\"'«»").strip()
        if not (2 <= len(name) <= 40) or not _WORDS[lang].match(name):
            continue
        key = normalize(name, lang)
        if not key or key in seen or name.lower() in GENERIC:
            continue
        seen.add(key)
        out.append(name[0].upper() + name[1:] if lang == "ru" else name)
        if len(out) >= limit:
            break
    return out


def grammar(lang: Lang, n: int) -> str:
    """A minimal GBNF for the same format (optional: costs time per token, see docs)."""
    letters = "[а-яА-ЯёЁ]" if lang == "ru" else "[a-zA-Z]"
    return (
        f'root ::= item (", " item){{0,{max(n - 1, 0)}}} "\\n"\n'
        f'item ::= {letters}{{2,20}} (" " {letters}{{1,20}}){{0,2}}\n'
    )
