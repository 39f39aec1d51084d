"""`listok add|show|watch --url URL --token T LIST_ID`: a running server's list from a terminal.

For scripts, cron jobs and home automation. The token may come from LISTOK_TOKEN instead of
--token (keeps it out of `ps` and shell history). Exit status: 0 done, 1 the server refused or
did not answer (the reason on stderr), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

from server.remote import RemoteError, RemoteList, open_list


def add_commands(commands: Any) -> None:
    """Register the client subcommands on `listok`'s subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("list_id", help="the list's id (from its link: /l/<id>)")
    common.add_argument(
        "--url",
        default=os.environ.get("LISTOK_URL", "http://127.0.0.1:8000"),
        help="the server (LISTOK_URL, default http://127.0.0.1:8000)",
    )
    common.add_argument("--token", help="the list's token or share link token (LISTOK_TOKEN)")
    common.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (10)")
    common.add_argument("--json", action="store_true", help="JSON output")

    add = commands.add_parser("add", parents=[common], help="add items to a list on a server")
    add.add_argument("entries", nargs="+", help='items as typed, e.g. "2 kg potatoes" milk')
    add.add_argument("--by", default="", help="the name shown as who added them")
    add.set_defaults(client=_add)

    show = commands.add_parser("show", parents=[common], help="print a list from a server")
    show.add_argument("--all", action="store_true", help="include checked items")
    show.set_defaults(client=_show)

    watch = commands.add_parser("watch", parents=[common], help="print a list's changes live")
    watch.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    watch.set_defaults(client=_watch)


def run(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("LISTOK_TOKEN")
    if not token:
        print("listok: a token is required (--token or LISTOK_TOKEN)", file=sys.stderr)
        return 2
    try:
        code: int = asyncio.run(args.client(args, token))
        return code
    except RemoteError as exc:
        print(f"listok: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def describe(item: dict[str, Any]) -> str:
    amount = "" if item["qty"] is None else f" {item['qty']:g}".rstrip()
    unit = f" {item['unit']}" if item["unit"] else ""
    return f"{item['name']}{amount}{unit}"


async def _add(args: argparse.Namespace, token: str) -> int:
    async with open_list(args.url, args.list_id, token, timeout=args.timeout) as remote:
        ids = [remote.add(entry, actor=args.by) for entry in args.entries if entry.strip()]
    # Leaving the block waited for the server to commit them.
    added = [i for i in remote.items() if i["id"] in ids]
    if args.json:
        print(json.dumps({"added": added}, ensure_ascii=False))
    else:
        for item in added:
            print(f"+ {describe(item)}")
    return 0


async def _show(args: argparse.Namespace, token: str) -> int:
    async with open_list(args.url, args.list_id, token, timeout=args.timeout) as remote:
        items = [i for i in remote.items() if args.all or not i["checked"]]
        title = remote.title()
    if args.json:
        print(json.dumps({"title": title, "items": items}, ensure_ascii=False))
        return 0
    print(f"# {title}" if title else f"# {args.list_id}")
    for item in items:
        print(f"[{'x' if item['checked'] else ' '}] {describe(item)}")
    return 0


def changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[Any]:
    """What happened between two views of a list, as (kind, item) pairs."""
    out: list[tuple[str, dict[str, Any]]] = []
    for item_id, item in after.items():
        old = before.get(item_id)
        if old is None:
            out.append(("added", item))
        elif old["checked"] != item["checked"]:
            out.append(("checked" if item["checked"] else "unchecked", item))
        elif describe(old) != describe(item) or old["note"] != item["note"]:
            out.append(("changed", item))
    out.extend(("removed", item) for item_id, item in before.items() if item_id not in after)
    return out


_MARKS = {"added": "+", "removed": "-", "checked": "x", "unchecked": "o", "changed": "~"}


async def _watch(args: argparse.Namespace, token: str) -> int:
    async with open_list(args.url, args.list_id, token, timeout=args.timeout) as remote:
        seen = _by_id(remote)
        changed = asyncio.Event()
        remote.doc.observe(lambda _event: changed.set())
        print(f"# watching {remote.title() or args.list_id} ({len(seen)} items)", flush=True)
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        while deadline is None or time.monotonic() < deadline:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                await asyncio.wait_for(changed.wait(), left)
            except TimeoutError:
                break
            changed.clear()
            now = _by_id(remote)
            for kind, item in changes(seen, now):
                if args.json:
                    print(json.dumps({"type": kind, "item": item}, ensure_ascii=False), flush=True)
                else:
                    print(f"{_MARKS[kind]} {describe(item)}", flush=True)
            seen = now
    return 0


def _by_id(remote: RemoteList) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in remote.items()}
