"""Week 1 is the course's own notebook: graded by checks.py, with a stand-in for the course's unittests."""

from course_grading import Grade, assert_course_notebook_unmodified, statuses_and_failures
from helpers import WEEK1, WEEK1_DIR, untrained, week1_solution

from grader import Catalog, GradeReport, SandboxPool, Status, grade_notebook
from grader.validation import structure_problems

ALL_OK = {"create_training_data": "ok", "define_and_compile_model": "ok", "train_model": "ok"}
CHECKS = [
    "the arrays have the right shape",
    "the arrays hold floats",
    "the arrays hold the right values",
    "the model is a single Dense layer with one unit",
    "the model takes one number as input",
    "the model is compiled with SGD and mean squared error",
    "the model was trained for 500 epochs",
    "the prediction for 7 bedrooms is close to 4.0",
    "the prediction for 10 bedrooms is close to 5.5",
]
ALL_PASSED = "All tests passed!"
FLOATS = "    n_bedrooms = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=float)\\n"
INTEGERS = "    n_bedrooms = np.array([1, 2, 3, 4, 5, 6])\\n"
INTEGERS_FAILURE = (
    "Failed test case: n_bedrooms has the wrong dtype.\nExpected: a float dtype (float64 or float32)\nGot: int64\n"
)


def grade_week1(notebook: bytes, catalog: Catalog, pool: SandboxPool) -> GradeReport:
    return grade_notebook(notebook, catalog.get(WEEK1), pool=pool)


def test_the_template_is_the_course_notebook_byte_for_byte() -> None:
    assert_course_notebook_unmodified(
        WEEK1_DIR,
        path="C1/W1/assignment/C1W1_Assignment.ipynb",
        commit="025abb3e6bd63c63b65d6133286e2d033c9c7da4",
        sha256="150d04cbd45272aa0ea44af6d38a95a9aa2df040c2d1f4cfdfc7914b1500b47d",
        blob_id="5f8e92bc8917b7b0cb047b85e3bb68f6ab720a36",
    )


def test_solution_earns_full_marks_and_passes_the_notebooks_own_tests(catalog: Catalog, grade: Grade) -> None:
    assert structure_problems(catalog.get(WEEK1)) == []
    report = grade(WEEK1, WEEK1_DIR / "solution.ipynb")
    assert (report.status, report.score, report.max_score) == (Status.GRADED, 10.0, 10.0), report.checks
    assert statuses_and_failures(report) == (ALL_OK, [])
    assert report.metadata["output"].count(ALL_PASSED) == 3
    assert "Failed test case" not in report.metadata["output"]


def test_the_untouched_template_earns_nothing_and_every_check_says_so(catalog: Catalog, grade: Grade) -> None:
    report = grade(WEEK1, WEEK1_DIR / "template.ipynb")
    assert (report.status, report.score, report.max_score) == (Status.GRADED, 0.0, 10.0)
    missing = dict.fromkeys(ALL_OK, "missing")
    assert statuses_and_failures(report) == (missing, CHECKS)


def test_integer_bedrooms_cost_exercise_1_alone_and_the_stand_in_says_so(
    catalog: Catalog, pool: SandboxPool
) -> None:
    solution = week1_solution().decode()
    assert solution.count(FLOATS) == 1
    report = grade_week1(solution.replace(FLOATS, INTEGERS).encode(), catalog, pool)
    assert (report.status, report.score) == (Status.GRADED, 9.0)
    assert statuses_and_failures(report) == (ALL_OK, ["the arrays hold floats"])
    output = report.metadata["output"]
    assert INTEGERS_FAILURE in output
    assert output.count(ALL_PASSED) == 2
    assert output.index(INTEGERS_FAILURE) < output.index(ALL_PASSED)


def test_an_untrained_model_earns_the_first_two_exercises(catalog: Catalog, pool: SandboxPool) -> None:
    report = grade_week1(untrained(), catalog, pool)
    assert (report.status, report.score) == (Status.GRADED, 6.0)
    failed = ["the model was trained for 500 epochs", *CHECKS[-2:]]
    assert statuses_and_failures(report) == (ALL_OK, failed)
    assert report.metadata["output"].count(ALL_PASSED) == 2
