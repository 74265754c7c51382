"""Who may reach what: a student their own submissions, an instructor token the API, each refusal worded."""

from fastapi.testclient import TestClient
from helpers import WEEK1, log_in, new_student, upload, week1_template

from workers.settings import Settings


def own_submission(client: TestClient, settings: Settings) -> str:
    log_in(client, new_student(settings))
    uploaded = upload(client, week1_template())
    assert uploaded.status_code == 303
    location: str = uploaded.headers["location"]
    return location.rsplit("/", 1)[1]


def test_a_student_sees_their_own_submission(client: TestClient, settings: Settings) -> None:
    submission_id = own_submission(client, settings)
    assert client.get(f"/submissions/{submission_id}").status_code == 200
    progress = client.get(f"/submissions/{submission_id}/progress")
    assert progress.status_code == 200


def test_a_submission_that_is_not_theirs_is_not_found_in_so_many_words(
    client: TestClient, settings: Settings
) -> None:
    submission_id = own_submission(client, settings)
    log_in(client, new_student(settings))
    for path in (f"/submissions/{submission_id}/progress", "/submissions/does-not-exist/progress"):
        response = client.get(path)
        assert response.status_code == 404
        assert ">There is no such submission.<" in response.text


def test_a_session_naming_no_student_is_asked_to_log_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert "/login" in response.headers["location"]


def test_the_api_asks_for_a_token_in_so_many_words(client: TestClient) -> None:
    for headers in ({}, {"authorization": "Bearer tfg_not-a-token"}):
        response = client.get(f"/api/v1/assignments/{WEEK1}/submissions", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"] == (
            "A valid instructor token is required (Authorization: Bearer <token>)."
        )


def test_unknown_assignments_and_submissions_are_named_in_their_404(client: TestClient, token: str) -> None:
    bearer = {"authorization": f"Bearer {token}"}
    missing_assignment = client.get("/api/v1/assignments/nope/submissions", headers=bearer)
    assert (missing_assignment.status_code, missing_assignment.json()["detail"]) == (
        404,
        "There is no assignment 'nope'.",
    )
    missing_submission = client.get("/api/v1/submissions/nope", headers=bearer)
    assert (missing_submission.status_code, missing_submission.json()["detail"]) == (
        404,
        "There is no submission 'nope'.",
    )
