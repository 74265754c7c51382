import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import WEEK1, WEEK1_DIR, Login, finish_grading, new_student, submit

from app.main import create_app
from grader import Catalog
from workers.settings import Settings

PROBLEM = "application/problem+json"


def test_api_needs_a_valid_bearer_token(client: TestClient) -> None:
    for headers in ({}, {"authorization": "Bearer tfg_not-a-token"}):
        response = client.get("/api/v1/assignments", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == 401


def test_assignments_are_listed_with_their_score_policy(instructor: TestClient) -> None:
    page = instructor.get("/api/v1/assignments").json()
    week1 = next(item for item in page["items"] if item["slug"] == WEEK1)
    assert week1["max_score"] == 10 and week1["score_policy"] == "best"
    assert page["total"] >= 1


def test_submissions_are_paginated_and_filtered(
    instructor: TestClient, settings: Settings, student: Login, solution: bytes
) -> None:
    ids = [submit(settings, student, solution) for _ in range(3)]
    finish_grading(settings, ids[0], 10)
    url = f"/api/v1/assignments/{WEEK1}/submissions"
    everything = instructor.get(url, params={"student": student.email}).json()
    assert everything["total"] == 3
    assert {item["id"] for item in everything["items"]} == set(ids)
    first = instructor.get(url, params={"student": student.email, "limit": 2}).json()
    rest = instructor.get(url, params={"student": student.email, "limit": 2, "offset": 2}).json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 1
    assert {i["id"] for i in first["items"] + rest["items"]} == set(ids)
    graded = instructor.get(url, params={"student": student.email, "status": "graded"}).json()
    assert [item["id"] for item in graded["items"]] == [ids[0]]
    queued = instructor.get(url, params={"student": student.email, "status": "queued"}).json()
    assert {item["id"] for item in queued["items"]} == set(ids[1:])
    bad = instructor.get(url, params={"limit": 0})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM


def test_a_submission_reads_as_the_report_with_a_link_to_its_notebook(
    instructor: TestClient, settings: Settings, student: Login, solution: bytes
) -> None:
    submission_id = submit(settings, student, solution)
    pending = instructor.get(f"/api/v1/submissions/{submission_id}").json()
    assert pending["status"] == "queued" and pending["score"] is None
    finish_grading(settings, submission_id, 7.5)
    report = instructor.get(f"/api/v1/submissions/{submission_id}").json()
    assert report["submission_id"] == submission_id
    assert (report["status"], report["score"], report["max_score"]) == ("graded", 7.5, 10.0)
    assert {"checks", "exercises", "timings", "grader_version", "assignment_version"} <= report.keys()
    assert report["student"] == student.email
    assert instructor.get(report["notebook_url"]).content == solution


def test_unknown_submission_is_a_problem_404(instructor: TestClient) -> None:
    response = instructor.get("/api/v1/submissions/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "nope" in response.json()["detail"]


def test_regrade_keeps_the_old_result_until_the_new_one_is_final(
    instructor: TestClient, settings: Settings, student: Login, solution: bytes
) -> None:
    submission_id = submit(settings, student, solution)
    finish_grading(settings, submission_id, 9)
    queued = instructor.post(f"/api/v1/submissions/{submission_id}/regrade")
    assert queued.status_code == 202
    again = instructor.post(f"/api/v1/submissions/{submission_id}/regrade")
    assert again.json()["grading_id"] == queued.json()["grading_id"]
    during = instructor.get(f"/api/v1/submissions/{submission_id}").json()
    assert (during["state"], during["status"], during["score"]) == ("queued", "graded", 9.0)
    finish_grading(settings, submission_id, 4)
    after = instructor.get(f"/api/v1/submissions/{submission_id}").json()
    assert (after["state"], after["score"]) == ("done", 4.0)
    assert [g["reason"] for g in after["gradings"]] == ["upload", "regrade"]


@pytest.fixture
def latest_policy_client(settings: Settings, token: str, tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / WEEK1
    shutil.copytree(WEEK1_DIR, folder)
    config = folder / "assignment.toml"
    config.write_text(config.read_text().replace('score_policy = "best"', 'score_policy = "latest"'))
    with TestClient(create_app(settings, Catalog(tmp_path))) as client:
        client.headers["authorization"] = f"Bearer {token}"
        yield client


def scores_of(client: TestClient, email: str) -> dict[str, str]:
    response = client.get(f"/api/v1/assignments/{WEEK1}/scores", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "student",
        "name",
        "score",
        "max_score",
        "attempts",
        "submission_id",
        "graded_at",
    ]
    return next(row for row in rows if row["student"] == email)


def test_scores_count_the_best_or_the_latest_attempt(
    instructor: TestClient, latest_policy_client: TestClient, settings: Settings, solution: bytes
) -> None:
    student, absent = new_student(settings), new_student(settings)
    first, second = submit(settings, student, solution), submit(settings, student, solution)
    finish_grading(settings, first, 9)
    finish_grading(settings, second, 5)
    best = scores_of(instructor, student.email)
    assert (best["score"], best["attempts"], best["submission_id"]) == ("9.0", "2", first)
    latest = scores_of(latest_policy_client, student.email)
    assert (latest["score"], latest["submission_id"]) == ("5.0", second)
    assert scores_of(instructor, absent.email)["score"] == ""
    rows = instructor.get(f"/api/v1/assignments/{WEEK1}/scores").json()
    assert next(row for row in rows if row["student"] == student.email)["score"] == 9.0


def test_openapi_documents_the_routes(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/assignments",
        "/api/v1/assignments/{slug}/submissions",
        "/api/v1/submissions/{submission_id}",
        "/api/v1/assignments/{slug}/scores",
        "/api/v1/submissions/{submission_id}/regrade",
        "/api/v1/lms/submissions",
    ):
        assert path in paths
