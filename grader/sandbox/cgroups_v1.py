"""Sandbox cgroups on cgroup v1: one folder in the memory hierarchy and one in the pids hierarchy."""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.sandbox.cgroups import join, kill_members, new_name, read_int, remove, remove_orphans_in


class CgroupV1:
    def __init__(self, memory_parent: Path, pids_parent: Path, memory_bytes: int, max_processes: int) -> None:
        name = new_name()
        self.memory = memory_parent / name
        self.pids = pids_parent / name
        self.memory.mkdir()
        self.pids.mkdir()
        (self.memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        (self.pids / "pids.max").write_text(str(max_processes))

    @property
    def join_files(self) -> tuple[Path, ...]:
        return self.memory / "cgroup.procs", self.pids / "cgroup.procs"

    def add(self, pid: int) -> None:
        for procs in self.join_files:
            join(procs, pid)

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
        return read_int(self.memory / "memory.max_usage_in_bytes")

    def kill_members(self) -> None:
        kill_members(self.pids, self.memory)

    def destroy(self) -> None:
        for folder in (self.pids, self.memory):
            remove(folder)


@dataclass(frozen=True)
class CgroupV1Tree:
    """tfgrade's folder in the memory and in the pids hierarchy (`<mount>/tfgrade`)."""

    memory_parent: Path
    pids_parent: Path

    @property
    def version(self) -> Literal[1, 2]:
        return 1

    def create(self, memory_bytes: int, max_processes: int) -> CgroupV1:
        return CgroupV1(self.memory_parent, self.pids_parent, memory_bytes, max_processes)

    def remove_orphans(self) -> None:
        for parent in (self.memory_parent, self.pids_parent):
            remove_orphans_in(parent)
