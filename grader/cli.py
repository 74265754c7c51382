"""`tfgrade grade` and `tfgrade assignments`: local grading with the same core the service runs."""

import argparse
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from grader.assignment import Assignment, AssignmentError, Catalog, load_assignment
from grader.report import GradeReport, Status
from grader.validation import validate
from grader.version import GRADER_VERSION

if TYPE_CHECKING:
    from grader.pipeline import Phase

EXIT_GRADED = 0
EXIT_INTERNAL_ERROR = 1
EXIT_NOT_GRADABLE = 2

PHASE_LINES: dict["Phase", str] = {
    "read": "reading the notebook",
    "assemble": "assembling the program",
    "sandbox_start": "starting the sandbox",
    "run": "running the notebook",
    "evaluate": "evaluating the models",
    "judge": "judging",
}


def version_line() -> str:
    try:
        package = version("tfgrade")
    except PackageNotFoundError:
        package = "unknown"
    return f"tfgrade {package} (grader {GRADER_VERSION})"


def add_grading_commands(commands: Any) -> None:
    grade = commands.add_parser("grade", help="grade one notebook locally")
    grade.add_argument("notebook", type=Path)
    grade.add_argument("--assignment", required=True, help="an assignment's slug, or the path of its folder")
    grade.add_argument("--json", action="store_true", help="print the report as JSON")
    grade.add_argument(
        "--progress",
        action="store_true",
        help="show the grading's phase on stderr even when it is not a terminal",
    )
    grade.set_defaults(func=grade_command)

    assignments = commands.add_parser("assignments", help="list or validate the assignments")
    actions = assignments.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list the assignments").set_defaults(func=list_command)
    check = actions.add_parser("validate", help="the solution earns full points, the template none")
    check.add_argument("slug", nargs="?")
    check.set_defaults(func=validate_command)


def find_assignment(name: str) -> Assignment:
    folder = Path(name)
    if (folder / "assignment.toml").is_file():
        return load_assignment(folder)
    return Catalog().get(name)


def grade_command(args: argparse.Namespace) -> int:
    from grader.pipeline import grade_notebook

    try:
        assignment = find_assignment(args.assignment)
        notebook = args.notebook.read_bytes()
    except (AssignmentError, OSError) as error:
        print(f"tfgrade: {error}", file=sys.stderr)
        return EXIT_NOT_GRADABLE
    progress = Progress(sys.stderr) if args.progress or sys.stderr.isatty() else None
    report = grade_notebook(notebook, assignment, on_phase=progress.show if progress else None)
    if progress:
        progress.finish()
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        print(render(report))
    if report.status is Status.GRADED:
        return EXIT_GRADED
    return EXIT_INTERNAL_ERROR if report.status is Status.ERROR else EXIT_NOT_GRADABLE


class Progress:
    """One line on stderr, rewritten in place on a terminal; the report itself goes to stdout."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._in_place = stream.isatty()

    def show(self, phase: "Phase") -> None:
        self._write(PHASE_LINES[phase])

    def finish(self) -> None:
        if self._in_place:
            # The terminal's line is cleared so that the report starts on a clean one.
            self._stream.write("\r\033[K")
            self._stream.flush()
        else:
            self._write("done")

    def _write(self, text: str) -> None:
        line = f"tfgrade: {text}"
        self._stream.write(f"\r\033[K{line}" if self._in_place else f"{line}\n")
        self._stream.flush()


def render(report: GradeReport) -> str:
    headline = (
        f"{report.assignment} (version {report.assignment_version}): {report.status.value}, "
        f"score {report.score:g} / {report.max_score:g}"
    )
    if not report.exercises and report.status is not Status.GRADED:
        # The code never ran: every check would repeat the one reason.
        return f"{headline}. {report.message}"
    lines = [headline]
    if report.message:
        lines.append(report.message)
    for exercise in report.exercises:
        lines.append(f"  exercise {exercise.name}: {exercise.status.value}. {exercise.message}")
    for check in report.checks:
        mark = "PASS" if check.passed else "FAIL"
        lines.append(f"  [{mark}] {check.points:g}/{check.max_points:g} {check.exercise}: {check.name}")
        if not check.passed:
            lines.append(f"         {check.message}")
    return "\n".join(lines)


def list_command(args: argparse.Namespace) -> int:
    try:
        assignments = Catalog().assignments.values()
    except AssignmentError as error:
        print(f"tfgrade: {error}", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    for assignment in assignments:
        exercises = ", ".join(exercise.name for exercise in assignment.exercises)
        print(
            f"{assignment.slug}\tversion {assignment.version}\t{assignment.max_score:g} points\t"
            f"{assignment.title}\t[{exercises}]"
        )
    return EXIT_GRADED


def validate_command(args: argparse.Namespace) -> int:
    try:
        catalog = Catalog()
        assignments = [find_assignment(args.slug)] if args.slug else list(catalog.assignments.values())
    except AssignmentError as error:
        print(f"tfgrade: {error}", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    all_valid = True
    for assignment in assignments:
        result = validate(assignment)
        all_valid &= result.valid
        print(result.summary())
    return EXIT_GRADED if all_valid else EXIT_INTERNAL_ERROR
