"""The sandbox's side of blame and of observing each exercise as soon as it is complete, without a sandbox."""

import json
import math

import pytest

from grader.assemble import Program, ProgramCell
from grader.jobs import _cell
from grader.outcome import blame as host_blame
from grader.sandbox import runtime

PROGRAM = Program(
    cells=(
        ProgramCell("import math", None, False, 1),
        ProgramCell("def f():\n    return 1 / 0", "f", True, 2, frozenset({"f"})),
        ProgramCell("value = f()", "f", False, 3),
        ProgramCell("def g():\n    return 2", "g", True, 4, frozenset({"g", "constant"})),
        ProgramCell("total = g() + constant + undefined", "g", False, 5),
    ),
    exercises=("f", "g", "h"),
    problems={"h": "missing"},
    notes={},
    notices=(),
)
CELLS = [json.loads(json.dumps(_cell(cell))) for cell in PROGRAM.cells]  # as the sandbox reads them


@pytest.mark.parametrize(
    ("number", "raised_in", "missing", "blamed"),
    [
        (1, None, None, "f"),  # an exercise's own cell
        (2, 1, None, "f"),  # raised in f's code
        (4, 1, None, "f"),
        (4, None, "constant", "g"),  # a name g's template defines
        (4, None, "h", "h"),  # the name of an exercise the notebook lacks
        (4, None, "undefined", None),  # nobody's output
        (4, None, None, None),
        (4, 3, None, "g"),
    ],
)
def test_the_sandbox_and_the_host_blame_the_same_exercise(
    number: int, raised_in: int | None, missing: str | None, blamed: str | None
) -> None:
    assert runtime.blame(CELLS, number, raised_in, missing, {"h"}) == blamed
    assert host_blame(PROGRAM, number, raised_in, missing) == blamed


def test_a_failing_course_cell_reports_the_exercise_code_it_failed_in_and_what_it_left_unmade() -> None:
    sent: list[dict] = []
    state: dict = {
        "namespace": {"__builtins__": __builtins__},
        "failed": set(),
        "skipped": set(),
        "broken": {},
    }
    for number in range(3):
        runtime.run_cell(number, CELLS, state, sent.append)
    failure = sent[-1]
    assert {key: failure[key] for key in ("event", "cell", "kind", "raised_in", "message")} == {
        "event": "cell_failed",
        "cell": 2,
        "kind": "exception",
        "raised_in": 1,
        "message": "line 2: ZeroDivisionError: division by zero",
    }
    assert state["failed"] == {"f"}
    assert state["broken"] == {
        "value": "cell 3 (`value = f()`) failed in your code for 'f': line 2: ZeroDivisionError: division by zero"
    }
    lookup = runtime._compiled(
        {"name": "look", "source": "def look(ns, inputs):\n    return ns['value']\n"}, "observation"
    )
    with pytest.raises(KeyError) as error:
        lookup(state["namespace"], {})
    assert (
        runtime._failure("observation_failed", "look", error.value, state)["message"]
        == state["broken"]["value"]
    )


def test_an_observation_missing_a_name_no_cell_was_meant_to_make_says_so() -> None:
    state: dict = {"namespace": {}, "broken": {}}
    lookup = runtime._compiled(
        {"name": "look", "source": "def look(ns, inputs):\n    return ns['model']\n"}, "observation"
    )
    with pytest.raises(KeyError) as error:
        lookup({}, {})
    assert runtime._failure("model_failed", "look", error.value, state)["message"] == (
        "your notebook did not define 'model'"
    )
    raising = runtime._compiled(
        {"name": "own", "source": "def own(ns, inputs):\n    return {}['x']\n"}, "observation"
    )
    with pytest.raises(KeyError) as own_error:
        raising({}, {})
    state["namespace"]["x"] = 1  # a KeyError for a name the notebook has is the code's own
    assert runtime._failure("model_failed", "own", own_error.value, state)["message"].endswith(
        "KeyError: 'x'"
    )


def test_each_exercise_is_observed_after_its_last_cell() -> None:
    assert runtime.last_cells(CELLS) == {2: ["f"], 4: ["g"]}


def test_libraries_are_restored_for_the_observations_and_the_students_patch_given_back_after() -> None:
    original = math.sqrt
    saved = [(math.__dict__, runtime._code_of(math.__dict__))]
    math.sqrt = lambda value: 42.0  # type: ignore[assignment]
    patched = math.sqrt
    try:
        undone = runtime.restore_libraries(saved)
        assert math.sqrt is original
        runtime.restore_libraries(undone)
        assert math.sqrt is patched
        assert runtime.restore_libraries(saved) == [(math.__dict__, {"sqrt": patched})]
    finally:
        math.sqrt = original
