import pytest
from course_grading import Grade, assert_solution_full_and_template_zero, situation, statuses_and_failures

from grader import Catalog, Status

SLUG = "c1w4-happy-sad"
ALL_OK = {"training_dataset": "ok", "create_and_compile_model": "ok"}
MODEL_CHECKS = [
    "the last layer and the loss agree",
    "the model is compiled with the accuracy metric",
    "training stops before the 15th epoch",
    "the trained model tells unseen happy and sad faces apart",
]


def test_solution_earns_full_points_and_template_none(catalog: Catalog, grade: Grade) -> None:
    assert_solution_full_and_template_zero(SLUG, catalog, grade)


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
