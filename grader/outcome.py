"""Reading how a student's job ran into per-exercise results and an overall status."""

from dataclasses import dataclass
from typing import Any

from grader.assemble import Program
from grader.report import ExerciseResult, ExerciseStatus, Status
from grader.sandbox.process import RunOutcome

SIGXCPU = 24
# bubblewrap reports a child killed by signal N as exit status 128 + N.
SIGNAL_EXIT_BASE = 128


@dataclass
class Interpretation:
    status: Status
    message: str
    exercises: dict[str, ExerciseResult]


def interpret(
    program: Program,
    outcome: RunOutcome,
    observation_exercises: dict[str, str],
    memory_mb: int,
    wall_seconds: float,
) -> Interpretation:
    """Per-exercise results and an overall status. The student's messages only place blame and explain
    failures, which earns nothing; only those sent before any student code ran can make it an `error`."""
    failures: dict[str, tuple[ExerciseStatus, str]] = {}
    setup_failure: str | None = None
    running: int | None = None
    student_code_started = False
    ran_out_of_memory = outcome.out_of_memory
    for sent in outcome.messages:
        event, kind = sent.header, sent.kind
        if kind == "cell_started" and (number := _cell_number(event, program)) is not None:
            running = number
            student_code_started |= program.cells[number].is_exercise_cell
        elif kind == "cell_finished":
            running = None
        elif kind == "cell_failed" and (number := _cell_number(event, program)) is not None:
            running = None
            ran_out_of_memory |= event.get("kind") == "memory"
            exercise = program.cells[number].exercise
            detail = str(event.get("message", ""))[:2000]
            if exercise is None:
                if not student_code_started:
                    setup_failure = setup_failure or detail
            elif exercise not in failures and _to_blame(program, number, failures):
                failure = (
                    ExerciseStatus.SYNTAX_ERROR
                    if event.get("kind") == "syntax_error"
                    else ExerciseStatus.EXCEPTION
                )
                if not program.cells[number].is_exercise_cell:
                    detail = f"a later cell of the notebook that uses it failed ({detail})"
                failures[exercise] = (failure, detail)
        elif kind in ("observation_failed", "model_failed"):
            ran_out_of_memory |= event.get("kind") == "memory"
            exercise = observation_exercises.get(str(event.get("name")))
            if exercise is not None and exercise not in failures:
                detail = str(event.get("message", ""))[:2000]
                failures[exercise] = (ExerciseStatus.EXCEPTION, f"when called by the grader, {detail}")

    interrupted_exercise = program.cells[running].exercise if running is not None else None
    status, message = _overall(outcome, ran_out_of_memory, setup_failure, memory_mb, wall_seconds)
    if interrupted_exercise and interrupted_exercise not in failures and status is not Status.ERROR:
        failures[interrupted_exercise] = (
            ExerciseStatus.TIMEOUT if status is Status.TIMEOUT else ExerciseStatus.EXCEPTION,
            message,
        )
    started = {program.cells[n].exercise for n in _started_cells(outcome, program)}
    exercises = {}
    for name in program.exercises:
        if name in program.problems:
            exercises[name] = ExerciseResult(
                name=name, status=ExerciseStatus.MISSING, message=program.problems[name]
            )
        elif name in failures:
            exercise_status, text = failures[name]
            exercises[name] = ExerciseResult(
                name=name, status=exercise_status, message=_for_student(name, text)
            )
        elif name not in started and not outcome.finished:
            exercises[name] = ExerciseResult(
                name=name,
                status=ExerciseStatus.EXCEPTION,
                message=f"Not run: grading stopped earlier. {message}",
            )
        else:
            note = program.notes.get(name, "Ran without errors.")
            exercises[name] = ExerciseResult(name=name, status=ExerciseStatus.OK, message=note)
    return Interpretation(status, message, exercises)


def _overall(
    outcome: RunOutcome, out_of_memory: bool, setup_failure: str | None, memory_mb: int, wall_seconds: float
) -> tuple[Status, str]:
    if outcome.sandbox_lost:
        return Status.ERROR, (
            "The grading sandbox was stopped from outside before your notebook finished; this is not your "
            "fault, and it will be graded again."
        )
    if out_of_memory:
        return Status.MEMORY_EXCEEDED, (
            f"Your notebook used more than the {memory_mb} MB of memory allowed and was stopped. Look for very "
            "large arrays or models, or data loaded many times."
        )
    signal = _killing_signal(outcome.exit_code)
    if outcome.timed_out or signal == SIGXCPU:
        return Status.TIMEOUT, (
            f"Your notebook ran longer than the {wall_seconds:.0f} seconds allowed and was stopped. Look for "
            "an endless loop, or training with far more epochs or data than asked."
        )
    if setup_failure is not None:
        return Status.ERROR, (
            "The grader failed while preparing the assignment's own code; this is not your fault. "
            f"Please tell your instructors. ({setup_failure})"
        )
    if not any(message.kind == "cell_started" for message in outcome.messages):
        return (
            Status.ERROR,
            "The grader could not start your notebook; this is not your fault. Try again later.",
        )
    if outcome.unreadable:
        return Status.GRADED, (
            f"Your notebook's process sent the grader {outcome.unreadable}, so grading stopped there; "
            "what had not been checked by then scored no points. Print less, and return plain values."
        )
    if not outcome.finished:
        how = f" (it was ended by signal {signal})" if signal is not None else ""
        return Status.GRADED, (
            f"Your code ended the grading process early{how}, for example with os._exit or by killing the "
            "process; what had not run by then scored no points."
        )
    return Status.GRADED, ""


def _to_blame(program: Program, number: int, failures: dict[str, tuple[ExerciseStatus, str]]) -> bool:
    """Mirrors the sandbox's rule: a frozen cell's failure is not blamed on its exercise when an
    earlier exercise had already failed or was missing."""
    return program.cells[number].is_exercise_cell or not (failures or program.problems)


def _killing_signal(exit_code: int | None) -> int | None:
    if exit_code is None:
        return None
    if exit_code < 0:
        return -exit_code
    return exit_code - SIGNAL_EXIT_BASE if exit_code > SIGNAL_EXIT_BASE else None


def _cell_number(event: dict[str, Any], program: Program) -> int | None:
    number = event.get("cell")
    return number if type(number) is int and 0 <= number < len(program.cells) else None


def _started_cells(outcome: RunOutcome, program: Program) -> list[int]:
    return [
        number
        for message in outcome.messages
        if message.kind == "cell_started" and (number := _cell_number(message.header, program)) is not None
    ]


def _for_student(exercise: str, error: str) -> str:
    return f"Your code for '{exercise}' failed: {error}" if error else f"Your code for '{exercise}' failed."
