"""A grading worker, or the sandbox under it, dies mid-grade: nothing is lost or graded twice."""

import os
import signal
import time

import pytest
from helpers import sleeps_then_skips_training, trains_on_arrays, untrained, wait_until, week1_template
from stack import Stack

from workers.database import session_scope
from workers.models import Submission

pytestmark = pytest.mark.slow


def test_a_sandbox_killed_mid_grade_is_graded_again_with_the_right_score(stack: Stack) -> None:
    submission_id = stack.submit(trains_on_arrays())
    stack.busy_sandboxes(submission_id)
    wait_until(lambda: stack.job_cpu_seconds() >= 2, 60, "the notebook well into training")
    for pid in stack.busy_zygotes():
        os.kill(pid, signal.SIGKILL)
    stack.wait_final([submission_id], 240)
    stack.assert_each_final_once({submission_id: ("graded", 10.0)})


def test_a_worker_killed_mid_grade_and_restarted_grades_everything_once(stack: Stack) -> None:
    slow = stack.submit(sleeps_then_skips_training())
    queued = [stack.submit(week1_template()), stack.submit(untrained())]
    stack.busy_sandboxes(slow)
    stack.kill_worker("worker-a")
    stack.start_worker("worker-a")  # same hostname, as a restarted container or service would have
    stack.wait_final([slow, *queued], 180)
    stack.assert_each_final_once(
        {slow: ("graded", 6.0), queued[0]: ("graded", 0.0), queued[1]: ("graded", 6.0)}
    )
    assert stack.grading(slow).attempts == 2


# Two attempts instead of the default three: each costs a worker restart, and two show the same thing.
@pytest.mark.parametrize("stack", [{"TFGRADE_MAX_GRADING_ATTEMPTS": "2"}], indirect=True)
def test_a_notebook_that_kills_its_worker_every_time_ends_as_an_error_without_blocking_others(
    stack: Stack,
) -> None:
    poison = stack.submit(sleeps_then_skips_training())
    behind = [stack.submit(untrained()), stack.submit(week1_template())]
    kills = 0
    attempts = stack.settings.max_grading_attempts
    deadline = time.monotonic() + 300
    while stack.grading(poison).status is None:
        assert time.monotonic() < deadline, f"still not final after {kills} kills (logs in {stack.root})"
        grading = stack.grading(poison)
        # The attempt after the last allowed one writes the error without grading: nothing to kill there.
        if grading.state == "running" and kills < grading.attempts <= attempts:
            stack.busy_sandboxes(poison)
            stack.kill_worker("worker-a")
            kills += 1
            stack.start_worker("worker-a")
        time.sleep(0.2)
    assert kills == attempts == 2
    stack.wait_final(behind, 120)
    stack.assert_each_final_once(
        {poison: ("error", 0.0), behind[0]: ("graded", 6.0), behind[1]: ("graded", 0.0)}
    )
    with session_scope(stack.settings.database_url) as session:
        result = session.get_one(Submission, poison).result
        assert result is not None and result.attempts == attempts + 1
        assert f"stopped the grader {attempts} times" in (result.report or {})["message"]
