from dataclasses import dataclass

from grader import Catalog, SandboxPool
from workers.settings import Settings


@dataclass(frozen=True)
class WorkerRuntime:
    """What a worker process owns for its lifetime and lends to the tasks it runs."""

    settings: Settings
    hostname: str
    catalog: Catalog
    pool: SandboxPool | None


_installed: list[WorkerRuntime] = []


def install_runtime(runtime: WorkerRuntime) -> None:
    _installed[:] = [runtime]


def current_runtime() -> WorkerRuntime:
    if not _installed:
        raise RuntimeError("tasks run inside `tfgrade worker`, which installs the worker runtime")
    return _installed[0]
