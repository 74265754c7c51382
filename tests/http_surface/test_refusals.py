"""Malformed uploads, bad webhook signatures and students on routes that are not theirs: each gets a
precise 4xx and nothing is left half-written in the database."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from helpers import (
    UNREACHABLE_CALLBACK,
    WEEK1,
    csrf_from,
    lms_body,
    log_in,
    new_student,
    signed,
    upload,
    week1_template,
)
from sqlalchemy import func, select

from workers.database import session_scope
from workers.models import Grading, Submission, WebhookMessage
from workers.settings import Settings

TEMPLATE = week1_template()


def row_counts(settings: Settings) -> tuple[int, int, int]:
    """Submissions, gradings and webhook messages stored: what a refused request must not change."""
    with session_scope(settings.database_url) as session:
        return (
            session.scalar(select(func.count(Submission.id))) or 0,
            session.scalar(select(func.count(Grading.id))) or 0,
            session.scalar(select(func.count(WebhookMessage.id))) or 0,
        )


@pytest.fixture
def student(client: TestClient, settings: Settings) -> TestClient:
    log_in(client, new_student(settings))
    return client


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (TEMPLATE[: len(TEMPLATE) // 2], "not a Jupyter notebook"),
        (bytes(range(256)) * 64, "not a Jupyter notebook"),
        (b'{"cells": "none"}', "it has no list of cells"),
        (json.dumps({"cells": [], "metadata": {}}).encode(), "only format 4"),
    ],
    ids=["empty", "truncated", "binary", "json-without-cells", "not-format-4"],
)
def test_unusable_uploads_are_refused_with_a_message_and_nothing_stored(
    student: TestClient, settings: Settings, content: bytes, message: str
) -> None:
    before = row_counts(settings)
    response = upload(student, content)
    assert response.status_code == 422
    assert message in response.text
    assert row_counts(settings) == before


def test_an_oversized_upload_is_refused_and_nothing_stored(student: TestClient, settings: Settings) -> None:
    before = row_counts(settings)
    padding = " " * (settings.max_upload_bytes + 1 - len(TEMPLATE))
    response = upload(student, TEMPLATE[:-1] + padding.encode() + b"}")
    assert response.status_code == 422
    assert "larger than the" in response.text
    assert row_counts(settings) == before


def test_a_form_post_that_is_not_multipart_is_refused_and_nothing_stored(
    student: TestClient, settings: Settings
) -> None:
    before = row_counts(settings)
    token = csrf_from(student.get(f"/assignments/{WEEK1}").text)
    as_json = student.post(
        f"/assignments/{WEEK1}/submissions",
        content=json.dumps({"csrf_token": token, "notebook": "x"}),
        headers={"content-type": "application/json"},
    )
    without_file = student.post(f"/assignments/{WEEK1}/submissions", data={"csrf_token": token})
    assert as_json.status_code in (403, 422) and without_file.status_code == 422
    assert row_counts(settings) == before


def test_webhooks_with_wrong_missing_or_stale_signatures_are_refused_and_nothing_stored(
    client: TestClient, settings: Settings, secret: str
) -> None:
    body = lms_body(TEMPLATE, uuid.uuid4().hex, callback_url=UNREACHABLE_CALLBACK)
    wrong = "whsec_" + base64.b64encode(b"w" * 32).decode()
    good = signed(secret, body, "msg_ok")
    before = row_counts(settings)
    for headers in (
        signed(wrong, body, "msg_wrong"),
        {"content-type": "application/json"},
        {**good, "webhook-signature": ""},
        {k: v for k, v in good.items() if k != "webhook-timestamp"},
        signed(secret, body, "msg_stale", sent_at=datetime.now(UTC) - timedelta(minutes=10)),
        signed(secret, body, "msg_future", sent_at=datetime.now(UTC) + timedelta(minutes=10)),
        {**good, "webhook-id": "msg_other"},  # the signature covers the id
    ):
        response = client.post("/api/v1/lms/submissions", content=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert row_counts(settings) == before


def test_a_replayed_webhook_creates_nothing_new(client: TestClient, settings: Settings, secret: str) -> None:
    body = lms_body(TEMPLATE, uuid.uuid4().hex, callback_url=UNREACHABLE_CALLBACK)
    headers = signed(secret, body, f"msg_{uuid.uuid4().hex}")
    first = client.post("/api/v1/lms/submissions", content=body, headers=headers)
    assert first.status_code == 202
    after_first = row_counts(settings)
    for _ in range(3):
        replay = client.post("/api/v1/lms/submissions", content=body, headers=headers)
        assert replay.status_code == 202
        assert replay.json()["submission_id"] == first.json()["submission_id"]
    assert row_counts(settings) == after_first


def test_a_student_cannot_see_another_students_submission_or_use_instructor_routes(
    app: object, client: TestClient, settings: Settings, token: str
) -> None:
    owner = TestClient(client.app)
    log_in(owner, new_student(settings))
    uploaded = upload(owner, TEMPLATE)
    assert uploaded.status_code == 303
    mine = uploaded.headers["location"]
    submission_id = mine.rsplit("/", 1)[1]

    log_in(client, new_student(settings))
    before = row_counts(settings)
    assert client.get(mine).status_code == 404
    assert client.get(f"{mine}/progress").status_code == 404
    for method, path in (
        ("GET", f"/api/v1/submissions/{submission_id}"),
        ("GET", f"/api/v1/submissions/{submission_id}/notebook"),
        ("POST", f"/api/v1/submissions/{submission_id}/regrade"),
        ("GET", f"/api/v1/assignments/{WEEK1}/scores"),
        ("GET", f"/api/v1/assignments/{WEEK1}/submissions"),
        ("POST", "/api/v1/deliveries/1/resend"),
    ):
        response = client.request(method, path)
        assert response.status_code == 401, (path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
    assert (
        client.get(f"/api/v1/submissions/{submission_id}", headers={"authorization": "Bearer x"}).status_code
        == 401
    )
    assert row_counts(settings) == before
    instructor = client.get(
        f"/api/v1/submissions/{submission_id}", headers={"authorization": f"Bearer {token}"}
    )
    assert instructor.status_code == 200
