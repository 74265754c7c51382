import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_processes import (
    callback_receiver,
    create_database,
    free_port,
    postgres,
    ready,
    redis,
    running,
    tfgrade,
    wait_until,
)
from sqlalchemy import select

from app.accounts import add_student, create_api_token
from app.main import create_app
from app.submissions import queue_grading
from grader import GradeReport
from workers.database import get_session_factory, session_scope
from workers.grading import claim_grading, record_result
from workers.models import Student, Submission
from workers.settings import Settings

BACKENDS = os.environ.get("TFGRADE_TEST_BACKENDS", "sqlite,postgres").split(",")
WEEK1 = "c1w1-housing-prices"
PROJECT = Path(__file__).resolve().parents[2]
WEEK1_DIR = PROJECT / "assignments" / WEEK1
FIXTURES = Path(__file__).parent / "fixtures"
COMMON_ENV = {
    "TFGRADE_SECRET_KEY": "test-secret",
    "TFGRADE_WORKER_HEARTBEAT_SECONDS": "1",
    "TFGRADE_DELIVERY_BACKOFF_SECONDS": "0.2",
    "TFGRADE_DELIVERY_MAX_RETRIES": "3",
}
_names = itertools.count()


@dataclass(frozen=True)
class Backend:
    name: str
    make_env: Callable[[str], dict[str, str]]


def settings_from(env: dict[str, str]) -> Settings:
    return Settings.model_validate(
        {key.removeprefix("TFGRADE_").lower(): value for key, value in env.items()}
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with postgres() as url:
        yield url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    with redis() as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        return Backend("sqlite", lambda name: {**COMMON_ENV, "TFGRADE_DATA_DIR": str(root / name)})
    server = request.getfixturevalue("postgres_server")
    broker = request.getfixturevalue("redis_server")
    databases = itertools.count(1)

    def make_env(name: str) -> dict[str, str]:
        return {
            **COMMON_ENV,
            "TFGRADE_DATA_DIR": str(root / name),
            "TFGRADE_DATABASE_URL": create_database(server, f"tfgrade_{name}"),
            "TFGRADE_BROKER_URL": f"{broker}/{next(databases)}",
        }

    return Backend("postgres", make_env)


@pytest.fixture(scope="session")
def unit_env(backend: Backend) -> dict[str, str]:
    """A migrated database and a broker that no worker consumes: tasks stay queued."""
    env = backend.make_env("unit")
    tfgrade(env, "migrate")
    return env


@pytest.fixture(scope="session")
def settings(unit_env: dict[str, str]) -> Settings:
    return settings_from(unit_env)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def token(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        return create_api_token(session, name="tests")


@pytest.fixture
def instructor(client: TestClient, token: str) -> TestClient:
    client.headers["authorization"] = f"Bearer {token}"
    return client


@dataclass(frozen=True)
class Login:
    email: str
    password: str


def new_student(settings: Settings) -> Login:
    email = f"student{next(_names)}-{os.getpid()}@example.com"
    with session_scope(settings.database_url) as session:
        created = add_student(session, email=email, name=f"Student {email}")
    return Login(created.email, created.password)


@pytest.fixture
def student(settings: Settings) -> Login:
    return new_student(settings)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(client: TestClient, login: Login) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": login.email, "password": login.password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303


@pytest.fixture
def logged_in(client: TestClient, student: Login) -> TestClient:
    log_in(client, student)
    return client


def upload(client: TestClient, notebook: bytes, slug: str = WEEK1) -> Any:
    token = csrf_from(client.get(f"/assignments/{slug}").text)
    return client.post(
        f"/assignments/{slug}/submissions",
        data={"csrf_token": token},
        files={"notebook": ("mine.ipynb", notebook, "application/octet-stream")},
        follow_redirects=False,
    )


@pytest.fixture(scope="session")
def solution() -> bytes:
    return (WEEK1_DIR / "solution.ipynb").read_bytes()


@pytest.fixture(scope="session")
def template() -> bytes:
    return (WEEK1_DIR / "template.ipynb").read_bytes()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An LMS on loopback: records every callback and answers with the next planned status."""

    url: str
    received: "Queue[Received]" = field(default_factory=Queue)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    lms = Receiver(url="")

    def answer(headers: dict[str, str], body: bytes) -> int:
        lms.received.put(Received(headers, body))
        return lms.statuses.pop(0) if lms.statuses else 204

    with callback_receiver(answer) as url:
        lms.url = url
        yield lms


@dataclass(frozen=True)
class LiveService:
    url: str
    env: dict[str, str]
    settings: Settings


@pytest.fixture(scope="session")
def live(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The API under uvicorn and one worker process, as `tfgrade api` and `tfgrade worker` run them."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**backend.make_env("live"), "TFGRADE_PUBLIC_URL": url}
    tfgrade(env, "migrate")
    logs = tmp_path_factory.mktemp(f"logs-{backend.name}")
    with (
        running(env, logs / "api.log", "api", "--port", str(port)),
        running(env, logs / "worker.log", "worker", "--concurrency", "1"),
    ):
        wait_until(lambda: ready(url), 180, f"tfgrade at {url} (logs in {logs})")
        yield LiveService(url, env, settings_from(env))


def week1_folder(root: Path, *, solution: bytes) -> Path:
    """An assignments folder holding a copy of week 1 with the given solution; returns the folder."""
    copy = root / WEEK1
    shutil.copytree(WEEK1_DIR, copy)
    (copy / "solution.ipynb").write_bytes(solution)
    return root


def wrong_solution(solution: bytes) -> bytes:
    """Week 1's solution as a broken environment grades it: its training imports a module the sandbox does
    not have, so it no longer earns full marks (and fails fast, without training)."""
    training = b"model.fit(n_bedrooms, price_in_hundreds_of_thousands, epochs=500, verbose=0)"
    wrong = solution.replace(training, b"import a_module_this_sandbox_lacks")
    assert wrong != solution, "the solution's training line moved; update this helper"
    return wrong


def submit(settings: Settings, login: Login, notebook: bytes) -> str:
    """Stores and queues a submission the way the upload form does, without its cooldown."""
    with get_session_factory(settings.database_url)() as session:
        owner = session.scalars(select(Student).where(Student.email == login.email)).one()
        submission = Submission(
            assignment=WEEK1, student_id=owner.id, filename="mine.ipynb", notebook=notebook
        )
        queue_grading(session, settings, submission, reason="upload")
        return submission.id


def latest_grading(settings: Settings, submission_id: str) -> int:
    with session_scope(settings.database_url) as session:
        return session.get_one(Submission, submission_id).gradings[-1].id


def week1_report(points: float, status: str = "graded") -> GradeReport:
    check = {"name": "c", "exercise": "e", "points": points, "max_points": 10.0}
    return GradeReport.model_validate(
        {
            "assignment": WEEK1,
            "assignment_version": "1",
            "status": status,
            "message": "",
            "checks": [{**check, "passed": points == 10, "hidden": False, "message": ""}],
            "grader_version": "1",
        }
    )


def finish_grading(settings: Settings, submission_id: str, points: float, worker: str = "tests") -> list[int]:
    """Runs the worker's bookkeeping around a report given here instead of one from the sandbox."""
    grading_id = latest_grading(settings, submission_id)
    with session_scope(settings.database_url) as session:
        claim = claim_grading(session, grading_id, worker=worker, stale_seconds=60)
    assert claim is not None
    with session_scope(settings.database_url) as session:
        return record_result(session, claim, week1_report(points).with_submission_id(submission_id), 2.5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium: Playwright's own browser download cannot work on these machines."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
        ],
    }
