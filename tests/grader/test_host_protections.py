"""The protections a report lists are those the host really applies to the submission's processes."""

import dataclasses
import os

import pytest

from grader.sandbox.host import detect_host


@pytest.mark.skipif(os.getuid() != 0, reason="the grader drops privileges only when it runs as root")
def test_without_bubblewrap_a_grader_running_as_root_does_not_claim_an_unprivileged_user() -> None:
    host = detect_host()
    assert host.bwrap is not None and host.drops_privileges
    assert host.protections()["unprivileged_user"] is True
    without_bubblewrap = dataclasses.replace(host, bwrap=None)
    assert without_bubblewrap.as_sandbox_user() == []
    assert without_bubblewrap.protections() == {
        "separate_process": True,
        "no_network": False,
        "private_filesystem": False,
        "private_process_tree": False,
        "unprivileged_user": False,
        "memory_cgroup": host.cgroups is not None,
        "pids_cgroup": host.cgroups is not None,
        "resource_limits": True,
        "wall_clock_limit": True,
    }
