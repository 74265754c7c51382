"""Sandbox cgroups on cgroup v2: one folder per sandbox in a subtree delegated to tfgrade."""

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.sandbox.cgroups import join, kill_members, new_name, read_int, remove, remove_orphans_in

OUT_OF_MEMORY_EVENTS = ("oom_kill", "oom_group_kill")


class CgroupV2:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def create(cls, parent: Path, memory_bytes: int, max_processes: int) -> "CgroupV2":
        cgroup = cls(parent / new_name())
        cgroup.folder.mkdir()
        try:
            cgroup._limit(memory_bytes, max_processes)
        except OSError:
            remove(cgroup.folder)
            raise
        return cgroup

    def _limit(self, memory_bytes: int, max_processes: int) -> None:
        (self.folder / "memory.max").write_text(str(memory_bytes))
        swap = self.folder / "memory.swap.max"
        if swap.exists():  # absent when the kernel accounts no swap
            swap.write_text("0")
        # The kernel then kills the whole sandbox at once, not one process that the others could replace.
        (self.folder / "memory.oom.group").write_text("1")
        (self.folder / "pids.max").write_text(str(max_processes))

    @property
    def join_files(self) -> tuple[Path, ...]:
        return (self.folder / "cgroup.procs",)

    def add(self, pid: int) -> None:
        join(self.folder / "cgroup.procs", pid)

    def out_of_memory(self) -> bool:
        try:
            lines = (self.folder / "memory.events").read_text().splitlines()
            events = {name: int(value) for name, value in (line.split() for line in lines)}
        except (OSError, ValueError):
            return False
        return any(events.get(name, 0) > 0 for name in OUT_OF_MEMORY_EVENTS)

    def peak_memory_bytes(self) -> int:
        return read_int(self.folder / "memory.peak")  # absent before Linux 5.19: reads as 0

    def kill_members(self) -> None:
        kill = self.folder / "cgroup.kill"
        if kill.exists():  # Linux 5.14+: the kernel kills every member at once, late forks included
            with contextlib.suppress(OSError):
                kill.write_text("1")
        kill_members(self.folder)

    def destroy(self) -> None:
        self.kill_members()
        remove(self.folder)


@dataclass(frozen=True)
class CgroupV2Tree:
    """`<delegated>/tfgrade`, with the memory and pids controllers enabled for its children."""

    parent: Path

    @property
    def version(self) -> Literal[1, 2]:
        return 2

    def create(self, memory_bytes: int, max_processes: int) -> CgroupV2:
        return CgroupV2.create(self.parent, memory_bytes, max_processes)

    def remove_orphans(self) -> None:
        remove_orphans_in(self.parent)
