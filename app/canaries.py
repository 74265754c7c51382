"""What the grading workers report of their canaries, read from their heartbeats."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.models import WorkerHeartbeat, utcnow


@dataclass(frozen=True)
class FailingCanary:
    assignment: str
    version: str
    worker: str
    reason: str


def failing_canaries(session: Session, *, stale_seconds: float) -> list[FailingCanary]:
    """The failed canaries of live workers: a worker silent for `stale_seconds` grades nothing anyway."""
    live = session.execute(
        select(WorkerHeartbeat.hostname, WorkerHeartbeat.canaries)
        .where(WorkerHeartbeat.seen_at > utcnow() - timedelta(seconds=stale_seconds))
        .order_by(WorkerHeartbeat.hostname)
    ).all()
    return [
        FailingCanary(record["assignment"], record["version"], hostname, record["reason"])
        for hostname, records in live
        for record in records or []
        if not record["passed"]
    ]


def canary_failures(session: Session) -> dict[str, int]:
    """Failed canary runs per assignment, summed over every worker that ever beat, live or not, so the sum
    only falls when a worker restarts under the same hostname (which Prometheus reads as a reset)."""
    counts: dict[str, int] = {}
    for records in session.scalars(select(WorkerHeartbeat.canaries)):
        for record in records or []:
            counts[record["assignment"]] = counts.get(record["assignment"], 0) + record["failures"]
    return counts
