"""A per-sandbox cgroup (v1 memory and pids): a hard memory cap, a process cap and a sweep at the end."""

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

from grader.sandbox.host import CGROUP_V1

CONTROLLERS = ("memory", "pids")


class SandboxCgroup:
    def __init__(self, parent: str, memory_bytes: int, max_processes: int) -> None:
        # Named after the grading process that owns it, so a later one can tell what a dead one left behind.
        name = f"{os.getpid()}-{uuid.uuid4().hex}"
        self.memory = CGROUP_V1 / "memory" / parent / name
        self.pids = CGROUP_V1 / "pids" / parent / name
        self.memory.mkdir()
        self.pids.mkdir()
        (self.memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        (self.pids / "pids.max").write_text(str(max_processes))

    @property
    def join_files(self) -> tuple[Path, Path]:
        return self.memory / "cgroup.procs", self.pids / "cgroup.procs"

    def add(self, pid: int) -> None:
        for procs in self.join_files:
            procs.write_text(str(pid))

    def out_of_memory(self) -> bool:
        try:
            for line in (self.memory / "memory.oom_control").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
            return False
        except (OSError, ValueError):
            return False

    def peak_memory_bytes(self) -> int:
        try:
            return int((self.memory / "memory.max_usage_in_bytes").read_text())
        except (OSError, ValueError):
            return 0

    def kill_members(self) -> None:
        """Kill everything inside; a fork bomb's late children are caught by asking again."""
        deadline = time.monotonic() + 10
        while (pids := _members(self.pids) or _members(self.memory)) and time.monotonic() < deadline:
            _kill(pids)
            time.sleep(0.01)

    def destroy(self) -> None:
        """Kill whatever is left inside, then remove the cgroup folders."""
        for folder in (self.pids, self.memory):
            _remove(folder)


def remove_orphans(parent: str) -> None:
    """Removes the cgroups of grading processes that died without cleaning up (killed, crashed)."""
    for controller in CONTROLLERS:
        with contextlib.suppress(OSError):
            for folder in (CGROUP_V1 / controller / parent).iterdir():
                if folder.is_dir() and not _owner_alive(folder.name):
                    _remove(folder)


def _owner_alive(name: str) -> bool:
    owner, _, _ = name.partition("-")
    return owner.isdigit() and Path(f"/proc/{owner}").exists()


def _remove(folder: Path) -> None:
    deadline = time.monotonic() + 10
    while folder.exists() and time.monotonic() < deadline:
        _kill(_members(folder))
        try:
            folder.rmdir()
        except OSError:
            time.sleep(0.02)


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _members(folder: Path) -> list[int]:
    try:
        return [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []
