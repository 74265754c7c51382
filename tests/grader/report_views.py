from grader import GradeReport


def points_by_check(report: GradeReport) -> dict[str, float]:
    return {check.name: check.points for check in report.checks}


def exercise_statuses(report: GradeReport) -> dict[str, str]:
    return {exercise.name: exercise.status.value for exercise in report.exercises}
