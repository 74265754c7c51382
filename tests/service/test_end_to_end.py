"""The real service over real sockets: uvicorn, a Celery worker, the grading core and a browser."""

import json
import re
import uuid
from queue import Empty

import httpx
from helpers import (
    WEEK1,
    LiveService,
    Received,
    Receiver,
    lms_body,
    new_student,
    signed,
    trains_on_arrays,
    wait_until,
)
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from app.accounts import create_api_token, create_integration
from workers.database import session_scope

GRADING_TIMEOUT_MS = 240_000


def test_a_student_uploads_in_a_browser_and_watches_it_being_graded(page: Page, live: LiveService) -> None:
    solution = trains_on_arrays()  # long enough to be seen while it is graded
    login = new_student(live.settings)
    page.goto(f"{live.url}/")
    page.fill("input[name=email]", login.email)
    page.fill("input[name=password]", login.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=re.compile("^Week 1")).click()
    page.set_input_files(
        "input[name=notebook]",
        files=[{"name": "week1.ipynb", "mimeType": "text/plain", "buffer": b"not json"}],
    )
    page.get_by_role("button", name="Submit for grading").click()
    expect(page.locator(".error")).to_contain_text("not a Jupyter notebook")

    page.set_input_files(
        "input[name=notebook]",
        files=[{"name": "week1.ipynb", "mimeType": "application/x-ipynb+json", "buffer": solution}],
    )
    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/[0-9a-f]{32}$"))
    expect(page.locator("#progress")).to_contain_text("Grading now", timeout=GRADING_TIMEOUT_MS)
    expect(page.locator("#score")).to_have_text("10 / 10", timeout=GRADING_TIMEOUT_MS)
    expect(page.locator("tr.failed")).to_have_count(0)
    assert page.locator("tr.passed").count() >= 3
    page.get_by_role("link", name="tfgrade").click()
    expect(page.locator(f"tr[data-assignment='{WEEK1}'] .score")).to_contain_text("10 / 10")


def next_callback(receiver: Receiver) -> Received:
    try:
        return receiver.received.get(timeout=GRADING_TIMEOUT_MS / 1000)
    except Empty:
        raise AssertionError("no callback reached the LMS") from None


def test_an_lms_submission_is_graded_and_its_report_delivered_signed(
    live: LiveService, receiver: Receiver, template: bytes
) -> None:
    with session_scope(live.settings.database_url) as session:
        secret = create_integration(session, name=f"lms-{uuid.uuid4().hex}", callback_urls=[receiver.url])
        token = create_api_token(session, name="e2e")
    api = httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert api.get("/readyz").status_code == 200
    receiver.statuses = [500]
    external_id = uuid.uuid4().hex
    body = lms_body(template, external_id, callback_url=receiver.url)
    accepted = api.post(
        "/api/v1/lms/submissions", content=body, headers=signed(secret, body, "msg_" + external_id)
    )
    assert accepted.status_code == 202
    submission_id = accepted.json()["submission_id"]

    refused, delivered = next_callback(receiver), next_callback(receiver)
    for callback in (refused, delivered):
        Webhook(secret).verify(callback.body, callback.headers)
    assert refused.headers["webhook-id"] == delivered.headers["webhook-id"]
    report = json.loads(delivered.body)
    assert (report["submission_id"], report["external_submission_id"]) == (submission_id, external_id)
    assert (report["status"], report["score"], report["max_score"]) == ("graded", 0, 10)

    deliveries_url = f"/api/v1/submissions/{submission_id}/deliveries"
    wait_until(lambda: api.get(deliveries_url).json()[0]["state"] == "delivered", 30, "the delivery record")
    deliveries = api.get(deliveries_url).json()
    assert len(deliveries) == 1
    assert [a["status_code"] for a in deliveries[0]["attempts"]] == [500, 204]
    assert api.post(f"/api/v1/deliveries/{deliveries[0]['id']}/resend").status_code == 202
    resent = next_callback(receiver)
    assert resent.headers["webhook-id"] == delivered.headers["webhook-id"]

    assert api.get(f"/api/v1/submissions/{submission_id}").json()["score"] == 0
    metrics = api.get("/metrics").text
    assert f'tfgrade_grading_seconds_count{{assignment="{WEEK1}",status="graded"}}' in metrics
