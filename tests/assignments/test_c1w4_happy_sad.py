"""Week 4 is the course's own notebook, on generated faces, with a stand-in for the course's unittests."""

import pytest
from course_grading import (
    Grade,
    assert_course_notebook_unmodified,
    assert_solution_full_and_template_zero,
    situation,
    statuses_and_failures,
)

from grader import Catalog, Status

SLUG = "c1w4-happy-sad"
ALL_OK = {"training_dataset": "ok", "create_and_compile_model": "ok"}
DATASET_CHECKS = [
    "batches hold 10 images of 150×150×3",
    "pixel values are rescaled to [0, 1]",
    "labels are 0 for happy and 1 for sad, one per image",
]
MODEL_CHECKS = [
    "the last layer and the loss agree",
    "the model is compiled with the accuracy metric",
    "training stops before the 15th epoch",
    "the trained model tells unseen happy and sad faces apart",
]
ALL_PASSED = "All tests passed!"
SOFTMAX_ON_ONE_UNIT = (
    "Failed test case: the last layer's activation does not suit one unit.\n"
    "Expected: an activation such as 'sigmoid'\nGot: softmax\n"
)
NEVER_STOPS = (
    "Failed test case: training did not stop early.\nExpected: fewer than 15 epochs\nGot: 15 epochs\n\n"
    "Failed test case: the model did not reach the accuracy.\nExpected: an accuracy of 0.999 or more\nGot: 0.5\n"
)


def test_the_template_is_the_course_notebook_byte_for_byte(catalog: Catalog) -> None:
    assert_course_notebook_unmodified(
        catalog.get(SLUG).directory,
        path="C1/W4/assignment/C1W4_Assignment.ipynb",
        commit="025abb3e6bd63c63b65d6133286e2d033c9c7da4",
        sha256="f9c02df7c6671980210f81ac3fc429b32294dbb3678abd2bc8541e2b12968059",
        blob_id="b75f5c5c232d9cac100bf2927d80accdd849c861",
    )


def test_solution_earns_full_points_and_template_none(catalog: Catalog, grade: Grade) -> None:
    assert_solution_full_and_template_zero(SLUG, catalog, grade)


def test_the_solution_passes_the_notebooks_own_tests(catalog: Catalog, grade: Grade) -> None:
    report = grade(SLUG, catalog.get(SLUG).solution_path)
    output = report.metadata["output"]
    assert (output.count(ALL_PASSED), output.count("Failed test case")) == (3, 0)
    assert "Your model has 826,913 total parameters and the reference is 826,913.\n" in output
    assert "You are good to go!\n" in output


def test_the_untouched_template_fails_every_check(catalog: Catalog, grade: Grade) -> None:
    report = grade(SLUG, catalog.get(SLUG).template_path)
    missing = dict.fromkeys(ALL_OK, "missing")
    assert statuses_and_failures(report) == (missing, [*DATASET_CHECKS, *MODEL_CHECKS])


def test_the_stand_in_passes_the_dataset_and_reports_a_model_that_cannot_learn(grade: Grade) -> None:
    output = grade(SLUG, situation(SLUG, "softmax-on-a-single-unit")).metadata["output"]
    assert output.count(ALL_PASSED) == 1
    assert output.index(ALL_PASSED) < output.index(SOFTMAX_ON_ONE_UNIT) < output.index(NEVER_STOPS)


@pytest.mark.parametrize(
    ("name", "score", "statuses", "failed"),
    [
        (
            "softmax-on-a-single-unit",
            4.0,
            ALL_OK,
            [MODEL_CHECKS[0], MODEL_CHECKS[2], MODEL_CHECKS[3]],
        ),
        ("model-left-as-none", 3.0, {**ALL_OK, "create_and_compile_model": "missing"}, MODEL_CHECKS),
        # The training cell fails for want of the dataset (a NameError of the course's code): the model's
        # checks that need no training are still decided, and only those that needed the training fail.
        (
            "syntax-error-in-training-dataset",
            3.0,
            {"training_dataset": "syntax_error", "create_and_compile_model": "ok"},
            [
                "batches hold 10 images of 150×150×3",
                "pixel values are rescaled to [0, 1]",
                "labels are 0 for happy and 1 for sad, one per image",
                MODEL_CHECKS[2],
                MODEL_CHECKS[3],
            ],
        ),
    ],
)
def test_wrong_submissions_earn_exact_partial_scores(
    grade: Grade, name: str, score: float, statuses: dict[str, str], failed: list[str]
) -> None:
    report = grade(SLUG, situation(SLUG, name))
    assert (report.status, report.score, report.max_score) == (Status.GRADED, score, 10.0)
    assert statuses_and_failures(report) == (statuses, failed)
