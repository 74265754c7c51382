import logging
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from workers.models import Grading, GradingState, Student, Submission, utcnow
from workers.queueing import enqueue_grading
from workers.settings import Settings

log = logging.getLogger(__name__)


def queue_grading(session: Session, settings: Settings, submission: Submission, *, reason: str) -> Grading:
    """Commits the submission and its grading, and only then puts the grading's id on the queue.

    When the broker cannot take it, the grading stays stored without `enqueued_at`, and a worker's
    heartbeat sends it later (workers.grading.unsent_gradings).
    """
    grading = Grading(submission=submission, reason=reason)
    session.add_all([submission, grading])
    session.commit()
    try:
        enqueue_grading(settings, grading.id)
    except Exception:
        log.warning("broker unavailable; grading %s will be sent by a worker", grading.id, exc_info=True)
        return grading
    grading.enqueued_at = utcnow()
    session.commit()
    return grading


def pending_grading(submission: Submission) -> Grading | None:
    pending = [g for g in submission.gradings if g.state != GradingState.DONE]
    return pending[-1] if pending else None


def progress_state(submission: Submission) -> str:
    pending = pending_grading(submission)
    return pending.state if pending else GradingState.DONE


def queue_position(session: Session, grading: Grading) -> int:
    ahead = select(func.count(Grading.id)).where(
        Grading.state == GradingState.QUEUED, Grading.id < grading.id
    )
    return (session.scalar(ahead) or 0) + 1


def hold_student(session: Session, student: Student) -> None:
    """Locks the student's row until the transaction ends, so that two uploads at the same moment check the
    cooldown in turn. An UPDATE, because SQLite has no SELECT ... FOR UPDATE: there it takes the write lock."""
    session.execute(update(Student).where(Student.id == student.id).values(name=Student.name))


def pending_submissions(session: Session, student: Student) -> int:
    """The student's submissions with a grading still queued or running."""
    waiting = (
        select(func.count(func.distinct(Grading.submission_id)))
        .join(Submission, Submission.id == Grading.submission_id)
        .where(Submission.student_id == student.id, Grading.state != GradingState.DONE)
    )
    return session.scalar(waiting) or 0


def cooldown_remaining(session: Session, student: Student, assignment: str, cooldown_seconds: int) -> int:
    if cooldown_seconds <= 0:
        return 0
    last = session.scalar(
        select(func.max(Submission.created_at)).where(
            Submission.student_id == student.id, Submission.assignment == assignment
        )
    )
    if last is None:
        return 0
    remaining = last + timedelta(seconds=cooldown_seconds) - utcnow()
    return max(0, int(remaining.total_seconds() + 0.999))


def student_submissions(session: Session, student: Student, assignment: str) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.student_id == student.id, Submission.assignment == assignment)
            .order_by(Submission.created_at.desc())
        )
    )
