from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import CatalogDep, OwnSubmission, SessionDep
from app.submissions import pending_grading, progress_state, queue_position
from app.templating import templates
from workers.models import GradingState

router = APIRouter(include_in_schema=False)


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission_page(
    request: Request, submission: OwnSubmission, session: SessionDep, catalog: CatalogDep
) -> Response:
    context = {
        "submission": submission,
        "assignment": catalog.assignments.get(submission.assignment),
        "progress": progress(submission, session),
        "report": submission.result.report if submission.result else None,
    }
    return templates.TemplateResponse(request, "submission.html", context)


@router.get("/submissions/{submission_id}/progress")
def progress(submission: OwnSubmission, session: SessionDep) -> dict[str, str | int | None]:
    pending = pending_grading(submission)
    return {
        "state": progress_state(submission),
        "position": queue_position(session, pending)
        if pending and pending.state == GradingState.QUEUED
        else None,
        "status": submission.status,
    }
