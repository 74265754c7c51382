"""The grading pipeline: read, assemble, run the student's job, evaluate its models cleanly, judge, report."""

import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np

from grader.assemble import Program, assemble
from grader.assignment import Assignment
from grader.authoring import CheckContext, ModelEvidence
from grader.clean_text import clean_text
from grader.evidence import ExportedModel, model_evidence, student_evidence
from grader.intake import MAX_NOTEBOOK_BYTES, load_template, version_notices
from grader.jobs import evaluator_job, probe_archive, student_job
from grader.judge import judge, without_results
from grader.notebook import NotGradable, read_notebook
from grader.outcome import Interpretation, interpret
from grader.report import CheckResult, GradeReport, Status
from grader.sandbox.host import Host, detect_host, runtime_host
from grader.sandbox.pool import SandboxPool
from grader.sandbox.process import Zygote
from grader.version import GRADER_VERSION

READY_TIMEOUT_SECONDS = 120.0
logger = logging.getLogger(__name__)

Phase = Literal["read", "assemble", "sandbox_start", "run", "evaluate", "judge"]
PhaseListener = Callable[[Phase], None]


class Timings:
    def __init__(self, on_phase: PhaseListener | None = None) -> None:
        self.phases: dict[str, float] = {}
        self._started = time.monotonic()
        self._on_phase = on_phase

    @contextmanager
    def phase(self, name: Phase) -> Iterator[None]:
        if self._on_phase:
            self._on_phase(name)
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(time.monotonic() - started, 3)

    def finish(self) -> dict[str, float]:
        return {**self.phases, "total": round(time.monotonic() - self._started, 3)}


def grade_notebook(
    notebook: bytes,
    assignment: Assignment,
    *,
    pool: SandboxPool | None = None,
    threads: int | None = None,
    on_phase: PhaseListener | None = None,
) -> GradeReport:
    """Grade one upload. Never raises for anything a student can send; our own failures become `error`.
    `on_phase` hears each phase as it starts."""
    timings = Timings(on_phase)
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
    threads = threads or _default_threads(pool)
    registry = assignment.registry
    fresh = (
        registry.fresh_inputs(np.random.default_rng(secrets.randbits(64))) if registry.fresh_inputs else {}
    )
    with timings.phase("sandbox_start"):
        zygote = pool.acquire(assignment.slug, assignment.runtime) if pool else _zygote_for(host, assignment)
        ready = zygote.wait_ready(READY_TIMEOUT_SECONDS)
    try:
        if not ready:
            raise RuntimeError("the sandbox did not become ready")
        with timings.phase("run"):
            outcome = zygote.run(student_job(assignment, program, fresh, threads))
        exercise_of = {o.name: o.exercise for o in registry.observations} | {
            e.name: e.exercise for e in registry.exports
        }
        result = interpret(
            program, outcome, exercise_of, assignment.limits.memory_mb, assignment.limits.wall_seconds
        )
        evidence = student_evidence(
            outcome.messages, {o.name for o in registry.observations}, {e.name for e in registry.exports}
        )
        # Models exported before a limit stopped the notebook are evaluated as well: their exercises finished.
        exported = {
            name: model
            for name, model in evidence.models.items()
            if exercise_of[name] not in result.unchecked
        }
        if result.status is not Status.ERROR and exported:
            with timings.phase("evaluate"):
                models, model_errors = _evaluate(zygote, assignment, exported, threads)
        else:
            models, model_errors = {}, {}
    finally:
        if pool:
            pool.release(zygote)
        else:
            zygote.close()
    with timings.phase("judge"):
        context = CheckContext(
            observations=evidence.observations,
            observation_errors=evidence.observation_errors,
            assignment_dir=assignment.directory,
            inputs=fresh,
            models=models,
            model_errors={**evidence.model_errors, **model_errors},
        )
        checks = (
            without_results(assignment, result.message)
            if result.status is Status.ERROR
            else judge(assignment, result.unchecked, context)
        )
    return GradeReport(
        assignment=assignment.slug,
        assignment_version=assignment.version,
        status=result.status,
        message=" ".join([_message(result, checks), *program.notices, *notices]).strip(),
        checks=checks,
        exercises=tuple(result.exercises.values()),
        timings=timings.finish(),
        grader_version=GRADER_VERSION,
        metadata={
            "protections": host.protections(),
            "notices": [clean_text(notice) for notice in [*program.notices, *notices]],
            "output": clean_text(outcome.output),
            "peak_memory_mb": round(outcome.peak_memory_bytes / 1024**2, 1),
        },
    )


def _zygote_for(host: Host, assignment: Assignment) -> Zygote:
    """A zygote of the assignment's runtime for this grading only, when no pool keeps them warm."""
    slug = assignment.slug
    return Zygote(
        runtime_host(host, assignment.runtime), {slug: assignment.data_dir}, {slug: assignment.support_dir}
    )


def _evaluate(
    zygote: Zygote, assignment: Assignment, exported: dict[str, ExportedModel], threads: int
) -> tuple[dict[str, ModelEvidence], dict[str, str]]:
    """The clean evaluator's run. A model it refuses, or that exhausts its limits, is the student's; the
    evaluator's own sandbox failing is the grader's, and no score is given."""
    outcome = zygote.run(evaluator_job(assignment, exported, probe_archive(assignment), threads))
    done_by_the_model = outcome.timed_out or outcome.out_of_memory or outcome.unreadable
    if outcome.sandbox_lost or not (outcome.finished or done_by_the_model):
        raise RuntimeError(
            f"the evaluator did not finish: exit {outcome.exit_code}, {outcome.output[-2000:]}"
        )
    return model_evidence(outcome, set(exported))


def _default_threads(pool: SandboxPool | None) -> int:
    return max(1, (os.cpu_count() or 1) // (pool.size if pool else 1))


def _message(result: Interpretation, checks: tuple[CheckResult, ...]) -> str:
    """A limit's message tells where it stopped the notebook; the score says what was kept before it."""
    if result.status in (Status.TIMEOUT, Status.MEMORY_EXCEEDED):
        return f"{result.message} {_score_line(checks)}"
    if result.message:
        return result.message
    return "All tests passed! Well done." if all(check.passed for check in checks) else _score_line(checks)


def _score_line(checks: tuple[CheckResult, ...]) -> str:
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
