"""The canary: before a worker process grades the first submission of an assignment version, it grades that
assignment's own solution and template with the same sandboxes and the same call it grades students with.
The solution must be graded with full marks and the template must score 0; until then the worker grades
none of that assignment's submissions, so a broken environment (a module the sandbox cannot import, a
changed library, broken data) never gives a student a wrong score."""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from grader import Assignment, AssignmentError, Catalog
from grader.validation import grading_problems, structure_problems
from workers.database import session_scope
from workers.grading import Grade, retrying_database, waiting_assignment
from workers.settings import Settings

REASON_CHARS = 300
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CanaryResult:
    assignment: str
    version: str
    passed: bool
    reason: str
    checked_at: str  # ISO time, for operators


def canary_problems(assignment: Assignment, grade: Grade) -> list[str]:
    problems = structure_problems(assignment)
    if problems:
        return problems
    solution = grade(assignment.solution_path.read_bytes(), assignment)
    template = grade(assignment.template_path.read_bytes(), assignment)
    return grading_problems(solution, template)


def run_canary(assignment: Assignment, grade: Grade) -> CanaryResult:
    try:
        problems = canary_problems(assignment, grade)
    except Exception as error:  # an assignment that cannot even be read fails its canary, not the task
        log.exception("the canary of %s crashed", assignment.slug)
        problems = [f"{type(error).__name__}: {error}"]
    reason = "; ".join(problems)
    if len(reason) > REASON_CHARS:
        reason = reason[: REASON_CHARS - 3] + "..."
    return CanaryResult(
        assignment=assignment.slug,
        version=assignment.version,
        passed=not problems,
        reason=reason,
        checked_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


@dataclass(frozen=True)
class _Verdict:
    result: CanaryResult
    valid_until: float  # time.monotonic(); a pass stays valid for the process's life
    failures: int  # failed runs of this canary in this process


class Canaries:
    """One canary per assignment version for the life of a worker process. A failure is kept only for
    `retry_seconds`, so the canary runs again when the held-back submissions come back: a repaired
    environment is noticed without restarting the worker.

    Canaries run lazily, on an assignment's first submission: running every assignment's at start would
    cost minutes of CPU (each trains the solution's models) on every worker start, mostly for assignments
    that worker may never be sent."""

    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self._guard = threading.Lock()  # guards the two dictionaries, never held while grading
        self._running: dict[tuple[str, str], threading.Lock] = {}
        self._verdicts: dict[tuple[str, str], _Verdict] = {}

    def check(self, assignment: Assignment, grade: Grade) -> CanaryResult:
        key = (assignment.slug, assignment.version)
        with self._guard:
            run_lock = self._running.setdefault(key, threading.Lock())
        # Concurrent tasks of one assignment wait for a single run and share its verdict.
        with run_lock:
            with self._guard:
                known = self._verdicts.get(key)
            if known is not None and time.monotonic() < known.valid_until:
                return known.result
            result = run_canary(assignment, grade)
            failures = (known.failures if known else 0) + (0 if result.passed else 1)
            valid_until = float("inf") if result.passed else time.monotonic() + self.retry_seconds
            with self._guard:
                self._verdicts[key] = _Verdict(result, valid_until, failures)
        if result.passed:
            log.info("canary of %s version %s passed", assignment.slug, assignment.version)
        else:
            log.error(
                "canary of %s version %s failed; none of its submissions is graded here: %s",
                assignment.slug,
                assignment.version,
                result.reason,
            )
        return result

    def records(self) -> list[dict[str, Any]]:
        """The latest verdict of each canary, as the heartbeat stores them for /readyz and /metrics."""
        with self._guard:
            verdicts = sorted(self._verdicts.items())
        return [
            {
                "assignment": verdict.result.assignment,
                "version": verdict.result.version,
                "passed": verdict.result.passed,
                "reason": verdict.result.reason,
                "checked_at": verdict.result.checked_at,
                "failures": verdict.failures,
            }
            for _, verdict in verdicts
        ]


def failing_canary(
    grading_id: int, *, settings: Settings, catalog: Catalog, canaries: Canaries, grade: Grade
) -> CanaryResult | None:
    """The failed canary that keeps this worker from grading this grading's assignment, if any. Nothing is
    claimed before it passes, so a grading held back costs no attempt."""

    def slug() -> str | None:
        with session_scope(settings.database_url) as session:
            return waiting_assignment(session, grading_id)

    waiting = retrying_database(slug)
    if waiting is None:
        return None
    try:
        assignment = catalog.get(waiting)
    except AssignmentError:
        return None  # grading reports an assignment this worker does not have
    result = canaries.check(assignment, grade)
    return None if result.passed else result
