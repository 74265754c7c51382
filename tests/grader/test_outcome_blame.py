"""How a run's messages and ending become each exercise's result and the overall status and message."""

import dataclasses

import pytest

from grader.assemble import Program, ProgramCell
from grader.outcome import Interpretation, interpret
from grader.report import ExerciseResult, ExerciseStatus, Status
from grader.sandbox.channel import Message
from grader.sandbox.process import RunOutcome

PROGRAM = Program(
    cells=(
        ProgramCell("import numpy", None, False, 2),
        ProgramCell("def f(): ...", "f", True, 3, frozenset({"f"})),
        ProgramCell("\nprint(f())", "f", False, 4),
        ProgramCell("def g(): ...", "g", True, 6, frozenset({"g"})),
        ProgramCell("def h(): ...", "h", True, 7, frozenset({"h"})),
    ),
    exercises=("f", "g", "h"),
    problems={},
    notes={"h": "Your notebook has 2 graded cells for 'h'; the first one was graded. Delete the copies."},
    notices=(),
)
OBSERVATIONS = {"g_values": "g", "h_model": "h"}
MEMORY = (
    "Your notebook used more than the 1024 MB of memory allowed and was stopped{where}. Look for very large "
    "arrays or models, or data loaded many times.{kept}"
)
TIMEOUT = (
    "Your notebook ran longer than the 60 seconds allowed and was stopped{where}. Look for an endless loop, "
    "or training with far more epochs or data than asked.{kept}"
)
KEPT = " Exercises finished before then were graded; the rest scored no points."
EARLY_END = (
    "Your code ended the grading process early{how}, for example with os._exit or by killing the process; "
    "what had not run by then scored no points."
)


def started(cell: object) -> Message:
    return Message({"event": "cell_started", "cell": cell})


def finished(cell: int) -> Message:
    return Message({"event": "cell_finished", "cell": cell})


def failed(cell: int, message: str = "boom", kind: str = "exception") -> Message:
    return Message({"event": "cell_failed", "cell": cell, "kind": kind, "message": message})


def ran(*cells: int) -> list[Message]:
    return [message for cell in cells for message in (started(cell), finished(cell))]


def run(
    messages: list[Message], program: Program = PROGRAM, wall_seconds: float = 60, **ending: object
) -> Interpretation:
    outcome = RunOutcome(messages=messages, **ending)  # type: ignore[arg-type]
    return interpret(program, outcome, OBSERVATIONS, 1024, wall_seconds)


def statuses(result: Interpretation) -> dict[str, tuple[ExerciseStatus, str]]:
    return {name: (exercise.status, exercise.message) for name, exercise in result.exercises.items()}


OK = (ExerciseStatus.OK, "Ran without errors.")
H_NOTE = (ExerciseStatus.OK, PROGRAM.notes["h"])


def test_a_clean_run_is_graded_with_every_exercise_ok_and_notes_kept() -> None:
    result = run(ran(0, 1, 2, 3, 4), finished=True, exit_code=0)
    assert (result.status, result.message) == (Status.GRADED, "")
    assert statuses(result) == {"f": OK, "g": OK, "h": H_NOTE}
    assert all(isinstance(exercise, ExerciseResult) for exercise in result.exercises.values())


@pytest.mark.parametrize(
    ("kind", "status"),
    [("exception", ExerciseStatus.EXCEPTION), ("syntax_error", ExerciseStatus.SYNTAX_ERROR)],
)
def test_a_failing_exercise_cell_is_blamed_on_its_exercise(kind: str, status: ExerciseStatus) -> None:
    result = run([*ran(0, 1, 2), started(3), failed(3, "NameError: x", kind), *ran(4)], finished=True)
    assert result.status is Status.GRADED
    assert statuses(result) == {"f": OK, "g": (status, "Your code for 'g' failed: NameError: x"), "h": H_NOTE}


def test_a_failure_without_words_and_a_long_one_are_both_shown_within_bounds() -> None:
    result = run([*ran(0), started(1), failed(1, ""), started(3), failed(3, "x" * 3000)], finished=True)
    assert result.exercises["f"].message == "Your code for 'f' failed."
    assert result.exercises["g"].message == "Your code for 'g' failed: " + "x" * 2000


def course_cell_failed(message: str, **facts: object) -> Message:
    return Message({"event": "cell_failed", "cell": 2, "kind": "exception", "message": message, **facts})


def test_a_course_cell_failing_in_an_exercises_code_counts_against_that_exercise() -> None:
    failure = course_cell_failed("line 1: ZeroDivisionError: division by zero", raised_in=1)
    result = run([*ran(0, 1), started(2), failure, *ran(3, 4)], finished=True)
    assert statuses(result)["f"] == (
        ExerciseStatus.EXCEPTION,
        "Your code for 'f' failed when cell 4 (`print(f())`) used it: line 1: ZeroDivisionError: division by "
        "zero",
    )
    assert result.unchecked == {"f": result.exercises["f"].message}


def test_a_course_cell_missing_a_name_an_exercise_should_define_counts_against_it() -> None:
    failure = course_cell_failed("line 1: NameError: name 'f' is not defined", missing_name="f")
    result = run([*ran(0, 1), started(2), failure, *ran(3, 4)], finished=True)
    assert statuses(result)["f"] == (
        ExerciseStatus.EXCEPTION,
        "Your code for 'f' failed: cell 4 (`print(f())`), which uses it, failed: line 1: NameError: name 'f' "
        "is not defined",
    )
    assert set(result.unchecked) == {"f"}


@pytest.mark.parametrize(
    "facts",
    [
        {},
        {"missing_name": "trained_model"},
        {"raised_in": 3},  # a cell after it: not code the failing cell could have called
        {"raised_in": 0},  # not an exercise's cell
        {"raised_in": "1"},
    ],
)
def test_any_other_failure_of_a_course_cell_is_named_against_the_exercises_it_used_which_stay_checked(
    facts: dict[str, object],
) -> None:
    result = run(
        [*ran(0, 1), started(2), course_cell_failed("line 1: ValueError: bad shape", **facts), *ran(3, 4)],
        finished=True,
    )
    assert statuses(result) == {
        "f": (
            ExerciseStatus.OK,
            "Ran without errors, but cell 4 (`print(f())`), which uses it, failed: line 1: ValueError: bad shape",
        ),
        "g": OK,
        "h": H_NOTE,
    }
    assert result.unchecked == {}


def test_a_course_cell_failing_for_a_missing_or_failed_exercise_adds_nothing_to_its_first_failure() -> None:
    missing = Program(PROGRAM.cells, PROGRAM.exercises, {"f": "gone"}, {}, ())
    failure = course_cell_failed("line 1: NameError: name 'f' is not defined", missing_name="f")
    result = run([*ran(0), started(2), failure, *ran(3, 4)], program=missing, finished=True)
    assert statuses(result) == {"f": (ExerciseStatus.MISSING, "gone"), "g": OK, "h": OK}
    result = run([*ran(0), started(1), failed(1, "first"), started(2), failure, *ran(3, 4)], finished=True)
    assert statuses(result)["f"] == (ExerciseStatus.EXCEPTION, "Your code for 'f' failed: first")


def test_only_the_first_failure_of_an_exercise_is_reported() -> None:
    messages = [*ran(0), started(1), failed(1, "first"), started(2), failed(2, "second"), *ran(3, 4)]
    assert run(messages, finished=True).exercises["f"].message == "Your code for 'f' failed: first"


def test_an_observation_or_export_that_failed_is_blamed_on_its_exercise() -> None:
    messages = [
        *ran(0, 1, 2, 3, 4),
        Message({"event": "observation_failed", "name": "g_values", "message": "bad shape"}),
        Message({"event": "observation_failed", "name": "g_values", "message": "again"}),
        Message({"event": "model_failed", "name": "h_model", "message": "no model"}),
        Message({"event": "observation_failed", "name": "unknown", "message": "ignored"}),
    ]
    result = run(messages, finished=True)
    assert statuses(result) == {
        "f": OK,
        "g": (ExerciseStatus.EXCEPTION, "Your code for 'g' failed: when called by the grader, bad shape"),
        "h": (ExerciseStatus.EXCEPTION, "Your code for 'h' failed: when called by the grader, no model"),
    }
    # Only the checks that needed what failed lose it: the exercises' other checks are still decided.
    assert result.unchecked == {}
    long = Message({"event": "model_failed", "name": "h_model", "message": "y" * 3000})
    assert run([*ran(0, 1, 2, 3, 4), long], finished=True).exercises["h"].message == (
        "Your code for 'h' failed: when called by the grader, " + "y" * 2000
    )


@pytest.mark.parametrize(
    ("memory", "where"),
    [
        (failed(3, "MemoryError", "memory"), " in cell 6 (`def g(): ...`), your code for 'g'"),
        (
            Message({"event": "observation_failed", "name": "g_values", "kind": "memory"}),
            " while the grader was calling your code for 'g'",
        ),
        (
            Message({"event": "model_failed", "name": "h_model", "kind": "memory"}),
            " while the grader was calling your code for 'h'",
        ),
    ],
)
def test_memory_reported_by_a_cell_or_the_grader_ends_as_memory_exceeded(memory: Message, where: str) -> None:
    result = run([*ran(0, 1, 2), started(3), memory, *ran(4)], finished=True)
    assert (result.status, result.message) == (Status.MEMORY_EXCEEDED, MEMORY.format(where=where, kept=""))
    assert statuses(result)["f"] == OK


def test_memory_the_host_saw_is_memory_exceeded_blamed_on_the_running_exercise() -> None:
    result = run([*ran(0, 1, 2), started(3)], out_of_memory=True, exit_code=137)
    memory = MEMORY.format(where=" in cell 6 (`def g(): ...`), your code for 'g'", kept=KEPT)
    assert (result.status, result.message) == (Status.MEMORY_EXCEEDED, memory)
    assert statuses(result) == {
        "f": OK,
        "g": (ExerciseStatus.EXCEPTION, f"Your code for 'g' failed: {memory}"),
        "h": (ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {memory}"),
    }
    assert set(result.unchecked) == {"g", "h"}


@pytest.mark.parametrize(
    "ending", [RunOutcome(timed_out=True), RunOutcome(exit_code=128 + 24), RunOutcome(exit_code=-24)]
)
def test_running_out_of_time_or_cpu_is_a_timeout_of_the_running_exercise(ending: RunOutcome) -> None:
    outcome = dataclasses.replace(ending, messages=[*ran(0), started(1)])
    result = interpret(PROGRAM, outcome, OBSERVATIONS, 1024, 59.6)
    timeout = TIMEOUT.format(where=" in cell 3 (`def f(): ...`), your code for 'f'", kept=KEPT)
    assert (result.status, result.message) == (Status.TIMEOUT, timeout)
    assert statuses(result)["f"] == (ExerciseStatus.TIMEOUT, f"Your code for 'f' failed: {timeout}")
    assert statuses(result)["g"] == (ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {timeout}")


def checking(exercise: str) -> Message:
    return Message({"event": "checking", "exercise": exercise})


def test_a_timeout_keeps_the_exercises_finished_before_it_and_stops_the_rest() -> None:
    messages = [*ran(0, 1, 2), checking("f"), *ran(3), checking("g"), started(4)]
    result = run(messages, timed_out=True)
    timeout = TIMEOUT.format(where=" in cell 7 (`def h(): ...`), your code for 'h'", kept=KEPT)
    assert (result.status, result.message) == (Status.TIMEOUT, timeout)
    assert statuses(result) == {
        "f": OK,
        "g": OK,
        "h": (ExerciseStatus.TIMEOUT, f"Your code for 'h' failed: {timeout}"),
    }
    assert result.unchecked == {"h": f"Your code for 'h' failed: {timeout}"}


def test_a_timeout_in_course_code_stops_the_exercise_it_follows() -> None:
    result = run([*ran(0, 1), started(2)], timed_out=True)
    timeout = TIMEOUT.format(where=" in cell 4 (`print(f())`), frozen code after exercise 'f'", kept=KEPT)
    assert result.message == timeout
    assert statuses(result)["f"] == (ExerciseStatus.TIMEOUT, f"Your code for 'f' failed: {timeout}")
    assert set(result.unchecked) == {"f", "g", "h"}


def test_a_timeout_before_the_first_exercise_names_the_cell_and_runs_no_exercise() -> None:
    result = run([started(0)], timed_out=True)
    timeout = TIMEOUT.format(where=" in cell 2 (`import numpy`), before the first exercise", kept=KEPT)
    assert result.message == timeout
    assert set(result.unchecked) == {"f", "g", "h"}
    assert statuses(result)["f"] == (ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {timeout}")


def test_a_timeout_while_the_grader_calls_an_exercise_stops_that_exercise_only() -> None:
    result = run([*ran(0, 1, 2), checking("f"), *ran(3), checking("g")], timed_out=True)
    timeout = TIMEOUT.format(where=" while the grader was calling your code for 'g'", kept=KEPT)
    assert result.message == timeout
    assert statuses(result)["f"] == OK
    assert statuses(result)["g"] == (ExerciseStatus.TIMEOUT, f"Your code for 'g' failed: {timeout}")
    assert set(result.unchecked) == {"g", "h"}


@pytest.mark.parametrize(
    ("exit_code", "how"),
    [
        (None, ""),
        (0, ""),
        (128, ""),
        (129, " (it was ended by signal 1)"),
        (-15, " (it was ended by signal 15)"),
    ],
)
def test_an_early_end_says_which_signal_when_there_was_one(exit_code: int | None, how: str) -> None:
    result = run([*ran(0, 1, 2), started(3)], exit_code=exit_code)
    assert (result.status, result.message) == (Status.GRADED, EARLY_END.format(how=how))


def test_an_early_end_between_cells_blames_no_exercise_and_marks_the_rest_not_run() -> None:
    result = run(ran(0, 1, 2), exit_code=0)
    message = EARLY_END.format(how="")
    assert statuses(result) == {
        "f": OK,
        "g": (ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {message}"),
        "h": (ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {message}"),
    }


def test_the_first_setup_failure_before_student_code_is_the_graders_error() -> None:
    result = run([started(0), failed(0, "no data file"), failed(0, "second")], finished=True)
    assert (result.status, result.message) == (
        Status.ERROR,
        "The grader failed while preparing the assignment's own code; this is not your fault. Please tell "
        "your instructors. (no data file)",
    )
    assert statuses(result)["f"] == OK


def test_a_sandbox_lost_from_outside_is_an_error_whatever_else_happened() -> None:
    result = run([*ran(0), started(1)], sandbox_lost=True, out_of_memory=True, timed_out=True)
    assert (result.status, result.message) == (
        Status.ERROR,
        "The grading sandbox was stopped from outside before your notebook finished; this is not your "
        "fault, and it will be graded again.",
    )
    assert statuses(result)["f"] == OK
    assert result.unchecked == {}


@pytest.mark.parametrize("cell", [-1, 5, "1", True, None, 1.0])
def test_messages_naming_no_cell_of_the_program_are_ignored(cell: object) -> None:
    result = run([started(cell), Message({"event": "cell_failed", "cell": cell})], finished=True)
    assert (result.status, result.message) == (Status.GRADED, "")
    assert statuses(result) == {"f": OK, "g": OK, "h": H_NOTE}


def test_a_run_that_never_started_a_cell_is_the_graders_error() -> None:
    result = run([], finished=True)
    assert (result.status, result.message) == (
        Status.ERROR,
        "The grader could not start your notebook; this is not your fault. Try again later.",
    )


def test_unreadable_output_is_graded_with_what_was_sent() -> None:
    result = run([*ran(0, 1)], unreadable="data nested more than 32 levels deep")
    assert (result.status, result.message) == (
        Status.GRADED,
        "Your notebook's process sent the grader data nested more than 32 levels deep, so grading stopped "
        "there; what had not been checked by then scored no points. Print less, and return plain values.",
    )


def test_a_setup_cell_claimed_to_restart_after_student_code_ran_is_not_believed() -> None:
    forged = [*ran(0), started(1), started(0), failed(0, "forged")]
    result = run(forged, finished=True)
    assert (result.status, result.message) == (Status.GRADED, "")


@pytest.mark.parametrize(
    "later",
    [failed(3), Message({"event": "observation_failed", "name": "g_values", "message": "later"})],
)
def test_memory_once_exceeded_stays_exceeded_whatever_fails_later(later: Message) -> None:
    messages = [*ran(0), started(1), failed(1, "MemoryError", "memory"), started(3), later]
    assert run(messages, finished=True).status is Status.MEMORY_EXCEEDED
    assert run([*ran(0), started(3), later], out_of_memory=True).status is Status.MEMORY_EXCEEDED


def test_failures_sent_without_words_are_reported_without_words() -> None:
    messages = [
        *ran(0),
        started(1),
        Message({"event": "cell_failed", "cell": 1}),
        *ran(3, 4),
        Message({"event": "observation_failed", "name": "g_values"}),
    ]
    result = run(messages, finished=True)
    assert result.exercises["f"].message == "Your code for 'f' failed."
    assert result.exercises["g"].message == "Your code for 'g' failed: when called by the grader, "


def test_a_run_that_started_a_cell_and_sent_nothing_else_is_graded() -> None:
    assert run([started(0)], finished=True).status is Status.GRADED


def test_a_checking_message_naming_no_exercise_of_the_program_is_ignored() -> None:
    result = run([*ran(0, 1, 2), checking("f"), *ran(3), checking("unknown")], timed_out=True)
    # Between cells and not checking: the timeout names no place, and h (not reached) is not run.
    timeout = TIMEOUT.format(where="", kept=KEPT)
    assert (result.status, result.message) == (Status.TIMEOUT, timeout)
    assert statuses(result) == {
        "f": OK,
        "g": OK,
        "h": (ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {timeout}"),
    }


@pytest.mark.parametrize(
    ("messages", "ending"),
    [
        ([Message({"event": "observation_failed", "name": "unknown", "kind": "memory"})], {}),
        ([], {"out_of_memory": True}),
    ],
)
def test_memory_exceeded_with_no_place_to_name_names_none(messages: list[Message], ending: dict) -> None:
    result = run([*ran(0, 1, 2, 3, 4), *messages], finished=True, **ending)
    assert (result.status, result.message) == (Status.MEMORY_EXCEEDED, MEMORY.format(where="", kept=""))


def test_memory_exceeded_names_the_first_place_it_was_reported() -> None:
    later = Message({"event": "observation_failed", "name": "g_values", "kind": "memory"})
    messages = [*ran(0), started(1), failed(1, "MemoryError", "memory"), *ran(3), later]
    result = run(messages, finished=True)
    where = " in cell 3 (`def f(): ...`), your code for 'f'"
    assert (result.status, result.message) == (Status.MEMORY_EXCEEDED, MEMORY.format(where=where, kept=""))


USES = Program(
    cells=(
        ProgramCell("import numpy", None, False, 1),
        ProgramCell("def f(): ...", "f", True, 2, frozenset({"f"})),
        ProgramCell("value = f()", "f", False, 3),
        ProgramCell("def g(): ...", "g", True, 4, frozenset({"g"})),
        ProgramCell("print(value)", "g", False, 5),
        ProgramCell("print(numpy)", "g", False, 6),
    ),
    exercises=("f", "g"),
    problems={},
    notes={},
    notices=(),
)


def test_a_failing_course_cell_is_named_against_the_exercises_it_used_not_the_one_it_follows() -> None:
    result = run([*ran(0, 1, 2, 3), started(4), failed(4, "bad"), *ran(5)], program=USES, finished=True)
    assert statuses(result) == {
        "f": (
            ExerciseStatus.OK,
            "Ran without errors, but cell 5 (`print(value)`), which uses it, failed: bad",
        ),
        "g": OK,
    }


def test_a_failing_course_cell_that_uses_no_exercise_is_named_against_the_one_it_follows() -> None:
    result = run([*ran(0, 1, 2, 3, 4), started(5), failed(5, "bad")], program=USES, finished=True)
    assert statuses(result) == {
        "f": OK,
        "g": (
            ExerciseStatus.OK,
            "Ran without errors, but cell 6 (`print(numpy)`), which uses it, failed: bad",
        ),
    }


def test_only_the_first_course_cell_failing_with_an_exercises_outputs_is_named_against_it() -> None:
    messages = [*ran(0, 1), started(2), failed(2, "first"), *ran(3), started(4), failed(4, "second"), *ran(5)]
    result = run(messages, program=USES, finished=True)
    assert statuses(result) == {
        "f": (
            ExerciseStatus.OK,
            "Ran without errors, but cell 3 (`value = f()`), which uses it, failed: first",
        ),
        "g": OK,
    }


def test_a_course_cell_failing_in_the_code_of_the_notebooks_first_cell_counts_against_its_exercise() -> None:
    first = Program(
        cells=(
            ProgramCell("def f(): ...", "f", True, 1, frozenset({"f"})),
            ProgramCell("print(f())", "f", False, 2),
        ),
        exercises=("f",),
        problems={},
        notes={},
        notices=(),
    )
    failure = Message(
        {
            "event": "cell_failed",
            "cell": 1,
            "kind": "exception",
            "message": "ZeroDivisionError",
            "raised_in": 0,
        }
    )
    result = run([*ran(0), started(1), failure], program=first, finished=True)
    assert statuses(result) == {
        "f": (
            ExerciseStatus.EXCEPTION,
            "Your code for 'f' failed when cell 2 (`print(f())`) used it: ZeroDivisionError",
        )
    }


def test_an_exercise_without_a_cell_in_the_program_is_not_run_when_grading_stops_early() -> None:
    program = dataclasses.replace(PROGRAM, exercises=(*PROGRAM.exercises, "k"))
    result = run(ran(0, 1, 2, 3, 4), program=program, exit_code=0)
    message = EARLY_END.format(how="")
    assert statuses(result)["k"] == (ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {message}")
    assert set(result.unchecked) == {"k"}


def test_a_forged_checking_message_for_an_exercise_without_cells_is_ignored() -> None:
    """An exercise with no cell in the program (here h, lost its markers) is never checked by the sandbox;
    a student's process that claims it is must not break the grader's reading of the run."""
    missing = "The graded cell for 'h' has lost its markers."
    program = dataclasses.replace(PROGRAM, cells=PROGRAM.cells[:4], problems={"h": missing})
    result = run([*ran(0, 1, 2), checking("h")], program=program, finished=False, exit_code=0)
    message = EARLY_END.format(how="")
    assert (result.status, result.message) == (Status.GRADED, message)
    assert statuses(result) == {
        "f": OK,
        "g": (ExerciseStatus.EXCEPTION, f"Not run: grading stopped earlier. {message}"),
        "h": (ExerciseStatus.MISSING, missing),
    }
