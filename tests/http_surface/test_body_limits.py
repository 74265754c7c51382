"""A request body larger than any allowed notebook needs is refused while it arrives, before a form is
parsed or a webhook's signature checked, declared or not; a notebook just over the limit still gets
grading's own message."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from helpers import WEEK1, WEEK1_DIR, csrf_from, log_in, new_student
from sqlalchemy import func, select

from app.main import create_app
from app.uploads import request_body_limit
from workers.database import session_scope
from workers.models import Submission
from workers.settings import Settings

MAX_UPLOAD_BYTES = 64 * 1024
TEMPLATE = (WEEK1_DIR / "template.ipynb").read_bytes()


@pytest.fixture
def small(settings: Settings) -> Iterator[TestClient]:
    """The app with a small upload limit, so that going over it is cheap."""
    limited = settings.model_copy(update={"max_upload_bytes": MAX_UPLOAD_BYTES})
    with TestClient(create_app(limited)) as client:
        yield client


def stored_submissions(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return session.scalar(select(func.count(Submission.id))) or 0


def chunks(size: int) -> Iterator[bytes]:
    """A body sent in pieces without a Content-Length, as a chunked request is."""
    for start in range(0, size, 16 * 1024):
        yield b" " * min(16 * 1024, size - start)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_webhook_is_refused_before_its_signature_is_checked(
    small: TestClient, settings: Settings, declared: bool
) -> None:
    size = request_body_limit(MAX_UPLOAD_BYTES) + 1
    before = stored_submissions(settings)
    response = small.post(
        "/api/v1/lms/submissions",
        content=b" " * size if declared else chunks(size),
        headers={"content-type": "application/json", "webhook-id": "msg_big"},
    )
    assert response.status_code == 413, response.text
    assert stored_submissions(settings) == before


def test_an_upload_larger_than_any_notebook_is_refused_and_one_just_over_the_limit_explained(
    small: TestClient, settings: Settings
) -> None:
    log_in(small, new_student(settings))
    token = csrf_from(small.get(f"/assignments/{WEEK1}").text)
    before = stored_submissions(settings)

    def send(notebook: bytes) -> httpx.Response:
        return small.post(
            f"/assignments/{WEEK1}/submissions",
            data={"csrf_token": token},
            files={"notebook": ("mine.ipynb", notebook, "application/octet-stream")},
            follow_redirects=False,
        )

    huge = send(TEMPLATE[:-1] + b" " * request_body_limit(MAX_UPLOAD_BYTES) + b"}")
    just_over = send(TEMPLATE[:-1] + b" " * (MAX_UPLOAD_BYTES - len(TEMPLATE) + 1) + b"}")
    assert huge.status_code == 413
    assert just_over.status_code == 422
    assert "larger than the" in just_over.text
    assert stored_submissions(settings) == before
