from collections.abc import Iterator

import pytest
from course_grading import Grade

from grader import Catalog, SandboxPool, grade_notebook


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog()


@pytest.fixture(scope="session")
def grade(catalog: Catalog) -> Iterator[Grade]:
    """Grades through two warm sandboxes: one grades while the next imports TensorFlow."""
    pool = SandboxPool(catalog, size=2)
    yield lambda slug, notebook: grade_notebook(notebook.read_bytes(), catalog.get(slug), pool=pool)
    pool.close()
