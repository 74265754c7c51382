import collections
import os
import time
from collections.abc import Awaitable, Callable, Iterator

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from app.canaries import canary_failures, failing_canaries
from workers.database import session_scope
from workers.models import Delivery, DeliveryState, Grading, GradingState, Submission

# Set for an API of several processes (`tfgrade api --processes N`): prometheus_client then keeps each
# process's counters in files there.
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
GRADING_BUCKETS = (1.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class StorageCollector(Collector):
    """Queue depth, grading times (by status, so `error` results are counted) and the workers' canaries,
    read from the database, so every worker's work is counted."""

    def __init__(self, database_url: str, *, worker_stale_seconds: float) -> None:
        self.database_url = database_url
        self.worker_stale_seconds = worker_stale_seconds

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("tfgrade_queue_depth", "Jobs waiting, by queue", labels=["queue"])
        running = GaugeMetricFamily("tfgrade_gradings_running", "Gradings in progress")
        grading_time = HistogramMetricFamily(
            "tfgrade_grading_seconds", "Time to grade a submission", labels=["assignment", "status"]
        )
        canaries_failing = GaugeMetricFamily(
            "tfgrade_canaries_failing",
            "Live workers whose canary of an assignment version fails (they grade none of it)",
            labels=["assignment", "version"],
        )
        canary_failed_runs = CounterMetricFamily(
            "tfgrade_canary_failures", "Failed canary runs of the grading workers", labels=["assignment"]
        )
        bucket_counts = [func.sum(case((Grading.duration_seconds <= b, 1), else_=0)) for b in GRADING_BUCKETS]
        with session_scope(self.database_url) as session:
            queued = session.scalar(select(func.count()).where(Grading.state == GradingState.QUEUED))
            in_progress = session.scalar(select(func.count()).where(Grading.state == GradingState.RUNNING))
            deliveries = session.scalar(select(func.count()).where(Delivery.state == DeliveryState.PENDING))
            timed = session.execute(
                select(
                    Submission.assignment,
                    Grading.status,
                    func.count(),
                    func.sum(Grading.duration_seconds),
                    *bucket_counts,
                )
                .join(Submission, Grading.submission_id == Submission.id)
                .where(Grading.state == GradingState.DONE, Grading.duration_seconds.is_not(None))
                .group_by(Submission.assignment, Grading.status)
            ).all()
            failing = failing_canaries(session, stale_seconds=self.worker_stale_seconds)
            failed_runs = canary_failures(session)
        depth.add_metric(["grading"], queued or 0)
        depth.add_metric(["deliveries"], deliveries or 0)
        running.add_metric([], in_progress or 0)
        for assignment, status, count, total, *cumulative in timed:
            buckets = [(str(b), int(n or 0)) for b, n in zip(GRADING_BUCKETS, cumulative, strict=True)]
            grading_time.add_metric(
                [assignment, status or ""],
                buckets=[*buckets, ("+Inf", int(count))],
                sum_value=float(total or 0),
            )
        failing_workers = collections.Counter((canary.assignment, canary.version) for canary in failing)
        for (assignment, version), workers in sorted(failing_workers.items()):
            canaries_failing.add_metric([assignment, version], workers)
        for assignment, runs in sorted(failed_runs.items()):
            canary_failed_runs.add_metric([assignment], runs)
        yield depth
        yield running
        yield grading_time
        yield canaries_failing
        yield canary_failed_runs


class RequestMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            "tfgrade_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "tfgrade_http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry
        )

    async def __call__(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        self.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response


def install_metrics(app: FastAPI, database_url: str, *, worker_stale_seconds: float) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(StorageCollector(database_url, worker_stale_seconds=worker_stale_seconds))
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        multiprocess.MultiProcessCollector(registry)  # every process's request counters, summed
        app.middleware("http")(RequestMetrics(None))
    else:
        app.middleware("http")(RequestMetrics(registry))
    return registry
