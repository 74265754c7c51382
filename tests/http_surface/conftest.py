from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import UNREACHABLE_CALLBACK, LiveApi, free_port, healthy, running, tfgrade, wait_until

from app.accounts import create_api_token, create_integration
from app.main import create_app
from workers.database import session_scope
from workers.migrate import migrate
from workers.settings import Settings


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The embedded database and queue in a scratch folder; no worker consumes, so uploads stay queued."""
    configured = Settings(data_dir=tmp_path_factory.mktemp("http"), secret_key="test-secret")
    migrate(configured)
    return configured


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def token(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        return create_api_token(session, name="http-surface")


@pytest.fixture(scope="session")
def secret(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        return create_integration(session, name="http-surface-lms", callback_urls=[UNREACHABLE_CALLBACK])


@pytest.fixture
def live_api(tmp_path: Path) -> Iterator[LiveApi]:
    """The API alone under uvicorn with a database of its own, as `tfgrade api` runs it."""
    env = {"TFGRADE_DATA_DIR": str(tmp_path), "TFGRADE_SECRET_KEY": "test-secret"}
    tfgrade(env, "migrate")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(env, tmp_path / "api.log", "api", "--port", str(port)) as server:
        wait_until(lambda: healthy(url), 60, f"the API at {url}")
        yield LiveApi(url, Settings(data_dir=tmp_path, secret_key="test-secret"), server.pid)
