import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts import add_student, create_api_token, create_integration
from app.main import create_app
from workers.database import session_scope
from workers.migrate import migrate
from workers.models import Grading, Submission, WebhookMessage
from workers.settings import Settings

WEEK1 = "c1w1-housing-prices"
WEEK1_DIR = Path(__file__).resolve().parents[2] / "assignments" / WEEK1
CALLBACK = "http://127.0.0.1:9/lms-callback"


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
        return create_integration(session, name="http-surface-lms", callback_urls=[CALLBACK])


def new_login(settings: Settings, email: str) -> tuple[str, str]:
    with session_scope(settings.database_url) as session:
        created = add_student(session, email=email, name=email)
    return created.email, created.password


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303


def row_counts(settings: Settings) -> tuple[int, int, int]:
    """Submissions, gradings and webhook messages stored: what a refused request must not change."""
    with session_scope(settings.database_url) as session:
        return (
            session.scalar(select(func.count(Submission.id))) or 0,
            session.scalar(select(func.count(Grading.id))) or 0,
            session.scalar(select(func.count(WebhookMessage.id))) or 0,
        )
