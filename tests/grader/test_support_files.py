"""An assignment's support/ files sit in the notebook's working directory, importable and readable by their
bare names as in the course, and no submission can change them, with or without bubblewrap."""

import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import points_by_check
from roomy_probe import explained
from support_assignment import (
    FULL_MARKS,
    SLUG,
    SUPPORT_FILES,
    course_style_catalog,
    support_snapshot,
    with_vector_code,
)

from grader import Assignment, Catalog, GradeReport, SandboxPool, Status, grade_notebook
from grader.sandbox.host import detect_host

VECTOR_CHECK = "the vector holds 1, 2, 3"
COURSE_VERDICTS = ("All tests passed!", "Failed test case:")

# Tries every way to change a support file or folder, then reads them all back. The vector comes out
# right only if every attempt failed and everything still reads as shipped (the course's test cell and
# the grader's observation both call this: a change made by the first call shows in the second).
TAMPERS_WITH_THE_SUPPORT_FILES = f"""
import os, shutil
succeeded = []
def attempt(what, action):
    try:
        action()
        succeeded.append(what)
    except OSError:
        pass
def replace_with_own(name):
    with open("own-" + name, "w") as own:
        own.write("PLANTED = True\\n")
    os.replace("own-" + name, name)
attempt("append to unittests.py", lambda: open("unittests.py", "a").close())
attempt("overwrite numbers.txt", lambda: open("numbers.txt", "w").close())
attempt("truncate numbers.txt", lambda: os.truncate("numbers.txt", 0))
attempt("chmod numbers.txt", lambda: os.chmod("numbers.txt", 0o666))
attempt("delete numbers.txt", lambda: os.remove("numbers.txt"))
attempt("rename numbers.txt", lambda: os.rename("numbers.txt", "renamed.txt"))
attempt("replace unittests.py", lambda: replace_with_own("unittests.py"))
attempt("overwrite extras/notes.txt", lambda: open("extras/notes.txt", "w").close())
attempt("delete extras/notes.txt", lambda: os.remove("extras/notes.txt"))
attempt("add to extras", lambda: open("extras/planted.txt", "w").close())
attempt("rename extras", lambda: os.rename("extras", "moved-extras"))
attempt("delete extras", lambda: shutil.rmtree("extras"))
shipped = {SUPPORT_FILES!r}
unchanged = all(open(name).read() == text for name, text in shipped.items())
unchanged = unchanged and os.listdir("extras") == ["notes.txt"]
print("SUCCEEDED", succeeded, "UNCHANGED", unchanged)
vector = np.array([1.0, 2.0, 3.0] if unchanged and not succeeded else [0.0, 0.0, 0.0])
"""

# A test module of the same name first on sys.path, in a folder the submission can write: the notebook's
# own name `unittests` then means the submission's module, whose verdict is always a pass.
SHADOWS_THE_COURSE_TESTS = """
import importlib, os, sys
os.makedirs("/tmp/shadow", exist_ok=True)
with open("/tmp/shadow/unittests.py", "w") as shadow:
    shadow.write("def test_make_vector(target):\\n    print('All tests passed!')\\n")
sys.path.insert(0, "/tmp/shadow")
sys.modules.pop("unittests", None)
globals()["unittests"] = importlib.import_module("unittests")
print("SHADOWED BY", os.path.relpath(unittests.__file__, "/tmp"))
unittests.test_make_vector(None)
vector = np.array([0.0, 0.0, 0.0])
"""

# Without bubblewrap, nothing hides the support files' permissions from a privileged process: what it
# changes must be its own copy.
OVERWRITES_ITS_COPIES = """
import os
for name in ("unittests.py", "numbers.txt", "extras/notes.txt"):
    try:
        os.chmod(name, 0o644)
        with open(name, "w") as copy:
            copy.write("overwritten")
    except OSError as error:
        print("REFUSED", name, error)
vector = np.array([1.0, 2.0, 3.0])
"""


@pytest.fixture(scope="module")
def catalog() -> Iterator[Path]:
    with course_style_catalog() as root:
        yield root


@pytest.fixture(scope="module")
def course_style(catalog: Path) -> Assignment:
    return Catalog(catalog).get(SLUG)


@pytest.fixture(scope="module")
def one_slot(catalog: Path) -> Iterator[SandboxPool]:
    with SandboxPool(Catalog(catalog), size=1) as pool:
        yield pool


def course_verdicts(report: GradeReport) -> list[str]:
    """The lines the course's own test module printed, in order."""
    output = str(report.metadata.get("output", ""))
    return [line for line in output.splitlines() if line.startswith(COURSE_VERDICTS)]


def test_the_notebook_imports_the_course_tests_and_reads_a_file_by_their_bare_names(
    catalog: Path, course_style: Assignment, one_slot: SandboxPool
) -> None:
    right = grade_notebook((catalog / SLUG / "solution.ipynb").read_bytes(), course_style, pool=one_slot)
    wrong = grade_notebook(
        with_vector_code(catalog, "vector = np.array([0.0, 0.0, 0.0])"), course_style, pool=one_slot
    )
    assert [right.status, points_by_check(right), course_verdicts(right)] == [
        Status.GRADED,
        FULL_MARKS,
        ["All tests passed!"],
    ], explained(right)
    assert [wrong.status, points_by_check(wrong), course_verdicts(wrong)] == [
        Status.GRADED,
        {**FULL_MARKS, VECTOR_CHECK: 0.0},
        ["Failed test case: make_vector() returned [0.0, 0.0, 0.0], expected [1.0, 2.0, 3.0]."],
    ], explained(wrong)


def test_a_submission_can_neither_change_nor_replace_nor_delete_a_support_file(
    catalog: Path, course_style: Assignment, one_slot: SandboxPool
) -> None:
    tamperer = grade_notebook(
        with_vector_code(catalog, TAMPERS_WITH_THE_SUPPORT_FILES), course_style, pool=one_slot
    )
    next_one = grade_notebook((catalog / SLUG / "solution.ipynb").read_bytes(), course_style, pool=one_slot)
    assert "SUCCEEDED [] UNCHANGED True" in explained(tamperer), explained(tamperer)
    assert points_by_check(tamperer) == FULL_MARKS, explained(tamperer)
    assert points_by_check(next_one) == FULL_MARKS, explained(next_one)
    assert support_snapshot(catalog) == SUPPORT_FILES


def test_a_test_module_of_the_same_name_ahead_on_sys_path_fools_only_the_notebook(
    catalog: Path, course_style: Assignment, one_slot: SandboxPool
) -> None:
    shadowing = grade_notebook(
        with_vector_code(catalog, SHADOWS_THE_COURSE_TESTS), course_style, pool=one_slot
    )
    assert "SHADOWED BY shadow/unittests.py" in explained(shadowing), explained(shadowing)
    assert points_by_check(shadowing) == {**FULL_MARKS, VECTOR_CHECK: 0.0}, explained(shadowing)


def test_without_bubblewrap_the_notebook_gets_copies_of_the_support_files(
    catalog: Path, course_style: Assignment
) -> None:
    without_bubblewrap = dataclasses.replace(detect_host(), bwrap=None)
    with SandboxPool(Catalog(catalog), size=1, host=without_bubblewrap) as pool:
        right = grade_notebook((catalog / SLUG / "solution.ipynb").read_bytes(), course_style, pool=pool)
        overwriter = grade_notebook(with_vector_code(catalog, OVERWRITES_ITS_COPIES), course_style, pool=pool)
    assert right.metadata["protections"]["private_filesystem"] is False
    assert [right.status, points_by_check(right), course_verdicts(right)] == [
        Status.GRADED,
        FULL_MARKS,
        ["All tests passed!"],
    ], explained(right)
    assert overwriter.status is Status.GRADED, explained(overwriter)
    assert support_snapshot(catalog) == SUPPORT_FILES
    left_behind = sorted(Path(tempfile.gettempdir()).glob("tfgrade-*/work/numbers.txt"))
    assert left_behind == []
