from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, PlainSerializer


def as_utc(moment: datetime) -> datetime:
    """The database keeps UTC without an offset (SQLite cannot keep one); clients get the offset."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Serialized by `isoformat` so that UTC reads `+00:00` in JSON and CSV alike, never `Z` or no offset.
UtcDatetime = Annotated[
    datetime, AfterValidator(as_utc), PlainSerializer(datetime.isoformat, return_type=str)
]

# The report statuses of grader.report.Status, and the states of a submission not graded yet.
StatusFilter = Literal["queued", "running", "graded", "not_gradable", "timeout", "memory_exceeded", "error"]


class AssignmentPublic(BaseModel):
    slug: str
    title: str
    version: str
    max_score: float
    score_policy: Literal["best", "latest"]
    cooldown_seconds: int
    exercises: list[str]


class SubmissionSummary(BaseModel):
    id: str
    assignment: str
    student: str | None
    user_id: str | None
    external_submission_id: str | None
    created_at: UtcDatetime
    state: Literal["queued", "running", "done"]
    status: str | None
    score: float | None
    max_score: float | None
    url: str


Item = TypeVar("Item", bound=BaseModel)


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int
    limit: int
    offset: int


class GradingPublic(BaseModel):
    id: int
    reason: str
    state: Literal["queued", "running", "done"]
    attempts: int
    status: str | None
    created_at: UtcDatetime
    finished_at: UtcDatetime | None


class SubmissionDetail(BaseModel):
    """The report JSON of DESIGN.md (status is queued or running until a first result), with context."""

    submission_id: str
    assignment: str
    assignment_version: str | None
    status: str
    score: float | None
    max_score: float | None
    message: str
    checks: list[dict[str, Any]]
    exercises: list[dict[str, Any]]
    timings: dict[str, float]
    grader_version: str | None
    state: Literal["queued", "running", "done"]
    student: str | None
    user_id: str | None
    external_submission_id: str | None
    created_at: UtcDatetime
    graded_at: UtcDatetime | None
    notebook_url: str
    deliveries_url: str
    gradings: list[GradingPublic]


class GradingQueued(BaseModel):
    submission_id: str
    grading_id: int
    status: Literal["queued", "running"]


class ScoreRowPublic(BaseModel):
    student: str
    name: str
    score: float | None
    max_score: float
    attempts: int
    submission_id: str | None
    graded_at: UtcDatetime | None


class DeliveryAttemptPublic(BaseModel):
    attempted_at: UtcDatetime
    status_code: int | None
    error: str | None
    duration_seconds: float


class DeliveryPublic(BaseModel):
    id: int
    submission_id: str
    webhook_id: str
    url: str
    state: Literal["pending", "delivered", "failed"]
    created_at: UtcDatetime
    attempts: list[DeliveryAttemptPublic]


class LmsSubmissionCreate(BaseModel):
    assignment: str
    user_id: str
    external_submission_id: str
    notebook: str
    callback_url: str | None = None


class LmsSubmissionAccepted(BaseModel):
    submission_id: str
    status: str
