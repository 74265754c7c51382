"""A per-sandbox cgroup: a hard memory cap, a process cap and a sweep at the end, on cgroup v1 or v2.

One interface for both versions (cgroups_v1.py, cgroups_v2.py); cgroup_setup.py picks the one this host
offers. The helpers below are what both versions share: naming, killing and removing.
"""

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Literal, Protocol

SWEEP_SECONDS = 10.0


class SandboxCgroup(Protocol):
    @property
    def join_files(self) -> tuple[Path, ...]:
        """The `cgroup.procs` files a process writes its PID to, to join."""
        ...

    def add(self, pid: int) -> None: ...

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process inside for exceeding the memory cap."""
        ...

    def peak_memory_bytes(self) -> int: ...

    def kill_members(self) -> None: ...

    def destroy(self) -> None:
        """Kill whatever is left inside, then remove the cgroup."""
        ...


class CgroupTree(Protocol):
    """Where this host lets the sandbox create its cgroups."""

    @property
    def version(self) -> Literal[1, 2]: ...

    def create(self, memory_bytes: int, max_processes: int) -> SandboxCgroup: ...

    def remove_orphans(self) -> None:
        """Removes the cgroups of grading processes that died without cleaning up (killed, crashed)."""
        ...


def join(procs: Path, pid: int) -> None:
    """Moves a process into the cgroup of this `cgroup.procs` file; the kernel takes one PID per write."""
    with procs.open("a") as file:
        file.write(str(pid))


def new_name() -> str:
    # Named after the grading process that owns it, so a later one can tell what a dead one left behind.
    return f"{os.getpid()}-{uuid.uuid4().hex}"


def remove_orphans_in(parent: Path) -> None:
    with contextlib.suppress(OSError):
        for folder in parent.iterdir():
            if folder.is_dir() and not _owner_alive(folder.name):
                remove(folder)


def _owner_alive(name: str) -> bool:
    owner, _, _ = name.partition("-")
    return owner.isdigit() and Path(f"/proc/{owner}").exists()


def kill_members(*folders: Path) -> None:
    """Kill everything inside; a fork bomb's late children are caught by asking again."""
    deadline = time.monotonic() + SWEEP_SECONDS
    while (pids := [pid for folder in folders for pid in members(folder)]) and time.monotonic() < deadline:
        kill(pids)
        time.sleep(0.01)


def remove(folder: Path) -> None:
    deadline = time.monotonic() + SWEEP_SECONDS
    while folder.exists() and time.monotonic() < deadline:
        kill(members(folder))
        try:
            folder.rmdir()
        except OSError:
            time.sleep(0.02)


def kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def members(folder: Path) -> list[int]:
    try:
        return [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def read_int(file: Path) -> int:
    try:
        return int(file.read_text())
    except (OSError, ValueError):
        return 0
