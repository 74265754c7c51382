from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from app.deps import AnySubmission, SessionDep, SettingsDep
from app.presenters import detail, present_delivery
from app.schemas import DeliveryPublic, GradingQueued, SubmissionDetail
from app.submissions import pending_grading, queue_grading
from workers.models import Delivery

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])


@router.get("/{submission_id}")
def get_submission(submission: AnySubmission) -> SubmissionDetail:
    return detail(submission)


@router.get("/{submission_id}/notebook", response_class=Response)
def get_notebook(submission: AnySubmission) -> Response:
    return Response(
        submission.notebook,
        media_type="application/x-ipynb+json",
        headers={"content-disposition": f'attachment; filename="{submission.id}.ipynb"'},
    )


@router.post("/{submission_id}/regrade", status_code=202)
def regrade(submission: AnySubmission, session: SessionDep, settings: SettingsDep) -> GradingQueued:
    """Grades again; the current result stays until the new one is final."""
    grading = pending_grading(submission) or queue_grading(session, settings, submission, reason="regrade")
    return GradingQueued(submission_id=submission.id, grading_id=grading.id, status=grading.state)  # type: ignore[arg-type]


@router.get("/{submission_id}/deliveries")
def list_deliveries(submission: AnySubmission, session: SessionDep) -> list[DeliveryPublic]:
    found = session.scalars(
        select(Delivery).where(Delivery.submission_id == submission.id).order_by(Delivery.id)
    )
    return [present_delivery(d) for d in found]
