"""The sandbox's cgroup v2 code against a fake cgroupfs (fake_cgroupfs.py): these machines bind memory and
pids to cgroup v1, so their kernel cannot give a v2 hierarchy with those controllers. The processes are
real; only the kernel's bookkeeping of the files is played by the fake."""

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_cgroupfs import FakeCgroupFs

from grader.sandbox.cgroups_v2 import CgroupV2, CgroupV2Tree

DELEGATED = "/system.slice/tfgrade-worker.service"
GIB = 1024**3

MakeTree = Callable[..., tuple[FakeCgroupFs, CgroupV2Tree]]


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for sleeper in started:
        sleeper.kill()
        sleeper.wait()


@pytest.fixture
def make_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeTree:
    """A delegated cgroup whose `tfgrade` child enables memory and pids, as cgroup_setup.py leaves it."""

    def make(controllers: str = "memory pids", **files: bool) -> tuple[FakeCgroupFs, CgroupV2Tree]:
        fake = FakeCgroupFs(tmp_path, monkeypatch, **files)
        enable = " ".join(f"+{name}" for name in controllers.split())
        delegated = fake.delegate(DELEGATED)
        (delegated / "cgroup.subtree_control").write_text(enable)
        parent = delegated / "tfgrade"
        parent.mkdir()
        (parent / "cgroup.subtree_control").write_text(enable)
        return fake, CgroupV2Tree(parent)

    return make


def sleep(sleepers: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    sleeper = subprocess.Popen(["sleep", "600"])
    sleepers.append(sleeper)
    return sleeper


def test_a_sandbox_cgroup_caps_memory_swap_and_processes(make_tree: MakeTree) -> None:
    _, tree = make_tree()
    cgroup = tree.create(memory_bytes=GIB, max_processes=42)
    assert cgroup.folder.parent == tree.parent
    assert (cgroup.folder / "memory.max").read_text() == str(GIB)
    assert (cgroup.folder / "memory.swap.max").read_text() == "0"
    assert (cgroup.folder / "memory.oom.group").read_text() == "1"
    assert (cgroup.folder / "pids.max").read_text() == "42"
    assert cgroup.join_files == (cgroup.folder / "cgroup.procs",)
    assert tree.version == 2


def test_without_swap_accounting_no_swap_limit_is_written(make_tree: MakeTree) -> None:
    _, tree = make_tree(swap_file=False)
    cgroup = tree.create(memory_bytes=GIB, max_processes=42)  # writing the missing file would fail
    assert not (cgroup.folder / "memory.swap.max").exists()
    assert (cgroup.folder / "memory.max").read_text() == str(GIB)


def test_a_cgroup_whose_limits_cannot_be_set_is_not_left_behind(make_tree: MakeTree) -> None:
    _, tree = make_tree(controllers="memory")  # no pids.max in its children
    with pytest.raises(OSError):
        tree.create(memory_bytes=GIB, max_processes=42)
    assert [folder for folder in tree.parent.iterdir() if folder.is_dir()] == []


def test_a_process_added_is_a_member(make_tree: MakeTree, sleepers: list[subprocess.Popen[bytes]]) -> None:
    fake, tree = make_tree()
    cgroup = tree.create(memory_bytes=GIB, max_processes=42)
    first, second = sleep(sleepers), sleep(sleepers)
    cgroup.add(first.pid)
    cgroup.add(second.pid)
    assert fake.live_members(cgroup.folder) == [first.pid, second.pid]


@pytest.mark.parametrize("event", ["oom_kill", "oom_group_kill"])
def test_an_out_of_memory_kill_is_read_from_memory_events(make_tree: MakeTree, event: str) -> None:
    fake, tree = make_tree()
    cgroup = tree.create(memory_bytes=GIB, max_processes=42)
    fake.report_events(cgroup.folder, oom=1, max=3)  # reached its limit, reclaimed, killed nothing
    assert not cgroup.out_of_memory()
    fake.report_events(cgroup.folder, oom=1, max=3, **{event: 1})
    assert cgroup.out_of_memory()


def test_peak_memory_is_read_where_the_kernel_keeps_it(make_tree: MakeTree) -> None:
    _, tree = make_tree()
    cgroup = tree.create(memory_bytes=GIB, max_processes=42)
    (cgroup.folder / "memory.peak").write_text("123456")
    assert cgroup.peak_memory_bytes() == 123456


def test_peak_memory_reads_as_zero_before_linux_5_19(make_tree: MakeTree) -> None:
    _, tree = make_tree(peak_file=False)
    assert tree.create(memory_bytes=GIB, max_processes=42).peak_memory_bytes() == 0


def test_ending_a_sandbox_uses_cgroup_kill_and_removes_its_cgroup(
    make_tree: MakeTree, sleepers: list[subprocess.Popen[bytes]]
) -> None:
    fake, tree = make_tree()
    cgroup = tree.create(memory_bytes=GIB, max_processes=42)
    members = [sleep(sleepers) for _ in range(3)]
    for member in members:
        cgroup.add(member.pid)
    cgroup.destroy()
    assert fake.kills == 1
    assert [member.wait(timeout=10) for member in members] == [-9, -9, -9]
    assert not cgroup.folder.exists()


def test_without_cgroup_kill_every_member_is_killed_by_pid(
    make_tree: MakeTree, sleepers: list[subprocess.Popen[bytes]]
) -> None:
    fake, tree = make_tree(kill_file=False)
    cgroup = tree.create(memory_bytes=GIB, max_processes=42)
    members = [sleep(sleepers) for _ in range(3)]
    for member in members:
        cgroup.add(member.pid)
    cgroup.kill_members()
    assert fake.kills == 0
    assert [member.wait(timeout=10) for member in members] == [-9, -9, -9]
    cgroup.destroy()
    assert not cgroup.folder.exists()


def test_a_dead_processs_cgroups_are_removed_and_a_live_ones_kept(
    make_tree: MakeTree, sleepers: list[subprocess.Popen[bytes]]
) -> None:
    _, tree = make_tree()
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = CgroupV2(tree.parent / f"{dead.pid}-left-behind")
    orphan.folder.mkdir()
    left_running = sleep(sleepers)
    orphan.add(left_running.pid)
    live = tree.create(memory_bytes=GIB, max_processes=42)
    tree.remove_orphans()
    assert not orphan.folder.exists()
    assert left_running.wait(timeout=10) == -9
    assert live.folder.exists()
