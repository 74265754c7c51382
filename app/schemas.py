from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel


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
    created_at: datetime
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
    created_at: datetime
    finished_at: datetime | None


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
    created_at: datetime
    graded_at: datetime | None
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
    graded_at: str | None


class DeliveryAttemptPublic(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_seconds: float


class DeliveryPublic(BaseModel):
    id: int
    submission_id: str
    webhook_id: str
    url: str
    state: Literal["pending", "delivered", "failed"]
    created_at: datetime
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
