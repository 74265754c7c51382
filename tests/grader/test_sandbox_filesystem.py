"""A submission writes only to its own /tmp and /dev/shm: nothing it tries reaches the next submission or
pins the host's memory after it ends. Each job runs on the same zygote (a pool of one)."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from probe_notebooks import with_vector_code
from roomy_probe import DATA_FILE, DATA_TEXT, explained, roomy_probe_catalog, vector_right

from grader import Assignment, Catalog, GradeReport, SandboxPool, grade_notebook

MEBIBYTE = 1024**2
SHMEM_SLACK_BYTES = 64 * MEBIBYTE
PLANTS = (
    "/sandbox/planted.txt",
    "/planted.txt",
    "/dev/planted.txt",
    f"/sandbox/data/probe/{DATA_FILE}.planted",
)

# Walks everything it can see (but /proc, /sys and its own scratch), tries to create a file in every folder
# and to open every regular file for appending, and plants what it can where the next job would look.
# The vector comes out right only if nothing outside its own scratch was writable.
WALKS_AND_PLANTS = f"""
import os
skipped = {{"/proc", "/sys", "/tmp", "/dev/shm"}}
writable = []
walked = set()
for folder, subfolders, files in os.walk("/"):
    subfolders[:] = [name for name in subfolders if os.path.join(folder, name) not in skipped]
    walked.add(folder)
    if os.access(folder, os.W_OK):
        writable.append(folder)
    try:
        os.close(os.open(os.path.join(folder, ".planted"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        writable.append(os.path.join(folder, ".planted"))
    except OSError:
        pass
    for name in files:
        path = os.path.join(folder, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        if os.access(path, os.W_OK):
            writable.append(path)
        try:
            with open(path, "ab"):
                writable.append(path)
        except OSError:
            pass
for path in {PLANTS!r}:
    try:
        with open(path, "w") as planted:
            planted.write("planted")
    except OSError:
        pass
try:
    os.rename("/sandbox/data", "/sandbox/moved")
    os.makedirs("/sandbox/data/probe")
    with open("/sandbox/data/probe/{DATA_FILE}", "w") as altered:
        altered.write("altered data")
except OSError:
    pass
print("WALKED", len(walked), "WRITABLE", len(writable), sorted(set(writable))[:40])
walked_all = len(walked) > 1000 and "/sandbox/data/probe" in walked
vector = np.array([1.0, 2.0, 3.0] if walked_all and not writable else [0.0, 0.0, 0.0])
"""

LOOKS_FOR_PLANTS = f"""
import os
traces = [path for path in {PLANTS!r} + ("/sandbox/moved",) if os.path.lexists(path)]
for folder, subfolders, files in os.walk("/"):
    subfolders[:] = [name for name in subfolders if os.path.join(folder, name) not in ("/proc", "/sys")]
    traces += [os.path.join(folder, name) for name in files if name == ".planted"]
try:
    with open("/sandbox/data/probe/{DATA_FILE}") as data:
        if data.read() != {DATA_TEXT!r}:
            traces.append("altered data")
except OSError as error:
    traces.append(repr(error))
print("TRACES", traces[:40])
vector = np.array([1.0, 2.0, 3.0] if not traces else [0.0, 0.0, 0.0])
"""

PLANTS_A_MODULE = """
import os, sys
planted = []
for folder in ["/sandbox", *sys.path]:
    try:
        with open(os.path.join(folder, "numpy_helpers.py"), "w") as module:
            module.write("PLANTED = True\\n")
        planted.append(folder)
    except OSError:
        pass
print("PLANTED IN", planted)
vector = np.array([1.0, 2.0, 3.0])
"""

IMPORTS_THE_PLANTED_MODULE = """
try:
    import numpy_helpers
    imported = numpy_helpers.__file__
except ModuleNotFoundError:
    imported = None
print("IMPORTED", imported)
vector = np.array([1.0, 2.0, 3.0] if imported is None else [0.0, 0.0, 0.0])
"""

# 100 MB into its own /tmp, which must work, and as much wherever else it can.
FILLS_MEMORY = """
import os
chunk = b"x" * (1024 * 1024)
filled = {}
for path in ("/tmp/ballast", "/sandbox/ballast", "/ballast", "/dev/ballast", "/sandbox/data/ballast"):
    try:
        with open(path, "wb") as ballast:
            for _ in range(100):
                ballast.write(chunk)
        filled[path] = True
    except OSError:
        filled[path] = False
print("FILLED", filled)
vector = np.array([1.0, 2.0, 3.0] if filled["/tmp/ballast"] else [0.0, 0.0, 0.0])
"""


@pytest.fixture(scope="module")
def roomy_catalog() -> Iterator[Path]:
    with roomy_probe_catalog() as root:
        yield root


@pytest.fixture(scope="module")
def roomy_probe(roomy_catalog: Path) -> Assignment:
    return Catalog(roomy_catalog).get("probe")


@pytest.fixture(scope="module")
def one_slot(roomy_catalog: Path) -> Iterator[SandboxPool]:
    with SandboxPool(Catalog(roomy_catalog), size=1) as pool:
        yield pool


def grade(code: str, assignment: Assignment, pool: SandboxPool) -> GradeReport:
    return grade_notebook(with_vector_code(code), assignment, pool=pool)


def shmem_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no Shmem line in /proc/meminfo")


def settled_shmem_bytes(ceiling: int, seconds: float = 10.0) -> int:
    """A job's own tmpfs goes when its last process does, a moment after the grader has its report."""
    deadline = time.monotonic() + seconds
    while (used := shmem_bytes()) >= ceiling and time.monotonic() < deadline:
        time.sleep(0.2)
    return used


def test_a_submission_can_write_nowhere_but_its_scratch_and_leaves_nothing_for_the_next(
    roomy_probe: Assignment, one_slot: SandboxPool
) -> None:
    walker = grade(WALKS_AND_PLANTS, roomy_probe, one_slot)
    looker = grade(LOOKS_FOR_PLANTS, roomy_probe, one_slot)
    assert [vector_right(walker), vector_right(looker)] == [True, True], explained(walker) + explained(looker)


def test_a_module_planted_by_one_submission_is_not_imported_by_the_next(
    roomy_probe: Assignment, one_slot: SandboxPool
) -> None:
    planter = grade(PLANTS_A_MODULE, roomy_probe, one_slot)
    importer = grade(IMPORTS_THE_PLANTED_MODULE, roomy_probe, one_slot)
    # Only the notebook's own working folder ('' on sys.path, as in Jupyter) takes it: the job's private /tmp.
    assert ["PLANTED IN ['']" in explained(planter), vector_right(importer)] == [True, True], explained(
        planter
    ) + explained(importer)


def test_what_a_submission_writes_leaves_the_hosts_memory_when_it_ends(
    roomy_probe: Assignment, one_slot: SandboxPool
) -> None:
    assert one_slot.wait_warm(120)
    before = shmem_bytes()
    filler = grade(FILLS_MEMORY, roomy_probe, one_slot)
    assert vector_right(filler), explained(filler)
    after = settled_shmem_bytes(before + SHMEM_SLACK_BYTES)
    assert after - before < SHMEM_SLACK_BYTES, (
        f"{(after - before) / MEBIBYTE:.0f} MiB still held\n" + explained(filler)
    )
