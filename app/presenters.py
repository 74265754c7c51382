from typing import Any

from app.schemas import (
    DeliveryAttemptPublic,
    DeliveryPublic,
    GradingPublic,
    SubmissionDetail,
    SubmissionSummary,
)
from app.submissions import progress_state
from workers.models import Delivery, Submission

API = "/api/v1"


def summarize(submission: Submission) -> SubmissionSummary:
    return SubmissionSummary(
        id=submission.id,
        assignment=submission.assignment,
        student=submission.student.email if submission.student else None,
        user_id=submission.external_user_id,
        external_submission_id=submission.external_submission_id,
        created_at=submission.created_at,
        state=progress_state(submission),  # type: ignore[arg-type]
        status=submission.status,
        score=submission.score,
        max_score=submission.max_score,
        url=f"{API}/submissions/{submission.id}",
    )


def pending_report(submission: Submission) -> dict[str, Any]:
    return {
        "submission_id": submission.id,
        "assignment": submission.assignment,
        "assignment_version": None,
        "status": progress_state(submission),
        "score": None,
        "max_score": None,
        "message": "Not graded yet.",
        "checks": [],
        "exercises": [],
        "timings": {},
        "grader_version": None,
    }


def detail(submission: Submission) -> SubmissionDetail:
    report = submission.result.report if submission.result and submission.result.report else None
    fields = {
        key: value for key, value in (report or pending_report(submission)).items() if key != "metadata"
    }
    return SubmissionDetail(
        **fields,
        state=progress_state(submission),  # type: ignore[arg-type]
        student=submission.student.email if submission.student else None,
        user_id=submission.external_user_id,
        external_submission_id=submission.external_submission_id,
        created_at=submission.created_at,
        graded_at=submission.graded_at,
        notebook_url=f"{API}/submissions/{submission.id}/notebook",
        deliveries_url=f"{API}/submissions/{submission.id}/deliveries",
        gradings=[GradingPublic.model_validate(g, from_attributes=True) for g in submission.gradings],
    )


def present_delivery(delivery: Delivery) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,
        submission_id=delivery.submission_id,
        webhook_id=delivery.webhook_id,
        url=delivery.url,
        state=delivery.state,  # type: ignore[arg-type]
        created_at=delivery.created_at,
        attempts=[DeliveryAttemptPublic.model_validate(a, from_attributes=True) for a in delivery.attempts],
    )
