import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_submission_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class GradingState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Student(Base):
    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Every session cookie carries the version it was issued under; raising it ends them all.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())


class LoginAttempt(Base):
    """A login attempt that has not succeeded (yet), by a hash of the email and of the client's address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # False while the password is being checked; an attempt that succeeds is deleted instead.
    failed: Mapped[bool] = mapped_column(default=False)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class Integration(Base):
    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    secret: Mapped[str] = mapped_column(String(200))
    callback_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("integration_id", "external_submission_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_submission_id)
    assignment: Mapped[str] = mapped_column(String(200), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("integrations.id"))
    external_user_id: Mapped[str | None] = mapped_column(String(200))
    external_submission_id: Mapped[str | None] = mapped_column(String(200))
    callback_url: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(300))
    notebook: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    result_grading_id: Mapped[int | None] = mapped_column(ForeignKey("gradings.id", use_alter=True))
    status: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[float | None]
    max_score: Mapped[float | None]
    graded_at: Mapped[datetime | None]

    student: Mapped[Student | None] = relationship()
    integration: Mapped[Integration | None] = relationship()
    gradings: Mapped[list["Grading"]] = relationship(
        back_populates="submission", foreign_keys="Grading.submission_id", order_by="Grading.id"
    )
    result: Mapped["Grading | None"] = relationship(foreign_keys=[result_grading_id], post_update=True)


class Grading(Base):
    """One request to grade a submission (the upload or a regrade), retried over attempts."""

    __tablename__ = "gradings"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32), default="upload")
    state: Mapped[str] = mapped_column(String(16), default=GradingState.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    duration_seconds: Mapped[float | None]
    status: Mapped[str | None] = mapped_column(String(32))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    submission: Mapped[Submission] = relationship(back_populates="gradings", foreign_keys=[submission_id])


class WebhookMessage(Base):
    __tablename__ = "webhook_messages"
    __table_args__ = (UniqueConstraint("integration_id", "webhook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"))
    webhook_id: Mapped[str] = mapped_column(String(200))
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship()


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"))
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    integration: Mapped[Integration] = relationship()
    attempts: Mapped[list["DeliveryAttempt"]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.id"
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float]

    delivery: Mapped[Delivery] = relationship(back_populates="attempts")


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    hostname: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime]
    # The worker's canary results, one per assignment version it has checked (`Canaries.records`).
    canaries: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The worker grades without memory and pids cgroups (its operator allowed it: TFGRADE_ALLOW_NO_CGROUP).
    uncapped: Mapped[bool] = mapped_column(default=False, server_default=false())
