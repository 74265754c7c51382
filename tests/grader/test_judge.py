"""Judging checks outside the sandbox: points per check, and how each way of failing reads."""

from pathlib import Path

import pytest

from grader.assignment import Assignment, load_assignment
from grader.authoring import CheckContext
from grader.judge import check_points, judge, without_results
from grader.report import CheckResult

ASSIGNMENT_TOML = """
slug = "judged"
title = "Judged"

[[exercises]]
name = "f"
points = 5

[[exercises]]
name = "g"
points = 1
"""

CHECKS = """
from grader.authoring import check, expect_equal


@check("f", "fixed", points=1)
def fixed(context):
    pass


@check("f", "wrong value")
def wrong_value(context):
    expect_equal("the answer", 42, context.observation("answer"))


@check("f", "needs a missing observation", hidden=True)
def missing(context):
    context.observation("never sent")


@check("g", "odd data")
def odd_data(context):
    raise ValueError("not a number")
"""


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Assignment:
    folder: Path = tmp_path_factory.mktemp("judged")
    (folder / "assignment.toml").write_text(ASSIGNMENT_TOML)
    (folder / "template.ipynb").write_text("{}")
    (folder / "checks.py").write_text(CHECKS)
    return load_assignment(folder)


def context(assignment: Assignment) -> CheckContext:
    return CheckContext(
        observations={"answer": 41}, observation_errors={}, assignment_dir=assignment.directory
    )


def result(name: str, exercise: str, points: float, max_points: float, message: str) -> CheckResult:
    return CheckResult(
        name=name,
        exercise=exercise,
        points=points,
        max_points=max_points,
        passed=points > 0,
        hidden=name == "needs a missing observation",
        message=message,
    )


def test_checks_without_points_share_what_their_exercise_has_left(assignment: Assignment) -> None:
    assert check_points(assignment) == {0: 1.0, 1: 2.0, 2: 2.0, 3: 1.0}


def test_each_way_of_failing_a_check_reads_differently(assignment: Assignment) -> None:
    results = judge(assignment, {}, context(assignment))
    assert results == (
        result("fixed", "f", 1.0, 1.0, "Passed."),
        result(
            "wrong value",
            "f",
            0.0,
            2.0,
            "Failed test case: the answer. Expected: 42, but got: 41.",
        ),
        result(
            "needs a missing observation",
            "f",
            0.0,
            2.0,
            "Not checked: while running your code for this check: the observation 'never sent' was not produced",
        ),
        result(
            "odd data",
            "g",
            0.0,
            1.0,
            "Failed test case: odd data. Your code returned something of an unexpected form "
            "(ValueError: not a number).",
        ),
    )


def test_only_the_checks_of_exercises_that_could_not_be_checked_are_not_run(assignment: Assignment) -> None:
    results = judge(assignment, {"g": "Your code for 'g' failed: KeyError"}, context(assignment))
    assert [check.message for check in results] == [
        "Passed.",
        "Failed test case: the answer. Expected: 42, but got: 41.",
        "Not checked: while running your code for this check: the observation 'never sent' was not produced",
        "Not checked: Your code for 'g' failed: KeyError",
    ]
    assert [check.points for check in results] == [1.0, 0.0, 0.0, 0.0]
    assert [check.max_points for check in results] == [1.0, 2.0, 2.0, 1.0]


def test_without_results_every_check_scores_nothing_with_the_reason(assignment: Assignment) -> None:
    results = without_results(assignment, "the notebook timed out")
    assert results == (
        result("fixed", "f", 0.0, 1.0, "Not checked: the notebook timed out"),
        result("wrong value", "f", 0.0, 2.0, "Not checked: the notebook timed out"),
        result("needs a missing observation", "f", 0.0, 2.0, "Not checked: the notebook timed out"),
        result("odd data", "g", 0.0, 1.0, "Not checked: the notebook timed out"),
    )


def test_the_checks_after_those_of_an_exercise_not_checked_still_run(assignment: Assignment) -> None:
    results = judge(assignment, {"f": "Your code for 'f' failed: KeyError"}, context(assignment))
    assert [check.message for check in results] == [
        "Not checked: Your code for 'f' failed: KeyError",
        "Not checked: Your code for 'f' failed: KeyError",
        "Not checked: Your code for 'f' failed: KeyError",
        "Failed test case: odd data. Your code returned something of an unexpected form "
        "(ValueError: not a number).",
    ]
