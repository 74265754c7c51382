"""The sandbox's cgroups on this host's real kernel: cgroup v1 here (memory and pids are bound to v1 on
these machines), cgroup v2 on a host that delegates a v2 subtree to the worker. The v2 code on a kernel
file protocol played by a fake is in test_cgroups_v2.py."""

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.sandbox.cgroup_setup import read_mounts
from grader.sandbox.cgroups import CgroupTree, SandboxCgroup
from grader.sandbox.cgroups_v1 import CgroupV1Tree
from grader.sandbox.cgroups_v2 import CgroupV2
from grader.sandbox.host import detect_host

PROJECT = Path(__file__).resolve().parents[2]
MOUNTS = read_mounts(Path("/proc/self/mountinfo"))
V1_CONTROLLERS = {
    controller: next((m.point for m in MOUNTS if m.kind == "cgroup" and controller in m.options), None)
    for controller in ("memory", "pids")
}
# A grading process that dies without cleaning up: its cgroup, and a process inside, stay behind.
LEAVES_A_CGROUP_BEHIND = """
import subprocess
from grader.sandbox.host import detect_host
cgroup = detect_host().cgroups.create(2**30, 10)
sleeper = subprocess.Popen(["sleep", "600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
cgroup.add(sleeper.pid)
print(sleeper.pid, *cgroup.join_files)
"""
UNIFIED = next((m.point for m in MOUNTS if m.kind == "cgroup2"), None)


def needs_root() -> None:
    if os.getuid() != 0:
        pytest.skip("not root: only root creates the sandbox's cgroups, so detection offers none")
    if os.environ.get("TFGRADE_SANDBOX_NO_CGROUP"):
        pytest.skip("TFGRADE_SANDBOX_NO_CGROUP is set: cgroups are turned off for this run")


@pytest.fixture
def cgroups() -> CgroupTree:
    needs_root()
    tree = detect_host().cgroups
    if tree is None:
        pytest.skip(
            "this host offers neither cgroup v1 memory and pids hierarchies nor a delegated cgroup v2 subtree "
            "with memory and pids (see /proc/self/mountinfo, /proc/self/cgroup and that cgroup's "
            "cgroup.controllers)"
        )
    return tree


@pytest.fixture
def made() -> Iterator[list[SandboxCgroup]]:
    """Every cgroup a test creates, destroyed after it whatever happened."""
    cgroups: list[SandboxCgroup] = []
    yield cgroups
    for cgroup in cgroups:
        cgroup.destroy()


def waiting(payload: str) -> subprocess.Popen[str]:
    """A Python process that runs `payload` only once told to (after it joined a cgroup)."""
    code = "import sys\nsys.stdin.readline()\n" + textwrap.dedent(payload)
    return subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_with_v1_memory_and_pids_mounted_root_uses_them() -> None:
    needs_root()
    if None in V1_CONTROLLERS.values():
        pytest.skip("no cgroup v1 memory and pids hierarchies mounted: a v2 host, tested by the tests below")
    tree = detect_host().cgroups
    assert isinstance(tree, CgroupV1Tree)
    assert tree.version == 1
    assert (tree.memory_parent, tree.pids_parent) == (
        V1_CONTROLLERS["memory"] / "tfgrade",
        V1_CONTROLLERS["pids"] / "tfgrade",
    )


def test_a_process_over_its_memory_cap_is_killed_and_reported(
    cgroups: CgroupTree, made: list[SandboxCgroup]
) -> None:
    cgroup = cgroups.create(memory_bytes=64 * 1024**2, max_processes=10)
    made.append(cgroup)
    hog = waiting("blocks = [bytearray(8 * 1024**2) for _ in range(64)]\nprint('survived')")
    cgroup.add(hog.pid)
    assert not cgroup.out_of_memory()
    go(hog)
    assert hog.wait(timeout=30) == -9
    assert cgroup.out_of_memory()
    if cgroups.version == 1:
        assert cgroup.peak_memory_bytes() > 32 * 1024**2


def test_a_process_cannot_start_more_processes_than_its_cap(
    cgroups: CgroupTree, made: list[SandboxCgroup]
) -> None:
    cgroup = cgroups.create(memory_bytes=2**30, max_processes=4)
    made.append(cgroup)
    forker = waiting(
        """
        import os, time
        started = refused = 0
        for _ in range(10):
            try:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                started += 1
            except BlockingIOError:
                refused += 1
        print(started, refused, flush=True)
        """
    )
    cgroup.add(forker.pid)
    go(forker)
    assert forker.stdout is not None
    started, refused = map(int, forker.stdout.readline().split())
    assert (started, refused) == (3, 7)  # the cap counts the forker itself
    cgroup.kill_members()
    assert forker.wait(timeout=10) == -9
    assert not cgroup.out_of_memory()


def test_ending_a_cgroup_kills_everything_in_it_and_removes_it(
    cgroups: CgroupTree, made: list[SandboxCgroup]
) -> None:
    cgroup = cgroups.create(memory_bytes=2**30, max_processes=50)
    made.append(cgroup)
    parent = waiting(
        """
        import subprocess
        children = [subprocess.Popen(["sleep", "600"], start_new_session=True) for _ in range(5)]
        print(*(child.pid for child in children), flush=True)
        """
    )
    cgroup.add(parent.pid)
    go(parent)
    assert parent.stdout is not None
    children = [int(pid) for pid in parent.stdout.readline().split()]
    cgroup.destroy()
    assert parent.wait(timeout=10) in (0, -9)
    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in children)
    assert not any(procs.parent.exists() for procs in cgroup.join_files)


def test_a_dead_processs_cgroups_are_removed_and_a_live_ones_kept(
    cgroups: CgroupTree, made: list[SandboxCgroup]
) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", LEAVES_A_CGROUP_BEHIND],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    sleeper, *left_behind = dead.stdout.split()
    live = cgroups.create(memory_bytes=2**30, max_processes=10)
    made.append(live)
    assert all(Path(procs).parent.exists() for procs in left_behind)
    cgroups.remove_orphans()
    assert not any(Path(procs).parent.exists() for procs in left_behind)
    assert gone(int(sleeper))
    assert all(procs.parent.exists() for procs in live.join_files)
    assert all(procs.parent.name.startswith(f"{os.getpid()}-") for procs in live.join_files)


def test_v2_kill_and_removal_on_this_kernels_unified_hierarchy(tmp_path: Path) -> None:
    """cgroup.kill, cgroup.procs and rmdir on a real v2 hierarchy: even one without the memory and pids
    controllers (as mounted beside v1 here) has them."""
    needs_root()
    if UNIFIED is None or not (UNIFIED / "cgroup.procs").exists():
        pytest.skip("no cgroup v2 hierarchy mounted")
    folder = UNIFIED / f"tfgrade-test-{os.getpid()}"
    folder.mkdir()
    cgroup = CgroupV2(folder)
    assert (folder / "cgroup.kill").exists(), "Linux 5.14+ has cgroup.kill"
    try:
        sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(3)]
        for sleeper in sleepers:
            cgroup.add(sleeper.pid)
        assert sorted(int(pid) for pid in (folder / "cgroup.procs").read_text().split()) == sorted(
            sleeper.pid for sleeper in sleepers
        )
        cgroup.destroy()
        assert [sleeper.wait(timeout=10) for sleeper in sleepers] == [-9, -9, -9]
        assert not folder.exists()
    finally:
        if folder.exists():
            cgroup.destroy()
