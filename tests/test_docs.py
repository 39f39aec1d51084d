"""The README documents every setting a user sets and every `listok` command (STYLE.md: docs
checked by tests)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from server import cli
from server.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

# Settings fields no user sets: a benchmark-only switch (bench/ flips it to measure the cost of
# committing before broadcasting).
NOT_FOR_USERS = {"durable_broadcast"}


def table_rows() -> list[str]:
    return [line for line in README.splitlines() if line.startswith("|")]


def user_settings() -> list[str]:
    return [f.name for f in fields(Settings) if f.name not in NOT_FOR_USERS]


@pytest.mark.parametrize("name", user_settings())
def test_every_setting_has_a_row_in_the_readme(name: str) -> None:
    env = f"`LISTOK_{name.upper()}`"
    assert any(env in row for row in table_rows()), f"README.md: no settings-table row for {env}"


def test_the_exempt_settings_still_exist() -> None:
    assert {f.name for f in fields(Settings)} >= NOT_FOR_USERS


class _Parsed(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def listok_parser(monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser `listok` builds, caught at the moment it would parse the command line."""

    def caught(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        raise _Parsed(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", caught)
    with pytest.raises(_Parsed) as parsed:
        cli.main([])
    return parsed.value.parser


def commands(parser: argparse.ArgumentParser, prefix: str = "listok") -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}"
                yield from commands(sub, f"{prefix} {name}")


def test_the_parser_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    found = set(commands(listok_parser(monkeypatch)))
    assert {"listok serve", "listok export", "listok admin token"} <= found


def test_every_command_is_in_the_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    # `listok add | show | watch` names three commands in one heading.
    text = re.sub(r"\s*\|\s*", " | ", README)
    mentioned = set(re.findall(r"listok(?: [a-z]+)+", text))
    for group in re.findall(r"listok ([a-z]+(?: \| [a-z]+)+)", text):
        mentioned |= {f"listok {name}" for name in group.split(" | ")}
    missing = [
        c
        for c in commands(listok_parser(monkeypatch))
        if not any(m == c or m.startswith(c + " ") for m in mentioned)
    ]
    assert not missing, f"README.md does not mention: {', '.join(missing)}"
