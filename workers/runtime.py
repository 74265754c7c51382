from dataclasses import dataclass

from grader import Assignment, Catalog, GradeReport, SandboxPool, grade_notebook
from workers.canary import Canaries
from workers.settings import Settings


@dataclass(frozen=True)
class WorkerRuntime:
    """What a worker process owns for its lifetime and lends to the tasks it runs."""

    settings: Settings
    hostname: str
    catalog: Catalog
    pool: SandboxPool | None
    canaries: Canaries | None

    def grade(self, notebook: bytes, assignment: Assignment) -> GradeReport:
        """This worker's one grading call, for submissions and canaries alike."""
        return grade_notebook(notebook, assignment, pool=self.pool)


_installed: list[WorkerRuntime] = []


def install_runtime(runtime: WorkerRuntime) -> None:
    _installed[:] = [runtime]


def current_runtime() -> WorkerRuntime:
    if not _installed:
        raise RuntimeError("tasks run inside `tfgrade worker`, which installs the worker runtime")
    return _installed[0]
