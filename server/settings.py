"""Frozen settings, read from LISTOK_* environment variables and `listok serve` flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./data")
    # A frame larger than this closes its connection with 1009.
    max_message_bytes: int = 2 * 1024 * 1024
    # A connection that answers no ping for this long is closed and its presence removed.
    liveness_timeout: float = 30.0
    # A list stays in memory this long after its last client left.
    idle_unload_seconds: float = 30.0
    # Fold the update log into a snapshot past this many updates or bytes of tail.
    compact_updates: int = 500
    compact_bytes: int = 1024 * 1024
    # SQLite PRAGMA synchronous: FULL survives power loss, NORMAL survives a process crash.
    synchronous: str = "FULL"
    # Group commit under load: after a commit, gather changes for up to this long before the
    # next one; a change arriving on an idle writer commits at once (0: never wait).
    commit_window_ms: float = 0.0
    # Limits: messages per second per connection (burst: twice that), bytes of history per list,
    # items per list (API).
    rate_limit: float = 500.0
    max_list_bytes: int = 16 * 1024 * 1024
    max_items: int = 5000
    # Benchmark flag only: broadcast before the commit instead of after it.
    durable_broadcast: bool = True
    client_dir: Path = _ROOT / "client" / "dist"
    log_level: str = "info"
    log_format: str = "text"  # or "json": one JSON object per line
    # Hardening (socket): open sockets per token and per client address (over: close 4429),
    # awareness client ids one socket may speak for, and bytes per awareness state.
    max_sockets_per_token: int = 64
    max_sockets_per_address: int = 512
    max_presence_clients: int = 8
    max_presence_state_bytes: int = 4096
    # Scale-out (docs/deploy.md). A postgresql:// URL stores everything in PostgreSQL instead
    # of data_dir/listok.db; the pool holds at most this many connections per process.
    database_url: str = ""
    database_pool_size: int = 8
    # HTTP API limits per caller (0 turns one off); over a limit: 429 with Retry-After.
    # New lists per client address per minute (POST /api/lists and PUT of a new id).
    list_creations_per_minute: int = 60
    # API requests per second per token (anonymous calls: per address); bursts of rate x burst.
    requests_per_second: float = 50.0
    request_burst: float = 4.0
    # Event streams (SSE) open at once per token and per client address.
    max_streams_per_token: int = 20
    max_streams_per_address: int = 100
    # /metrics: "public", "token" (Authorization: Bearer LISTOK_METRICS_TOKEN) or "off".
    metrics: str = "public"
    metrics_token: str = ""
    # Operator (docs/operator.md): the admin API and /admin need this token (empty: only a
    # token made by `listok admin token`, stored hashed in the data dir; neither: admin off).
    admin_token: str = field(default="", repr=False)
    # A deleted list can be restored for this many days; then its data is purged (checked every
    # purge_interval_seconds), its id kept as a tombstone that is never re-created.
    deleted_retention_days: float = 30.0
    purge_interval_seconds: float = 3600.0
    # Catalog (docs/catalog.md). Largest price list accepted by POST /api/admin/catalog; a
    # catalog imported longer ago than this is marked stale in totals; (item, store) prices looked
    # up per list in totals: the unchecked items priced are this divided by the number of stores
    # (the rest: partial).
    catalog_max_upload_bytes: int = 256 * 1024 * 1024
    catalog_stale_days: float = 7.0
    catalog_totals_max_lookups: int = 1000

    # Suggestions (docs/suggestions.md). model: a GGUF file, "none" (off), or empty for the
    # default model package; its thread count (0: cores - 1, at most 4), seconds per request,
    # queued requests, load probe, repacked weights, and the nice value of its thread.
    model: str = ""
    model_threads: int = 0
    model_timeout: float = 20.0
    model_queue: int = 4
    model_probe: bool = True
    model_repack: bool = True
    model_nice: int = 10
    # Where the model is used, per language ("ru,en", "en", "none"; empty: the measured defaults
    # in models/suggest.py): adapting the nearest dishes to a dish prompt the table does not
    # know by name (default en), and adding to a list's suggestions (default none).
    model_prompt_langs: str = ""
    model_list_langs: str = ""
    # Another list counts for "together" once it is this old, shopped on this many separate
    # trips, by this many people (docs/decisions/together-privacy.md).
    together_min_age_days: float = 7.0
    together_min_trips: int = 2
    together_min_people: int = 1
    # Several processes: a redis:// URL carries what each commits to the others (pub/sub; the
    # database stays the log). Needs database_url. Channels and client names use the prefix.
    redis_url: str = ""
    redis_prefix: str = "listok:"
    # Processes `listok serve` runs on its port (more than 1 needs database_url and redis_url).
    workers: int = 1
    # Runtime (perf): the event loop ("auto": uvloop when installed, else asyncio) and
    # uvicorn's WebSocket implementation ("websockets-sansio", "websockets" or "wsproto").
    loop: str = "auto"
    ws: str = "websockets-sansio"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "listok.db"

    @property
    def catalog_path(self) -> Path:
        """The catalog's SQLite file: beside the lists in listok.db, or, when the lists are in
        PostgreSQL (database_url), its own catalog.db in the data dir (docs/catalog.md)."""
        return self.data_dir / ("catalog.db" if self.database_url else "listok.db")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"LISTOK_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _convert(f.type, raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def _convert(kind: Any, raw: str, name: str) -> Any:
    kind = str(kind)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise SystemExit(f"LISTOK_{name.upper()}: invalid value {raw!r}") from exc
    return raw
