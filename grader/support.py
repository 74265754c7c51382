"""An assignment's support files: what the sandbox places beside the notebook, and what would stop it.

Every file and folder in `support/` appears, read-only, directly in the notebook's working directory, so a
course's notebook imports its own test module (`import unittests`) and opens its files by their bare names.
"""

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

SUPPORT_FOLDER = "support"
# What the sandbox itself places in the notebook's working directory, by name.
PLACED_BY_THE_SANDBOX = {"data": "the assignment's data/ folder"}


def support_entries(folder: Path) -> list[str]:
    """The names the sandbox places in the notebook's working directory: the folder's own files and
    folders, never a symbolic link, nothing else, and none of the names the sandbox gives its own."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(
        entry.name
        for entry in os.scandir(folder)
        if (entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False))
        and entry.name not in PLACED_BY_THE_SANDBOX
    )


def copy_support_files(folder: Path, destination: Path) -> None:
    """Read-only copies of the support files in `destination`, for a sandbox that cannot bind them read-only
    (no bubblewrap): the assignment's own files never enter the working directory, whatever happens to the
    copies. Permissions do not stop a process running as root, or as the copies' owner, from changing them."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in support_entries(folder):
        source, target = folder / name, destination / name
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copyfile(source, target)
        _make_read_only(target)


def support_problems(folder: Path, run_as_sandbox_user: Sequence[str] = ()) -> list[str]:
    """What stops `folder` from serving as support files, each a sentence; none for a missing folder.

    `run_as_sandbox_user` is the command prefix that runs a program as the user the sandbox runs as, whose
    reading of the files is what counts (the grader itself may be root, who reads everything)."""
    if folder.is_symlink():
        return [f"{SUPPORT_FOLDER} is a symbolic link; put the folder itself beside assignment.toml"]
    if not folder.exists():
        return []
    if not folder.is_dir():
        return [f"{SUPPORT_FOLDER} is not a folder"]
    problems = [
        f"{SUPPORT_FOLDER}/{name}: the notebook's working directory already holds {what} under that name; "
        "rename it"
        for name, what in PLACED_BY_THE_SANDBOX.items()
        if os.path.lexists(folder / name)
    ]
    problems += _kind_problems(folder)
    problems += [
        f"{_shown(relative)} cannot be read by the user the sandbox runs as"
        for relative in _unreadable(folder, run_as_sandbox_user)
    ]
    return problems


def _make_read_only(path: Path) -> None:
    for folder, _, files in os.walk(path, topdown=False):
        for name in files:
            if not os.path.islink(os.path.join(folder, name)):
                os.chmod(os.path.join(folder, name), 0o444)
        os.chmod(folder, 0o555)
    if not path.is_dir():
        path.chmod(0o444)


def _kind_problems(folder: Path) -> list[str]:
    problems = []
    for path in sorted(folder.rglob("*")):
        shown = _shown(path.relative_to(folder).as_posix())
        if path.is_symlink():
            problems.append(f"{shown} is a symbolic link; put the file itself in {SUPPORT_FOLDER}/")
        elif not (path.is_file() or path.is_dir()):
            problems.append(f"{shown} is neither a file nor a folder")
    return problems


def _unreadable(folder: Path, run_as_sandbox_user: Sequence[str]) -> list[str]:
    """Paths below `folder` (`.` for itself) that the user cannot read, or cannot enter for a folder.

    find's -readable and -executable ask the kernel (access(2)), so ACLs count as bubblewrap will see them.
    """
    unreadable = "! -type l ( -type d ( ! -readable -o ! -executable ) -o ! -type d ! -readable )".split()
    command = [*run_as_sandbox_user, "find", str(folder), *unreadable, "-printf", "%P\\0"]
    found = subprocess.run(command, capture_output=True, cwd="/", check=False)
    paths = [path.decode(errors="replace") or "." for path in found.stdout.split(b"\0")[:-1]]
    if found.returncode != 0 and not paths:
        return ["."]  # not even the folder itself could be reached
    return sorted(paths)


def _shown(relative: str) -> str:
    return SUPPORT_FOLDER if relative == "." else f"{SUPPORT_FOLDER}/{relative}"
