"""Score exports as files that Canvas and Moodle gradebooks import without any column mapping of ours."""

import csv
import io
from collections.abc import Callable, Iterable

from app.scores import ScoreRow
from grader import Assignment

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_text(cell: str) -> str:
    """A spreadsheet opening the file shows a student-chosen name as text, never runs it as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def plain_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


def to_csv(lines: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue()


def canvas(assignment: Assignment, rows: list[ScoreRow]) -> str:
    # Canvas's gradebook importer takes the first row as the header when it starts Student, ID, and names
    # SIS User ID and SIS Login ID before Section; each later column is an assignment, matched by a
    # "Title (numeric id)" or else by its exact title, and created if none matches. A row whose first cell
    # says Points Possible sets the points of assignments it creates. Students match by ID, then SIS User
    # ID, then SIS Login ID, then name; an empty grade changes nothing.
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment.title]
    points = ["Points Possible", "", "", "", "", plain_number(assignment.max_score)]
    students = [[plain_text(r.name), "", "", r.learner, "", plain_number(r.score)] for r in rows]
    return to_csv([header, points, *students])


def moodle(assignment: Assignment, rows: list[ScoreRow]) -> str:
    # Moodle's CSV grade import maps a column to a user field ("Email address" to useremail) and each
    # other column to a grade item, existing or new, on its preview screen.
    header = ["Email address", assignment.title]
    return to_csv([header, *([r.learner, plain_number(r.score)] for r in rows)])


GRADEBOOKS: dict[str, Callable[[Assignment, list[ScoreRow]], str]] = {"canvas": canvas, "moodle": moodle}
