"""A course-style copy of the probe assignment: its notebook imports the course's own test module and reads
a file, both shipped in `support/` beside it, by their bare names.

The copy lives under /tmp (readable by the sandbox user, who binds its support folder), not in the repository.
"""

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from probe_notebooks import PROBE_DIR, SOLUTION_LINE

SLUG = "course-style"
# The course's test module, as courses ship it: it calls the student's function and prints its verdict.
UNITTESTS = '''"""The course's own tests for this notebook."""

EXPECTED_VECTOR = [1.0, 2.0, 3.0]


def test_make_vector(target):
    result = [float(value) for value in target()]
    if result != EXPECTED_VECTOR:
        print(f"Failed test case: make_vector() returned {result}, expected {EXPECTED_VECTOR}.")
        return
    print("All tests passed!")
'''
SUPPORT_FILES = {
    "unittests.py": UNITTESTS,
    "numbers.txt": "1 2 3\n",
    "extras/notes.txt": "notes in a support folder\n",
}
READS_THE_NUMBERS = (
    'with open("numbers.txt") as numbers_file:\n'
    "    NUMBERS = [float(word) for word in numbers_file.read().split()]"
)
RUNS_THE_COURSE_TESTS = "unittests.test_make_vector(make_vector)"
VECTOR_FROM_THE_FILE = "vector = np.array(NUMBERS)"
FULL_MARKS = {
    "the vector holds 1, 2, 3": 1.0,
    "one Dense layer": 1.0,
    "three units": 1.0,
    "classifies the probe points": 2.0,
}


@contextmanager
def course_style_catalog() -> Iterator[Path]:
    """A catalog folder holding one assignment, SLUG, whose support folder holds SUPPORT_FILES."""
    with tempfile.TemporaryDirectory(prefix="tfgrade-support-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        copy = root / SLUG
        shutil.copytree(PROBE_DIR, copy)
        settings = (copy / "assignment.toml").read_text().replace('slug = "probe"', f'slug = "{SLUG}"')
        (copy / "assignment.toml").write_text(settings)
        for name in ("template.ipynb", "solution.ipynb"):
            (copy / name).write_text(json.dumps(_course_style(json.loads((copy / name).read_text()))))
        for relative, text in SUPPORT_FILES.items():
            path = copy / "support" / relative
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            path.write_text(text)
        yield root


def support_snapshot(catalog: Path) -> dict[str, str]:
    """Every file under the assignment's support folder, by its path there, with its text."""
    support = catalog / SLUG / "support"
    return {
        path.relative_to(support).as_posix(): path.read_text()
        for path in sorted(support.rglob("*"))
        if path.is_file()
    }


def with_vector_code(catalog: Path, code: str) -> bytes:
    """The assignment's solution with `code` as the vector exercise's answer."""
    notebook = json.loads((catalog / SLUG / "solution.ipynb").read_text())
    indented = "\n".join(f"    {line}" for line in code.strip().splitlines())
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]).replace(f"    {VECTOR_FROM_THE_FILE}", indented)
    return json.dumps(notebook).encode()


def _course_style(notebook: dict) -> dict:
    """Imports the course's tests with the libraries, reads the numbers next, and runs the course's test
    of the vector right after its graded cell; the solution's vector is the file's numbers."""
    cells = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if source.startswith("import numpy"):
            cell["source"] = source + "\nimport unittests"
            cells += [cell, _code_cell("reads-numbers", READS_THE_NUMBERS)]
        elif source.startswith("# GRADED FUNCTION: make_vector"):
            cell["source"] = source.replace(SOLUTION_LINE, VECTOR_FROM_THE_FILE)
            cells += [cell, _code_cell("course-tests", RUNS_THE_COURSE_TESTS)]
        else:
            cells.append(cell)
    return {**notebook, "cells": cells}


def _code_cell(cell_id: str, source: str) -> dict:
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": source,
    }
