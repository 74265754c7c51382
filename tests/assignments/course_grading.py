"""Helpers for the bundled assignments' tests: real notebooks graded by the real pipeline."""

from collections.abc import Callable
from pathlib import Path

from helpers import exercise_statuses

from grader import Catalog, GradeReport, Status
from grader.validation import structure_problems

FIXTURES = Path(__file__).parent / "fixtures"
Grade = Callable[[str, Path], GradeReport]


def situation(slug: str, name: str) -> Path:
    return FIXTURES / slug / f"{name}.ipynb"


def statuses_and_failures(report: GradeReport) -> tuple[dict[str, str], list[str]]:
    """Each exercise's status, and the names of the checks that failed, in report order."""
    return exercise_statuses(report), [check.name for check in report.checks if not check.passed]


def assert_solution_full_and_template_zero(slug: str, catalog: Catalog, grade: Grade) -> None:
    assignment = catalog.get(slug)
    assert structure_problems(assignment) == []
    data_bytes = sum(path.stat().st_size for path in assignment.data_dir.rglob("*") if path.is_file())
    assert 0 < data_bytes < 10 * 1024**2

    solution = grade(slug, assignment.solution_path)
    full = (Status.GRADED, 10.0, 10.0)
    assert (solution.status, solution.score, solution.max_score) == full, solution.checks
    template = grade(slug, assignment.template_path)
    assert (template.status, template.score) == (Status.GRADED, 0.0)
    assert set(exercise_statuses(template).values()) == {"missing"}
