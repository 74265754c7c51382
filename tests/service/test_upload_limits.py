"""How many uploads one student gets in: one per cooldown however many arrive at once, and no more than
a few waiting for grading; the others are told when to come back (429 with Retry-After)."""

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from helpers import Login, at_once, csrf_from, submit
from sqlalchemy import func, select

from workers.database import session_scope
from workers.models import Student, Submission
from workers.settings import Settings

WEEK2 = "c1w2-mnist-callback"


def send_upload(slug: str, token: str, notebook: bytes) -> Callable[[TestClient], Any]:
    def send(own: TestClient) -> Any:
        return own.post(
            f"/assignments/{slug}/submissions",
            data={"csrf_token": token},
            files={"notebook": ("mine.ipynb", notebook, "application/x-ipynb+json")},
            follow_redirects=False,
        )

    return send


def csrf_of(client: TestClient, slug: str) -> str:
    return csrf_from(client.get(f"/assignments/{slug}").text)


def stored(settings: Settings, student: Login) -> int:
    with session_scope(settings.database_url) as session:
        mine = select(func.count(Submission.id)).join(Student).where(Student.email == student.email)
        return session.scalar(mine) or 0


def test_of_twenty_uploads_at_once_one_is_taken_and_the_others_told_when_to_come_back(
    logged_in: TestClient, settings: Settings, student: Login, solution: bytes
) -> None:
    send = send_upload("c1w1-housing-prices", csrf_of(logged_in, "c1w1-housing-prices"), solution)
    responses = at_once(logged_in, *[send] * 20)
    assert sorted(response.status_code for response in responses) == [303] + [429] * 19
    for response in (response for response in responses if response.status_code == 429):
        assert 1 <= int(response.headers["retry-after"]) <= 30
        assert response.text.count("You can submit this assignment again in") == 1
    assert stored(settings, student) == 1


def test_a_student_with_three_submissions_waiting_is_told_to_wait_for_one_to_be_graded(
    logged_in: TestClient, settings: Settings, student: Login, solution: bytes
) -> None:
    for _ in range(3):
        submit(settings, student, solution)
    refused = send_upload(WEEK2, csrf_of(logged_in, WEEK2), solution)(logged_in)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert "You have 3 submissions waiting to be graded." in refused.text
    assert stored(settings, student) == 3
