"""LMS webhooks: who sent it (by signature), whether it was already received, and what is stored."""

import base64
import uuid

import pytest
from fastapi.testclient import TestClient
from helpers import UNREACHABLE_CALLBACK, lms_body, signed, week1_template

from app.accounts import create_integration
from workers.database import session_scope
from workers.models import Submission
from workers.settings import Settings

TEMPLATE = week1_template()
ROUTE = "/api/v1/lms/submissions"
SECOND_CALLBACK = "http://127.0.0.1:9/second-lms"


@pytest.fixture(scope="module")
def second_secret(settings: Settings) -> str:
    """An integration created after the shared one, with callback URLs of its own."""
    with session_scope(settings.database_url) as session:
        return create_integration(
            session, name=f"second-{uuid.uuid4().hex}", callback_urls=[SECOND_CALLBACK, UNREACHABLE_CALLBACK]
        )


def send(client: TestClient, secret: str, body: bytes, webhook_id: str | None = None) -> dict[str, object]:
    response = client.post(ROUTE, content=body, headers=signed(secret, body, webhook_id or new_id()))
    assert response.status_code == 202, response.text
    accepted: dict[str, object] = response.json()
    return accepted


def refused(client: TestClient, secret: str, body: bytes) -> tuple[int, object]:
    response = client.post(ROUTE, content=body, headers=signed(secret, body, new_id()))
    return response.status_code, response.json()["detail"]


def new_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def stored(settings: Settings, submission_id: object) -> Submission:
    with session_scope(settings.database_url) as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None
        session.expunge(submission)
        return submission


def test_a_wrong_signature_is_refused_in_so_many_words(client: TestClient, settings: Settings) -> None:
    wrong = "whsec_" + base64.b64encode(b"w" * 32).decode()
    assert refused(client, wrong, lms_body(TEMPLATE, uuid.uuid4().hex)) == (
        401,
        "The webhook signature is missing, wrong or too old.",
    )


def test_any_registered_integration_may_send(
    client: TestClient, settings: Settings, secret: str, second_secret: str
) -> None:
    external = uuid.uuid4().hex
    first = send(client, secret, lms_body(TEMPLATE, external, callback_url=UNREACHABLE_CALLBACK))
    second = send(client, second_secret, lms_body(TEMPLATE, external))
    assert first["submission_id"] != second["submission_id"]
    assert (
        stored(settings, first["submission_id"]).integration_id
        != stored(settings, second["submission_id"]).integration_id
    )


def test_what_the_lms_sent_is_stored_and_the_first_callback_url_is_the_default(
    client: TestClient, settings: Settings, second_secret: str
) -> None:
    external = uuid.uuid4().hex
    accepted = send(client, second_secret, lms_body(TEMPLATE, external))
    submission = stored(settings, accepted["submission_id"])
    assert submission.integration_id is not None
    assert (submission.assignment, submission.external_user_id, submission.external_submission_id) == (
        "c1w1-housing-prices",
        f"lms-user-{external}",
        external,
    )
    assert (submission.callback_url, submission.filename) == (SECOND_CALLBACK, f"{external}.ipynb")
    assert submission.notebook == TEMPLATE
    chosen = send(
        client, second_secret, lms_body(TEMPLATE, uuid.uuid4().hex, callback_url=UNREACHABLE_CALLBACK)
    )
    assert stored(settings, chosen["submission_id"]).callback_url == UNREACHABLE_CALLBACK


def test_a_repeated_webhook_id_or_external_id_is_the_same_submission_for_that_integration_only(
    client: TestClient, secret: str, second_secret: str
) -> None:
    webhook_id = new_id()
    body = lms_body(TEMPLATE, uuid.uuid4().hex, callback_url=UNREACHABLE_CALLBACK)
    first = send(client, secret, body, webhook_id)
    same_message = send(
        client, secret, lms_body(TEMPLATE, uuid.uuid4().hex, callback_url=UNREACHABLE_CALLBACK), webhook_id
    )
    assert same_message["submission_id"] == first["submission_id"]
    assert send(client, secret, body)["submission_id"] == first["submission_id"]
    other_integration = send(client, second_secret, lms_body(TEMPLATE, uuid.uuid4().hex), webhook_id)
    assert other_integration["submission_id"] != first["submission_id"]
    another = send(client, secret, lms_body(TEMPLATE, uuid.uuid4().hex, callback_url=UNREACHABLE_CALLBACK))
    assert another["submission_id"] != first["submission_id"]


def test_an_integration_without_callback_urls_gets_no_callback(
    client: TestClient, settings: Settings
) -> None:
    with session_scope(settings.database_url) as session:
        silent = create_integration(session, name=f"silent-{uuid.uuid4().hex}", callback_urls=[])
    accepted = send(client, silent, lms_body(TEMPLATE, uuid.uuid4().hex))
    assert stored(settings, accepted["submission_id"]).callback_url is None


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        (
            {"callback_url": "http://127.0.0.1:9/not-registered"},
            "callback_url is not one of the URLs registered for this integration.",
        ),
        ({"assignment": "nope"}, "There is no assignment 'nope'."),
        ({"notebook": "bm90IGJhc2U2NA==!!"}, "notebook is not valid base64."),
        (
            {"notebook": base64.b64encode(b"").decode()},
            "The file is empty. Choose the .ipynb notebook you worked in and upload it again.",
        ),
    ],
)
def test_an_unusable_submission_is_refused_with_the_reason(
    client: TestClient, second_secret: str, overrides: dict[str, str], detail: str
) -> None:
    assert refused(client, second_secret, lms_body(TEMPLATE, uuid.uuid4().hex, **overrides)) == (422, detail)
