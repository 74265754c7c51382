"""Reading a sandbox run's events back into per-exercise results and an overall status."""

from dataclasses import dataclass, field
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
    observations: dict[str, Any] = field(default_factory=dict)
    observation_errors: dict[str, str] = field(default_factory=dict)


def interpret(
    program: Program,
    outcome: RunOutcome,
    observation_exercises: dict[str, str],
    memory_mb: int,
    wall_seconds: float,
) -> Interpretation:
    failures: dict[str, tuple[ExerciseStatus, str]] = {}
    setup_failure: str | None = None
    running: int | None = None
    observations: dict[str, Any] = {}
    observation_errors: dict[str, str] = {}
    ran_out_of_memory = outcome.out_of_memory
    for event in outcome.events:
        kind = event.get("event")
        if kind == "cell_started":
            running = _cell_number(event, program)
        elif kind == "cell_finished":
            running = None
        elif kind == "cell_failed" and (number := _cell_number(event, program)) is not None:
            running = None
            ran_out_of_memory |= event.get("kind") == "memory"
            exercise = program.cells[number].exercise
            detail = str(event.get("message", ""))
            if exercise is None:
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
        elif kind == "observation" and isinstance(event.get("name"), str):
            observations[event["name"]] = event.get("value")
        elif kind == "observation_failed" and isinstance(event.get("name"), str):
            ran_out_of_memory |= event.get("kind") == "memory"
            detail = str(event.get("message", ""))
            observation_errors[event["name"]] = detail
            exercise = observation_exercises.get(event["name"])
            if exercise is not None and exercise not in failures:
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
    return Interpretation(status, message, exercises, observations, observation_errors)


def _overall(
    outcome: RunOutcome, out_of_memory: bool, setup_failure: str | None, memory_mb: int, wall_seconds: float
) -> tuple[Status, str]:
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
    if not any(event.get("event") == "cell_started" for event in outcome.events):
        return (
            Status.ERROR,
            "The grader could not start your notebook; this is not your fault. Try again later.",
        )
    if not outcome.finished and signal is not None:
        return Status.ERROR, (
            f"The grading process was stopped from outside (signal {signal}) before your notebook finished; "
            "this is not your fault, and it will be graded again."
        )
    if not outcome.finished:
        return Status.GRADED, (
            "Your code ended the grading process early (for example with os._exit or by killing the process); "
            "what had not run by then scored no points."
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
        for event in outcome.events
        if event.get("event") == "cell_started" and (number := _cell_number(event, program)) is not None
    ]


def _for_student(exercise: str, error: str) -> str:
    return f"Your code for '{exercise}' failed: {error}" if error else f"Your code for '{exercise}' failed."
