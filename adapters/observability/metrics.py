"""`Metrics`: every Prometheus metric of the service, on a registry the caller passes in.

Code that has something to count calls a method named for the event (`metrics.webhook_rejected("bad_signature")`),
so metric names, labels and buckets live here only and the Grafana dashboard and alert rules
(deploy/) can be checked against `Metrics.names()`. One object is built per process by the composition root.

Several processes (uvicorn workers, the arq worker) add up through prometheus_client's multiprocess mode
(`multiprocess.py`): counters and histograms are summed; gauges say how they combine (`multiprocess_mode`).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "inspector_bot"

#: Seconds. Turns include Inspector calls and sends, so they reach further than acks do.
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0)
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}
LINKING_EVENTS = ("started", "succeeded", "failed", "rate_limited")


class Metrics:
    """The service's metrics on `registry`; one method per thing that happens."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._children: dict[tuple[Any, ...], Any] = {}
        r = self.registry

        def name(short: str) -> str:
            return f"{PREFIX}_{short}"

        # -- webhook ---------------------------------------------------------------------------------
        self.webhooks_received = Counter(name("webhooks_received"), "Inbound events (messages) accepted from "
                                         "webhook deliveries", registry=r)
        self.webhooks_rejected = Counter(name("webhooks_rejected"), "Webhook deliveries refused, by reason",
                                         ["reason"], registry=r)
        self.webhooks_duplicates = Counter(name("webhooks_duplicates"), "Inbound events already seen (same wamid)",
                                           registry=r)
        self.ack_seconds = Histogram(name("ack_seconds"), "From the webhook POST arriving to its 200",
                                     buckets=ACK_BUCKETS, registry=r)
        # -- turns -----------------------------------------------------------------------------------
        self.messages_processed = Counter(name("messages_processed"), "Inbound events processed, by the flow and "
                                          "state the conversation ended in", ["flow", "state"], registry=r)
        self.messages_failed = Counter(name("messages_failed"), "Inbound events that were dead-lettered", registry=r)
        self.rate_limited = Counter(name("rate_limited"), "Inbound events dropped by the per-user rate limit",
                                    registry=r)
        self.turn_seconds = Histogram(name("turn_seconds"), "From the ack of an event to its last reply sent",
                                      buckets=TURN_BUCKETS, registry=r)
        self.engine_turns = Counter(name("engine_turns"), "Engine turns run (retries included), by outcome",
                                    ["outcome"], registry=r)
        # -- sending ---------------------------------------------------------------------------------
        self.replies_sent = Counter(name("replies_sent"), "Messages accepted by WhatsApp (or queued for retry), "
                                    "by kind", ["kind"], registry=r)
        self.send_errors = Counter(name("send_errors"), "Messages WhatsApp refused, by Meta error code",
                                   ["code"], registry=r)
        # -- Inspector -------------------------------------------------------------------------------
        self.inspector_calls = Counter(name("inspector_calls"), "Inspector API calls, by operation and outcome",
                                       ["operation", "outcome"], registry=r)
        self.inspector_seconds = Histogram(name("inspector_call_seconds"), "Inspector API call latency (retries "
                                           "included), by operation", ["operation"], buckets=CALL_BUCKETS,
                                           registry=r)
        self.inspector_breaker = Gauge(name("inspector_breaker_state"), "Inspector circuit breaker: 0 closed, "
                                       "1 half-open, 2 open (the worst live process)", registry=r,
                                       multiprocess_mode="livemax")
        # -- jobs ------------------------------------------------------------------------------------
        self.jobs = Counter(name("jobs"), "Background jobs run, by job name and outcome", ["job", "outcome"],
                            registry=r)
        self.dead_letters = Gauge(name("dead_letters"), "Entries in a dead-letter list (webhook events, jobs)",
                                  ["queue"], registry=r, multiprocess_mode="mostrecent")
        self.jobs_queued = Gauge(name("jobs_queued"), "Jobs waiting in the arq queue", registry=r,
                                 multiprocess_mode="mostrecent")
        # -- linking ---------------------------------------------------------------------------------
        self.linking = Counter(name("linking"), "Account linking: codes started, links succeeded, failed "
                               "attempts, rate-limited requests", ["event"], registry=r)
        # -- backlog ---------------------------------------------------------------------------------
        self.queue_depth = Gauge(name("queue_depth"), "Accepted inbound events not processed yet", registry=r,
                                 multiprocess_mode="mostrecent")
        self.oldest_pending_seconds = Gauge(name("oldest_pending_seconds"), "Age of the oldest inbound event "
                                            "not processed yet (0 when none)", registry=r,
                                            multiprocess_mode="mostrecent")
        for event in LINKING_EVENTS:  # so rate() has a zero to start from
            self.linking.labels(event)

    def _labelled(self, metric: Any, *values: str) -> Any:
        """`metric.labels(*values)`, kept: labels() validates and locks on every call, and the per-message
        counters (processed by state, replies by kind) ask for the same few children all the time."""
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    # -- methods the rest of the code calls ----------------------------------------------------------

    def webhook_received(self, events: int = 1) -> None:
        self.webhooks_received.inc(events)

    def webhook_rejected(self, reason: str) -> None:
        """`reason`: missing_signature, bad_signature, malformed_json, not_whatsapp, too_large, ..."""
        self.webhooks_rejected.labels(reason).inc()

    def webhook_duplicates(self, count: int = 1) -> None:
        if count:
            self.webhooks_duplicates.inc(count)

    def webhook_acked(self, seconds: float) -> None:
        self.ack_seconds.observe(seconds)

    def message_processed(self, flow: str, state: str) -> None:
        self._labelled(self.messages_processed, flow or "-", state or "-").inc()

    def message_failed(self) -> None:
        self.messages_failed.inc()

    def message_rate_limited(self) -> None:
        self.rate_limited.inc()

    def turn_finished(self, seconds: float) -> None:
        """From the ack (the event was stored) to the last reply of its turn sent."""
        self.turn_seconds.observe(seconds)

    def engine_turn(self, outcome: str) -> None:
        """`ok` or `error`; called by the engine's observer for every turn, retries included."""
        self._labelled(self.engine_turns, outcome).inc()

    def reply_sent(self, kind: str) -> None:
        self._labelled(self.replies_sent, kind).inc()

    def send_failed(self, code: int | str | None) -> None:
        self.send_errors.labels(str(code) if code not in (None, "") else "unknown").inc()

    def inspector_call(self, operation: str, outcome: str, seconds: float) -> None:
        self.inspector_calls.labels(operation, outcome).inc()
        self.inspector_seconds.labels(operation).observe(seconds)

    def observe_inspector(self, operation: str, outcome: str, seconds: float, breaker: str) -> None:
        """The InspectorClient's observer (`client.observe(metrics.observe_inspector)`)."""
        self.inspector_call(operation, outcome, seconds)
        self.breaker_state(breaker)

    def breaker_state(self, state: str) -> None:
        self.inspector_breaker.set(BREAKER_STATES.get(state, 0))

    def job_finished(self, job: str, outcome: str) -> None:
        """`outcome`: ok, retry, error, dead_lettered (or what the job returned, when it names one)."""
        self.jobs.labels(job, outcome).inc()

    def linking_event(self, event: str) -> None:
        """One of LINKING_EVENTS."""
        self.linking.labels(event).inc()

    def backlog(self, depth: int, oldest_seconds: float) -> None:
        self.queue_depth.set(depth)
        self.oldest_pending_seconds.set(max(0.0, oldest_seconds))

    def dead_letter_count(self, queue: str, count: int) -> None:
        self.dead_letters.labels(queue).set(count)

    def jobs_waiting(self, count: int) -> None:
        self.jobs_queued.set(count)

    def names(self) -> set[str]:
        """Every sample name this object can expose (`_total`, `_bucket`, ... included), for dashboards' tests."""
        out: set[str] = set()
        for family in self.registry.collect():
            base = family.name
            if family.type == "counter":
                out |= {base + "_total", base + "_created"}
            elif family.type == "histogram":
                out |= {base + "_bucket", base + "_count", base + "_sum", base + "_created"}
            else:
                out.add(base)
        return out
