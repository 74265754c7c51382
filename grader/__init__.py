"""tfgrade's grading core: notebook bytes and an assignment in, an immutable GradeReport out."""

from grader.assignment import Assignment, AssignmentError, Catalog, Limits
from grader.intake import refusal
from grader.pipeline import grade_notebook, ungraded_report
from grader.report import CheckResult, ExerciseResult, ExerciseStatus, GradeReport, Status
from grader.sandbox.pool import SandboxPool
from grader.version import GRADER_VERSION

__all__ = [
    "Assignment",
    "AssignmentError",
    "Catalog",
    "GRADER_VERSION",
    "CheckResult",
    "ExerciseResult",
    "ExerciseStatus",
    "GradeReport",
    "Limits",
    "SandboxPool",
    "Status",
    "grade_notebook",
    "refusal",
    "ungraded_report",
]
