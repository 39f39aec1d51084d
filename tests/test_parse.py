from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.parse import parse_entry, parse_number, tokenize, vocabulary
from tests.eval_text import PARSE_TARGET, PARSE_TARGET_2, ROOT, groups, load, parse_ok, score

VECTORS = load("parse")
TUNED = [v for v in VECTORS if v["split"] == "tuned"]
HELD_OUT = groups([v for v in VECTORS if v["split"] == "heldout"])


@pytest.mark.parametrize("vector", TUNED, ids=[v["text"] for v in TUNED])
def test_tuned_vector(vector: dict[str, object]) -> None:
    parsed = parse_entry(str(vector["text"]))
    assert parse_ok(vector, parsed), parsed


@pytest.mark.parametrize("key", list(HELD_OUT), ids=[f"{s}-{lang}" for s, lang in HELD_OUT])
def test_held_out_accuracy(key: tuple[str, str]) -> None:
    group = HELD_OUT[key]
    right, failures = score(group, lambda v: parse_ok(v, parse_entry(v["text"])))
    assert len(group) >= 30
    assert right / len(group) >= PARSE_TARGET, [v["text"] for v in failures]


def test_vectors_cover_both_languages_and_splits() -> None:
    assert set(groups(VECTORS)) == {
        (s, lang) for s in ("tuned", "heldout") for lang in ("en", "ru")
    }


def test_vector_units_are_canonical() -> None:
    canonical = set(vocabulary().units.values())
    assert {v["unit"] for v in VECTORS} - {None} <= canonical


def test_unit_aliases_are_unambiguous() -> None:
    raw = json.loads((ROOT / "models" / "data" / "units.json").read_text(encoding="utf-8"))
    aliases = [alias for names in raw["units"].values() for alias in names]
    assert len(aliases) == len(set(aliases))
    words = set(aliases) & (set(raw["numbers"]) | set(raw["counts"]) | set(raw["fused"]))
    assert not words


@pytest.mark.parametrize(
    ("token", "value"),
    [("2", 2.0), ("1.5", 1.5), ("1,5", 1.5), ("1/2", 0.5), ("½", 0.5), ("1/0", None), ("2%", None)],
)
def test_parse_number(token: str, value: float | None) -> None:
    assert parse_number(token) == value


def test_tokenize_splits_glued_units_and_times() -> None:
    assert tokenize("2кг картошки") == ["2", "кг", "картошки"]
    assert tokenize("йогурт x4") == ["йогурт", "x", "4"]
    assert tokenize("7up, (2 L)") == ["7up", ",", "2", "L"]


@pytest.mark.parametrize(
    "text", ["пакеты для мусора", "can opener", "2 kg", "банки для консервирования", "x"]
)
def test_entries_that_are_only_names(text: str) -> None:
    parsed = parse_entry(text)
    assert (parsed.name, parsed.qty, parsed.unit) == (text, None, None)


@given(st.text(max_size=60))
def test_any_text_parses_without_error(text: str) -> None:
    parsed = parse_entry(text)
    assert parsed.qty is None or parsed.qty >= 0
    assert (parsed.qty is None) == (parsed.unit is None)
    if text.strip():
        assert parsed.name


def test_import_does_not_load_the_morphology() -> None:
    code = "import sys, models.parse, models.categories; print('pymorphy3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def _differential_corpus() -> list[str]:
    amounts = [
        "2",
        "1,5",
        "1.5",
        "½",
        "1/2",
        "a",
        "an",
        "two",
        "две",
        "пол",
        "half a",
        "полкило",
        "десяток",
        "a dozen",
        "2 dozen",
        "пару",
        "x3",
        "3 x",
        "3x",
        "0.5",
        "полтора",
    ]
    units = ["", "kg", "кг", "2кг", "л", "bottles of", "банки", "пачка", "шт", "of", "-", ","]
    names = ["milk", "гречки", "toilet paper", "сыра пармезан", "7up", "для", "Молоко 3,2%"]
    corpus = []
    for amount in amounts:
        for unit in units:
            for name in names:
                corpus.append(f"{amount} {unit} {name}")
                corpus.append(f"{name} {amount} {unit}")
                corpus.append(f"{name}, {unit}{amount}")
    return corpus


@pytest.mark.node
def test_js_parser_agrees_with_python_beyond_the_vectors() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    corpus = _differential_corpus()
    script = (
        "import { parseEntry } from './client/src/lib/parse.js';"
        "import { readFileSync } from 'node:fs';"
        "const texts = JSON.parse(readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(texts.map(parseEntry)));"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        cwd=ROOT,
        input=json.dumps(corpus),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    assert len(js) == len(corpus)
    mismatches = []
    for text, got in zip(corpus, js, strict=True):
        parsed = parse_entry(text)
        want = (parsed.name, parsed.raw_name, parsed.unit)
        if (got["name"], got["rawName"], got["unit"]) != want or not (
            got["qty"] == parsed.qty
            or (
                got["qty"] is not None
                and parsed.qty is not None
                and abs(got["qty"] - parsed.qty) < 1e-9
            )
        ):
            mismatches.append((text, got, parsed))
    assert mismatches == []


def test_every_unit_is_documented() -> None:
    doc = (ROOT / "docs" / "parsing.md").read_text(encoding="utf-8")
    for unit in set(vocabulary().units.values()):
        assert f"| `{unit}` |" in doc


HELD_OUT_2 = groups(load("parse_heldout2"))


@pytest.mark.parametrize("key", list(HELD_OUT_2), ids=[f"{s}-{lang}" for s, lang in HELD_OUT_2])
def test_issue16_held_out_accuracy(key: tuple[str, str]) -> None:
    """Issue 16's gaps (periods, pints, mixed numbers, vague amounts, sizes, multipacks,
    punctuation kept): the held-out set written before the rules, >= 97% per language."""
    group = HELD_OUT_2[key]
    right, failures = score(group, lambda v: parse_ok(v, parse_entry(v["text"])))
    assert len(group) >= 40
    assert right / len(group) >= PARSE_TARGET_2, [v["text"] for v in failures]


@pytest.mark.parametrize(
    ("text", "name", "qty", "unit"),
    [
        ("сыр 300 гр.", "сыр", 300, "g"),
        ("2 кг. картошки", "картошка", 2, "kg"),
        ("1 1/2 kg flour", "flour", 1.5, "kg"),
        ("a few onions", "onions", None, None),
        ("nappies size 4", "nappies size 4", None, None),
        ("coke zero 6 pack", "coke zero 6 pack", None, None),
        ("2 pairs gloves", "gloves", 2, "pair"),
        ("cheese, grated", "cheese, grated", None, None),
        ("«Простоквашино» 2 пачки", "«Простоквашино»", 2, "pack"),
        ("eggs (free range) 12", "eggs (free range)", 12, "pcs"),
        ("(2 kg potatoes)", "potatoes", 2, "kg"),
        ("St. Ivel milk", "St. Ivel milk", None, None),
    ],
)
def test_issue16_forms(text: str, name: str, qty: float | None, unit: str | None) -> None:
    parsed = parse_entry(text)
    assert (parsed.name, parsed.qty, parsed.unit) == (name, qty, unit)
