"""Jobs forked from one warm zygote: each starts clean, sees nothing of the others, and survives its death."""

import os
import signal
import threading

from helpers import named_descendants, points_by_check, wait_until
from probe_notebooks import PROBE_DIR, VECTOR_CHECK, with_vector_code

from grader import Catalog, GradeReport, SandboxPool, Status, grade_notebook

LEAVES_TRACES = """
import subprocess
open("/tmp/left-behind", "w").write("secret answer")
open("/dev/shm/left-behind", "w").write("secret answer")
subprocess.Popen(["sleep", "600"], start_new_session=True)
vector = np.array([1.0, 2.0, 3.0])
"""

# The vector comes out right only if this job finds no trace of any other process or job, and cannot
# raise its CPU priority above the niceness that keeps the service's own processes ahead of it.
LOOKS_FOR_TRACES = """
import os
names = []
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            names.append(open(f"/proc/{entry}/comm").read().strip())
        except OSError:
            pass
with open("/proc/self/status") as status:
    capabilities = [line.split()[1] for line in status if line.startswith("CapEff")]
try:
    os.nice(-1)
    jumped_the_queue = True
except PermissionError:
    jumped_the_queue = False
clean = (
    not os.path.exists("/tmp/left-behind")
    and not os.path.exists("/dev/shm/left-behind")
    and "sleep" not in names
    and "tfgrade-zygote" not in names
    and len(names) <= 3
    and capabilities == ["0000000000000000"]
    and os.getpriority(os.PRIO_PROCESS, 0) == 10
    and not jumped_the_queue
)
vector = np.array([1.0, 2.0, 3.0] if clean else [0.0, 0.0, 0.0])
"""

SLEEPS = """
import time
time.sleep(8)
vector = np.array([1.0, 2.0, 3.0])
"""


def zygote_pids() -> list[int]:
    """The zygotes under this test process (other suites on the machine may run their own)."""
    return named_descendants(os.getpid(), "tfgrade-zygote")


def test_a_job_finds_nothing_of_its_zygote_or_the_job_before_and_cannot_raise_its_priority(probe) -> None:
    with SandboxPool(Catalog(PROBE_DIR.parent), size=1) as pool:
        first = grade_notebook(with_vector_code(LEAVES_TRACES), probe, pool=pool)
        second = grade_notebook(with_vector_code(LOOKS_FOR_TRACES), probe, pool=pool)
    assert points_by_check(first)[VECTOR_CHECK] == 1.0, first.message
    assert points_by_check(second)[VECTOR_CHECK] == 1.0, second.metadata.get("output")


def test_a_zygote_killed_mid_job_is_an_error_to_retry_and_is_replaced(probe) -> None:
    others = set(zygote_pids())
    with SandboxPool(Catalog(PROBE_DIR.parent), size=1) as pool:
        assert pool.wait_warm(120)
        before = set(zygote_pids()) - others
        assert len(before) == 1
        reports: list[GradeReport] = []
        grading = threading.Thread(
            target=lambda: reports.append(grade_notebook(with_vector_code(SLEEPS), probe, pool=pool))
        )
        grading.start()
        [zygote] = before
        wait_until(lambda: bool(named_descendants(zygote, "tfgrade-job")), 60, "the job under way")
        os.kill(zygote, signal.SIGKILL)
        grading.join(60)
        assert [report.status for report in reports] == [Status.ERROR]
        assert "graded again" in reports[0].message
        after = grade_notebook((PROBE_DIR / "solution.ipynb").read_bytes(), probe, pool=pool)
        assert after.score == after.max_score
        assert not before & set(zygote_pids())


def test_a_job_that_ends_itself_leaves_the_same_zygote_ready_for_the_next(probe) -> None:
    others = set(zygote_pids())
    with SandboxPool(Catalog(PROBE_DIR.parent), size=1) as pool:
        assert pool.wait_warm(120)
        zygote = set(zygote_pids()) - others
        ended = grade_notebook(with_vector_code("import os\nos._exit(0)"), probe, pool=pool)
        after = grade_notebook((PROBE_DIR / "solution.ipynb").read_bytes(), probe, pool=pool)
        assert set(zygote_pids()) - others == zygote
    assert ended.status is Status.GRADED
    assert "ended the grading process early" in ended.message
    assert ended.timings["run"] < probe.limits.wall_seconds  # not left to run into the wall limit
    assert after.score == after.max_score
