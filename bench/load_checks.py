"""What the load benchmark checks and measures once every result is in: one grading and one result per
submission with its kind's score, callbacks with their webhook-id and signature, percentiles, CPU use."""

import json
import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from load_traffic import Planned, Received, Service
from sqlalchemy import func, select

from workers.database import session_scope
from workers.models import Delivery, Grading, GradingState, Submission
from workers.settings import Settings


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: with n values, p99 is the largest when n <= 100."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    if not values:
        return "n=0"
    parts = [f"p{p}={percentile(values, p) * scale:.{digits}f}" for p in (50, 95, 99)]
    return f"n={len(values)} " + " ".join(parts) + f" max={max(values) * scale:.{digits}f}"


def cpu_times() -> tuple[float, float]:
    fields = [float(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def busy_fraction(before: tuple[float, float], after: tuple[float, float]) -> float:
    total, idle = after[0] - before[0], after[1] - before[1]
    return 1 - idle / total if total else 0.0


def epoch(moment: datetime | None) -> float:
    assert moment is not None
    return moment.replace(tzinfo=UTC).timestamp()


def running_gradings(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return (
            session.scalar(select(func.count(Grading.id)).where(Grading.state == GradingState.RUNNING)) or 0
        )


def all_final(settings: Settings, ids: list[str]) -> bool:
    with session_scope(settings.database_url) as session:
        finished = session.scalar(
            select(func.count(Submission.id)).where(Submission.id.in_(ids), Submission.status.is_not(None))
        )
    return finished == len(ids)


def verify(service: Service, planned: list[Planned]) -> tuple[list[str], dict[str, Any]]:
    """Exactly one grading and one result per submission, with its kind's score; one delivery per LMS
    submission, every callback of it carrying its webhook-id and a valid signature."""
    problems: list[str] = []
    facts: dict[str, Any] = {}
    by_id = {item.submission_id: item for item in planned}
    callbacks: dict[str, list[Received]] = {}
    for received in list(service.lms.callbacks):
        callbacks.setdefault(received.submission_id or "?", []).append(received)
    with session_scope(service.settings.database_url) as session:
        stored = session.scalars(select(Submission)).all()
        facts["stored"] = len(stored)
        if len(stored) != len(planned):
            problems.append(f"{len(stored)} submissions stored for {len(planned)} sent")
        per_worker: Counter[str] = Counter()
        attempts: Counter[int] = Counter()
        graded_at: dict[str, float] = {}
        queued_seconds: dict[str, list[float]] = {}
        run_seconds: dict[str, list[float]] = {}
        for submission in stored:
            item = by_id.get(submission.id)
            if item is None:
                problems.append(f"{submission.id}: stored but never sent")
                continue
            gradings = submission.gradings
            if len(gradings) != 1 or gradings[0].state != GradingState.DONE:
                problems.append(f"{submission.id}: gradings {[(g.state, g.status) for g in gradings]}")
                continue
            grading = gradings[0]
            if submission.result_grading_id != grading.id:
                problems.append(f"{submission.id}: result is not its one grading")
            if (submission.status, submission.score) != ("graded", item.kind.score):
                problems.append(
                    f"{submission.id} ({item.kind.name}): {submission.status} {submission.score}, "
                    f"expected graded {item.kind.score}"
                )
            per_worker[grading.worker or "?"] += 1
            attempts[grading.attempts] += 1
            graded_at[submission.id] = epoch(submission.graded_at)
            queued_seconds.setdefault(item.kind.name, []).append(
                (grading.started_at - submission.created_at).total_seconds()  # type: ignore[operator]
            )
            run_seconds.setdefault(item.kind.name, []).append(grading.duration_seconds or 0.0)
            if item.channel == "lms":
                deliveries = session.scalars(
                    select(Delivery).where(Delivery.submission_id == submission.id)
                ).all()
                got = callbacks.get(submission.id, [])
                if len(deliveries) != 1:
                    problems.append(f"{submission.id}: {len(deliveries)} deliveries")
                elif not got:
                    problems.append(f"{submission.id}: no callback received")
                else:
                    if {c.headers.get("webhook-id") for c in got} != {deliveries[0].webhook_id}:
                        problems.append(f"{submission.id}: callbacks with another webhook-id")
                    for callback in got:
                        if not callback.signed:
                            problems.append(f"{submission.id}: a callback without a valid signature")
                        report = json.loads(callback.body)
                        if (report["status"], report["score"]) != ("graded", item.kind.score):
                            problems.append(
                                f"{submission.id}: callback says {report['status']} {report['score']}"
                            )
            elif submission.id in callbacks:
                problems.append(f"{submission.id}: a web-form submission was called back")
    facts.update(
        per_worker=dict(per_worker),
        attempts=dict(attempts),
        graded_at=graded_at,
        queued_seconds=queued_seconds,
        run_seconds=run_seconds,
        callbacks_per_lms_submission=Counter(
            len(callbacks.get(item.submission_id, [])) for item in planned if item.channel == "lms"
        ),
    )
    # The instructor's view agrees with the database.
    with httpx.Client(base_url=service.url, headers={"authorization": f"Bearer {service.token}"}) as client:
        for item in planned:
            report = client.get(f"/api/v1/submissions/{item.submission_id}").json()
            if (report.get("status"), report.get("score")) != ("graded", item.kind.score):
                problems.append(
                    f"{item.submission_id}: REST report says {report.get('status')} {report.get('score')}"
                )
    return problems, facts
