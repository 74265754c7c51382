"""What each sandboxed process receives: the student's job, and the clean evaluator's job."""

import ast
import inspect
import textwrap
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from grader.assemble import Program, ProgramCell
from grader.assignment import Assignment
from grader.evidence import ExportedModel
from grader.sandbox.arrays import archive
from grader.sandbox.process import Job, JobKind

EVALUATOR_WALL_SECONDS = 60.0


def student_job(
    assignment: Assignment, program: Program, fresh_inputs: dict[str, np.ndarray], threads: int
) -> Job:
    registry = assignment.registry
    return _job(
        assignment,
        threads,
        kind="student",
        content={
            "cells": [_cell(cell) for cell in program.cells],
            "observations": [_source(o.function, o.name, o.exercise) for o in registry.observations],
            "exports": [_source(e.function, e.name, e.exercise) for e in registry.exports],
            "skipped_exercises": sorted(program.problems),
        },
        blobs={"inputs": archive(fresh_inputs)},
    )


def evaluator_job(
    assignment: Assignment, models: dict[str, ExportedModel], probes: bytes, threads: int
) -> Job:
    """`probes` is the archive of `probe_archive(assignment)`."""
    wanted = {export.name: export.probes for export in assignment.registry.exports}
    return _job(
        assignment,
        threads,
        kind="evaluate",
        content={
            "models": [
                {"name": name, "exported": model.description, "probes": list(wanted[name])}
                for name, model in models.items()
            ]
        },
        blobs={
            "probes": probes,
            **{f"weights:{name}": model.weights for name, model in models.items()},
        },
        wall_seconds=EVALUATOR_WALL_SECONDS,
    )


@lru_cache(maxsize=32)
def probe_archive(assignment: Assignment) -> bytes:
    """The assignment's probe inputs as the evaluator reads them, built once: they do not change."""
    make_probes = assignment.registry.probe_inputs
    return archive(make_probes(assignment.directory) if make_probes else {})


def _job(
    assignment: Assignment,
    threads: int,
    *,
    kind: JobKind,
    content: dict[str, Any],
    blobs: dict[str, bytes],
    wall_seconds: float | None = None,
) -> Job:
    limits = assignment.limits
    return Job(
        kind=kind,
        content=content,
        blobs=blobs,
        slug=assignment.slug,
        wall_seconds=wall_seconds or limits.wall_seconds,
        cpu_seconds=limits.cpu_seconds,
        memory_bytes=limits.memory_mb * 1024**2,
        max_processes=limits.processes,
        file_size_bytes=limits.file_size_mb * 1024**2,
        threads=threads,
    )


def _cell(cell: ProgramCell) -> dict[str, Any]:
    """A cell with the facts the sandbox's rule of blame needs, computed here, from the program."""
    return {
        "source": cell.source,
        "exercise": cell.exercise,
        "is_exercise_cell": cell.is_exercise_cell,
        "label": cell.label,
        "binds": sorted(cell.names.binds),
        "provides": sorted(cell.provides),
    }


def _source(function: Callable[..., Any], name: str, exercise: str) -> dict[str, str]:
    """Only the function's own source enters the sandbox, never the module with the checks around it."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    definition = tree.body[0]
    assert isinstance(definition, ast.FunctionDef)
    definition.decorator_list = []
    return {"name": name, "exercise": exercise, "source": ast.unparse(definition)}
