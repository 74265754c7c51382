import pytest
from course_grading import Grade, assert_solution_full_and_template_zero, situation, statuses_and_failures

from grader import Catalog, Status

SLUG = "c1w2-mnist-callback"
ALL_OK = {"create_and_compile_model": "ok", "EarlyStoppingCallback": "ok", "train_mnist": "ok"}


def test_solution_earns_full_points_and_template_none(catalog: Catalog, grade: Grade) -> None:
    assert_solution_full_and_template_zero(SLUG, catalog, grade)


@pytest.mark.parametrize(
    ("name", "score", "statuses", "failed"),
    [
        (
            "output-layer-with-one-unit",
            4.0,
            {**ALL_OK, "train_mnist": "exception"},
            [
                "the model outputs 10 values per image",
                "training stops before the 10th epoch",
                "the trained model classifies its training digits",
                "the trained model recognises digits it has never seen",
            ],
        ),
        (
            "callback-stops-above-threshold-not-at-it",
            8.5,
            ALL_OK,
            ["the callback also stops at exactly 98% accuracy"],
        ),
        (
            "syntax-error-in-callback",
            3.0,
            {**ALL_OK, "EarlyStoppingCallback": "syntax_error", "train_mnist": "exception"},
            [
                "the callback stops training above 98% accuracy and only there",
                "the callback also stops at exactly 98% accuracy",
                "training stops before the 10th epoch",
                "the trained model classifies its training digits",
                "the trained model recognises digits it has never seen",
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
