"""The grading pipeline: read, assemble, run in a sandbox, observe, judge, report."""

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from grader.assemble import Program, assemble
from grader.assignment import Assignment
from grader.intake import MAX_NOTEBOOK_BYTES, load_template, version_notices
from grader.judge import judge, without_results
from grader.notebook import NotGradable, read_notebook
from grader.observations import observation_payload, probe_inputs_archive
from grader.outcome import interpret
from grader.report import GradeReport, Status
from grader.sandbox.host import detect_host
from grader.sandbox.pool import SandboxPool
from grader.sandbox.process import Job, Zygote
from grader.version import GRADER_VERSION

READY_TIMEOUT_SECONDS = 120.0
logger = logging.getLogger(__name__)


class Timings:
    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._started = time.monotonic()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(time.monotonic() - started, 3)

    def finish(self) -> dict[str, float]:
        return {**self.phases, "total": round(time.monotonic() - self._started, 3)}


def grade_notebook(
    notebook: bytes, assignment: Assignment, *, pool: SandboxPool | None = None, threads: int | None = None
) -> GradeReport:
    """Grade one upload. Never raises for anything a student can send; our own failures become `error`."""
    timings = Timings()
    try:
        with timings.phase("read"):
            student = read_notebook(notebook, max_bytes=MAX_NOTEBOOK_BYTES)
            notices = version_notices(student, assignment)
        with timings.phase("assemble"):
            program = assemble(load_template(assignment.template_path), student)
        return _run_and_judge(assignment, program, notices, pool, threads, timings)
    except NotGradable as refusal:
        return ungraded_report(assignment, Status.NOT_GRADABLE, str(refusal), timings)
    except Exception:
        logger.exception("grading failed for %s", assignment.slug)
        return ungraded_report(
            assignment,
            Status.ERROR,
            "The grader failed on its side; this is not your fault and your submission is kept. "
            "It will be graded again; if this persists, tell your instructors.",
            timings,
        )


def _run_and_judge(
    assignment: Assignment,
    program: Program,
    notices: list[str],
    pool: SandboxPool | None,
    threads: int | None,
    timings: Timings,
) -> GradeReport:
    host = pool.host if pool else detect_host()
    job = _job(assignment, program, threads or _default_threads(pool))
    with timings.phase("sandbox_start"):
        zygote = (
            pool.acquire(assignment.slug) if pool else Zygote(host, {assignment.slug: assignment.data_dir})
        )
        ready = zygote.wait_ready(READY_TIMEOUT_SECONDS)
    try:
        if not ready:
            raise RuntimeError("the sandbox did not become ready")
        with timings.phase("run"):
            outcome = zygote.run(job)
    finally:
        if pool:
            pool.release(zygote)
        else:
            zygote.close()
    with timings.phase("judge"):
        limits = assignment.limits
        observed = {
            observation.name: observation.exercise for observation in assignment.registry.observations
        }
        result = interpret(program, outcome, observed, limits.memory_mb, limits.wall_seconds)
        checks = (
            judge(assignment, result.exercises, result.observations, result.observation_errors)
            if result.status is Status.GRADED
            else without_results(assignment, result.message)
        )
    passed_all = all(check.passed for check in checks)
    message = result.message or ("All tests passed! Well done." if passed_all else _score_line(checks))
    return GradeReport(
        assignment=assignment.slug,
        assignment_version=assignment.version,
        status=result.status,
        message=" ".join([message, *program.notices, *notices]).strip(),
        checks=checks,
        exercises=tuple(result.exercises.values()),
        timings=timings.finish(),
        grader_version=GRADER_VERSION,
        metadata={
            "protections": host.protections(),
            "notices": [*program.notices, *notices],
            "output": outcome.output,
            "peak_memory_mb": round(outcome.peak_memory_bytes / 1024**2, 1),
        },
    )


def _job(assignment: Assignment, program: Program, threads: int) -> Job:
    limits = assignment.limits
    return Job(
        cells=[
            {"source": cell.source, "exercise": cell.exercise, "is_exercise_cell": cell.is_exercise_cell}
            for cell in program.cells
        ],
        observations=[observation_payload(o) for o in assignment.registry.observations],
        skipped_exercises=sorted(program.problems),
        inputs=_inputs(assignment),
        slug=assignment.slug,
        wall_seconds=limits.wall_seconds,
        cpu_seconds=limits.cpu_seconds,
        memory_bytes=limits.memory_mb * 1024**2,
        max_processes=limits.processes,
        file_size_bytes=limits.file_size_mb * 1024**2,
        threads=threads,
    )


def _default_threads(pool: SandboxPool | None) -> int:
    return max(1, (os.cpu_count() or 1) // (pool.size if pool else 1))


@lru_cache(maxsize=32)
def _inputs(assignment: Assignment) -> bytes:
    return probe_inputs_archive(assignment)


def _score_line(checks: tuple) -> str:
    earned = sum(check.points for check in checks)
    possible = sum(check.max_points for check in checks)
    return f"You scored {earned:g} of {possible:g}. Read the failed test cases below."


def ungraded_report(
    assignment: Assignment, status: Status, message: str, timings: Timings | None = None
) -> GradeReport:
    """A well-formed report for a submission whose code never ran: every check listed, none earned."""
    return GradeReport(
        assignment=assignment.slug,
        assignment_version=assignment.version,
        status=status,
        message=message,
        checks=without_results(assignment, message),
        timings=timings.finish() if timings else {},
        grader_version=GRADER_VERSION,
    )
