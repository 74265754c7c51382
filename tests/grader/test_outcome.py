"""How the end of a sandbox run becomes a status, without running one."""

import pytest

from grader.assemble import Program, ProgramCell
from grader.outcome import interpret
from grader.report import Status
from grader.sandbox.channel import Message
from grader.sandbox.process import RunOutcome

PROGRAM = Program(
    cells=(ProgramCell("import numpy", None, False), ProgramCell("def f(): ...", "f", True)),
    exercises=("f",),
    problems={},
    notes={},
    notices=(),
)
STARTED = [
    Message({"event": "cell_started", "cell": 0}),
    Message({"event": "cell_finished", "cell": 0}),
    Message({"event": "cell_started", "cell": 1}),
]


@pytest.mark.parametrize(
    ("exit_code", "status", "message"),
    [
        (137, Status.GRADED, "ended the grading process early (it was ended by signal 9)"),
        (-9, Status.GRADED, "ended the grading process early (it was ended by signal 9)"),
        (152, Status.TIMEOUT, "longer than the 60 seconds allowed"),
        (0, Status.GRADED, "ended the grading process early"),
        (1, Status.GRADED, "ended the grading process early"),
    ],
)
def test_how_the_job_ended_decides_the_status(exit_code: int, status: Status, message: str) -> None:
    result = interpret(PROGRAM, RunOutcome(messages=STARTED, exit_code=exit_code), {}, 1024, 60)
    assert result.status is status
    assert message in result.message


def test_only_a_sandbox_the_host_saw_die_is_an_error_to_grade_again() -> None:
    result = interpret(PROGRAM, RunOutcome(messages=STARTED, exit_code=137, sandbox_lost=True), {}, 1024, 60)
    assert result.status is Status.ERROR
    assert "graded again" in result.message
    assert result.exercises["f"].status.value == "ok"


def test_a_timeout_is_reported_against_the_running_exercise() -> None:
    result = interpret(PROGRAM, RunOutcome(messages=STARTED, timed_out=True), {}, 1024, 60)
    assert result.status is Status.TIMEOUT
    assert result.exercises["f"].status.value == "timeout"


def test_a_setup_failure_reported_before_student_code_ran_is_the_graders() -> None:
    failed = [Message({"event": "cell_started", "cell": 0}), Message({"event": "cell_failed", "cell": 0})]
    result = interpret(PROGRAM, RunOutcome(messages=failed, finished=True), {}, 1024, 60)
    assert result.status is Status.ERROR


def test_a_setup_failure_claimed_after_student_code_ran_is_not_believed() -> None:
    forged = [*STARTED, Message({"event": "cell_failed", "cell": 0, "message": "forged"})]
    result = interpret(PROGRAM, RunOutcome(messages=forged, finished=True), {}, 1024, 60)
    assert result.status is Status.GRADED


def test_output_the_host_cannot_read_is_graded_as_the_submissions_doing() -> None:
    result = interpret(
        PROGRAM, RunOutcome(messages=STARTED, unreadable="a message longer than 1024 KB"), {}, 1024, 60
    )
    assert result.status is Status.GRADED
    assert "a message longer than 1024 KB" in result.message
