import pytest
from course_grading import Grade, assert_solution_full_and_template_zero, situation, statuses_and_failures

from grader import Catalog, Status

SLUG = "c1w3-mnist-convolutions"
ALL_OK = {"reshape_and_normalize": "ok", "EarlyStoppingCallback": "ok", "convolutional_model": "ok"}


def test_solution_earns_full_points_and_template_none(catalog: Catalog, grade: Grade) -> None:
    assert_solution_full_and_template_zero(SLUG, catalog, grade)


@pytest.mark.parametrize(
    ("name", "score", "statuses", "failed"),
    [
        (
            "pooling-but-no-convolution",
            6.0,
            ALL_OK,
            [
                "the model has a Conv2D layer",
                "training stops before the 10th epoch",
                "the trained model recognises digits it has never seen",
            ],
        ),
        (
            "callback-reads-the-old-acc-key-and-never-stops",
            7.0,
            ALL_OK,
            [
                "the callback stops training above 99.5% accuracy and only there",
                "the callback also stops at exactly 99.5% accuracy",
                "training stops before the 10th epoch",
            ],
        ),
        (
            "channel-axis-added-in-front",
            2.0,
            # Training fails on the wrongly shaped images inside Keras, in no exercise's code: that counts
            # against no exercise; the checks that needed the trained model fail with the training's error.
            ALL_OK,
            [
                "the images get a channel axis",
                "the pixel values are divided by 255",
                "the model has a Conv2D layer",
                "the model has a MaxPooling2D layer",
                "the model outputs 10 values per image",
                "training stops before the 10th epoch",
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
