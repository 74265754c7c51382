"""Checking an assignment the way an instructor would: consistent, solution full marks, template none."""

from dataclasses import dataclass, field

from grader.assignment import TEMPLATE_MAX_BYTES, Assignment
from grader.judge import check_points
from grader.matching import exercise_cells
from grader.notebook import read_notebook
from grader.report import GradeReport, Status
from grader.runtimes import runtime_problem
from grader.sandbox.host import detect_host
from grader.support import support_problems


@dataclass
class Validation:
    assignment: Assignment
    problems: list[str] = field(default_factory=list)
    solution: GradeReport | None = None
    template: GradeReport | None = None

    @property
    def valid(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        lines = [f"{self.assignment.slug}: {'valid' if self.valid else 'INVALID'}"]
        for name, report in (("solution", self.solution), ("template", self.template)):
            if report is not None:
                lines.append(
                    f"  {name}: {report.status.value}, {report.score:g} / {report.max_score:g} "
                    f"in {report.timings.get('total', 0):.1f} s"
                )
        lines += [f"  problem: {problem}" for problem in self.problems]
        return "\n".join(lines)


def structure_problems(assignment: Assignment) -> list[str]:
    problems = []
    if (unavailable := runtime_problem(assignment.runtime)) is not None:
        problems.append(unavailable)
    template = read_notebook(assignment.template_path.read_bytes(), max_bytes=TEMPLATE_MAX_BYTES)
    in_template = [cell.name for cell in exercise_cells(template)]
    declared = [exercise.name for exercise in assignment.exercises]
    if in_template != declared:
        problems.append(
            f"exercises in assignment.toml {declared} differ from the template's graded cells {in_template}"
        )
    if template.grader_version != assignment.grader_version:
        problems.append(f"the template's grader_version is not {assignment.grader_version!r}")
    registry = assignment.registry
    for name, exercise in [(c.name, c.exercise) for c in registry.checks] + [
        (o.name, o.exercise) for o in registry.observations
    ]:
        if exercise not in declared:
            problems.append(f"'{name}' belongs to an unknown exercise '{exercise}'")
    for exercise in declared:
        if not any(check.exercise == exercise for check in registry.checks):
            problems.append(f"exercise '{exercise}' has no checks")
    total = sum(check_points(assignment).values())
    if abs(total - assignment.max_score) > 1e-9:
        problems.append(
            f"the checks are worth {total:g} points, assignment.toml says {assignment.max_score:g}"
        )
    return problems + support_problems(assignment.support_dir, detect_host().as_sandbox_user())


def grading_problems(solution: GradeReport, template: GradeReport) -> list[str]:
    """What is wrong when the solution is not graded with full marks or the template earns points."""
    problems = []
    if solution.status is not Status.GRADED or solution.score != solution.max_score:
        failed = dict.fromkeys(check.message for check in solution.checks if not check.passed)
        problems.append(
            f"the solution is {solution.status.value} with {solution.score:g} / {solution.max_score:g}: "
            + " ".join([solution.message, *failed]).strip()
        )
    if template.score != 0:
        problems.append(f"the untouched template earns {template.score:g} points instead of 0")
    return problems


def validate(assignment: Assignment) -> Validation:
    from grader.pipeline import grade_notebook

    result = Validation(assignment, structure_problems(assignment))
    if result.problems:
        return result
    result.solution = grade_notebook(assignment.solution_path.read_bytes(), assignment)
    result.template = grade_notebook(assignment.template_path.read_bytes(), assignment)
    result.problems += grading_problems(result.solution, result.template)
    return result
