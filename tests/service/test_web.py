from pathlib import Path

from fastapi.testclient import TestClient
from helpers import WEEK1, Login, csrf_from, finish_grading, log_in, new_student, upload
from sqlalchemy import func, select

from workers.database import session_scope
from workers.models import Grading, GradingState, Student, Submission
from workers.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"


def submissions_of(settings: Settings, login: Login) -> int:
    with session_scope(settings.database_url) as session:
        count = select(func.count(Submission.id)).join(Student).where(Student.email == login.email)
        return session.scalar(count) or 0


def test_pages_need_a_login(client: TestClient) -> None:
    for path in ("/", f"/assignments/{WEEK1}", f"/assignments/{WEEK1}/template.ipynb", "/submissions/abc"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"


def test_login_refuses_a_wrong_password(client: TestClient, student: Login) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"email": student.email, "password": "nope", "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_forms_without_the_csrf_token_are_refused(client: TestClient, student: Login) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": student.email, "password": student.password})
    assert response.status_code == 403
    log_in(client, student)
    response = client.post(
        f"/assignments/{WEEK1}/submissions",
        data={"csrf_token": "forged"},
        files={"notebook": ("x.ipynb", b"{}")},
    )
    assert response.status_code == 403


def test_assignment_list_shows_attempts_and_template_downloads(
    logged_in: TestClient, template: bytes
) -> None:
    page = logged_in.get("/")
    assert page.status_code == 200
    assert "Week 1" in page.text and f"/assignments/{WEEK1}" in page.text
    download = logged_in.get(f"/assignments/{WEEK1}/template.ipynb")
    assert download.status_code == 200
    assert download.content == template


def test_upload_is_stored_queued_and_shown_with_its_position(
    logged_in: TestClient, solution: bytes, settings: Settings, student: Login
) -> None:
    response = upload(logged_in, solution)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/submissions/")
    with session_scope(settings.database_url) as session:
        submission = session.get_one(Submission, location.rsplit("/", 1)[1])
        assert submission.notebook == solution
        assert [g.state for g in submission.gradings] == [GradingState.QUEUED]
        assert submission.gradings[0].enqueued_at is not None
        queued = session.scalar(select(func.count(Grading.id)).where(Grading.state == GradingState.QUEUED))
    progress = logged_in.get(f"{location}/progress").json()
    assert progress["state"] == "queued" and progress["position"] == queued  # the last of all queued
    page = logged_in.get(location)
    assert "Queued: position" in page.text
    assert '<td class="attempts">1</td>' in logged_in.get("/").text


def test_bad_uploads_are_refused_at_once_and_nothing_is_queued(
    logged_in: TestClient, settings: Settings, student: Login
) -> None:
    cases = {
        (FIXTURES / "not-a-notebook.txt").read_bytes(): "not a Jupyter notebook",
        (FIXTURES / "another-courses-notebook.ipynb").read_bytes(): "is not the one for",
        b"": "The file is empty",
        b"{" + b" " * settings.max_upload_bytes + b"}": "larger than",
    }
    with session_scope(settings.database_url) as session:
        gradings_before = session.scalar(select(func.count(Grading.id)))
    for notebook, message in cases.items():
        response = upload(logged_in, notebook)
        assert response.status_code == 422
        assert message in response.text
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count(Grading.id))) == gradings_before
    assert submissions_of(settings, student) == 0


def test_unknown_assignment_is_not_found(logged_in: TestClient) -> None:
    assert logged_in.get("/assignments/no-such-week").status_code == 404


def test_cooldown_refuses_a_second_upload_too_soon(logged_in: TestClient, solution: bytes) -> None:
    assert upload(logged_in, solution).status_code == 303
    again = upload(logged_in, solution)
    assert again.status_code == 429
    assert 29 <= int(again.headers["retry-after"]) <= 30
    assert again.text.count("You can submit this assignment again in") == 1


def test_a_student_cannot_see_another_students_submission(
    client: TestClient, settings: Settings, solution: bytes
) -> None:
    owner, other = new_student(settings), new_student(settings)
    log_in(client, owner)
    location = upload(client, solution).headers["location"]
    assert client.get(location).status_code == 200
    client.cookies.clear()
    log_in(client, other)
    assert client.get(location).status_code == 404
    assert client.get(f"{location}/progress").status_code == 404


def test_the_report_shows_what_the_notebook_printed_as_text(
    logged_in: TestClient, solution: bytes, settings: Settings
) -> None:
    location = upload(logged_in, solution).headers["location"]
    printed = "Features have shape: (6,)\nAll tests passed!\n<script>alert(1)</script>"
    finish_grading(settings, location.rsplit("/", 1)[1], 10.0, metadata={"output": printed})
    page = logged_in.get(location).text
    shown = "Features have shape: (6,)\nAll tests passed!\n&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f'<pre class="notebook-output">{shown}</pre>' in page

