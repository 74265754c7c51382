from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from grader import Assignment
from workers.models import Submission


@dataclass(frozen=True)
class ScoreRow:
    learner: str
    name: str
    score: float | None
    max_score: float
    attempts: int
    submission_id: str | None
    graded_at: datetime | None


def counting_submission(submissions: Iterable[Submission], policy: str) -> Submission | None:
    """The attempt whose score counts: the best one, or the latest graded one."""
    graded = [s for s in submissions if s.result_grading_id is not None]
    if not graded:
        return None
    if policy == "latest":
        return max(graded, key=lambda s: s.created_at)
    return max(graded, key=lambda s: (s.score or 0.0, s.created_at))


def learner_of(submission: Submission) -> tuple[str, str]:
    if submission.student is not None:
        return submission.student.email, submission.student.name
    integration = submission.integration.name if submission.integration else "lms"
    return f"{integration}:{submission.external_user_id}", ""


def score_rows(
    assignment: Assignment, submissions: Iterable[Submission], roster: list[tuple[str, str]]
) -> list[ScoreRow]:
    by_learner: dict[str, list[Submission]] = {email: [] for email, _ in roster}
    names = dict(roster)
    for submission in submissions:
        learner, name = learner_of(submission)
        by_learner.setdefault(learner, []).append(submission)
        names.setdefault(learner, name)
    rows = []
    for learner, attempts in sorted(by_learner.items()):
        counting = counting_submission(attempts, assignment.score_policy)
        rows.append(
            ScoreRow(
                learner=learner,
                name=names[learner],
                score=counting.score if counting else None,
                max_score=assignment.max_score,
                attempts=len(attempts),
                submission_id=counting.id if counting else None,
                graded_at=counting.graded_at if counting else None,
            )
        )
    return rows
