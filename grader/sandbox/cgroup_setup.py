"""Finds where this host lets the sandbox create cgroups with the memory and pids controllers.

cgroup v1 first: tfgrade's folder in the memory and in the pids hierarchy. Otherwise cgroup v2, in the
cgroup this process runs in when it is delegated to it (writable, memory and pids available): v2 lets
only a cgroup without processes of its own give controllers to its children, so every process there moves
into a leaf (`tfgrade-worker`) first, and the sandboxes' cgroups go under a sibling, `tfgrade`.
"""

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.cgroups import CgroupTree, join, members
from grader.sandbox.cgroups_v1 import CgroupV1Tree
from grader.sandbox.cgroups_v2 import CgroupV2Tree

MOUNTINFO = Path("/proc/self/mountinfo")
OWN_CGROUP = Path("/proc/self/cgroup")
CONTROLLERS = ("memory", "pids")
PARENT_NAME = "tfgrade"
WORKER_LEAF = "tfgrade-worker"


@dataclass(frozen=True)
class Mount:
    root: str  # the folder of the hierarchy mounted there
    point: Path
    kind: str
    options: frozenset[str]


def find_cgroup_tree(mountinfo: Path = MOUNTINFO, own_cgroup: Path = OWN_CGROUP) -> CgroupTree | None:
    mounts = read_mounts(mountinfo)
    return _v1_tree(mounts) or _v2_tree(mounts, own_cgroup)


def read_mounts(mountinfo: Path) -> list[Mount]:
    mounts = []
    for line in mountinfo.read_text().splitlines():
        fields = line.split()
        separator = fields.index("-")
        mounts.append(
            Mount(
                root=_unescape(fields[3]),
                point=Path(_unescape(fields[4])),
                kind=fields[separator + 1],
                options=frozenset(fields[separator + 3].split(",")),
            )
        )
    return mounts


def _unescape(field: str) -> str:
    # The kernel writes a space, tab, newline or backslash in a path as an octal escape (\040).
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def _v1_tree(mounts: list[Mount]) -> CgroupV1Tree | None:
    parents = {}
    for controller in CONTROLLERS:
        mount = next((m for m in mounts if m.kind == "cgroup" and controller in m.options), None)
        if mount is None:
            return None
        parents[controller] = mount.point / PARENT_NAME
    if parents["memory"] == parents["pids"]:
        return None  # both in one hierarchy: each sandbox would need its one folder twice
    try:
        for folder in parents.values():
            folder.mkdir(exist_ok=True)
    except OSError:
        return None
    return CgroupV1Tree(memory_parent=parents["memory"], pids_parent=parents["pids"])


def _v2_tree(mounts: list[Mount], own_cgroup: Path) -> CgroupV2Tree | None:
    own = _own_v2_cgroup(mounts, own_cgroup)
    if own is None:
        return None
    # A process started by an earlier worker's set-up, or moved by it, already sits in the leaf.
    delegated = own.parent if own.name == WORKER_LEAF else own
    if not _delegated(delegated):
        return None
    leaf, parent = delegated / WORKER_LEAF, delegated / PARENT_NAME
    try:
        leaf.mkdir(exist_ok=True)
        for pid in members(delegated):
            with contextlib.suppress(OSError):  # gone meanwhile, or a kernel thread that cannot move
                join(leaf / "cgroup.procs", pid)
        _enable_controllers(delegated)
        parent.mkdir(exist_ok=True)
        _enable_controllers(parent)
    except OSError:
        return None
    return CgroupV2Tree(parent)


def _own_v2_cgroup(mounts: list[Mount], own_cgroup: Path) -> Path | None:
    try:
        lines = own_cgroup.read_text().splitlines()
    except OSError:
        return None
    path = next((line[3:] for line in lines if line.startswith("0::")), None)
    if path is None:
        return None
    for mount in mounts:
        if mount.kind != "cgroup2":
            continue
        # The mount shows the hierarchy from its root down, which may lie below the hierarchy's own root.
        relative = os.path.relpath(path, mount.root)
        if relative != ".." and not relative.startswith("../"):
            return mount.point / relative
    return None


def _delegated(folder: Path) -> bool:
    try:
        available = set((folder / "cgroup.controllers").read_text().split())
    except OSError:
        return False
    writable = all(
        os.access(path, os.W_OK)
        for path in (folder, folder / "cgroup.procs", folder / "cgroup.subtree_control")
    )
    return writable and available.issuperset(CONTROLLERS)


def _enable_controllers(folder: Path) -> None:
    (folder / "cgroup.subtree_control").write_text(" ".join(f"+{name}" for name in CONTROLLERS))
