import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import UNREACHABLE_CALLBACK, lms_body, signed
from sqlalchemy import func, select

from app.accounts import create_integration
from workers.database import session_scope
from workers.models import Grading, Submission
from workers.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def secret(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        return create_integration(
            session, name=f"lms-{uuid.uuid4().hex}", callback_urls=[UNREACHABLE_CALLBACK]
        )


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post("/api/v1/lms/submissions", content=body, headers=headers)


def stored_for(settings: Settings, external_id: str) -> tuple[int, int]:
    with session_scope(settings.database_url) as session:
        submissions = session.scalar(
            select(func.count(Submission.id)).where(Submission.external_submission_id == external_id)
        )
        gradings = session.scalar(
            select(func.count(Grading.id))
            .join(Grading.submission)
            .where(Submission.external_submission_id == external_id)
        )
    return submissions or 0, gradings or 0


def test_a_signed_submission_is_accepted_once_however_often_it_is_sent(
    client: TestClient, settings: Settings, secret: str, template: bytes
) -> None:
    external_id = uuid.uuid4().hex
    body = lms_body(template, external_id)
    first = post(client, body, signed(secret, body, "msg_1" + external_id))
    assert first.status_code == 202
    assert first.json() == {"submission_id": first.json()["submission_id"], "status": "queued"}
    replay = post(client, body, signed(secret, body, "msg_1" + external_id))
    resent = post(client, body, signed(secret, body, "msg_2" + external_id))
    assert replay.status_code == resent.status_code == 202
    assert replay.json()["submission_id"] == resent.json()["submission_id"] == first.json()["submission_id"]
    assert stored_for(settings, external_id) == (1, 1)
    with session_scope(settings.database_url) as session:
        submission = session.get_one(Submission, first.json()["submission_id"])
        assert (submission.notebook, submission.callback_url) == (template, UNREACHABLE_CALLBACK)


def test_bad_missing_or_stale_signatures_are_refused(
    client: TestClient, settings: Settings, secret: str, template: bytes
) -> None:
    external_id = uuid.uuid4().hex
    body = lms_body(template, external_id)
    wrong_secret = "whsec_" + base64.b64encode(b"x" * 32).decode()
    stale = datetime.now(UTC) - timedelta(minutes=6)
    tampered = lms_body(template, external_id, user_id="someone-else")
    for attempt_body, headers in (
        (body, signed(wrong_secret, body, "msg_a")),
        (body, {"content-type": "application/json"}),
        (body, signed(secret, body, "msg_b", sent_at=stale)),
        (tampered, signed(secret, body, "msg_c")),
    ):
        response = post(client, attempt_body, headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert stored_for(settings, external_id) == (0, 0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"callback_url": "http://attacker.example/steal"}, "not one of the URLs registered"),
        ({"assignment": "no-such-week"}, "no assignment"),
        ({"notebook": "%%%not base64"}, "not valid base64"),
        (
            {"notebook": base64.b64encode((FIXTURES / "not-a-notebook.txt").read_bytes()).decode()},
            "not a Jupyter",
        ),
    ],
)
def test_unusable_submissions_are_refused_and_nothing_is_stored(
    client: TestClient,
    settings: Settings,
    secret: str,
    template: bytes,
    overrides: dict[str, str],
    message: str,
) -> None:
    external_id = uuid.uuid4().hex
    body = lms_body(template, external_id, **overrides)
    response = post(client, body, signed(secret, body, "msg_" + external_id))
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert stored_for(settings, external_id) == (0, 0)
