"""Prometheus metrics: what every process counts, built once per process on its own registry and passed to
whatever records into it (no module-level metric objects: a test builds a fresh set, a process one).

The names are the contract with dashboards, alerts and autoscalers (`deploy/observability/`,
`deploy/k8s/`): change them there too. Labels carry kinds, never ids or personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    # The ingress
    requests: Counter
    request_seconds: Histogram
    signature_failures: Counter
    # Jobs and queues
    jobs: Counter
    job_seconds: Histogram
    queue_depth: Gauge
    queue_oldest_age: Gauge
    dead_letters: Counter
    # Ashby and Slack
    upstream_calls: Counter
    upstream_retries: Counter
    # What the product does
    reminders: Counter
    submissions: Counter
    decisions: Counter
    sync_lag: Gauge

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def build_metrics() -> Metrics:
    registry = CollectorRegistry()
    return Metrics(
        registry=registry,
        requests=Counter("fleet_http_requests", "Requests by route and status", ["route", "status"], registry=registry),
        request_seconds=Histogram(
            "fleet_http_request_seconds", "Request latency", ["route"], buckets=LATENCY_BUCKETS, registry=registry
        ),
        signature_failures=Counter(
            "fleet_signature_failures", "Requests refused for a missing, wrong or replayed signature", ["source"],
            registry=registry,
        ),
        jobs=Counter("fleet_jobs", "Jobs by name and outcome", ["job", "outcome"], registry=registry),
        job_seconds=Histogram("fleet_job_seconds", "Job duration", ["job"], buckets=JOB_BUCKETS, registry=registry),
        queue_depth=Gauge("fleet_queue_depth", "Jobs due and waiting for a worker", ["queue"], registry=registry),
        queue_oldest_age=Gauge(
            "fleet_queue_oldest_job_age_seconds", "How long the oldest due job has waited", ["queue"], registry=registry
        ),
        dead_letters=Counter("fleet_dead_letters", "Jobs that failed for good", ["job"], registry=registry),
        upstream_calls=Counter(
            "fleet_upstream_calls", "Ashby and Slack calls by method and outcome", ["service", "method", "outcome"],
            registry=registry,
        ),
        upstream_retries=Counter(
            "fleet_upstream_retries", "Calls retried after a 429, a 5xx or a network error", ["service", "reason"],
            registry=registry,
        ),
        reminders=Counter("fleet_reminders", "Reminders by kind and outcome", ["kind", "outcome"], registry=registry),
        submissions=Counter("fleet_submissions", "Feedback submissions by outcome", ["outcome"], registry=registry),
        decisions=Counter(
            "fleet_decisions", "Advancement decisions by outcome and state", ["outcome", "state"], registry=registry
        ),
        sync_lag=Gauge("fleet_sync_lag_seconds", "Time since a sync last completed", ["sync"], registry=registry),
    )  # fmt: skip


def failure_kind(status: int | None) -> str:
    """A failed upstream call's label: what an operator acts on differently (wait, page Ashby, check our
    network, fix the request), never its message."""
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "server_error"
    return "network" if status is None else "refused"
