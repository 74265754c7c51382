import re
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from helpers import (
    WEEK1,
    WEEK1_DIR,
    Backend,
    new_student,
    running,
    settings_from,
    submit,
    tfgrade,
    wait_until,
    week1_folder,
    wrong_solution,
)

from app.main import create_app
from grader import Assignment, GradeReport
from grader.assignment import load_assignment
from workers.canary import run_canary
from workers.database import session_scope
from workers.models import GradingState, Submission
from workers.settings import Settings

WORKER = "canary-test@tests"


def canary_failures(api: TestClient) -> float:
    text = api.get("/metrics").text
    found = re.search(rf'^tfgrade_canary_failures_total{{assignment="{WEEK1}"}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def graded(settings: Settings, submission_id: str) -> bool:
    with session_scope(settings.database_url) as session:
        return session.get_one(Submission, submission_id).status is not None


def test_a_worker_whose_canary_fails_grades_nothing_of_that_assignment_until_the_canary_passes(
    backend: Backend, tmp_path: Path, solution: bytes
) -> None:
    """The worker's copy of week 1 has a solution that no longer earns full marks, as a worker whose
    environment broke would grade it. A student's notebook must wait, unscored, and be graded once the
    assignment is repaired."""
    with week1_folder(solution=wrong_solution(solution)) as assignments:
        env = backend.new_env("canary")
        tfgrade(env, "migrate")
        settings = settings_from(env)
        # This student's training fails: 6 of 10 points.
        submission_id = submit(settings, new_student(settings), wrong_solution(solution))
        worker_env = {
            **env,
            "TFGRADE_ASSIGNMENTS_DIR": str(assignments),
            "TFGRADE_CANARY_RETRY_SECONDS": "2",
        }
        worker = ["worker", "--queues", "grading", "--concurrency", "1", "--hostname", WORKER]
        with running(worker_env, tmp_path / "worker.log", *worker), TestClient(create_app(settings)) as api:
            wait_until(lambda: canary_failures(api) >= 1, 120, f"a failed canary (log in {tmp_path})")

            readyz = api.get("/readyz")
            assert readyz.status_code == 503
            assert readyz.json()["checks"]["canaries"] is False
            [failing] = readyz.json()["failing_canaries"]
            assert (failing["assignment"], failing["version"], failing["worker"]) == (WEEK1, "2", WORKER)
            assert "solution" in failing["reason"]
            assert (
                f'tfgrade_canaries_failing{{assignment="{WEEK1}",version="2"}} 1.0'
                in api.get("/metrics").text
            )
            with session_scope(settings.database_url) as session:
                submission = session.get_one(Submission, submission_id)
                assert (submission.status, submission.score, submission.result_grading_id) == (
                    None,
                    None,
                    None,
                )
                [grading] = submission.gradings
                assert (grading.state, grading.attempts, grading.report) == (GradingState.QUEUED, 0, None)

            # Noticed without a restart: a failed canary runs again when the held-back grading comes back.
            (assignments / WEEK1 / "solution.ipynb").write_bytes(solution)
            wait_until(
                lambda: graded(settings, submission_id), 240, f"the submission graded (log in {tmp_path})"
            )

            with session_scope(settings.database_url) as session:
                submission = session.get_one(Submission, submission_id)
                assert (submission.status, submission.score, submission.max_score) == ("graded", 6.0, 10.0)
                assert [grading.attempts for grading in submission.gradings] == [1]
            wait_until(lambda: api.get("/readyz").status_code == 200, 10, "ready once the canary passes")
            assert api.get("/readyz").json()["failing_canaries"] == []


def test_a_canary_records_when_it_ran_in_utc_with_its_offset() -> None:
    def grader_down(notebook: bytes, assignment: Assignment) -> GradeReport:
        raise RuntimeError("no sandbox")

    result = run_canary(load_assignment(WEEK1_DIR), grader_down)
    assert (result.passed, result.reason) == (False, "RuntimeError: no sandbox")
    assert datetime.fromisoformat(result.checked_at).utcoffset() == timedelta(0)

