"""Blame where it belongs, in real sandboxes: a course cell that fails costs only what needed it."""

import json
from pathlib import Path

import pytest
from helpers import course_cell
from report_views import exercise_statuses, points_by_check

from grader import Assignment, GradeReport, SandboxPool, Status, grade_notebook
from grader.assignment import load_assignment

IMPORTS = "import numpy as np\nimport tensorflow as tf"
DATA = "FEATURES = np.linspace(-1, 1, 8, dtype='float32').reshape(-1, 1)\nLABELS = 2 * FEATURES"
MAKE_MODEL = """# GRADED FUNCTION: make_model
def make_model():
    ### START CODE HERE ###
    model = None
    ### END CODE HERE ###
    model.compile(optimizer="sgd", loss="mse")
    return model"""
TRAIN = "model = make_model()\nhistory = model.fit(FEATURES, LABELS, epochs=2, verbose=0)"
MAKE_DATA = """# GRADED FUNCTION: make_data
def make_data():
    ### START CODE HERE ###
    values = None
    ### END CODE HERE ###
    return values"""
USE_DATA = "data = make_data()"
SUMMARIZE = """# GRADED FUNCTION: summarize
def summarize(data):
    ### START CODE HERE ###
    total = None
    ### END CODE HERE ###
    return total"""
USE_SUMMARY = "summary = summarize(data)"

SOLUTION = {
    "model = None": "model = tf.keras.Sequential([tf.keras.Input(shape=(1,)), tf.keras.layers.Dense(1)])",
    "values = None": "values = np.array([1.0, 2.0])",
    "total = None": "total = float(np.sum(data))",
}

CHECKS = """
from grader.authoring import CheckContext, check, expect_equal, observe


@observe("make_model")
def layers(ns, inputs):
    return [type(layer).__name__ for layer in ns["make_model"]().layers]


@observe("make_model")
def epochs(ns, inputs):
    return len(ns["history"].epoch)


@observe("make_data")
def values(ns, inputs):
    return [float(value) for value in ns["make_data"]()]


@observe("summarize")
def summary(ns, inputs):
    return ns["summary"]


@check("make_model", "one Dense layer")
def one_dense(ctx: CheckContext) -> None:
    expect_equal("layers", ["Dense"], ctx.observation("layers"))


@check("make_model", "trained for two epochs")
def trained(ctx: CheckContext) -> None:
    expect_equal("epochs", 2, ctx.observation("epochs"))


@check("make_data", "the data is 1 and 2")
def data(ctx: CheckContext) -> None:
    expect_equal("values", [1.0, 2.0], ctx.observation("values"))


@check("summarize", "the course's data sums to 3")
def sums(ctx: CheckContext) -> None:
    expect_equal("summary", 3.0, ctx.observation("summary"))
"""

TOML = """slug = "course-blame"
title = "Blame where it belongs"
[[exercises]]
name = "make_model"
points = 2
[[exercises]]
name = "make_data"
points = 1
[[exercises]]
name = "summarize"
points = 1
"""


def notebook(answers: dict[str, str]) -> bytes:
    """The course's notebook with these answers in place of the placeholders; cell n is the n-th below."""

    def answered(source: str) -> str:
        for placeholder, answer in answers.items():
            source = source.replace(placeholder, answer)
        return source

    sources = [IMPORTS, DATA, MAKE_MODEL, TRAIN, MAKE_DATA, USE_DATA, SUMMARIZE, USE_SUMMARY]
    cells = [
        course_cell(answered(source), graded="GRADED" in source, frozen="GRADED" not in source)
        for source in sources
    ]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    return json.dumps({"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 4}).encode()


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    folder: Path = tmp_path_factory.mktemp("course-blame")
    (folder / "template.ipynb").write_bytes(notebook({}))
    (folder / "solution.ipynb").write_bytes(notebook(SOLUTION))
    (folder / "checks.py").write_text(CHECKS)
    (folder / "assignment.toml").write_text(TOML)
    return load_assignment(folder)


def grade(answers: dict[str, str], assignment: Assignment, pool: SandboxPool) -> GradeReport:
    return grade_notebook(notebook(answers), assignment, pool=pool)


def check_message(report: GradeReport, name: str) -> str:
    return next(check.message for check in report.checks if check.name == name)


def test_the_solution_earns_every_point(assignment: Assignment, probe_pool: SandboxPool) -> None:
    report = grade(SOLUTION, assignment, probe_pool)
    assert (report.status, report.score, report.max_score) == (Status.GRADED, 4.0, 4.0)


def test_a_training_cell_that_fails_leaves_the_model_check_that_needs_no_training_decided(
    assignment: Assignment, probe_pool: SandboxPool
) -> None:
    wrong_input = SOLUTION["model = None"].replace("shape=(1,)", "shape=(3,)")
    report = grade({**SOLUTION, "model = None": wrong_input}, assignment, probe_pool)
    assert (report.status, report.score) == (Status.GRADED, 3.0)
    assert points_by_check(report) == {
        "one Dense layer": 1.0,
        "trained for two epochs": 0.0,
        "the data is 1 and 2": 1.0,
        "the course's data sums to 3": 1.0,
    }
    assert exercise_statuses(report) == {"make_model": "ok", "make_data": "ok", "summarize": "ok"}
    training = "cell 4 (`model = make_model()`), which uses it, failed: line 2: ValueError: "
    model = next(exercise for exercise in report.exercises if exercise.name == "make_model")
    assert model.message.startswith(f"Ran without errors, but {training}")
    # The check that needed the training shows the training cell's error, not a KeyError of its own.
    assert check_message(report, "trained for two epochs").startswith(
        "Not checked: while running your code for this check: cell 4 (`model = make_model()`) failed: line 2: "
        "ValueError: "
    )


def test_a_course_cell_raising_name_error_shows_that_error_and_not_the_observations_key_error(
    assignment: Assignment, probe_pool: SandboxPool
) -> None:
    broken = {**SOLUTION, "values = None": "values = np.array(undefined_values)"}
    report = grade(broken, assignment, probe_pool)
    assert (report.status, report.score) == (Status.GRADED, 2.0)
    data_failure = (
        "Your code for 'make_data' failed when cell 6 (`data = make_data()`) used it: line 4: NameError: "
        "name 'undefined_values' is not defined"
    )
    course_failure = (
        "cell 8 (`summary = summarize(data)`) failed: line 1: NameError: name 'data' is not defined"
    )
    assert {exercise.name: (exercise.status.value, exercise.message) for exercise in report.exercises} == {
        "make_model": ("ok", "Ran without errors."),
        "make_data": ("exception", data_failure),
        "summarize": (
            "ok",
            "Ran without errors, but cell 8 (`summary = summarize(data)`), which uses it, failed: line 1: "
            "NameError: name 'data' is not defined",
        ),
    }
    assert points_by_check(report) == {
        "one Dense layer": 1.0,
        "trained for two epochs": 1.0,
        "the data is 1 and 2": 0.0,
        "the course's data sums to 3": 0.0,
    }
    assert check_message(report, "the data is 1 and 2") == f"Not checked: {data_failure}"
    assert check_message(report, "the course's data sums to 3") == (
        f"Not checked: while running your code for this check: {course_failure}"
    )
