from collections.abc import Iterator

import pytest
from course_grading import Grade

from grader import Catalog, SandboxPool, grade_notebook


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog()


@pytest.fixture(scope="session")
def pool(catalog: Catalog) -> Iterator[SandboxPool]:
    """Two warm sandboxes: one grades while the next imports TensorFlow."""
    sandboxes = SandboxPool(catalog, size=2)
    yield sandboxes
    sandboxes.close()


@pytest.fixture(scope="session")
def grade(catalog: Catalog, pool: SandboxPool) -> Grade:
    return lambda slug, notebook: grade_notebook(notebook.read_bytes(), catalog.get(slug), pool=pool)
