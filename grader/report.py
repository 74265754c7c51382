from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, computed_field

from grader.clean_text import clean_text

# A report's messages reach students. They are cleaned as they enter it, so that no place that writes one
# (nor the sandbox, which student code controls) has to be trusted to have cleaned it.
StudentText = Annotated[str, AfterValidator(clean_text)]


class Status(StrEnum):
    GRADED = "graded"
    NOT_GRADABLE = "not_gradable"
    TIMEOUT = "timeout"
    MEMORY_EXCEEDED = "memory_exceeded"
    ERROR = "error"


class ExerciseStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    SYNTAX_ERROR = "syntax_error"
    EXCEPTION = "exception"
    TIMEOUT = "timeout"


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    exercise: str
    points: float
    max_points: float
    passed: bool
    hidden: bool
    message: StudentText


class ExerciseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    status: ExerciseStatus
    message: StudentText


class GradeReport(BaseModel):
    """The immutable outcome of grading one notebook; its JSON is a public contract."""

    model_config = ConfigDict(frozen=True)

    submission_id: str | None = None
    assignment: str
    assignment_version: str
    status: Status
    message: StudentText
    checks: tuple[CheckResult, ...] = ()
    exercises: tuple[ExerciseResult, ...] = ()
    timings: dict[str, float] = {}
    grader_version: str
    metadata: dict[str, Any] = {}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score(self) -> float:
        return round(sum(check.points for check in self.checks), 6)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_score(self) -> float:
        return round(sum(check.max_points for check in self.checks), 6)

    def with_submission_id(self, submission_id: str) -> "GradeReport":
        return self.model_copy(update={"submission_id": submission_id})
