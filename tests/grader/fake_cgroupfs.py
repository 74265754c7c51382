"""A cgroup v2 hierarchy made of plain folders, for machines whose kernel cannot give one with the memory
and pids controllers (they are bound to cgroup v1 here).

The kernel's side of the file protocol is played by hooks on `os.mkdir`, `os.rmdir` and pathlib's
reads and writes, for paths under the fake mount only: a new cgroup gets the interface files of the
controllers its parent enables; writing a PID to `cgroup.procs` moves the process there (only into a
cgroup that gives no controllers to children, the v2 "no internal processes" rule); controllers can be
enabled only where they are available and, below the root, only in a cgroup without processes; writing
a file the kernel does not offer fails; `cgroup.kill` kills every member; `cgroup.procs` lists only live
processes; a cgroup with members or children cannot be removed.
"""

import contextlib
import errno
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT_CONTROLLERS = "cpuset cpu io memory hugetlb pids"
EVENT_NAMES = ("low", "high", "max", "oom", "oom_kill", "oom_group_kill")


class FakeCgroupFs:
    def __init__(
        self,
        root: Path,
        monkeypatch: pytest.MonkeyPatch,
        *,
        kill_file: bool = True,
        swap_file: bool = True,
        peak_file: bool = True,
    ) -> None:
        self.root = root
        self.mount = root / "sys" / "fs" / "cgroup"
        self.mountinfo = root / "proc" / "self" / "mountinfo"
        self.own_cgroup = root / "proc" / "self" / "cgroup"
        self.files = {"cgroup.kill": kill_file, "memory.swap.max": swap_file, "memory.peak": peak_file}
        self.kills = 0  # writes of "1" to a cgroup.kill
        self._original = {
            "mkdir": os.mkdir,
            "rmdir": os.rmdir,
            "read_text": Path.read_text,
            "write_text": Path.write_text,
            "open": Path.open,
        }
        self.mountinfo.parent.mkdir(parents=True)
        self.mount.mkdir(parents=True)
        self._interface(self.mount, ROOT_CONTROLLERS)
        monkeypatch.setattr(os, "mkdir", self._mkdir)
        monkeypatch.setattr(os, "rmdir", self._rmdir)
        monkeypatch.setattr(Path, "read_text", self._read_text_hook())
        monkeypatch.setattr(Path, "write_text", self._write_text_hook())
        monkeypatch.setattr(Path, "open", self._open_hook())

    def delegate(
        self,
        own: str,
        *,
        controllers: str = ROOT_CONTROLLERS,
        processes: tuple[int, ...] = (),
        mount_root: str = "/",
        other_mounts: str = "",
    ) -> Path:
        """Lays out a host whose process runs in cgroup `own` (as /proc/self/cgroup says), `controllers`
        available there, and returns that cgroup's folder."""
        self.mountinfo.write_text(
            f"29 23 0:26 {mount_root} {self.mount} rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate\n"
            + other_mounts
        )
        self.own_cgroup.write_text(f"0::{own}\n")
        folder = self.mount
        for part in Path(os.path.relpath(own, mount_root)).parts:
            self._set(folder / "cgroup.subtree_control", controllers)
            folder = folder / part
            self._original["mkdir"](folder)
            self._interface(folder, controllers)
        self._set(folder / "cgroup.procs", "".join(f"{pid}\n" for pid in processes))
        return folder

    def v1_mount(self, controller: str) -> str:
        """A mountinfo line for a cgroup v1 hierarchy of `controller`, mounted in a plain folder."""
        point = self.root / "v1" / controller
        point.mkdir(parents=True)
        return f"3{len(controller)} 23 0:3{len(controller)} / {point} rw,nosuid - cgroup cgroup rw,{controller}\n"

    def report_events(self, cgroup: Path, **counts: int) -> None:
        """What the kernel would count in `memory.events` after an out-of-memory kill."""
        self._set(
            cgroup / "memory.events", "".join(f"{name} {counts.get(name, 0)}\n" for name in EVENT_NAMES)
        )

    def enabled(self, cgroup: Path) -> set[str]:
        return set(self._get(cgroup / "cgroup.subtree_control").split())

    def live_members(self, cgroup: Path) -> list[int]:
        return [pid for pid in _pids(self._get(cgroup / "cgroup.procs")) if _alive(pid)]

    # The kernel's side.

    def _ours(self, path: Any) -> bool:
        return Path(os.fspath(path)).is_relative_to(self.mount)

    def _interface(self, folder: Path, controllers: str) -> None:
        files = {
            "cgroup.procs": "",
            "cgroup.controllers": controllers,
            "cgroup.subtree_control": "",
            "cgroup.events": "populated 0\nfrozen 0\n",
        }
        if self.files["cgroup.kill"]:
            files["cgroup.kill"] = ""
        if "memory" in controllers.split():
            files |= {"memory.max": "max", "memory.oom.group": "0", "memory.current": "0"}
            files["memory.events"] = "".join(f"{name} 0\n" for name in EVENT_NAMES)
            if self.files["memory.swap.max"]:
                files["memory.swap.max"] = "max"
            if self.files["memory.peak"]:
                files["memory.peak"] = "0"
        if "pids" in controllers.split():
            files |= {"pids.max": "max", "pids.current": "0"}
        for name, text in files.items():
            self._set(folder / name, text)

    def _mkdir(self, path: Any, mode: int = 0o777, *args: Any, **kwargs: Any) -> None:
        self._original["mkdir"](path, mode, *args, **kwargs)
        if self._ours(path):
            folder = Path(os.fspath(path))
            self._interface(folder, " ".join(sorted(self.enabled(folder.parent))))

    def _rmdir(self, path: Any, *args: Any, **kwargs: Any) -> None:
        if not self._ours(path):
            return self._original["rmdir"](path, *args, **kwargs)
        folder = Path(os.fspath(path))
        if self.live_members(folder) or any(child.is_dir() for child in folder.iterdir()):
            raise OSError(errno.EBUSY, "Device or resource busy", str(folder))
        for file in folder.iterdir():
            file.unlink()
        return self._original["rmdir"](path)

    def _read_text_hook(self) -> Any:
        fake = self

        def read_text(path: Path, *args: Any, **kwargs: Any) -> str:
            if fake._ours(path) and path.name == "cgroup.procs":
                return "".join(f"{pid}\n" for pid in fake.live_members(path.parent))
            return str(fake._original["read_text"](path, *args, **kwargs))

        return read_text

    def _write_text_hook(self) -> Any:
        fake = self

        def write_text(path: Path, data: str, *args: Any, **kwargs: Any) -> int:
            if not fake._ours(path):
                return int(fake._original["write_text"](path, data, *args, **kwargs))
            fake._write(path, data)
            return len(data)

        return write_text

    def _open_hook(self) -> Any:
        fake = self

        def open_(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if fake._ours(path) and mode in ("w", "a"):
                return _KernelFile(fake, path)
            return fake._original["open"](path, mode, *args, **kwargs)

        return open_

    def _write(self, path: Path, data: str) -> None:
        if not path.exists():
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        folder = path.parent
        if path.name == "cgroup.procs":
            self._move(int(data), folder)
        elif path.name == "cgroup.subtree_control":
            self._enable(folder, data.split())
        elif path.name == "cgroup.kill" and data.strip() == "1":
            self.kills += 1
            for cgroup in [folder, *(child for child in folder.rglob("*") if child.is_dir())]:
                for pid in self.live_members(cgroup):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        else:
            self._set(path, data)

    def _move(self, pid: int, folder: Path) -> None:
        if folder != self.mount and self.enabled(folder):
            raise OSError(errno.EBUSY, "Device or resource busy", str(folder))
        for procs in self.mount.rglob("cgroup.procs"):
            members = [member for member in _pids(self._get(procs)) if member != pid]
            if procs.parent == folder:
                members.append(pid)
            self._set(procs, "".join(f"{member}\n" for member in members))

    def _enable(self, folder: Path, changes: list[str]) -> None:
        available = set(self._get(folder / "cgroup.controllers").split())
        enabled = self.enabled(folder)
        for change in changes:
            name = change[1:]
            if name not in available:
                raise FileNotFoundError(errno.ENOENT, "No such file or directory", name)
            if change.startswith("+"):
                enabled.add(name)
            else:
                enabled.discard(name)
        if folder != self.mount and enabled and self.live_members(folder):
            raise OSError(errno.EBUSY, "Device or resource busy", str(folder))
        self._set(folder / "cgroup.subtree_control", " ".join(sorted(enabled)))

    def _get(self, path: Path) -> str:
        with open(path) as file:
            return file.read()

    def _set(self, path: Path, text: str) -> None:
        with open(path, "w") as file:
            file.write(text)


class _KernelFile:
    """What `open(..., "a")` on an interface file gives: each write is one write(2) to the kernel."""

    def __init__(self, fake: FakeCgroupFs, path: Path) -> None:
        self._fake, self._path = fake, path

    def write(self, data: str) -> int:
        self._fake._write(self._path, data)
        return len(data)

    def __enter__(self) -> "_KernelFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


def _pids(text: str) -> Iterator[int]:
    return (int(pid) for pid in text.split())


def _alive(pid: int) -> bool:
    """Not gone and not a zombie: the kernel lists neither in `cgroup.procs`."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
