"""A grading worker on a host without memory and pids cgroups refuses to start, unless its operator
allows it; then it warns, and /readyz says that its submissions run without those caps."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import PROJECT, running, settings_from, wait_until

from workers.database import session_scope
from workers.heartbeat import beat
from workers.models import WorkerHeartbeat, utcnow
from workers.settings import Settings

# The sandbox's own switch: detection then offers no cgroup, as on a host that has none.
NO_CGROUP = {"TFGRADE_SANDBOX_NO_CGROUP": "1"}


def test_a_grading_worker_without_cgroups_refuses_to_start(unit_env: dict[str, str]) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "app.cli", "worker", "--queues", "grading"],
        env={**os.environ, **unit_env, **NO_CGROUP, "TFGRADE_ALLOW_NO_CGROUP": "0"},
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "refusing to grade" in refused.stderr
    assert "TFGRADE_ALLOW_NO_CGROUP=1" in refused.stderr and "--allow-no-cgroup" in refused.stderr


@pytest.mark.parametrize(
    "allowed", [({"TFGRADE_ALLOW_NO_CGROUP": "1"}, ()), ({}, ("--allow-no-cgroup",))], ids=["setting", "flag"]
)
def test_allowed_explicitly_it_starts_warns_and_readyz_says_so(
    unit_env: dict[str, str], client: TestClient, tmp_path: Path, allowed: tuple[dict[str, str], tuple[str]]
) -> None:
    env, flags = allowed
    settings = settings_from(unit_env)
    log = tmp_path / "worker.log"
    hostname = "uncapped@test"
    with running(
        {**unit_env, **NO_CGROUP, **env}, log, "worker", "--queues", "grading", "--hostname", hostname, *flags
    ) as worker:
        wait_until(lambda: beaten(settings, hostname) or worker.poll() is not None, 120, "worker heartbeat")
        assert worker.poll() is None, log.read_text()
        assert beaten(settings, hostname) is True
        assert "submissions run WITHOUT memory or pids caps" in log.read_text()
        body = client.get("/readyz").json()
    assert body["uncapped_workers"] == [hostname]
    assert body["warnings"] == [
        f"worker {hostname} runs submissions without memory or pids caps (no cgroup on its host)"
    ]


def test_readyz_names_only_live_workers_without_caps(client: TestClient, settings: Settings) -> None:
    with session_scope(settings.database_url) as session:
        beat(session, "capped")
        beat(session, "uncapped", uncapped=True)
        beat(session, "uncapped-but-gone", uncapped=True)
        gone = session.get(WorkerHeartbeat, "uncapped-but-gone")
        assert gone is not None
        gone.seen_at = utcnow() - timedelta(seconds=settings.worker_stale_seconds + 1)
    body = client.get("/readyz").json()
    assert body["uncapped_workers"] == ["uncapped"]
    assert len(body["warnings"]) == 1 and "uncapped" in body["warnings"][0]


def test_readyz_warns_of_nothing_when_every_worker_is_capped(client: TestClient, settings: Settings) -> None:
    with session_scope(settings.database_url) as session:
        beat(session, "capped")
    body = client.get("/readyz").json()
    assert (body["uncapped_workers"], body["warnings"]) == ([], [])


def beaten(settings: Settings, hostname: str) -> bool | None:
    """Whether the worker's heartbeat says it runs uncapped; None before its first beat."""
    with session_scope(settings.database_url) as session:
        heartbeat = session.get(WorkerHeartbeat, hostname)
        return None if heartbeat is None else heartbeat.uncapped
