"""Protections the README promises, attacked through the real mechanism (the app over HTTP, the workers'
own functions, a real database): two workers writing one grading, a callback URL revoked before delivery, a
redelivered callback task, the queue a student sees, another student's submissions, forged forms, a notebook
too large from an LMS, and identical webhooks or uploads sent at the same moment."""

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from importlib import import_module
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import (
    WEEK1,
    Login,
    Receiver,
    at_once,
    csrf_from,
    lms_body,
    log_in,
    new_student,
    signed,
    submit,
    upload,
    week1_report,
)
from sqlalchemy import func, select

from app.accounts import create_integration
from app.main import create_app
from app.routers import api_submissions, web_assignments
from grader import Assignment, Catalog, GradeReport
from workers.database import session_scope
from workers.delivery import attempt_delivery
from workers.grading import claim_grading, grade_submission, record_result
from workers.models import Delivery, DeliveryState, Grading, GradingState, Student, Submission
from workers.settings import Settings

WAIT_SECONDS = 60


@pytest.fixture
def lms_secret(settings: Settings, receiver: Receiver) -> str:
    with session_scope(settings.database_url) as session:
        return create_integration(session, name=f"lms-{uuid.uuid4().hex}", callback_urls=[receiver.url])


def lms_submission(client: TestClient, secret: str, notebook: bytes) -> str:
    body = lms_body(notebook, uuid.uuid4().hex)
    response = client.post("/api/v1/lms/submissions", content=body, headers=signed(secret, body, new_id()))
    assert response.status_code == 202, response.text
    submission_id: str = response.json()["submission_id"]
    return submission_id


def new_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def only_grading(settings: Settings, submission_id: str) -> int:
    with session_scope(settings.database_url) as session:
        (grading,) = session.get_one(Submission, submission_id).gradings
        return grading.id


class HeldGrader:
    """A grader that reports `points` once the test lets it: a worker held mid-grade."""

    def __init__(self, points: float) -> None:
        self.points = points
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, notebook: bytes, assignment: Assignment) -> GradeReport:
        self.started.set()
        assert self.release.wait(WAIT_SECONDS), "the test never let this grader finish"
        return week1_report(self.points)


@pytest.fixture
def in_thread() -> Iterator[Callable[[Callable[[], Any]], threading.Thread]]:
    """Starts a worker's call in a thread; the test fails if a started call did not end or raised."""
    started: list[threading.Thread] = []
    failures: list[BaseException] = []

    def start(call: Callable[[], Any]) -> threading.Thread:
        def run() -> None:
            try:
                call()
            except BaseException as error:  # reported by the fixture, in the test's thread
                failures.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive(), "a worker thread never finished"
    assert failures == []


def work(settings: Settings, grading_id: int, worker: str, grade: HeldGrader) -> Callable[[], Any]:
    return lambda: grade_submission(
        grading_id, settings=settings, catalog=Catalog(), grade=grade, worker=worker
    )


def stored_result(settings: Settings, submission_id: str) -> tuple[float | None, float, str | None, int]:
    """The submission's score, its grading's reported score, the grading's worker and its attempts."""
    with session_scope(settings.database_url) as session:
        submission = session.get_one(Submission, submission_id)
        (grading,) = submission.gradings
        assert grading.state == GradingState.DONE and submission.result_grading_id == grading.id
        report = GradeReport.model_validate(grading.report)
        return submission.score, report.score, grading.worker, grading.attempts


def delivered_scores(settings: Settings, submission_id: str) -> list[float]:
    """The score in each callback delivery created for the submission."""
    with session_scope(settings.database_url) as session:
        found = session.scalars(select(Delivery).where(Delivery.submission_id == submission_id))
        return [delivery.payload["score"] for delivery in found]


@pytest.mark.parametrize("first_to_finish", ["worker-a", "worker-b"])
def test_a_late_result_from_a_worker_given_up_on_never_replaces_the_result(
    client: TestClient,
    settings: Settings,
    lms_secret: str,
    template: bytes,
    in_thread: Callable[[Callable[[], Any]], threading.Thread],
    first_to_finish: str,
) -> None:
    """Worker A (no heartbeat: given up on) is still grading when worker B claims the grading again. Whoever
    finishes first, B's result stands, written once, with one callback."""
    submission_id = lms_submission(client, lms_secret, template)
    grading_id = only_grading(settings, submission_id)
    graders = {"worker-a": HeldGrader(3.0), "worker-b": HeldGrader(10.0)}
    workers = {}
    for name, grader in graders.items():
        workers[name] = in_thread(work(settings, grading_id, name, grader))
        assert grader.started.wait(WAIT_SECONDS)
    second = "worker-b" if first_to_finish == "worker-a" else "worker-a"
    for name in (first_to_finish, second):
        graders[name].release.set()
        workers[name].join(WAIT_SECONDS)
    assert stored_result(settings, submission_id) == (10.0, 10.0, "worker-b", 2)
    assert delivered_scores(settings, submission_id) == [10.0]


def test_two_workers_writing_one_grading_at_the_same_moment_leave_the_last_claims_result(
    client: TestClient,
    settings: Settings,
    lms_secret: str,
    template: bytes,
    in_thread: Callable[[Callable[[], Any]], threading.Thread],
) -> None:
    submission_id = lms_submission(client, lms_secret, template)
    grading_id = only_grading(settings, submission_id)
    graders = {"worker-a": HeldGrader(3.0), "worker-b": HeldGrader(10.0)}
    workers = []
    for name, grader in graders.items():
        workers.append(in_thread(work(settings, grading_id, name, grader)))
        assert grader.started.wait(WAIT_SECONDS)
    for grader in graders.values():
        grader.release.set()  # both now write their result at once
    for thread in workers:
        thread.join(WAIT_SECONDS)
    assert stored_result(settings, submission_id) == (10.0, 10.0, "worker-b", 2)
    assert delivered_scores(settings, submission_id) == [10.0]


def graded_lms_submission(client: TestClient, settings: Settings, secret: str, template: bytes) -> int:
    """An LMS submission graded by a worker; returns its one pending callback delivery."""
    submission_id = lms_submission(client, secret, template)
    grading_id = only_grading(settings, submission_id)
    deliveries = grade_submission(
        grading_id, settings=settings, catalog=Catalog(), grade=lambda *_: week1_report(7.0), worker="w"
    )
    assert len(deliveries) == 1
    return deliveries[0]


def deliver(settings: Settings, delivery_id: int) -> bool:
    """What the deliveries worker's task does for one attempt."""
    with session_scope(settings.database_url) as session:
        return attempt_delivery(session, delivery_id, settings)


def test_a_callback_url_revoked_after_the_submission_was_stored_is_never_called(
    client: TestClient, settings: Settings, lms_secret: str, receiver: Receiver, template: bytes
) -> None:
    delivery_id = graded_lms_submission(client, settings, lms_secret, template)
    with session_scope(settings.database_url) as session:
        integration = session.get_one(Delivery, delivery_id).integration
        integration.callback_urls = ["http://127.0.0.1:9/the-new-callback"]
    assert deliver(settings, delivery_id) is True
    assert receiver.received.empty()
    with session_scope(settings.database_url) as session:
        delivery = session.get_one(Delivery, delivery_id)
        assert delivery.state == DeliveryState.FAILED
        assert [a.error for a in delivery.attempts] == ["callback URL is not registered for this integration"]


def test_a_delivered_callback_is_not_sent_again_when_its_task_runs_twice(
    client: TestClient, settings: Settings, lms_secret: str, receiver: Receiver, template: bytes
) -> None:
    delivery_id = graded_lms_submission(client, settings, lms_secret, template)
    assert deliver(settings, delivery_id) is True
    assert deliver(settings, delivery_id) is True  # the broker redelivered the task
    assert receiver.received.qsize() == 1
    assert json.loads(receiver.received.get().body)["score"] == 7.0
    with session_scope(settings.database_url) as session:
        delivery = session.get_one(Delivery, delivery_id)
        assert (delivery.state, len(delivery.attempts)) == (DeliveryState.DELIVERED, 1)


def queued_gradings(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return session.scalar(select(func.count(Grading.id)).where(Grading.state == GradingState.QUEUED)) or 0


def position_of(client: TestClient, location: str) -> int:
    progress = client.get(f"{location}/progress").json()
    assert progress["state"] == "queued"
    position: int = progress["position"]
    return position


def test_the_queue_position_counts_exactly_the_gradings_still_queued_ahead(
    logged_in: TestClient, settings: Settings, solution: bytes
) -> None:
    ahead_before = queued_gradings(settings)  # left queued by earlier tests: no worker consumes here
    others = [submit(settings, new_student(settings), solution) for _ in range(3)]
    location = upload(logged_in, solution).headers["location"]
    submit(settings, new_student(settings), solution)  # behind: never counted
    assert position_of(logged_in, location) == ahead_before + 3 + 1
    with session_scope(settings.database_url) as session:
        claim_grading(session, only_grading(settings, others[0]), worker="w", stale_seconds=60)
    assert position_of(logged_in, location) == ahead_before + 2 + 1


def attempts_shown(assignment_list: str, slug: str) -> str:
    row = re.search(
        rf'<tr data-assignment="{slug}">.*?<td class="attempts">([^<]*)</td>', assignment_list, re.S
    )
    assert row, f"the assignment list has no row for {slug}"
    return row.group(1)


def test_a_student_sees_only_their_own_submissions_on_the_assignment_pages(
    client: TestClient, settings: Settings, solution: bytes
) -> None:
    owner, other = new_student(settings), new_student(settings)
    log_in(client, owner)
    submission_id = upload(client, solution).headers["location"].rsplit("/", 1)[1]
    assert submission_id in client.get(f"/assignments/{WEEK1}").text
    client.cookies.clear()
    log_in(client, other)
    assignment_page, listing = client.get(f"/assignments/{WEEK1}"), client.get("/")
    assert assignment_page.status_code == listing.status_code == 200
    assert submission_id not in assignment_page.text
    assert attempts_shown(listing.text, WEEK1) == "0"


def test_a_logout_without_the_pages_csrf_token_is_refused(client: TestClient, student: Login) -> None:
    log_in(client, student)
    forged = client.post("/logout", data={"csrf_token": "from-another-site"}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
    token = csrf_from(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_another_sessions_csrf_token_is_refused(
    client: TestClient, settings: Settings, solution: bytes
) -> None:
    attacker = TestClient(client.app)
    log_in(attacker, new_student(settings))
    attackers_token = csrf_from(attacker.get(f"/assignments/{WEEK1}").text)
    log_in(client, new_student(settings))
    client.get(f"/assignments/{WEEK1}")  # the victim's session has a token of its own
    response = client.post(
        f"/assignments/{WEEK1}/submissions",
        data={"csrf_token": attackers_token},
        files={"notebook": ("mine.ipynb", solution, "application/octet-stream")},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_an_lms_notebook_over_the_upload_limit_is_refused_and_nothing_stored(
    settings: Settings, lms_secret: str, template: bytes
) -> None:
    small = settings.model_copy(update={"max_upload_bytes": len(template) - 1})
    external_id = uuid.uuid4().hex
    body = lms_body(template, external_id)
    with TestClient(create_app(small)) as client:
        response = client.post(
            "/api/v1/lms/submissions", content=body, headers=signed(lms_secret, body, new_id())
        )
    assert response.status_code == 422
    assert "larger than" in response.json()["detail"]
    with session_scope(settings.database_url) as session:
        stored = select(func.count(Submission.id)).where(Submission.external_submission_id == external_id)
        assert session.scalar(stored) == 0


@pytest.fixture
def held_after_checks(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], threading.Barrier]:
    """Holds each request after the upload checks of `module` (a router) until two got there: two
    identical requests then both pass every check made before storing, as in a race that is lost."""

    def hold(module: str) -> threading.Barrier:
        both_checked = threading.Barrier(2, timeout=5)
        real_check = import_module(module).check_upload

        def check_then_wait(*args: Any) -> None:
            real_check(*args)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait()

        monkeypatch.setattr(f"{module}.check_upload", check_then_wait)
        return both_checked

    return hold


def test_a_repeated_webhook_id_is_the_same_submission_whatever_body_it_carries(
    client: TestClient, settings: Settings, lms_secret: str, template: bytes
) -> None:
    webhook_id = new_id()
    bodies = [lms_body(template, uuid.uuid4().hex) for _ in range(2)]
    responses = [
        client.post("/api/v1/lms/submissions", content=body, headers=signed(lms_secret, body, webhook_id))
        for body in bodies
    ]
    assert [r.status_code for r in responses] == [202, 202]
    assert responses[0].json()["submission_id"] == responses[1].json()["submission_id"]
    with session_scope(settings.database_url) as session:
        second = json.loads(bodies[1])["external_submission_id"]
        stored = select(func.count(Submission.id)).where(Submission.external_submission_id == second)
        assert session.scalar(stored) == 0


@pytest.mark.parametrize("webhook_ids", ["the same", "different"])
def test_two_copies_of_a_webhook_at_once_make_one_submission(
    client: TestClient,
    settings: Settings,
    lms_secret: str,
    template: bytes,
    held_after_checks: Callable[[str], threading.Barrier],
    webhook_ids: str,
) -> None:
    external_id = uuid.uuid4().hex
    body = lms_body(template, external_id)
    first_id = new_id()
    ids = [first_id, first_id if webhook_ids == "the same" else new_id()]
    both_checked = held_after_checks("app.routers.lms")
    responses = at_once(
        client,
        *(
            lambda own, webhook_id=webhook_id: own.post(
                "/api/v1/lms/submissions", content=body, headers=signed(lms_secret, body, webhook_id)
            )
            for webhook_id in ids
        ),
    )
    assert not both_checked.broken, "the two webhooks were not both past the duplicate check at once"
    assert [r.status_code for r in responses] == [202, 202], [r.text for r in responses]
    assert responses[0].json()["submission_id"] == responses[1].json()["submission_id"]
    with session_scope(settings.database_url) as session:
        stored = select(Submission).where(Submission.external_submission_id == external_id)
        (submission,) = session.scalars(stored).all()
        assert len(submission.gradings) == 1


def test_two_uploads_at_once_by_one_student_are_held_to_the_cooldown(
    logged_in: TestClient,
    settings: Settings,
    student: Login,
    solution: bytes,
    held_after_checks: Callable[[str], threading.Barrier],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = csrf_from(logged_in.get(f"/assignments/{WEEK1}").text)
    # Each upload also waits, a little, for the other before storing itself: without a lock both get there
    # having checked the cooldown, while with one the other waits on it and this wait runs out.
    both_storing = threading.Barrier(2, timeout=2)
    store = web_assignments.queue_grading

    def store_when_both_are_here(*args: Any, **kwargs: Any) -> Grading:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_storing.wait()
        return store(*args, **kwargs)

    monkeypatch.setattr(web_assignments, "queue_grading", store_when_both_are_here)

    def send(own: TestClient) -> Any:
        return own.post(
            f"/assignments/{WEEK1}/submissions",
            data={"csrf_token": token},
            files={"notebook": ("mine.ipynb", solution, "application/octet-stream")},
            follow_redirects=False,
        )

    held_after_checks("app.routers.web_assignments")
    responses = at_once(logged_in, send, send)
    assert sorted(r.status_code for r in responses) == [303, 429], [r.text[:300] for r in responses]
    refused = next(r for r in responses if r.status_code == 429)
    assert "You can submit this assignment again in" in refused.text
    with session_scope(settings.database_url) as session:
        mine = select(func.count(Submission.id)).join(Student).where(Student.email == student.email)
        assert session.scalar(mine) == 1


def finish(settings: Settings, submission_id: str, grading_id: int, points: float) -> None:
    """A worker's claim and result for one grading, its report given here."""
    with session_scope(settings.database_url) as session:
        claim = claim_grading(session, grading_id, worker="w", stale_seconds=60)
    assert claim is not None
    with session_scope(settings.database_url) as session:
        record_result(session, claim, week1_report(points).with_submission_id(submission_id), 1.0)


def test_of_two_regrades_sent_at_once_the_newest_result_stands_whichever_finishes_first(
    instructor: TestClient,
    settings: Settings,
    student: Login,
    solution: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    submission_id = submit(settings, student, solution)
    finish(settings, submission_id, only_grading(settings, submission_id), 5.0)
    both_queueing = threading.Barrier(2, timeout=2)
    queue = api_submissions.queue_grading

    def queue_when_both_are_here(*args: Any, **kwargs: Any) -> Grading:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_queueing.wait()
        return queue(*args, **kwargs)

    monkeypatch.setattr(api_submissions, "queue_grading", queue_when_both_are_here)
    regrade = f"/api/v1/submissions/{submission_id}/regrade"
    responses = at_once(instructor, lambda own: own.post(regrade), lambda own: own.post(regrade))
    assert [r.status_code for r in responses] == [202, 202], [r.text for r in responses]
    newest_first = sorted({r.json()["grading_id"] for r in responses}, reverse=True)
    for points, grading_id in zip([10.0, 3.0], newest_first, strict=False):
        finish(settings, submission_id, grading_id, points)
    with session_scope(settings.database_url) as session:
        submission = session.get_one(Submission, submission_id)
        assert (submission.result_grading_id, submission.score) == (newest_first[0], 10.0)
