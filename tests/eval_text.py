"""Parsing and categorization accuracy on the shared vectors, EN and RU, tuned vs held-out.

Not a test: run `python -m tests.eval_text` (or `python tests/eval_text.py`) from the repo root.
The tests (tests/test_parse.py, tests/test_categories.py) use the same helpers and thresholds.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.categories import categorize  # noqa: E402
from models.parse import Parsed, parse_entry  # noqa: E402

PARSE_TARGET = 0.95
CATEGORY_TARGET = 0.90
Vector = dict[str, Any]


def load(name: str) -> list[Vector]:
    data = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    vectors: list[Vector] = data["vectors"]
    return vectors


def same_qty(got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got is want
    return abs(got - want) < 1e-9


def parse_ok(vector: Vector, parsed: Parsed) -> bool:
    """The Python parser must get name, raw_name, qty and unit right."""
    return (
        parsed.name == vector["name"]
        and parsed.raw_name == vector["raw_name"]
        and same_qty(parsed.qty, vector["qty"])
        and parsed.unit == vector["unit"]
    )


def category_ok(vector: Vector, category: str) -> bool:
    return category == vector["category"]


def groups(vectors: list[Vector]) -> dict[tuple[str, str], list[Vector]]:
    out: dict[tuple[str, str], list[Vector]] = {}
    for vector in vectors:
        out.setdefault((vector["split"], vector["lang"]), []).append(vector)
    return dict(sorted(out.items()))


def score(vectors: list[Vector], check: Callable[[Vector], bool]) -> tuple[int, list[Vector]]:
    failures = [v for v in vectors if not check(v)]
    return len(vectors) - len(failures), failures


def report(
    title: str,
    vectors: list[Vector],
    check: Callable[[Vector], bool],
    target: float,
    describe: Callable[[Vector], str],
) -> bool:
    print(f"{title} (target >= {target:.0%})")
    met = True
    for (split, lang), group in groups(vectors).items():
        right, failures = score(group, check)
        rate = right / len(group)
        met = met and rate >= target
        print(f"  {split:8} {lang}: {right}/{len(group)} = {rate:.1%}")
        for failure in failures:
            print(f"      miss: {describe(failure)}")
    return met


def main() -> int:
    started = time.perf_counter()
    parse_vectors = load("parse")
    category_vectors = load("categories")

    def check_parse(v: Vector) -> bool:
        return parse_ok(v, parse_entry(v["text"]))

    def describe_parse(v: Vector) -> str:
        p = parse_entry(v["text"])
        return (
            f"{v['text']!r} -> {p.name!r} {p.qty} {p.unit} "
            f"(want {v['name']!r} {v['qty']} {v['unit']})"
        )

    def check_category(v: Vector) -> bool:
        return category_ok(v, categorize(v["name"]))

    def describe_category(v: Vector) -> str:
        return f"{v['name']!r} -> {categorize(v['name'])} (want {v['category']})"

    ok = report("Parsing", parse_vectors, check_parse, PARSE_TARGET, describe_parse)
    ok = (
        report("Categories", category_vectors, check_category, CATEGORY_TARGET, describe_category)
        and ok
    )
    print(f"({time.perf_counter() - started:.2f} s including pymorphy3 load)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
