"""How the end of a sandbox run becomes a status, without running one."""

import pytest

from grader.assemble import Program, ProgramCell
from grader.outcome import interpret
from grader.report import Status
from grader.sandbox.process import RunOutcome

PROGRAM = Program(
    cells=(ProgramCell("import numpy", None, False), ProgramCell("def f(): ...", "f", True)),
    exercises=("f",),
    problems={},
    notes={},
    notices=(),
)
STARTED = [
    {"event": "cell_started", "cell": 0},
    {"event": "cell_finished", "cell": 0},
    {"event": "cell_started", "cell": 1},
]


@pytest.mark.parametrize(
    ("exit_code", "status", "message"),
    [
        (137, Status.ERROR, "stopped from outside (signal 9)"),
        (-9, Status.ERROR, "stopped from outside (signal 9)"),
        (152, Status.TIMEOUT, "longer than the 60 seconds allowed"),
        (0, Status.GRADED, "ended the grading process early"),
        (1, Status.GRADED, "ended the grading process early"),
    ],
)
def test_how_the_sandbox_ended_decides_the_status(exit_code: int, status: Status, message: str) -> None:
    result = interpret(PROGRAM, RunOutcome(events=STARTED, exit_code=exit_code), {}, 1024, 60)
    assert result.status is status
    assert message in result.message


def test_a_killed_sandbox_blames_no_exercise_for_the_grader_failure() -> None:
    result = interpret(PROGRAM, RunOutcome(events=STARTED, exit_code=137), {}, 1024, 60)
    assert result.exercises["f"].status.value == "ok"


def test_a_timeout_is_reported_against_the_running_exercise() -> None:
    result = interpret(PROGRAM, RunOutcome(events=STARTED, timed_out=True), {}, 1024, 60)
    assert result.status is Status.TIMEOUT
    assert result.exercises["f"].status.value == "timeout"
