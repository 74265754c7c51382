"""What happens to an upload before any code runs: reading it and matching it to its assignment."""

from functools import lru_cache
from pathlib import Path

from grader.assemble import assemble
from grader.assignment import Assignment
from grader.clean_text import clean_text
from grader.notebook import Notebook, NotGradable, read_notebook

MAX_NOTEBOOK_BYTES = 20_000_000


def refusal(notebook: bytes, assignment: Assignment, *, max_bytes: int = MAX_NOTEBOOK_BYTES) -> str | None:
    """Why this upload can never be graded for this assignment, or None; runs no student code.

    The service calls it to refuse a bad upload at once, with the message grading would give.
    """
    try:
        student = read_notebook(notebook, max_bytes=max_bytes)
        version_notices(student, assignment)
        assemble(load_template(assignment.template_path), student)
    except NotGradable as reason:
        return clean_text(str(reason))
    return None


@lru_cache(maxsize=32)
def load_template(path: Path) -> Notebook:
    return read_notebook(path.read_bytes(), max_bytes=MAX_NOTEBOOK_BYTES)


def printable(value: object) -> str:
    """A value from the student's notebook, short and encodable, for a message about it."""
    return str(value)[:20].encode("utf-8", "replace").decode("utf-8")


def version_notices(student: Notebook, assignment: Assignment) -> list[str]:
    if assignment.grader_version is None:
        return []
    version = student.metadata.get("grader_version")
    if version is None:
        return [
            "Your notebook has no grader version in its metadata; it was graded against the current template."
        ]
    if str(version) != assignment.grader_version:
        raise NotGradable(
            f"Your notebook is out of date (grader version {printable(version)}; this assignment is at version "
            f"{assignment.grader_version}). Download the current notebook from the assignment page, copy your "
            "code into it and upload it again."
        )
    return []
