"""The whole service as separate processes (Redis, API, workers; PostgreSQL is shared), with handles to
kill and restart each of them, and an LMS on loopback that records the callbacks."""

import base64
import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from service_processes import (
    callback_receiver,
    create_database,
    free_port,
    healthy,
    ready,
    running,
    tfgrade,
    wait_until,
)
from sqlalchemy import select
from standardwebhooks import Webhook

from app.accounts import create_integration
from workers.database import session_scope
from workers.models import Delivery, DeliveryState, Grading, GradingState, Submission
from workers.settings import Settings

WEEK1 = "c1w1-housing-prices"
PROJECT = Path(__file__).resolve().parents[2]
WEEK1_DIR = PROJECT / "assignments" / WEEK1
STALE_SECONDS = 5
_counter = iter(range(1, 1_000_000))


@dataclass
class Callback:
    headers: dict[str, str]
    body: bytes

    @property
    def report(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Lms:
    """An LMS on loopback: records every callback it is sent and answers 204."""

    url: str
    callbacks: list[Callback] = field(default_factory=list)

    def for_submission(self, submission_id: str) -> list[Callback]:
        return [c for c in list(self.callbacks) if c.report.get("submission_id") == submission_id]


@contextmanager
def lms() -> Iterator[Lms]:
    receiver = Lms(url="")

    def answer(headers: dict[str, str], body: bytes) -> int:
        receiver.callbacks.append(Callback(headers, body))
        return 204

    with callback_receiver(answer) as url:
        receiver.url = url
        yield receiver


class RedisServer:
    """A Redis that keeps its data across restarts (append-only file), as docker-compose runs it."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
            + ["--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self.answers, 10, "redis")

    def answers(self) -> bool:
        import socket

        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def forget_everything(self) -> None:
        """What a Redis without persistence does when it restarts: every message is gone."""
        with redis.Redis(port=self.port) as client:
            client.flushall()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class Stack:
    """API, grading workers and a Redis for one test; each can be killed and started again."""

    def __init__(self, root: Path, server_url: str, receiver: Lms, exits: ExitStack) -> None:
        self.root = root
        self.exits = exits
        self.lms = receiver
        self.redis = RedisServer(root / "redis")
        self.redis.start()
        exits.callback(self.redis.stop)
        self.database_name = f"tfgrade_faults_{next(_counter)}_{os.getpid()}"
        self.server_url = server_url
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.env = {
            "TFGRADE_SECRET_KEY": "test-secret",
            "TFGRADE_DATA_DIR": str(root / "data"),
            "TFGRADE_DATABASE_URL": create_database(server_url, self.database_name),
            "TFGRADE_BROKER_URL": self.redis.url,
            "TFGRADE_PUBLIC_URL": self.url,
            "TFGRADE_WORKER_HEARTBEAT_SECONDS": "1",
            "TFGRADE_WORKER_STALE_SECONDS": str(STALE_SECONDS),
            "TFGRADE_DELIVERY_BACKOFF_SECONDS": "0.5",
            "TFGRADE_DELIVERY_MAX_RETRIES": "6",
        }
        tfgrade(self.env, "migrate")
        self.settings = Settings.model_validate(
            {key.removeprefix("TFGRADE_").lower(): value for key, value in self.env.items()}
        )
        with session_scope(self.settings.database_url) as session:
            self.secret = create_integration(session, name="lms", callback_urls=[receiver.url])
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self._starts = iter(range(1, 1000))

    def _run(self, name: str, *arguments: str) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}-{next(self._starts)}.log"
        return self.exits.enter_context(running(self.env, log, *arguments))

    def start_api(self) -> None:
        self.api = self._run("api", "api", "--port", str(self.port))
        wait_until(lambda: healthy(self.url), 60, f"the API (logs in {self.root})")

    def kill_api(self) -> None:
        assert self.api is not None
        self.api.kill()
        self.api.wait()

    def start_worker(self, hostname: str = "worker-a", concurrency: int = 1) -> None:
        self.workers[hostname] = self._run(
            f"worker-{hostname}", "worker", "--hostname", hostname, "--concurrency", str(concurrency)
        )

    def kill_worker(self, hostname: str = "worker-a") -> None:
        worker = self.workers.pop(hostname)
        worker.kill()
        worker.wait()

    def busy_sandboxes(self, submission_id: str, hostname: str = "worker-a") -> set[int]:
        """The sandbox processes under a worker once this submission is running in one."""
        self.wait_running(submission_id)
        pid = self.workers[hostname].pid
        wait_until(lambda: bool(job_processes(pid)), 60, "a sandbox at work")
        return set(job_processes(pid))

    def wait_gone(self, pids: set[int]) -> None:
        """Waits until these sandboxes ended: the worker is then writing the result."""
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids), 120, "the sandbox to end")

    def wait_ready(self) -> None:
        wait_until(lambda: ready(self.url), 120, f"tfgrade ready (logs in {self.root})")

    def submit(self, notebook: bytes, external_id: str | None = None) -> str:
        """Posts a signed LMS webhook; returns the submission id the service answered with."""
        external_id = external_id or uuid.uuid4().hex
        body = json.dumps(
            {
                "assignment": WEEK1,
                "user_id": f"user-{external_id}",
                "external_submission_id": external_id,
                "notebook": base64.b64encode(notebook).decode(),
                "callback_url": self.lms.url,
            }
        )
        sent_at = datetime.now(UTC)
        webhook_id = f"msg_{external_id}"
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(self.secret).sign(webhook_id, sent_at, body),
            "content-type": "application/json",
        }
        response = httpx.post(f"{self.url}/api/v1/lms/submissions", content=body, headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        submission_id: str = response.json()["submission_id"]
        return submission_id

    def grading(self, submission_id: str) -> Grading:
        with session_scope(self.settings.database_url) as session:
            return session.get_one(Submission, submission_id).gradings[-1]

    def wait_running(self, submission_id: str, timeout: float = 120) -> None:
        wait_until(
            lambda: self.grading(submission_id).state == GradingState.RUNNING,
            timeout,
            f"grading of {submission_id} (logs in {self.root})",
        )

    def wait_final(self, submission_ids: list[str], timeout: float) -> None:
        def all_final() -> bool:
            with session_scope(self.settings.database_url) as session:
                found = session.scalars(select(Submission).where(Submission.id.in_(submission_ids))).all()
                return len(found) == len(submission_ids) and all(s.status is not None for s in found)

        wait_until(all_final, timeout, f"final results (logs in {self.root})")

    def set_database_reachable(self, reachable: bool) -> None:
        """Refuses (or allows again) every connection to this stack's database, dropping open ones."""
        plain = self.server_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
            connection.execute(
                f'ALTER DATABASE "{self.database_name}" ALLOW_CONNECTIONS {"true" if reachable else "false"}'
            )
            if not reachable:
                connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (self.database_name,),
                )

    def assert_each_final_once(self, expected: dict[str, tuple[str, float]], timeout: float = 60) -> None:
        """One final result per submission, with the expected status and score, and its callback
        delivered: at least once, always with the same webhook-id, signed, carrying that result."""

        def delivered() -> bool:
            with session_scope(self.settings.database_url) as session:
                states = session.scalars(
                    select(Delivery.state).where(Delivery.submission_id.in_(list(expected)))
                ).all()
            return len(states) >= len(expected) and all(s == DeliveryState.DELIVERED for s in states)

        wait_until(delivered, timeout, f"callbacks delivered (logs in {self.root})")
        with session_scope(self.settings.database_url) as session:
            for submission_id, (status, score) in expected.items():
                submission = session.get_one(Submission, submission_id)
                gradings = [(g.state, g.status, g.attempts) for g in submission.gradings]
                report = submission.result.report if submission.result else None
                assert [g[:2] for g in gradings] == [(GradingState.DONE, status)], (gradings, report)
                assert submission.result_grading_id == submission.gradings[0].id
                assert (submission.status, submission.score) == (status, score), report
                deliveries = session.scalars(
                    select(Delivery).where(Delivery.submission_id == submission_id)
                ).all()
                assert len(deliveries) == 1, f"{len(deliveries)} deliveries for {submission_id}"
                callbacks = self.lms.for_submission(submission_id)
                assert callbacks, f"no callback for {submission_id}"
                assert {c.headers["webhook-id"] for c in callbacks} == {deliveries[0].webhook_id}
                for callback in callbacks:
                    Webhook(self.secret).verify(callback.body, callback.headers)
                    assert (callback.report["status"], callback.report["score"]) == (status, score)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def job_processes(worker_pid: int) -> list[int]:
    """The processes running a job under a worker (not the zygotes waiting for one)."""
    return [pid for pid in descendants(worker_pid) if process_name(pid) == "tfgrade-job"]


def busy_zygotes(worker_pid: int) -> list[int]:
    """The zygotes under a worker that are running a job right now."""
    jobs = job_processes(worker_pid)
    return sorted({parent for pid in jobs if process_name(parent := parent_pid(pid)) == "tfgrade-zygote"})


def parent_pid(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), 0)


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
