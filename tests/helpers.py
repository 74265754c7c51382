"""What the test folders share: week-1 notebooks, logins and uploads, signed LMS webhooks, report views,
and real servers on loopback (PostgreSQL, Redis, the API and workers) with the processes under them."""

import base64
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from queue import Queue
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import redis as redis_client
from sqlalchemy import select
from standardwebhooks import Webhook

from app.accounts import add_student
from app.submissions import queue_grading
from grader import GradeReport
from workers.database import get_session_factory, session_scope
from workers.grading import claim_grading, record_result
from workers.models import Student, Submission
from workers.settings import Settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

PROJECT = Path(__file__).resolve().parents[1]
WEEK1 = "c1w1-housing-prices"
WEEK1_DIR = PROJECT / "assignments" / WEEK1
WEEK1_TRAINING = "model.fit(houses, epochs=500, steps_per_epoch=1, shuffle=False, verbose=0)"
# Port 9 (discard) on loopback: nothing answers there, so nothing is ever delivered.
UNREACHABLE_CALLBACK = "http://127.0.0.1:9/lms-callback"
POSTGRES_ROOT = Path("/usr/lib/postgresql")


# Reports


def points_by_check(report: GradeReport) -> dict[str, float]:
    return {check.name: check.points for check in report.checks}


def exercise_statuses(report: GradeReport) -> dict[str, str]:
    return {exercise.name: exercise.status.value for exercise in report.exercises}


def course_cell(source: str, *, graded: bool = False, frozen: bool = False) -> dict[str, Any]:
    """A code cell as the course's notebooks write them: tagged `graded`, and not editable if frozen."""
    metadata: dict[str, Any] = {"deletable": False}
    if frozen:
        metadata["editable"] = False
    if graded:
        metadata["tags"] = ["graded"]
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": metadata,
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


# Week-1 notebooks whose right score is known, derived from the assignment's own solution


def week1_solution() -> bytes:
    """Full marks (10) after about a second of training."""
    return (WEEK1_DIR / "solution.ipynb").read_bytes()


def trains_on_arrays() -> bytes:
    """Full marks (10), trained as most students write it, fit on the arrays for 500 epochs: about 15 s on
    one core, a window to watch a grading, or to kill it, mid-training."""
    return with_training(
        week1_solution(), "model.fit(n_bedrooms, price_in_hundreds_of_thousands, epochs=500, verbose=0)"
    )


def week1_template() -> bytes:
    """Untouched: nothing runs, 0 points."""
    return (WEEK1_DIR / "template.ipynb").read_bytes()


def with_training(solution: bytes, replacement: str) -> bytes:
    """The week-1 solution with its training call (inside train_model) replaced by `replacement`."""
    notebook = json.loads(solution)
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if WEEK1_TRAINING in source:
            cell["source"] = source.replace(WEEK1_TRAINING, replacement)
            return json.dumps(notebook).encode()
    raise AssertionError("the week-1 solution no longer trains with the expected call")


def untrained() -> bytes:
    """Exercises 1 and 2 right, the model returned untrained: 6 points, in well under a second."""
    return with_training(week1_solution(), "pass")


def sleeps_then_skips_training() -> bytes:
    """Like `untrained`, but sits 8 s in train_model first: a window to kill things mid-grade."""
    return with_training(week1_solution(), "import time\n    time.sleep(8)")


def wrong_solution(solution: bytes) -> bytes:
    """Week 1's solution as a broken environment grades it: its training imports a module the sandbox does
    not have, so it no longer earns full marks (and fails fast, without training)."""
    return with_training(solution, "import a_module_this_sandbox_lacks")


@contextmanager
def week1_folder(*, solution: bytes) -> Iterator[Path]:
    """An assignments folder holding a copy of week 1 with the given solution. It lives under /tmp, where
    the sandbox user can read week 1's support files; pytest's own folders are for the test's user alone."""
    with tempfile.TemporaryDirectory(prefix="tfgrade-week1-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        copy = root / WEEK1
        shutil.copytree(WEEK1_DIR, copy)
        (copy / "solution.ipynb").write_bytes(solution)
        yield root


# Students on the web pages


@dataclass(frozen=True)
class Login:
    email: str
    password: str


def settings_from(env: dict[str, str]) -> Settings:
    return Settings.model_validate(
        {key.removeprefix("TFGRADE_").lower(): value for key, value in env.items()}
    )


def new_student(settings: Settings) -> Login:
    email = f"student-{uuid.uuid4().hex}@example.com"
    with session_scope(settings.database_url) as session:
        created = add_student(session, email=email, name=f"Student {email}")
    return Login(created.email, created.password)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(client: "TestClient", login: Login) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": login.email, "password": login.password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303


def upload(client: "TestClient", notebook: bytes, slug: str = WEEK1) -> httpx.Response:
    """Sends a notebook through the assignment page's upload form, as a logged-in student."""
    token = csrf_from(client.get(f"/assignments/{slug}").text)
    return client.post(
        f"/assignments/{slug}/submissions",
        data={"csrf_token": token},
        files={"notebook": ("mine.ipynb", notebook, "application/x-ipynb+json")},
        follow_redirects=False,
    )


def at_once(
    client: "TestClient", *requests: Callable[["TestClient"], Any], wait_seconds: float = 60
) -> list[Any]:
    """Sends the requests from threads of their own, each with its own client (same cookies and headers)."""
    responses: list[Any] = [None] * len(requests)

    def send(index: int) -> None:
        from fastapi.testclient import TestClient

        own = TestClient(
            client.app, raise_server_exceptions=False, cookies=client.cookies, headers=client.headers
        )
        responses[index] = requests[index](own)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(wait_seconds)
    return responses


# Gradings without a sandbox


def submit(settings: Settings, login: Login, notebook: bytes) -> str:
    """Stores and queues a week-1 submission the way the upload form does, without its cooldown."""
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


def week1_report(points: float) -> GradeReport:
    check = {"name": "c", "exercise": "e", "points": points, "max_points": 10.0}
    return GradeReport.model_validate(
        {
            "assignment": WEEK1,
            "assignment_version": "1",
            "status": "graded",
            "message": "",
            "checks": [{**check, "passed": points == 10, "hidden": False, "message": ""}],
            "grader_version": "1",
        }
    )


def finish_grading(
    settings: Settings,
    submission_id: str,
    points: float,
    worker: str = "tests",
    metadata: dict[str, Any] | None = None,
) -> list[int]:
    """Runs the worker's bookkeeping around a report given here instead of one from the sandbox."""
    grading_id = latest_grading(settings, submission_id)
    with session_scope(settings.database_url) as session:
        claim = claim_grading(session, grading_id, worker=worker, stale_seconds=60)
    assert claim is not None
    report = week1_report(points).model_copy(update={"metadata": metadata or {}})
    with session_scope(settings.database_url) as session:
        return record_result(session, claim, report.with_submission_id(submission_id), 2.5)


# LMS webhooks


def lms_body(content: bytes, external_id: str, /, **overrides: Any) -> bytes:
    """An LMS submission of `content` to week 1; `overrides` replace or add any field."""
    payload = {
        "assignment": WEEK1,
        "user_id": f"lms-user-{external_id}",
        "external_submission_id": external_id,
        "notebook": base64.b64encode(content).decode(),
        **overrides,
    }
    return json.dumps(payload).encode()


def signed(secret: str, body: bytes, webhook_id: str, sent_at: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers signing `body` with the integration's secret."""
    sent_at = sent_at or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body.decode()),
        "content-type": "application/json",
    }


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def report(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """An LMS on loopback: records every callback (in order in `received`, all of them in `callbacks`) and
    answers with the next planned status, then 204."""

    url: str = ""
    received: "Queue[Received]" = field(default_factory=Queue)
    callbacks: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        callback = Received(headers, body)
        self.callbacks.append(callback)
        self.received.put(callback)
        return self.statuses.pop(0) if self.statuses else 204

    def for_submission(self, submission_id: str) -> list[Received]:
        return [c for c in list(self.callbacks) if c.report.get("submission_id") == submission_id]


@contextmanager
def lms() -> Iterator[Receiver]:
    """A Receiver listening on a free loopback port until the block ends."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the handler API's name
            body = self.rfile.read(int(self.headers["content-length"]))
            status = receiver.answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/callback"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# Waiting


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


# PostgreSQL


def postgres_bin() -> Path:
    """The newest PostgreSQL server installed from Debian's packages (scripts/setup.sh --tests)."""
    found = [
        initdb.parent for initdb in POSTGRES_ROOT.glob("*/bin/initdb") if initdb.parent.parent.name.isdigit()
    ]
    if not found:
        raise RuntimeError(
            f"no PostgreSQL server under {POSTGRES_ROOT}/<version>/bin: "
            "run ./scripts/setup.sh --tests (it installs Debian's postgresql package)"
        )
    return max(found, key=lambda folder: int(folder.parent.name))


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields a server URL without a database name."""
    binaries = postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="tfgrade-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    subprocess.run(
        [*as_postgres, binaries / "initdb", "-D", data, "-A", "trust", "--no-sync", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {folder} -h 127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        [*as_postgres, binaries / "pg_ctl", "-D", data, "-o", options, "-l", folder / "log", "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """A new database on the server (a copy of `template` when given); returns its URL."""
    copy_of = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(f"{_libpq_url(server_url)}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"{copy_of}')
    return f"{server_url}/{name}"


def allow_connections(server_url: str, name: str, allowed: bool) -> None:
    """Refuses (or allows again) every connection to a database, dropping the open ones."""
    with psycopg.connect(f"{_libpq_url(server_url)}/postgres", autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )


def _libpq_url(server_url: str) -> str:
    return server_url.replace("postgresql+psycopg://", "postgresql://")


# Redis


class RedisServer:
    """A Redis on loopback that can be stopped and started again on the same port. Given a folder, it keeps
    its data across restarts (append-only file), as docker-compose runs it."""

    def __init__(self, folder: Path | None = None, databases: int = 16) -> None:
        self.folder = folder
        self.databases = databases
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        arguments += ["--databases", str(self.databases)]
        if self.folder is None:
            arguments += ["--appendonly", "no"]
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            arguments += ["--appendonly", "yes", "--dir", str(self.folder)]
        self.process = subprocess.Popen(["redis-server", *arguments], stdout=subprocess.DEVNULL)
        wait_until(lambda: _accepts(self.port), 10, "redis")

    def forget_everything(self) -> None:
        """What a Redis without persistence does when it restarts: every message is gone."""
        with redis_client.Redis(port=self.port) as client:
            client.flushall()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


# tfgrade itself


def tfgrade(env: dict[str, str], *arguments: str) -> str:
    """Runs the CLI as a script would; returns its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *arguments],
        env={**os.environ, **env},
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@contextmanager
def running(env: dict[str, str], log: Path, *arguments: str) -> Iterator[subprocess.Popen[bytes]]:
    """`tfgrade <arguments>` in the background, its output in `log`, stopped when the block ends."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *arguments],
            env={**os.environ, **env},
            cwd=PROJECT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def healthy(url: str) -> bool:
    """The API answers (whether or not a worker and the broker are there)."""
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# Where a service under test keeps its data

SERVICE_ENV = {
    "TFGRADE_SECRET_KEY": "test-secret",
    "TFGRADE_WORKER_HEARTBEAT_SECONDS": "1",
    "TFGRADE_DELIVERY_BACKOFF_SECONDS": "0.2",
    "TFGRADE_DELIVERY_MAX_RETRIES": "3",
}


class Backend(ABC):
    """Storage for a service under test: new and empty per name, or a copy of one already migrated (a
    test's own database costs a file copy or a CREATE DATABASE ... TEMPLATE, not a migration)."""

    name: str

    @abstractmethod
    def new_env(self, name: str) -> dict[str, str]: ...

    @abstractmethod
    def copy_env(self, migrated: dict[str, str], name: str) -> dict[str, str]: ...


class SqliteBackend(Backend):
    """The embedded defaults: database and queue are SQLite files in the data folder."""

    name = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root

    def new_env(self, name: str) -> dict[str, str]:
        return {**SERVICE_ENV, "TFGRADE_DATA_DIR": str(self.root / name)}

    def copy_env(self, migrated: dict[str, str], name: str) -> dict[str, str]:
        env = self.new_env(name)
        shutil.copytree(migrated["TFGRADE_DATA_DIR"], env["TFGRADE_DATA_DIR"])
        return env


class PostgresBackend(Backend):
    """A database of its own on a shared PostgreSQL server, and a Redis database number of its own."""

    name = "postgres"

    def __init__(self, root: Path, server_url: str, broker_url: str) -> None:
        self.root = root
        self.server_url = server_url
        self.broker_url = broker_url
        self.broker_databases = itertools.count(1)

    def new_env(self, name: str, template: str | None = None) -> dict[str, str]:
        return {
            **SERVICE_ENV,
            "TFGRADE_DATA_DIR": str(self.root / name),
            "TFGRADE_DATABASE_URL": create_database(self.server_url, f"tfgrade_{name}", template),
            "TFGRADE_BROKER_URL": f"{self.broker_url}/{next(self.broker_databases)}",
        }

    def copy_env(self, migrated: dict[str, str], name: str) -> dict[str, str]:
        return self.new_env(name, template=migrated["TFGRADE_DATABASE_URL"].rsplit("/", 1)[1])


@dataclass(frozen=True)
class LiveApi:
    """The API alone under uvicorn; `pid` is its server process."""

    url: str
    settings: Settings
    pid: int


@dataclass(frozen=True)
class LiveService:
    url: str
    env: dict[str, str]
    settings: Settings


# Processes a test started (never the rest of the machine: other suites may run beside this one)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, found through its own tree (/proc/PID/task/TID/children)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        threads = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return children  # it ended
    for thread in threads:
        try:
            children += [int(child) for child in (thread / "children").read_text().split()]
        except OSError:
            continue
    return children


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def parent_pid(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), 0)


def named_descendants(pid: int, name: str) -> list[int]:
    return [child for child in descendants(pid) if process_name(child) == name]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
