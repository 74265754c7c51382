import itertools
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import (
    Backend,
    LiveService,
    Login,
    PostgresBackend,
    Receiver,
    RedisServer,
    SqliteBackend,
    free_port,
    lms,
    log_in,
    new_student,
    postgres,
    ready,
    running,
    settings_from,
    tfgrade,
    wait_until,
    week1_solution,
    week1_template,
)

from app.accounts import create_api_token
from app.main import create_app
from workers.database import get_engine, session_scope
from workers.settings import Settings

BACKENDS = os.environ.get("TFGRADE_TEST_BACKENDS", "sqlite,postgres").split(",")
# One Redis database number per test database on PostgreSQL (Redis's default is 16).
REDIS_DATABASES = 4096
_unit_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with postgres() as url:
        yield url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    server = RedisServer(databases=REDIS_DATABASES)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        return SqliteBackend(root)
    server = request.getfixturevalue("postgres_server")
    return PostgresBackend(root, server, request.getfixturevalue("redis_server"))


@pytest.fixture(scope="session")
def migrated_env(backend: Backend) -> dict[str, str]:
    """Migrated once per backend, then only copied: no test sees what another one left. Mutation testing
    starts a pytest session per mutant and names a data folder it migrated once (migrations are not mutated)."""
    env = backend.new_env("migrated")
    premigrated = os.environ.get("TFGRADE_TEST_MIGRATED_SQLITE_DIR")
    if premigrated and isinstance(backend, SqliteBackend):
        shutil.copytree(premigrated, env["TFGRADE_DATA_DIR"])
    else:
        tfgrade(env, "migrate")
    return env


@pytest.fixture
def unit_env(backend: Backend, migrated_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """This test's own migrated database, and a broker that no worker consumes: tasks stay queued."""
    env = backend.copy_env(migrated_env, f"unit{next(_unit_names)}")
    yield env
    # The engine is cached per URL: without this, every test's pooled connections stay open to the end.
    get_engine(settings_from(env).database_url).dispose()


@pytest.fixture
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


@pytest.fixture
def student(settings: Settings) -> Login:
    return new_student(settings)


@pytest.fixture
def logged_in(client: TestClient, student: Login) -> TestClient:
    log_in(client, student)
    return client


@pytest.fixture(scope="session")
def solution() -> bytes:
    return week1_solution()


@pytest.fixture(scope="session")
def template() -> bytes:
    return week1_template()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with lms() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def live(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The API under uvicorn and one worker process, as `tfgrade api` and `tfgrade worker` run them."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**backend.new_env("live"), "TFGRADE_PUBLIC_URL": url}
    tfgrade(env, "migrate")
    logs = tmp_path_factory.mktemp(f"logs-{backend.name}")
    with (
        running(env, logs / "api.log", "api", "--port", str(port)),
        running(env, logs / "worker.log", "worker", "--concurrency", "1"),
    ):
        wait_until(lambda: ready(url), 180, f"tfgrade at {url} (logs in {logs})")
        yield LiveService(url, env, settings_from(env))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium: Playwright's own browser download cannot work on these machines."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("no chromium or chromium-browser on PATH: run ./scripts/setup.sh --tests")
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
        ],
    }
