"""What an instructor's client reads: refused filter values, and times in UTC with their offset."""

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from typing import get_args

from fastapi.testclient import TestClient
from helpers import WEEK1, Login, finish_grading, submit

from app.schemas import StatusFilter
from grader import Status
from workers.models import GradingState
from workers.settings import Settings

PROBLEM = "application/problem+json"
SUBMISSIONS = f"/api/v1/assignments/{WEEK1}/submissions"
STATUSES = ["queued", "running", "graded", "not_gradable", "timeout", "memory_exceeded", "error"]
FIVE_HOURS_AHEAD = timezone(timedelta(hours=5))
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")


def assert_utc(value: str) -> None:
    assert UTC_TIME.match(value), value


def test_an_unknown_status_filter_is_a_422_naming_the_statuses(instructor: TestClient) -> None:
    response = instructor.get(SUBMISSIONS, params={"status": "bogus"})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "status"]
    assert error["msg"] == (
        "Input should be 'queued', 'running', 'graded', 'not_gradable', 'timeout', 'memory_exceeded' or 'error'"
    )


def test_an_unknown_scores_format_is_a_422_naming_the_formats(instructor: TestClient) -> None:
    response = instructor.get(f"/api/v1/assignments/{WEEK1}/scores", params={"format": "xlsx"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Input should be 'json', 'csv', 'canvas' or 'moodle'"


def test_openapi_lists_the_allowed_filter_values(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    parameters = {p["name"]: p for p in paths["/api/v1/assignments/{slug}/submissions"]["get"]["parameters"]}
    status = parameters["status"]["schema"]["anyOf"][0]
    assert status["enum"] == STATUSES
    scores = {p["name"]: p for p in paths["/api/v1/assignments/{slug}/scores"]["get"]["parameters"]}
    assert scores["format"]["schema"]["enum"] == ["json", "csv", "canvas", "moodle"]


def test_every_status_filter_value_is_accepted(instructor: TestClient) -> None:
    for status in STATUSES:
        assert instructor.get(SUBMISSIONS, params={"status": status}).status_code == 200


def test_times_are_utc_with_an_offset(
    instructor: TestClient, settings: Settings, student: Login, solution: bytes
) -> None:
    submission_id = submit(settings, student, solution)
    finish_grading(settings, submission_id, 8)
    report = instructor.get(f"/api/v1/submissions/{submission_id}").json()
    for value in (report["created_at"], report["graded_at"]):
        assert_utc(value)
    for grading in report["gradings"]:
        assert_utc(grading["created_at"])
        assert_utc(grading["finished_at"])
    [summary] = instructor.get(SUBMISSIONS, params={"student": student.email}).json()["items"]
    assert summary["created_at"] == report["created_at"]
    rows = instructor.get(f"/api/v1/assignments/{WEEK1}/scores").json()
    row = next(row for row in rows if row["student"] == student.email)
    assert row["graded_at"] == report["graded_at"]
    export = instructor.get(f"/api/v1/assignments/{WEEK1}/scores", params={"format": "csv"}).text
    exported = next(r for r in csv.DictReader(io.StringIO(export)) if r["student"] == student.email)
    assert exported["graded_at"] == report["graded_at"]


def test_since_with_another_offset_means_the_same_instant(
    instructor: TestClient, settings: Settings, student: Login, solution: bytes
) -> None:
    submission_id = submit(settings, student, solution)
    created = instructor.get(f"/api/v1/submissions/{submission_id}").json()["created_at"]
    # The same instant one second earlier, and one second later, written five hours ahead of UTC.
    instant = datetime.fromisoformat(created).timestamp()
    for delta, expected in ((-1, [submission_id]), (1, [])):
        since = datetime.fromtimestamp(instant + delta).astimezone(FIVE_HOURS_AHEAD).isoformat()
        found = instructor.get(SUBMISSIONS, params={"student": student.email, "since": since}).json()
        assert [item["id"] for item in found["items"]] == expected, since


def test_the_status_filter_names_every_report_status_and_the_pending_states() -> None:
    assert set(get_args(StatusFilter)) == {*Status, GradingState.QUEUED, GradingState.RUNNING}
