"""Which cgroups a host offers, read from fake /proc/self/mountinfo and /proc/self/cgroup layouts, and how
a delegated cgroup v2 subtree is prepared (the kernel's side played by fake_cgroupfs.py)."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_cgroupfs import FakeCgroupFs

from grader.sandbox.cgroup_setup import find_cgroup_tree, read_mounts
from grader.sandbox.cgroups_v1 import CgroupV1Tree
from grader.sandbox.cgroups_v2 import CgroupV2Tree
from grader.sandbox.host import detect_host

SERVICE = "/system.slice/tfgrade-worker.service"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCgroupFs:
    return FakeCgroupFs(tmp_path, monkeypatch)


@pytest.fixture
def neighbour() -> Iterator[int]:
    """Another process in the worker's cgroup (say, the container's first process)."""
    sleeper = subprocess.Popen(["sleep", "600"])
    yield sleeper.pid
    sleeper.kill()
    sleeper.wait()


def detect(fake: FakeCgroupFs) -> CgroupV1Tree | CgroupV2Tree | None:
    tree = find_cgroup_tree(fake.mountinfo, fake.own_cgroup)
    assert tree is None or isinstance(tree, CgroupV1Tree | CgroupV2Tree)
    return tree


def test_a_delegated_v2_cgroup_gets_a_leaf_for_its_processes_and_a_parent_for_the_sandboxes(
    fake: FakeCgroupFs, neighbour: int
) -> None:
    own = fake.delegate(SERVICE, processes=(os.getpid(), neighbour))
    tree = detect(fake)
    assert tree == CgroupV2Tree(own / "tfgrade")
    # The fake, like the kernel, refuses controllers to a cgroup with processes: they had to move first.
    assert fake.live_members(own) == []
    assert fake.live_members(own / "tfgrade-worker") == [os.getpid(), neighbour]
    assert {"memory", "pids"} <= fake.enabled(own)
    assert {"memory", "pids"} <= fake.enabled(own / "tfgrade")
    sandbox = tree.create(memory_bytes=2**30, max_processes=10)
    assert (sandbox.folder / "memory.max").read_text() == str(2**30)
    assert (sandbox.folder / "pids.max").read_text() == "10"


def test_a_worker_started_after_the_set_up_finds_the_same_parent(fake: FakeCgroupFs) -> None:
    own = fake.delegate(SERVICE, processes=(os.getpid(),))
    first = detect(fake)
    fake.own_cgroup.write_text(f"0::{SERVICE}/tfgrade-worker\n")  # where the set-up moved this process
    assert detect(fake) == first == CgroupV2Tree(own / "tfgrade")
    assert not (own / "tfgrade-worker" / "tfgrade-worker").exists()


def test_a_v2_cgroup_without_the_pids_controller_is_not_used(fake: FakeCgroupFs) -> None:
    own = fake.delegate(SERVICE, controllers="cpu io memory", processes=(os.getpid(),))
    assert detect(fake) is None
    assert [child for child in own.iterdir() if child.is_dir()] == []
    assert fake.live_members(own) == [os.getpid()]


def test_a_v2_cgroup_is_found_below_a_mount_of_part_of_the_hierarchy(fake: FakeCgroupFs) -> None:
    # A container with its own cgroup namespace mounts its part of the host's hierarchy.
    own = fake.delegate("/kubepods/pod1/worker", mount_root="/kubepods/pod1", processes=(os.getpid(),))
    assert own == fake.mount / "worker"
    assert detect(fake) == CgroupV2Tree(own / "tfgrade")


def test_a_cgroup_outside_every_mounted_part_of_the_hierarchy_is_not_used(fake: FakeCgroupFs) -> None:
    fake.delegate("/kubepods/pod1/worker", mount_root="/kubepods/pod1")
    fake.own_cgroup.write_text("0::/elsewhere\n")
    assert detect(fake) is None


def test_v1_memory_and_pids_are_used_first(fake: FakeCgroupFs) -> None:
    v1 = fake.v1_mount("memory") + fake.v1_mount("pids")
    own = fake.delegate(SERVICE, processes=(os.getpid(),), other_mounts=v1)
    tree = detect(fake)
    assert tree == CgroupV1Tree(fake.root / "v1/memory/tfgrade", fake.root / "v1/pids/tfgrade")
    assert tree.memory_parent.is_dir() and tree.pids_parent.is_dir()
    assert tree.version == 1
    assert not (own / "tfgrade").exists()


def test_a_hybrid_host_without_v1_pids_uses_its_delegated_v2_cgroup(fake: FakeCgroupFs) -> None:
    own = fake.delegate(SERVICE, processes=(os.getpid(),), other_mounts=fake.v1_mount("memory"))
    assert detect(fake) == CgroupV2Tree(own / "tfgrade")


def test_a_host_without_cgroup_mounts_offers_none(fake: FakeCgroupFs) -> None:
    fake.mountinfo.write_text("22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n")
    fake.own_cgroup.write_text("0::/\n")
    assert detect(fake) is None


def test_mount_points_are_unescaped(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "41 31 0:38 / /sys/fs/cgroup/my\\040cgroups rw,relatime shared:9 - cgroup2 cgroup2 rw\n"
    )
    [mount] = read_mounts(mountinfo)
    assert (mount.point, mount.kind, mount.root) == (Path("/sys/fs/cgroup/my cgroups"), "cgroup2", "/")


def test_cgroups_turned_off_by_the_environment_are_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFGRADE_SANDBOX_NO_CGROUP", "1")
    host = detect_host.__wrapped__()
    assert host.cgroups is None
    assert not host.protections()["memory_cgroup"] and not host.protections()["pids_cgroup"]
