from datetime import timedelta

from helpers import Login, finish_grading, free_port, latest_grading, submit

from grader import Assignment, Catalog, GradeReport
from workers.database import session_scope
from workers.grading import abandoned_gradings, claim_grading, grade_submission, unsent_gradings
from workers.heartbeat import beat
from workers.models import Grading, GradingState, Submission, WorkerHeartbeat, utcnow
from workers.settings import Settings


def never_called(notebook: bytes, assignment: Assignment) -> GradeReport:
    raise AssertionError("the grader must not run again")


def broken_grader(notebook: bytes, assignment: Assignment) -> GradeReport:
    raise RuntimeError("bug in the grading core")


def test_a_result_is_written_once_and_a_second_run_does_nothing(
    settings: Settings, student: Login, solution: bytes
) -> None:
    submission_id = submit(settings, student, solution)
    finish_grading(settings, submission_id, 10)
    grading_id = latest_grading(settings, submission_id)
    redelivered = grade_submission(
        grading_id, settings=settings, catalog=Catalog(), grade=never_called, worker="second-worker"
    )
    assert redelivered == []
    with session_scope(settings.database_url) as session:
        grading = session.get_one(Grading, grading_id)
        assert (grading.attempts, grading.status, grading.submission.score) == (1, "graded", 10.0)


def test_a_notebook_that_keeps_killing_its_worker_ends_as_an_error(
    settings: Settings, student: Login, solution: bytes
) -> None:
    submission_id = submit(settings, student, solution)
    grading_id = latest_grading(settings, submission_id)
    for _ in range(settings.max_grading_attempts):  # each attempt dies before writing a result
        with session_scope(settings.database_url) as session:
            assert claim_grading(session, grading_id, worker="doomed", stale_seconds=60) is not None
    grade_submission(grading_id, settings=settings, catalog=Catalog(), grade=never_called, worker="doomed")
    with session_scope(settings.database_url) as session:
        submission = session.get_one(Submission, submission_id)
        assert submission.status == "error" and submission.score == 0
        assert (
            submission.result is not None and submission.result.attempts == settings.max_grading_attempts + 1
        )
        assert "stopped the grader" in (submission.result.report or {})["message"]


def test_a_failing_grader_is_retried_then_gives_an_error_report_not_a_lost_submission(
    settings: Settings, student: Login, solution: bytes
) -> None:
    submission_id = submit(settings, student, solution)
    grading_id = latest_grading(settings, submission_id)
    for attempt in range(1, settings.max_grading_attempts):
        grade_submission(grading_id, settings=settings, catalog=Catalog(), grade=broken_grader, worker="w")
        with session_scope(settings.database_url) as session:
            grading = session.get_one(Grading, grading_id)
            assert (grading.state, grading.attempts, grading.status) == (GradingState.QUEUED, attempt, None)
            assert grading.enqueued_at is not None
    grade_submission(grading_id, settings=settings, catalog=Catalog(), grade=broken_grader, worker="w")
    with session_scope(settings.database_url) as session:
        submission = session.get_one(Submission, submission_id)
        assert submission.status == "error"
        assert submission.result is not None and submission.result.state == GradingState.DONE
        assert submission.result.attempts == settings.max_grading_attempts


def test_work_of_a_live_worker_is_left_alone_and_of_a_dead_one_requeued(
    settings: Settings, student: Login, solution: bytes
) -> None:
    submission_id = submit(settings, student, solution)
    grading_id = latest_grading(settings, submission_id)
    with session_scope(settings.database_url) as session:
        beat(session, "busy-worker")
    with session_scope(settings.database_url) as session:
        assert claim_grading(session, grading_id, worker="busy-worker", stale_seconds=60) is not None
    with session_scope(settings.database_url) as session:
        assert claim_grading(session, grading_id, worker="duplicate", stale_seconds=60) is None
        assert grading_id not in abandoned_gradings(session, stale_seconds=60)
    with session_scope(settings.database_url) as session:
        session.get_one(WorkerHeartbeat, "busy-worker").seen_at = utcnow() - timedelta(minutes=5)
    with session_scope(settings.database_url) as session:
        assert grading_id in abandoned_gradings(session, stale_seconds=60)
    with session_scope(settings.database_url) as session:
        assert session.get_one(Grading, grading_id).state == GradingState.QUEUED


def test_a_grading_the_broker_never_took_is_sent_by_a_worker_later(
    settings: Settings, student: Login, solution: bytes
) -> None:
    unreachable = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    submission_id = submit(unreachable, student, solution)
    grading_id = latest_grading(settings, submission_id)
    with session_scope(settings.database_url) as session:
        assert session.get_one(Grading, grading_id).enqueued_at is None
        assert grading_id not in unsent_gradings(session, older_than_seconds=60)
        assert grading_id in unsent_gradings(session, older_than_seconds=0)
    with session_scope(settings.database_url) as session:
        assert session.get_one(Grading, grading_id).enqueued_at is not None
        assert grading_id not in unsent_gradings(session, older_than_seconds=0)
