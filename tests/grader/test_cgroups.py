"""Cgroups left behind by a grading process that was killed are removed by the next one."""

import os
import subprocess

import pytest

from grader.sandbox.cgroups import SandboxCgroup, remove_orphans
from grader.sandbox.host import CGROUP_V1, detect_host

PARENT = detect_host().cgroup_parent

pytestmark = pytest.mark.skipif(PARENT is None, reason="needs root and cgroup v1 memory and pids")


def test_a_dead_processs_cgroups_are_removed_and_a_live_ones_kept() -> None:
    assert PARENT is not None
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    orphans = [
        CGROUP_V1 / controller / PARENT / f"{dead_pid.pid}-left-behind" for controller in ("memory", "pids")
    ]
    for folder in orphans:
        folder.mkdir()
    sleeper = subprocess.Popen(["sleep", "600"])
    (orphans[0] / "cgroup.procs").write_text(str(sleeper.pid))
    live = SandboxCgroup(PARENT, memory_bytes=2**30, max_processes=10)
    try:
        remove_orphans(PARENT)
        assert [folder.exists() for folder in orphans] == [False, False]
        assert sleeper.wait(timeout=10) == -9
        assert live.memory.exists() and live.pids.exists()
        assert live.memory.name.startswith(f"{os.getpid()}-")
    finally:
        live.destroy()
