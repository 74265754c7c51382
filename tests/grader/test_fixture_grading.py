"""Grading the probe assignment's fixture notebooks in real sandboxes with real TensorFlow."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import exercise_statuses, points_by_check
from probe_notebooks import VECTOR_CHECK, legacy_probe, with_vector_code

from grader import Assignment, GradeReport, SandboxPool, Status, grade_notebook
from grader.assignment import load_assignment

GradeFixture = Callable[[str], GradeReport]
ALL_OK = {"make_vector": "ok", "make_model": "ok", "train_classifier": "ok"}


def test_the_solution_earns_every_point(probe, probe_pool) -> None:
    from grader import grade_notebook

    report = grade_notebook(probe.solution_path.read_bytes(), probe, pool=probe_pool)
    assert (report.status, report.score, report.max_score) == (Status.GRADED, 5.0, 5.0)
    assert report.message == "All tests passed! Well done."
    assert exercise_statuses(report) == ALL_OK
    assert report.metadata["protections"]["no_network"] is True
    assert set(report.timings) >= {"read", "assemble", "sandbox_start", "run", "judge", "total"}


def test_the_untouched_template_earns_nothing_and_crashes_nothing(probe, probe_pool) -> None:
    from grader import grade_notebook

    report = grade_notebook(probe.template_path.read_bytes(), probe, pool=probe_pool)
    assert (report.status, report.score) == (Status.GRADED, 0.0)
    assert set(exercise_statuses(report).values()) == {"missing"}


@pytest.mark.parametrize(
    ("fixture", "score"),
    [
        ("marker-variants", 5.0),
        ("edited-outside-markers", 5.0),
        ("added-cells", 5.0),
        ("ids-and-metadata-rewritten", 5.0),
        ("nbformat-4.1-without-ids", 5.0),
    ],
)
def test_notebooks_in_every_shape_grade_like_the_solution(
    grade_fixture: GradeFixture, fixture: str, score: float
) -> None:
    report = grade_fixture(fixture)
    assert (report.status, report.score) == (Status.GRADED, score)
    assert exercise_statuses(report) == ALL_OK


def test_edits_outside_the_markers_are_ignored_and_reported(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("edited-outside-markers")
    assert (
        "Edits outside the START/END CODE HERE markers were ignored in: make_vector, make_model."
        in report.message
    )


def test_a_deleted_graded_cell_costs_only_its_exercise(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("deleted-graded-cell")
    assert report.score == 3.0
    assert exercise_statuses(report) == {**ALL_OK, "make_model": "missing"}
    assert points_by_check(report) == {
        "the vector holds 1, 2, 3": 1.0,
        "one Dense layer": 0.0,
        "three units": 0.0,
        "classifies the probe points": 2.0,
    }


def test_a_syntax_error_in_exercise_2_is_reported_there_with_its_line(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("syntax-error-in-exercise-2")
    assert report.score == 3.0
    assert exercise_statuses(report) == {**ALL_OK, "make_model": "syntax_error"}
    model = next(e for e in report.exercises if e.name == "make_model")
    assert model.message == "Your code for 'make_model' failed: line 5: SyntaxError: '(' was never closed"


def test_an_exception_at_run_time_is_reported_with_its_line(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("exception-at-run-time")
    assert report.score == 4.0
    vector = next(e for e in report.exercises if e.name == "make_vector")
    assert vector.status.value == "exception"
    assert vector.message.endswith("line 5: ZeroDivisionError: division by zero")


def test_an_untouched_exercise_with_invalid_placeholders_scores_zero_alone(
    grade_fixture: GradeFixture,
) -> None:
    report = grade_fixture("untouched-exercise-with-invalid-placeholder")
    assert report.score == 3.0
    assert exercise_statuses(report)["make_model"] == "syntax_error"


def test_grade_up_to_here_grades_only_the_first_exercises(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("grade-up-to-here")
    assert report.score == 1.0
    assert exercise_statuses(report) == {
        "make_vector": "ok",
        "make_model": "missing",
        "train_classifier": "missing",
    }


def test_a_duplicated_graded_cell_is_graded_once_and_reported(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("duplicated-graded-cell")
    assert report.score == 5.0
    assert "Your notebook has 2 graded cells for 'make_vector'" in report.message
    vector = next(exercise for exercise in report.exercises if exercise.name == "make_vector")
    assert vector.message.startswith(
        "Your notebook has 2 graded cells for 'make_vector'; the first one was graded."
    )


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("garbage-bytes", "not a Jupyter notebook"),
        ("json-not-a-notebook", "not a Jupyter notebook"),
        ("out-of-date-version", "Your notebook is out of date"),
    ],
)
def test_what_cannot_be_graded_says_why(grade_fixture: GradeFixture, fixture: str, message: str) -> None:
    report = grade_fixture(fixture)
    assert report.status is Status.NOT_GRADABLE
    assert message in report.message
    assert (report.score, report.max_score) == (0.0, 5.0)
    assert all(check.message.startswith("Not checked: ") for check in report.checks)


@pytest.mark.parametrize("version", [None, "0"])
def test_without_a_version_in_the_template_notebooks_with_any_version_or_none_are_graded(
    probe_pool: SandboxPool, tmp_path: Path, version: str | None
) -> None:
    legacy = load_assignment(legacy_probe(tmp_path))
    notebook = json.loads(legacy.solution_path.read_bytes())
    if version is not None:
        notebook["metadata"]["grader_version"] = version
    report = grade_notebook(json.dumps(notebook).encode(), legacy, pool=probe_pool)
    assert (report.status, report.score) == (Status.GRADED, 5.0)
    assert report.message == "All tests passed! Well done."


def test_hidden_checks_are_marked_hidden(grade_fixture: GradeFixture) -> None:
    report = grade_fixture("added-cells")
    assert {check.name for check in report.checks if check.hidden} == {"three units"}


def test_an_error_in_colour_naming_host_paths_reaches_the_report_without_either(
    probe: Assignment, probe_pool: SandboxPool
) -> None:
    code = """
import os, keras
print("\\x1b[32mworking in " + os.getcwd() + "\\x1b[0m")
missing = os.path.join(os.getcwd(), "data", "missing.npz")
raise ValueError("\\x1b[1mcannot read " + missing + " with " + keras.__file__ + "\\x1b[0m")
"""
    report = grade_notebook(with_vector_code(code), probe, pool=probe_pool)
    failure = (
        "Your code for 'make_vector' failed: when called by the grader, line 8: ValueError: cannot read "
        "data/missing.npz with <python>/keras/__init__.py"
    )
    vector = next(exercise for exercise in report.exercises if exercise.name == "make_vector")
    assert (vector.status.value, vector.message) == ("exception", failure)
    assert next(check.message for check in report.checks if check.name == VECTOR_CHECK) == (
        "Not checked: while running your code for this check: line 8: ValueError: cannot read "
        "data/missing.npz with <python>/keras/__init__.py"
    )
    assert "working in <notebook>\n" in report.metadata["output"]
    texts = [
        report.message,
        report.metadata["output"],
        *report.metadata["notices"],
        *(check.message for check in report.checks),
        *(exercise.message for exercise in report.exercises),
    ]
    assert [
        text
        for text in texts
        if any(trace in text for trace in ("\x1b", "/tmp", "/sandbox", "site-packages"))
    ] == []
