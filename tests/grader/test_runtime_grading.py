"""An assignment written for the course's environment is graded in it: its zygote, its student job and its
evaluator run the runtime's own interpreter and libraries (TensorFlow 2.16.1, Keras 3.3.3), and the same
notebook meets the default runtime's newer Keras elsewhere.

These tests need the runtime built: `scripts/setup.sh --tests` builds it (scripts/test.sh runs that)."""

import importlib.metadata
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from course_week2 import DATA_CELLS, FULL_MARKS, SOLUTION_LAYERS, notebook, write_assignment
from helpers import points_by_check

from grader import Catalog, GradeReport, SandboxPool, Status, grade_notebook
from grader.runtimes import find_runtime
from grader.sandbox.host import detect_host, runtime_host

RUNTIME = "course-c1"
IN_RUNTIME = "course-week2"  # the course's data cell, graded in course-c1
ON_DEFAULT = "course-week2-default"  # the same assignment without `runtime =`
READS_WITH_NUMPY = "course-week2-numpy"  # reads the tiny file itself, graded in course-c1
FROZEN_CELL_FAILED = (
    "The grader failed while preparing the assignment's own code; this is not your fault. Please tell your "
    "instructors. (line 8: {})"
)
PRINTS_VERSIONS = 'print("versions", tf.__version__, tf.keras.__version__, np.__version__)'
# The course's other libraries, which the default runtime's sandbox does not offer.
PRINTS_LIBRARIES = 'import matplotlib, pandas; print("libraries", matplotlib.__version__, pandas.__version__)'


@pytest.fixture(scope="module")
def catalog() -> Iterator[Path]:
    problem = find_runtime(RUNTIME).problem()
    if problem is not None:
        pytest.fail(f"{problem}; `scripts/setup.sh --tests` builds the runtimes these tests grade in")
    with tempfile.TemporaryDirectory(prefix="tfgrade-runtime-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        write_assignment(root, IN_RUNTIME, DATA_CELLS["course"], RUNTIME)
        write_assignment(root, ON_DEFAULT, DATA_CELLS["course"], None)
        write_assignment(root, READS_WITH_NUMPY, DATA_CELLS["numpy"], RUNTIME)
        yield root


@pytest.fixture(scope="module")
def pool(catalog: Path) -> Iterator[SandboxPool]:
    with SandboxPool(Catalog(catalog), size=1) as pool:
        yield pool


def grade(catalog: Path, pool: SandboxPool, slug: str, document: bytes | None = None) -> GradeReport:
    assignment = Catalog(catalog).get(slug)
    return grade_notebook(document or assignment.solution_path.read_bytes(), assignment, pool=pool)


def test_the_pool_keeps_a_warm_zygote_of_each_runtime_in_the_catalog(pool: SandboxPool) -> None:
    assert pool.warm_runtimes() == [None, RUNTIME]


def test_a_course_week2_assignment_is_graded_in_its_runtime_with_exact_results(
    catalog: Path, pool: SandboxPool
) -> None:
    solution = grade(catalog, pool, READS_WITH_NUMPY)
    template = grade(
        catalog, pool, READS_WITH_NUMPY, (catalog / READS_WITH_NUMPY / "template.ipynb").read_bytes()
    )
    assert solution.status is Status.GRADED, solution.message
    assert points_by_check(solution) == FULL_MARKS
    assert template.status is Status.GRADED, template.message
    assert points_by_check(template) == dict.fromkeys(FULL_MARKS, 0.0)


def test_tensorflow_in_the_sandbox_is_the_runtimes_own(catalog: Path, pool: SandboxPool) -> None:
    code = f"{PRINTS_VERSIONS}; {PRINTS_LIBRARIES}"
    prints = json.dumps(notebook(DATA_CELLS["numpy"], SOLUTION_LAYERS, code)).encode()
    in_runtime = grade(catalog, pool, READS_WITH_NUMPY, prints)
    assert in_runtime.metadata["output"] == "versions 2.16.1 3.3.3 1.26.4\nlibraries 3.8.3 2.1.1\n"
    assert points_by_check(in_runtime) == FULL_MARKS
    default = [importlib.metadata.version(name) for name in ("tensorflow-cpu", "keras", "numpy")]
    prints_on_default = json.dumps(notebook(DATA_CELLS["course"], SOLUTION_LAYERS, PRINTS_VERSIONS)).encode()
    on_default = grade(catalog, pool, ON_DEFAULT, prints_on_default)
    assert f"versions {' '.join(default)}" in on_default.metadata["output"]


def test_the_course_data_cell_passes_keras_3_3_3_its_path_and_the_default_keras_refuses_it(
    catalog: Path, pool: SandboxPool
) -> None:
    in_runtime = grade(catalog, pool, IN_RUNTIME)
    on_default = grade(catalog, pool, ON_DEFAULT)
    # Keras 3.3.3 took the path, found the file, compared it with the full MNIST file's sha256, tried to
    # download that file and then to delete the shipped one, which the sandbox binds read-only.
    assert in_runtime.metadata["output"] == (
        "A local file was found, but it seems to be incomplete or outdated because the auto file hash does not "
        "match the original value of 731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1 so we "
        "will re-download the data.\n"
        "Downloading data from https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz\n"
    )
    assert in_runtime.message == FROZEN_CELL_FAILED.format(
        "OSError: [Errno 30] Read-only file system: 'data/mnist.npz'"
    )
    assert on_default.message == FROZEN_CELL_FAILED.format(
        "ValueError: Paths are no longer accepted as the `fname` argument. To specify the file's parent "
        "directory, use the `cache_dir` argument. Received: fname=data/mnist.npz"
    )
    for report in (in_runtime, on_default):
        assert report.status is Status.ERROR  # a frozen cell that fails is the assignment's fault
        assert points_by_check(report) == dict.fromkeys(FULL_MARKS, 0.0)


def test_the_runtimes_sandbox_binds_its_whole_site_packages_and_nothing_of_the_project_venv(
    catalog: Path,
) -> None:
    host = runtime_host(detect_host(), RUNTIME)
    prefix = find_runtime(RUNTIME).prefix
    mounts = host.sandbox_python().mounts
    site = str(prefix / "lib" / "python3.11" / "site-packages")
    assert host.python == str(prefix / "bin" / "python")
    assert [mounts[at + 1 : at + 3] for at, kind in enumerate(mounts) if kind == "--ro-bind"][-2:] == [
        (str(prefix / "pyvenv.cfg"), "/sandbox/venv/pyvenv.cfg"),
        (site, "/sandbox/venv/lib/python3.11/site-packages"),
    ]
    assert [path for path in mounts if path.startswith(sys.prefix)] == []
