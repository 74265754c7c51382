import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from app.deps import AssignmentDep, CatalogDep, Instructor, SessionDep
from app.gradebooks import GRADEBOOKS, plain_text
from app.presenters import summarize
from app.schemas import AssignmentPublic, Page, ScoreRowPublic, StatusFilter, SubmissionSummary, as_utc
from app.scores import score_rows
from grader import Assignment
from workers.models import Grading, GradingState, Student, Submission

router = APIRouter(prefix="/api/v1/assignments", tags=["assignments"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def present_assignment(assignment: Assignment) -> AssignmentPublic:
    return AssignmentPublic(
        slug=assignment.slug,
        title=assignment.title,
        version=assignment.version,
        max_score=assignment.max_score,
        score_policy=assignment.score_policy,
        cooldown_seconds=assignment.cooldown_seconds,
        exercises=[exercise.name for exercise in assignment.exercises],
    )


@router.get("")
def list_assignments(
    _: Instructor, catalog: CatalogDep, limit: Limit = 50, offset: Offset = 0
) -> Page[AssignmentPublic]:
    everything = list(catalog.assignments.values())
    items = [present_assignment(a) for a in everything[offset : offset + limit]]
    return Page[AssignmentPublic](items=items, total=len(everything), limit=limit, offset=offset)


@router.get("/{slug}/submissions")
def list_submissions(
    _: Instructor,
    session: SessionDep,
    assignment: AssignmentDep,
    student: str | None = None,
    status: Annotated[StatusFilter | None, Query(description="a report status, or queued/running")] = None,
    since: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SubmissionSummary]:
    query = select(Submission).where(Submission.assignment == assignment.slug)
    if student is not None:
        query = query.join(Student).where(Student.email == student.strip().lower())
    if status in (GradingState.QUEUED, GradingState.RUNNING):
        pending = select(Grading.submission_id).where(Grading.state == status)
        query = query.where(Submission.id.in_(pending))
    elif status is not None:
        query = query.where(Submission.status == status)
    if since is not None:
        query = query.where(Submission.created_at >= as_utc(since).replace(tzinfo=None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = session.scalars(
        query.order_by(Submission.created_at.desc(), Submission.id).limit(limit).offset(offset)
    )
    return Page[SubmissionSummary](
        items=[summarize(s) for s in found], total=total, limit=limit, offset=offset
    )


@router.get(
    "/{slug}/scores",
    response_model=list[ScoreRowPublic],
    responses={200: {"content": {"text/csv": {}}}},
)
def scores(
    _: Instructor,
    session: SessionDep,
    assignment: AssignmentDep,
    format: Annotated[
        Literal["json", "csv", "canvas", "moodle"],
        Query(description="csv: every learner; canvas, moodle: students with accounts, for gradebook import"),
    ] = "json",
) -> list[ScoreRowPublic] | Response:
    submissions = session.scalars(select(Submission).where(Submission.assignment == assignment.slug)).all()
    roster = [(s.email, s.name) for s in session.scalars(select(Student).order_by(Student.email))]
    found = score_rows(assignment, submissions, roster)
    if format in GRADEBOOKS:
        students = {email for email, _ in roster}
        enrolled = [row for row in found if row.learner in students]
        return csv_file(GRADEBOOKS[format](assignment, enrolled), f"{assignment.slug}-{format}.csv")
    rows = [
        ScoreRowPublic(student=row.learner, **{k: v for k, v in vars(row).items() if k != "learner"})
        for row in found
    ]
    if format == "json":
        return rows
    return csv_file(scores_csv(rows), f"{assignment.slug}-scores.csv")


def scores_csv(rows: list[ScoreRowPublic]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ScoreRowPublic.model_fields))
    writer.writeheader()
    writer.writerows(row.model_dump() | {"name": plain_text(row.name)} for row in rows)
    return buffer.getvalue()


def csv_file(text: str, filename: str) -> Response:
    return Response(
        text, media_type="text/csv", headers={"content-disposition": f'attachment; filename="{filename}"'}
    )
