"""A grading worker caps each submission's memory and processes with a cgroup, or runs without only when
its operator said so."""

import logging

from grader.sandbox.host import Host

log = logging.getLogger(__name__)
UNCAPPED_WARNING = (
    "this host offers no cgroup for the sandboxes (no cgroup v1 memory and pids hierarchies, no delegated "
    "cgroup v2 subtree with memory and pids, or not root): submissions run WITHOUT memory or pids caps, "
    "only RLIMIT_DATA and RLIMIT_NPROC"
)


class CgroupsMissing(RuntimeError):
    """The host offers no memory and pids cgroup, and running without one was not allowed."""


def check_cgroups(host: Host, *, allow_without: bool) -> bool:
    """Whether this worker's submissions run without memory and pids caps; raises if that is not allowed."""
    if host.cgroups is not None:
        log.info("submissions run with memory and pids caps in cgroup v%d", host.cgroups.version)
        return False
    if not allow_without:
        raise CgroupsMissing(
            f"refusing to grade: {UNCAPPED_WARNING}. Run the worker in a delegated cgroup (README, "
            "'The sandbox'), or set TFGRADE_ALLOW_NO_CGROUP=1 (or pass --allow-no-cgroup) to grade anyway."
        )
    log.warning("%s (allowed by TFGRADE_ALLOW_NO_CGROUP / --allow-no-cgroup)", UNCAPPED_WARNING)
    return True
