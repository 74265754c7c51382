"""`tfgrade doctor`: for operators, the checks a grading worker relies on, run on this host: the sandbox's
protections, then every assignment's canary (its solution earns full marks, its template none)."""

from collections.abc import Callable

from grader import AssignmentError, Catalog, Status
from grader.sandbox.host import detect_host
from grader.validation import Validation, validate

Say = Callable[[str], None]


def missing_protections() -> list[str]:
    return [name for name, active in detect_host().protections().items() if not active]


def describe_failure(validation: Validation) -> list[str]:
    solution, template = validation.solution, validation.template
    if solution is None or template is None:  # refused before grading: the problems say why
        return [f"  problem: {problem}" for problem in validation.problems]
    failed = dict.fromkeys(check.message for check in solution.checks if not check.passed)
    ungraded = [] if solution.status is Status.GRADED else [f"    message: {solution.message}"]
    return [
        f"  solution: {solution.status.value}, {solution.score:g} / {solution.max_score:g} "
        f"(must be graded, {solution.max_score:g})",
        *ungraded,
        *(f"    failing check: {message}" for message in failed),
        f"  template: {template.status.value}, {template.score:g} / {template.max_score:g} (must be 0)",
    ]


def check_assignments(catalog: Catalog, say: Say) -> bool:
    try:
        assignments = list(catalog.assignments.values())
    except AssignmentError as error:
        say(f"assignments: {error}")
        return False
    if not assignments:
        say(f"assignments: none found in {catalog.root}")
        return False
    all_pass = True
    for assignment in assignments:
        heading = f"{assignment.slug} (version {assignment.version})"
        try:
            validation = validate(assignment)
        except Exception as error:  # an assignment that cannot be read at all is what the doctor is for
            say(f"{heading}: FAILED")
            say(f"  problem: {type(error).__name__}: {error}")
            all_pass = False
            continue
        if validation.valid:
            say(f"{heading}: ok")
            continue
        all_pass = False
        say(f"{heading}: FAILED")
        for line in describe_failure(validation):
            say(line)
    return all_pass


def run_doctor(catalog: Catalog, say: Say = print) -> bool:
    """True when the host has every sandbox protection and every assignment's canary passes."""
    missing = missing_protections()
    if missing:
        say(f"sandbox: protections missing on this host: {', '.join(missing)}")
    else:
        say("sandbox: ok (every protection active)")
    assignments_pass = check_assignments(catalog, say)
    return not missing and assignments_pass
