"""The whole service as separate processes (Redis, API, workers; PostgreSQL is shared), with handles to
kill and restart each of them, and an LMS on loopback that records the callbacks."""

import itertools
import subprocess
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
from helpers import (
    SERVICE_ENV,
    Receiver,
    RedisServer,
    allow_connections,
    cpu_seconds,
    create_database,
    descendants,
    free_port,
    healthy,
    lms_body,
    named_descendants,
    parent_pid,
    ready,
    running,
    settings_from,
    signed,
    tfgrade,
    wait_until,
)
from sqlalchemy import select
from standardwebhooks import Webhook

from app.accounts import create_integration
from workers.database import session_scope
from workers.models import Delivery, DeliveryState, Grading, GradingState, Submission

STALE_SECONDS = 5
JOB = "tfgrade-job"
ZYGOTE = "tfgrade-zygote"
_databases = itertools.count(1)


class Stack:
    """API, grading workers and a Redis for one test; each can be killed and started again."""

    def __init__(
        self, root: Path, server_url: str, receiver: Receiver, exits: ExitStack, settings: dict[str, str]
    ) -> None:
        self.root = root
        self.exits = exits
        self.lms = receiver
        self.redis = RedisServer(root / "redis")
        self.redis.start()
        exits.callback(self.redis.stop)
        self.database_name = f"tfgrade_faults_{next(_databases)}"
        self.server_url = server_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **SERVICE_ENV,
            "TFGRADE_DATA_DIR": str(root / "data"),
            "TFGRADE_DATABASE_URL": create_database(server_url, self.database_name),
            "TFGRADE_BROKER_URL": f"{self.redis.url}/0",
            "TFGRADE_PUBLIC_URL": self.url,
            "TFGRADE_WORKER_STALE_SECONDS": str(STALE_SECONDS),
            "TFGRADE_DELIVERY_BACKOFF_SECONDS": "0.5",
            "TFGRADE_DELIVERY_MAX_RETRIES": "6",
            **settings,
        }
        tfgrade(self.env, "migrate")
        self.settings = settings_from(self.env)
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
        wait_until(lambda: bool(named_descendants(pid, JOB)), 60, "a sandbox at work")
        return set(named_descendants(pid, JOB))

    def wait_gone(self, pids: set[int], hostname: str = "worker-a") -> None:
        """Waits until these sandboxes ended: the worker is then writing the result."""
        worker = self.workers[hostname].pid
        wait_until(lambda: not pids & set(descendants(worker)), 120, "the sandbox to end")

    def busy_zygotes(self, hostname: str = "worker-a") -> list[int]:
        """The zygotes under a worker that are running a job right now."""
        worker = self.workers[hostname].pid
        zygotes = set(named_descendants(worker, ZYGOTE))
        return sorted(zygotes & {parent_pid(job) for job in named_descendants(worker, JOB)})

    def job_cpu_seconds(self, hostname: str = "worker-a") -> float:
        """CPU time the jobs under a worker used so far: how far into a notebook they are."""
        return sum(cpu_seconds(job) for job in named_descendants(self.workers[hostname].pid, JOB))

    def wait_ready(self) -> None:
        wait_until(lambda: ready(self.url), 120, f"tfgrade ready (logs in {self.root})")

    def submit(self, notebook: bytes, external_id: str | None = None) -> str:
        """Posts a signed LMS webhook; returns the submission id the service answered with."""
        external_id = external_id or uuid.uuid4().hex
        body = lms_body(notebook, external_id, callback_url=self.lms.url)
        headers = signed(self.secret, body, f"msg_{external_id}")
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
        allow_connections(self.server_url, self.database_name, reachable)

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
