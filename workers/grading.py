import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from grader import GRADER_VERSION, Assignment, AssignmentError, Catalog, GradeReport, Status, ungraded_report
from workers.database import session_scope
from workers.models import Delivery, Grading, GradingState, Submission, WorkerHeartbeat, utcnow
from workers.queueing import enqueue_grading
from workers.settings import Settings

Grade = Callable[[bytes, Assignment], GradeReport]
T = TypeVar("T")
DATABASE_RETRY_SECONDS = 120.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    grading_id: int
    attempt: int
    submission_id: str
    assignment: str
    notebook: bytes


def worker_alive(session: Session, hostname: str | None, stale_seconds: float) -> bool:
    if hostname is None:
        return False
    seen_at = session.scalar(select(WorkerHeartbeat.seen_at).where(WorkerHeartbeat.hostname == hostname))
    return seen_at is not None and seen_at > utcnow() - timedelta(seconds=stale_seconds)


def waiting_assignment(session: Session, grading_id: int) -> str | None:
    """The slug of the assignment a grading still waits to be graded for; None once it is final."""
    grading = session.get(Grading, grading_id)
    if grading is None or grading.state == GradingState.DONE:
        return None
    return grading.submission.assignment


def claim_grading(session: Session, grading_id: int, *, worker: str, stale_seconds: float) -> Claim | None:
    """Starts an attempt, unless the grading is final or another live worker is on it."""
    grading = session.get(Grading, grading_id, with_for_update=True)
    if grading is None or grading.state == GradingState.DONE:
        return None
    if (
        grading.state == GradingState.RUNNING
        and grading.worker != worker
        and worker_alive(session, grading.worker, stale_seconds)
    ):
        return None
    grading.attempts += 1
    grading.state = GradingState.RUNNING
    grading.worker = worker
    grading.started_at = utcnow()
    submission = grading.submission
    return Claim(grading.id, grading.attempts, submission.id, submission.assignment, submission.notebook)


def failure_report(claim: Claim, assignment: Assignment | None, message: str) -> GradeReport:
    if assignment is not None:
        return ungraded_report(assignment, Status.ERROR, message).with_submission_id(claim.submission_id)
    return GradeReport(
        submission_id=claim.submission_id,
        assignment=claim.assignment,
        assignment_version="unknown",
        status=Status.ERROR,
        message=message,
        grader_version=GRADER_VERSION,
    )


def produce_report(claim: Claim, *, catalog: Catalog, grade: Grade, max_attempts: int) -> GradeReport:
    try:
        assignment = catalog.get(claim.assignment)
    except AssignmentError as error:
        return failure_report(claim, None, f"This assignment is not available for grading: {error}")
    if claim.attempt > max_attempts:
        return failure_report(
            claim,
            assignment,
            f"Grading stopped the grader {max_attempts} times, so this notebook was not graded. "
            "Look for code that uses a lot of memory or never ends.",
        )
    try:
        return grade(claim.notebook, assignment).with_submission_id(claim.submission_id)
    except Exception:
        log.exception("grading %s failed inside the grader", claim.submission_id)
        return failure_report(claim, assignment, "The grader failed on this notebook; staff have been told.")


def this_attempt(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    """The grading as this claim left it: still running this very attempt, so a write lands only once."""
    return (
        Grading.id == claim.grading_id,
        Grading.state == GradingState.RUNNING,
        Grading.attempts == claim.attempt,
    )


def record_result(session: Session, claim: Claim, report: GradeReport, duration: float) -> list[int]:
    """Writes the attempt's result once; returns the callback deliveries it created."""
    written = session.execute(
        update(Grading)
        .where(*this_attempt(claim))
        .values(
            state=GradingState.DONE,
            finished_at=utcnow(),
            duration_seconds=duration,
            status=report.status.value,
            report=report.model_dump(mode="json"),
        )
    )
    if written.rowcount != 1:  # type: ignore[attr-defined]
        return []
    submission = session.get_one(Submission, claim.submission_id)
    if submission.result_grading_id is not None and submission.result_grading_id > claim.grading_id:
        return []
    submission.result_grading_id = claim.grading_id
    submission.status = report.status.value
    submission.score = report.score
    submission.max_score = report.max_score
    submission.graded_at = utcnow()
    if submission.integration_id is None or submission.callback_url is None:
        return []
    delivery = Delivery(
        submission_id=submission.id,
        integration_id=submission.integration_id,
        webhook_id=f"msg_{uuid.uuid4().hex}",
        url=submission.callback_url,
        payload={
            **report.model_dump(mode="json"),
            "user_id": submission.external_user_id,
            "external_submission_id": submission.external_submission_id,
        },
    )
    session.add(delivery)
    session.flush()
    return [delivery.id]


def retry_later(settings: Settings, claim: Claim) -> None:
    """An `error` is the grader's side failing (a sandbox killed from outside, a crash): the attempt is
    given back to the queue rather than written as the result, until the attempts run out."""

    def release() -> bool:
        with session_scope(settings.database_url) as session:
            released = session.execute(
                update(Grading)
                .where(*this_attempt(claim))
                .values(state=GradingState.QUEUED, enqueued_at=None)
            )
            return released.rowcount == 1  # type: ignore[attr-defined]

    if not retrying_database(release):
        return
    log.warning(
        "grading %s failed on the grader's side; attempt %s given back", claim.grading_id, claim.attempt
    )
    try:
        enqueue_grading(settings, claim.grading_id)
    except Exception:
        log.warning(
            "broker unavailable; grading %s will be sent by a worker", claim.grading_id, exc_info=True
        )
        return
    with session_scope(settings.database_url) as session:
        session.get_one(Grading, claim.grading_id).enqueued_at = utcnow()


def retrying_database(action: Callable[[], T], *, seconds: float = DATABASE_RETRY_SECONDS) -> T:
    """Waits out a database that is away for a while (restart, failover) instead of failing the task:
    a failed task is acknowledged, and its grading would stay queued or running forever."""
    deadline = time.monotonic() + seconds
    delay = 0.5
    while True:
        try:
            return action()
        except OperationalError:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database unreachable; retrying in %.1f s", delay, exc_info=True)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def grade_submission(
    grading_id: int, *, settings: Settings, catalog: Catalog, grade: Grade, worker: str
) -> list[int]:
    def claim_it() -> Claim | None:
        with session_scope(settings.database_url) as session:
            return claim_grading(
                session, grading_id, worker=worker, stale_seconds=settings.worker_stale_seconds
            )

    claim = retrying_database(claim_it)
    if claim is None:
        return []
    started = time.monotonic()
    report = produce_report(claim, catalog=catalog, grade=grade, max_attempts=settings.max_grading_attempts)
    duration = time.monotonic() - started
    if report.status is Status.ERROR and claim.attempt < settings.max_grading_attempts:
        retry_later(settings, claim)
        return []

    def record_it() -> list[int]:
        with session_scope(settings.database_url) as session:
            return record_result(session, claim, report, duration)

    return retrying_database(record_it)


def abandoned_gradings(session: Session, *, stale_seconds: float) -> list[int]:
    """Gradings left running by workers that stopped sending heartbeats: back to the queue."""
    running = session.scalars(select(Grading).where(Grading.state == GradingState.RUNNING)).all()
    abandoned = [g for g in running if not worker_alive(session, g.worker, stale_seconds)]
    for grading in abandoned:
        grading.state = GradingState.QUEUED
        grading.enqueued_at = utcnow()
    return [grading.id for grading in abandoned]


def unsent_gradings(session: Session, *, older_than_seconds: float) -> list[int]:
    """Gradings stored while the broker was unreachable (or the API stopped before sending them)."""
    unsent = session.scalars(
        select(Grading).where(
            Grading.state == GradingState.QUEUED,
            Grading.enqueued_at.is_(None),
            Grading.created_at < utcnow() - timedelta(seconds=older_than_seconds),
        )
    ).all()
    for grading in unsent:
        grading.enqueued_at = utcnow()
    return [grading.id for grading in unsent]


def orphaned_gradings(session: Session, *, worker: str) -> list[int]:
    """Gradings a worker of this hostname was running when it died: a restarted worker (same hostname,
    fresh heartbeat) would otherwise look alive to `abandoned_gradings` and leave them running forever."""
    orphaned = session.scalars(
        select(Grading).where(Grading.state == GradingState.RUNNING, Grading.worker == worker)
    ).all()
    for grading in orphaned:
        grading.state = GradingState.QUEUED
        grading.enqueued_at = utcnow()
    return [grading.id for grading in orphaned]
