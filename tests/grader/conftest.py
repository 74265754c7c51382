from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

from grader import Assignment, Catalog, GradeReport, SandboxPool, grade_notebook
from grader.assignment import load_assignment

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
PROBE = HERE / "assignments" / "probe"


@pytest.fixture(scope="session")
def probe() -> Assignment:
    return load_assignment(PROBE)


@pytest.fixture(scope="session")
def probe_pool() -> Iterator[SandboxPool]:
    """Two warm sandboxes: one grades while the next imports TensorFlow."""
    pool = SandboxPool(Catalog(PROBE.parent), size=2)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def grade_fixture(probe: Assignment, probe_pool: SandboxPool) -> Callable[[str], GradeReport]:
    @cache
    def grade(name: str) -> GradeReport:
        return grade_notebook((FIXTURES / f"{name}.ipynb").read_bytes(), probe, pool=probe_pool)

    return grade
