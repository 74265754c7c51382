"""Helpers for the bundled assignments' tests: real notebooks graded by the real pipeline."""

import hashlib
from collections.abc import Callable
from pathlib import Path

from helpers import exercise_statuses

from grader import Catalog, GradeReport, Status
from grader.validation import structure_problems

FIXTURES = Path(__file__).parent / "fixtures"
Grade = Callable[[str, Path], GradeReport]
COURSE_REPOSITORY = "https://github.com/https-deeplearning-ai/tensorflow-1-public"
# The Apache-2.0 LICENSE file of the course's repository, as it ships there.
COURSE_LICENSE_SHA256 = "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4"


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


def git_blob_id(content: bytes) -> str:
    """The id git gives a file with this content: the same id as in the course's repository means the same bytes."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def assert_course_notebook_unmodified(
    assignment_dir: Path, *, path: str, commit: str, sha256: str, blob_id: str
) -> None:
    """The template is the course's notebook byte for byte, with the course's licence and a notice naming it."""
    template = (assignment_dir / "template.ipynb").read_bytes()
    assert (hashlib.sha256(template).hexdigest(), git_blob_id(template)) == (sha256, blob_id)
    licence = (assignment_dir / "LICENSE").read_bytes()
    assert hashlib.sha256(licence).hexdigest() == COURSE_LICENSE_SHA256
    notice = (assignment_dir / "NOTICE.md").read_text()
    missing = [fact for fact in (COURSE_REPOSITORY, path, commit, "unmodified", "Apache") if fact not in notice]
    assert missing == []
