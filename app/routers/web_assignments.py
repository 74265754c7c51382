from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.csrf import require_csrf
from app.deps import AssignmentDep, CatalogDep, CurrentStudent, SessionDep, SettingsDep, done_with
from app.scores import counting_submission
from app.submissions import (
    cooldown_remaining,
    hold_student,
    pending_submissions,
    queue_grading,
    student_submissions,
)
from app.templating import templates
from app.uploads import UploadDeferred, UploadRejected, check_upload
from grader import Assignment
from workers.models import Student, Submission

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def assignment_list(
    request: Request, student: CurrentStudent, session: SessionDep, catalog: CatalogDep
) -> Response:
    mine = session.scalars(select(Submission).where(Submission.student_id == student.id)).all()
    rows = []
    for assignment in catalog.assignments.values():
        attempts = [s for s in mine if s.assignment == assignment.slug]
        rows.append(
            {
                "assignment": assignment,
                "attempts": len(attempts),
                "counting": counting_submission(attempts, assignment.score_policy),
            }
        )
    return templates.TemplateResponse(request, "assignments.html", {"student": student, "rows": rows})


def render_assignment(
    request: Request,
    session: SessionDep,
    student: Student,
    assignment: Assignment,
    refusal: UploadRejected | None = None,
) -> Response:
    retry_after = refusal.retry_after if isinstance(refusal, UploadDeferred) else None
    context = {
        "student": student,
        "assignment": assignment,
        "submissions": student_submissions(session, student, assignment.slug),
        "cooldown": cooldown_remaining(session, student, assignment.slug, assignment.cooldown_seconds),
        "error": refusal.message if refusal is not None and retry_after is None else None,
        "deferred": refusal.message if refusal is not None and retry_after is not None else None,
        "retry_after": retry_after,
    }
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
        return templates.TemplateResponse(
            request, "assignment.html", context, status_code=429, headers=headers
        )
    return templates.TemplateResponse(
        request, "assignment.html", context, status_code=422 if refusal else 200
    )


@router.get("/assignments/{slug}", response_class=HTMLResponse)
def assignment_page(
    request: Request, student: CurrentStudent, session: SessionDep, assignment: AssignmentDep
) -> Response:
    return render_assignment(request, session, student, assignment)


@router.get("/assignments/{slug}/template.ipynb")
def template_download(_: CurrentStudent, assignment: AssignmentDep) -> FileResponse:
    return FileResponse(
        assignment.template_path, media_type="application/x-ipynb+json", filename=f"{assignment.slug}.ipynb"
    )


# A full queue frees a place when one of the student's submissions is graded: ask again after this long.
PENDING_RETRY_SECONDS = 30


def refuse_while_waiting(
    session: Session, student: Student, assignment: Assignment, max_pending: int
) -> None:
    wait = cooldown_remaining(session, student, assignment.slug, assignment.cooldown_seconds)
    if wait:
        raise UploadDeferred(f"You can submit this assignment again in {wait} seconds.", wait)
    if pending_submissions(session, student) >= max_pending:
        raise UploadDeferred(
            f"You have {max_pending} submissions waiting to be graded. You can submit again once one of them "
            "is graded.",
            PENDING_RETRY_SECONDS,
        )


@router.post("/assignments/{slug}/submissions", dependencies=[Depends(require_csrf)])
def upload(
    request: Request,
    student: CurrentStudent,
    session: SessionDep,
    settings: SettingsDep,
    assignment: AssignmentDep,
    notebook: Annotated[UploadFile, File()],
) -> Response:
    data = notebook.file.read(settings.max_upload_bytes + 1)
    try:
        refuse_while_waiting(session, student, assignment, settings.max_pending_submissions)
        # The check takes a while: no database connection is held meanwhile.
        done_with(session)
        check_upload(data, assignment, settings.max_upload_bytes)
        hold_student(session, student)
        # Again under the lock: an upload of the same student at the same moment is stored or waits behind.
        refuse_while_waiting(session, student, assignment, settings.max_pending_submissions)
    except UploadRejected as refusal:
        done_with(session)
        return render_assignment(request, session, student, assignment, refusal)
    submission = Submission(
        assignment=assignment.slug,
        student_id=student.id,
        filename=notebook.filename or "notebook.ipynb",
        notebook=data,
    )
    queue_grading(session, settings, submission, reason="upload")
    return RedirectResponse(f"/submissions/{submission.id}", status_code=303)
