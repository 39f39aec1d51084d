"""Prometheus metrics, one registry per app (so tests can run several servers in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("listok_connections", "Open WebSocket connections", registry=r)
        self.lists_loaded = Gauge("listok_lists_in_memory", "Lists loaded in memory", registry=r)
        self.updates = Counter("listok_updates", "Document updates committed", registry=r)
        self.commits = Counter("listok_commits", "Store transactions committed", registry=r)
        self.commit_seconds = Histogram(
            "listok_commit_seconds", "Store commit latency", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.fanout_seconds = Histogram(
            "listok_fanout_seconds",
            "From an update's arrival to its broadcast (includes the commit)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.rejected = Counter(
            "listok_rejected_messages", "Messages rejected, by reason", ["reason"], registry=r
        )
        self.events = Counter("listok_events", "Typed change events", ["type"], registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
