"""Running the checks outside every sandbox, on the evidence, against the hidden expected values."""

from collections.abc import Mapping

from grader.assignment import Assignment
from grader.authoring import Check, CheckContext, CheckFailed, ObservationUnavailable
from grader.report import CheckResult


def check_points(assignment: Assignment) -> dict[int, float]:
    """Each check's points: its own, or an equal share of what its exercise's points leave over."""
    checks = assignment.registry.checks
    points: dict[int, float] = {}
    for exercise in assignment.exercises:
        own = [(number, check) for number, check in enumerate(checks) if check.exercise == exercise.name]
        fixed = sum(check.points for _, check in own if check.points is not None)
        sharing = sum(1 for _, check in own if check.points is None)
        for number, check in own:
            points[number] = check.points if check.points is not None else (exercise.points - fixed) / sharing
    return points


def judge(
    assignment: Assignment, unchecked: Mapping[str, str], context: CheckContext
) -> tuple[CheckResult, ...]:
    """Every check runs on the evidence, except those of the exercises in `unchecked` (whose code did not
    run, failed, or was stopped), which fail with the reason. A check whose evidence is missing fails alone."""
    points = check_points(assignment)
    results = []
    for number, check in enumerate(assignment.registry.checks):
        if check.exercise in unchecked:
            results.append(_failed(check, points[number], f"Not checked: {unchecked[check.exercise]}"))
            continue
        results.append(_run(check, points[number], context))
    return tuple(results)


def without_results(assignment: Assignment, reason: str) -> tuple[CheckResult, ...]:
    points = check_points(assignment)
    return tuple(
        _failed(check, points[number], f"Not checked: {reason}")
        for number, check in enumerate(assignment.registry.checks)
    )


def _run(check: Check, max_points: float, context: CheckContext) -> CheckResult:
    try:
        check.function(context)
    except CheckFailed as failure:
        return _failed(check, max_points, str(failure))
    except ObservationUnavailable as missing:
        return _failed(check, max_points, f"Not checked: while running your code for this check: {missing}")
    except Exception as error:  # noqa: BLE001 - odd student data must fail the check, not the grading
        return _failed(
            check,
            max_points,
            f"Failed test case: {check.name}. Your code returned something of an unexpected "
            f"form ({type(error).__name__}: {error}).",
        )
    return CheckResult(
        name=check.name,
        exercise=check.exercise,
        points=max_points,
        max_points=max_points,
        passed=True,
        hidden=check.hidden,
        message="Passed.",
    )


def _failed(check: Check, max_points: float, message: str) -> CheckResult:
    return CheckResult(
        name=check.name,
        exercise=check.exercise,
        points=0.0,
        max_points=max_points,
        passed=False,
        hidden=check.hidden,
        message=message,
    )
