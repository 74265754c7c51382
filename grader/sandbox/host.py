"""What this host offers to confine a submission, detected once per process."""

import os
import pwd
import shutil
import sys
from dataclasses import dataclass, replace
from functools import cache

from grader.runtimes import RuntimeUnavailable, find_runtime
from grader.sandbox.cgroup_setup import find_cgroup_tree
from grader.sandbox.cgroups import CgroupTree
from grader.sandbox.environment import SandboxPython, sandbox_python

SANDBOX_USER = "tfgrade-sandbox"


@dataclass(frozen=True)
class Host:
    bwrap: str | None
    setpriv: str | None
    sandbox_uid: int | None
    sandbox_gid: int | None
    cgroups: CgroupTree | None  # where each sandbox gets its memory and pids cgroup, v1 or v2
    python: str
    prefix: str  # sys.prefix: the virtual environment, if there is one
    base_prefix: str
    runtime: str | None = None  # the grading runtime `python` belongs to; None: the project's own

    def sandbox_python(self) -> SandboxPython:
        """The interpreter inside bubblewrap, and the mounts that give it only what grading needs."""
        # A runtime holds only what its lock pins for grading, so all of it is bound.
        return sandbox_python(self.python, self.prefix, self.base_prefix, whole=self.runtime is not None)

    @property
    def drops_privileges(self) -> bool:
        return self.sandbox_uid is not None and self.setpriv is not None

    def as_sandbox_user(self) -> list[str]:
        """The command prefix that runs a program as the user the sandbox runs as: empty where that is this
        process's own user (no bubblewrap, or no user to become)."""
        if not (self.bwrap and self.drops_privileges):
            return []
        assert self.setpriv
        return [self.setpriv, f"--reuid={self.sandbox_uid}", f"--regid={self.sandbox_gid}", "--clear-groups"]

    def protections(self) -> dict[str, bool]:
        isolated = self.bwrap is not None
        return {
            "separate_process": True,
            "no_network": isolated,
            "private_filesystem": isolated,
            "private_process_tree": isolated,
            # Without bubblewrap, the job runs as the grader itself.
            "unprivileged_user": bool(self.as_sandbox_user()) or os.getuid() != 0,
            "memory_cgroup": self.cgroups is not None,
            "pids_cgroup": self.cgroups is not None,
            "resource_limits": True,
            "wall_clock_limit": True,
        }


@cache
def detect_host() -> Host:
    uid = gid = None
    if os.getuid() == 0:
        try:
            entry = pwd.getpwnam(SANDBOX_USER)
            uid, gid = entry.pw_uid, entry.pw_gid
        except KeyError:
            pass
    return Host(
        bwrap=_working_bwrap(),
        setpriv=shutil.which("setpriv"),
        sandbox_uid=uid,
        sandbox_gid=gid,
        cgroups=_cgroups(),
        python=sys.executable,
        prefix=sys.prefix,
        base_prefix=sys.base_prefix,
    )


def runtime_host(host: Host, runtime: str | None) -> Host:
    """`host` with the interpreter of the grading runtime `runtime` (None: the host itself)."""
    if runtime is None:
        return host
    found = find_runtime(runtime)
    if (problem := found.problem()) is not None:
        raise RuntimeUnavailable(problem)
    return replace(
        host,
        runtime=runtime,
        python=str(found.python),
        prefix=str(found.prefix),
        base_prefix=found.base_prefix(),
    )


def _working_bwrap() -> str | None:
    path = shutil.which("bwrap")
    if path is None or os.environ.get("TFGRADE_SANDBOX_NO_BWRAP"):
        return None
    return path


def _cgroups() -> CgroupTree | None:
    if os.getuid() != 0 or os.environ.get("TFGRADE_SANDBOX_NO_CGROUP"):
        return None
    return find_cgroup_tree()
