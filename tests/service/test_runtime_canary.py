"""A worker's canary checks an assignment in the runtime it is graded in: a runtime not built fails the canary
(its submissions wait, unscored), and a built one grades the solution and template there."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from course_week2 import DATA_CELLS, write_assignment

from grader import Assignment, Catalog, GradeReport, SandboxPool, grade_notebook
from grader.runtimes import find_runtime
from workers.canary import run_canary

RUNTIME = "course-c1"


@pytest.fixture()
def catalog() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tfgrade-canary-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        write_assignment(root, "course-week2", DATA_CELLS["numpy"], RUNTIME)
        yield root


def test_the_canary_of_an_assignment_whose_runtime_is_not_built_fails_without_grading(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("grader.runtimes.BUILT", tmp_path)
    graded: list[str] = []

    def grade(notebook: bytes, assignment: Assignment) -> GradeReport:
        graded.append(assignment.slug)
        raise AssertionError("nothing is graded in a runtime that is not built")

    result = run_canary(Catalog(catalog).get("course-week2"), grade)
    assert not result.passed
    assert result.reason == (
        f"runtime '{RUNTIME}' is not built ({tmp_path / RUNTIME} is missing or older than "
        f"requirements/runtimes/{RUNTIME}.lock): run scripts/setup.sh"
    )
    assert graded == []


def test_the_canary_grades_in_the_assignments_runtime(catalog: Path) -> None:
    problem = find_runtime(RUNTIME).problem()
    if problem is not None:
        pytest.fail(f"{problem}; `scripts/setup.sh --tests` builds the runtimes these tests grade in")
    runtimes: list[str | None] = []
    with SandboxPool(Catalog(catalog), size=1) as pool:
        runtimes += pool.warm_runtimes()

        def grade(notebook: bytes, assignment: Assignment) -> GradeReport:
            return grade_notebook(notebook, assignment, pool=pool)

        result = run_canary(Catalog(catalog).get("course-week2"), grade)
    assert runtimes == [RUNTIME]  # the catalog uses no other runtime
    assert (result.passed, result.reason) == (True, "")
