"""Malformed uploads, bad webhook signatures and students on routes that are not theirs: each gets a
precise 4xx and nothing is left half-written in the database."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from conftest import CALLBACK, WEEK1, WEEK1_DIR, csrf_from, log_in, new_login, row_counts
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from workers.settings import Settings

TEMPLATE = (WEEK1_DIR / "template.ipynb").read_bytes()


def web_upload(client: TestClient, content: bytes, content_type: str = "application/x-ipynb+json") -> object:
    token = csrf_from(client.get(f"/assignments/{WEEK1}").text)
    return client.post(
        f"/assignments/{WEEK1}/submissions",
        data={"csrf_token": token},
        files={"notebook": ("mine.ipynb", content, content_type)},
        follow_redirects=False,
    )


@pytest.fixture
def student(client: TestClient, settings: Settings) -> TestClient:
    log_in(client, *new_login(settings, f"{uuid.uuid4().hex}@example.com"))
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
    response = web_upload(student, content)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]
    assert row_counts(settings) == before


def test_an_oversized_upload_is_refused_and_nothing_stored(student: TestClient, settings: Settings) -> None:
    before = row_counts(settings)
    padding = " " * (settings.max_upload_bytes + 1 - len(TEMPLATE))
    response = web_upload(student, TEMPLATE[:-1] + padding.encode() + b"}")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "larger than the" in response.text  # type: ignore[attr-defined]
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


def lms_body(external_id: str) -> bytes:
    return json.dumps(
        {
            "assignment": WEEK1,
            "user_id": "lms-user",
            "external_submission_id": external_id,
            "notebook": base64.b64encode(TEMPLATE).decode(),
            "callback_url": CALLBACK,
        }
    ).encode()


def signed(secret: str, body: bytes, webhook_id: str, sent_at: datetime | None = None) -> dict[str, str]:
    sent_at = sent_at or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body.decode()),
        "content-type": "application/json",
    }


def test_webhooks_with_wrong_missing_or_stale_signatures_are_refused_and_nothing_stored(
    client: TestClient, settings: Settings, secret: str
) -> None:
    body = lms_body(uuid.uuid4().hex)
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
    body = lms_body(uuid.uuid4().hex)
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
    log_in(owner, *new_login(settings, f"owner-{uuid.uuid4().hex}@example.com"))
    uploaded = web_upload(owner, TEMPLATE)
    assert uploaded.status_code == 303  # type: ignore[attr-defined]
    mine = uploaded.headers["location"]  # type: ignore[attr-defined]
    submission_id = mine.rsplit("/", 1)[1]

    log_in(client, *new_login(settings, f"other-{uuid.uuid4().hex}@example.com"))
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
