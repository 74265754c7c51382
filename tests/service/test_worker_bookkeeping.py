"""The workers' bookkeeping, called in the test's own process against a real database and broker: the
heartbeat's recoveries (dead workers, gradings never sent, a broker that lost its data), attempts given
back to the queue, reports for gradings that cannot be graded, and deliveries given up on."""

import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from queue import Empty

import pytest
import redis
from helpers import WEEK1, Login, RedisServer, free_port, latest_grading, submit, wait_until

from grader import GRADER_VERSION, Catalog, GradeReport, Status
from workers.canary import Canaries
from workers.database import session_scope
from workers.delivery import give_up
from workers.grading import (
    Claim,
    claim_grading,
    orphaned_gradings,
    produce_report,
    retry_later,
    waiting_assignment,
)
from workers.heartbeat import UNSENT_GRACE_SECONDS, Heartbeat, beat
from workers.models import (
    Delivery,
    DeliveryState,
    Grading,
    GradingState,
    Integration,
    Submission,
    WorkerHeartbeat,
    utcnow,
)
from workers.queueing import celery_for
from workers.settings import Settings


def sent_gradings(settings: Settings) -> list[int]:
    """Takes every message off the grading queue: the ids of the gradings sent to workers, in order."""
    sent: list[int] = []
    with celery_for(settings).connection_for_read() as connection:
        queue = connection.SimpleQueue("grading", no_ack=True)
        try:
            while True:
                message = queue.get(block=False)
                arguments, _, _ = message.payload
                sent.append(arguments[0])
        except Empty:
            return sent
        finally:
            queue.close()


def queued(settings: Settings, student: Login, solution: bytes) -> int:
    """A stored grading whose message the test has already taken off the queue."""
    grading_id = latest_grading(settings, submit(settings, student, solution))
    assert sent_gradings(settings) == [grading_id]
    return grading_id


def running_under(settings: Settings, grading_id: int, worker: str) -> Claim:
    with session_scope(settings.database_url) as session:
        claim = claim_grading(session, grading_id, worker=worker, stale_seconds=60)
    assert claim is not None
    return claim


def last_seen(settings: Settings, worker: str, *, minutes_ago: float) -> None:
    with session_scope(settings.database_url) as session:
        beat(session, worker)
    with session_scope(settings.database_url) as session:
        session.get_one(WorkerHeartbeat, worker).seen_at = utcnow() - timedelta(minutes=minutes_ago)


def stored_long_ago(settings: Settings, grading_id: int, *, sent: bool) -> None:
    with session_scope(settings.database_url) as session:
        grading = session.get_one(Grading, grading_id)
        grading.created_at = utcnow() - timedelta(seconds=UNSENT_GRACE_SECONDS + 50)
        grading.enqueued_at = grading.created_at if sent else None


def already_done(settings: Settings, grading_id: int) -> None:
    with session_scope(settings.database_url) as session:
        session.get_one(Grading, grading_id).state = GradingState.DONE


def state_of(settings: Settings, grading_id: int) -> tuple[str, bool, str | None]:
    """The grading's state, whether it is marked as sent, and the worker it was last given to."""
    with session_scope(settings.database_url) as session:
        grading = session.get_one(Grading, grading_id)
        return grading.state, grading.enqueued_at is not None, grading.worker


def heartbeat_of(settings: Settings, worker: str) -> tuple[float, object, bool]:
    """Seconds since the worker's heartbeat, its canaries and whether it grades without caps."""
    with session_scope(settings.database_url) as session:
        heartbeat = session.get_one(WorkerHeartbeat, worker)
        return (utcnow() - heartbeat.seen_at).total_seconds(), heartbeat.canaries, heartbeat.uncapped


def test_a_tick_requeues_what_dead_workers_held_and_sends_what_was_never_sent(
    settings: Settings, student: Login, solution: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    heartbeat = Heartbeat(settings, "recovering@host", recovers_gradings=True)
    heartbeat.tick()  # a first tick on Redis sends again what was queued before it: nothing yet
    dead_workers = queued(settings, student, solution)
    live_workers = queued(settings, student, solution)
    never_sent = queued(settings, student, solution)
    just_stored = queued(settings, student, solution)
    sent_long_ago = queued(settings, student, solution)
    last_seen(settings, "gone@host", minutes_ago=5)
    last_seen(settings, "busy@host", minutes_ago=0)
    running_under(settings, dead_workers, "gone@host")
    running_under(settings, live_workers, "busy@host")
    stored_long_ago(settings, never_sent, sent=False)
    stored_long_ago(settings, sent_long_ago, sent=True)
    stored_long_ago(settings, live_workers, sent=False)
    with session_scope(settings.database_url) as session:
        session.get_one(Grading, just_stored).enqueued_at = None

    with caplog.at_level(logging.WARNING, "workers.heartbeat"):
        heartbeat.tick()

    assert sorted(sent_gradings(settings)) == sorted([dead_workers, never_sent])
    assert sorted(caplog.messages) == sorted(
        f"requeueing grading {grading_id} (its worker died or it was never sent)"
        for grading_id in [dead_workers, never_sent]
    )
    assert state_of(settings, dead_workers) == (GradingState.QUEUED, True, "gone@host")
    assert state_of(settings, live_workers) == (GradingState.RUNNING, False, "busy@host")
    assert state_of(settings, never_sent) == (GradingState.QUEUED, True, None)
    assert state_of(settings, just_stored) == (GradingState.QUEUED, False, None)
    assert state_of(settings, sent_long_ago) == (GradingState.QUEUED, True, None)
    seconds, canaries, uncapped = heartbeat_of(settings, "recovering@host")
    assert 0 <= seconds < 60 and (canaries, uncapped) == (None, False)


def test_a_worker_that_does_not_recover_only_beats(
    settings: Settings, student: Login, solution: bytes
) -> None:
    dead_workers = queued(settings, student, solution)
    last_seen(settings, "gone@host", minutes_ago=5)
    running_under(settings, dead_workers, "gone@host")

    Heartbeat(settings, "grading@host", recovers_gradings=False, uncapped=True).tick()

    assert sent_gradings(settings) == []
    assert state_of(settings, dead_workers) == (GradingState.RUNNING, True, "gone@host")
    seconds, canaries, uncapped = heartbeat_of(settings, "grading@host")
    assert 0 <= seconds < 60 and (canaries, uncapped) == (None, True)


def test_a_first_beat_records_the_workers_canaries_and_caps(settings: Settings) -> None:
    record = [{"assignment": WEEK1, "passed": False}]
    with session_scope(settings.database_url) as session:
        beat(session, "w@host", record, uncapped=True)
    seconds, canaries, uncapped = heartbeat_of(settings, "w@host")
    assert 0 <= seconds < 60 and (canaries, uncapped) == (record, True)


def test_a_beat_overwrites_the_last_one(settings: Settings) -> None:
    last_seen(settings, "w@host", minutes_ago=30)
    record = [{"assignment": WEEK1, "passed": False}]
    with session_scope(settings.database_url) as session:
        beat(session, "w@host", record, uncapped=True)
    seconds, canaries, uncapped = heartbeat_of(settings, "w@host")
    assert 0 <= seconds < 60 and (canaries, uncapped) == (record, True)
    with session_scope(settings.database_url) as session:
        beat(session, "w@host", None)
    assert heartbeat_of(settings, "w@host")[1:] == (None, False)


def failing_grader(notebook: bytes, assignment: object) -> GradeReport:
    raise RuntimeError("no TensorFlow here")


def test_a_tick_stores_the_latest_verdict_of_each_canary(settings: Settings) -> None:
    canaries = Canaries(retry_seconds=60)
    canaries.check(Catalog().get(WEEK1), failing_grader)
    (verdict,) = canaries.records()
    assert (verdict["assignment"], verdict["passed"], verdict["failures"]) == (WEEK1, False, 1)
    Heartbeat(settings, "w@host", recovers_gradings=False, canaries=canaries).tick()
    assert heartbeat_of(settings, "w@host")[1] == [verdict]


def beats_of(settings: Settings, worker: str) -> datetime | None:
    with session_scope(settings.database_url) as session:
        heartbeat = session.get(WorkerHeartbeat, worker)
        return None if heartbeat is None else heartbeat.seen_at


def test_the_heartbeat_thread_beats_until_stopped_and_never_holds_the_process(settings: Settings) -> None:
    often = settings.model_copy(update={"worker_heartbeat_seconds": 0.05})
    heartbeat = Heartbeat(often, "w@host", recovers_gradings=False)
    assert (heartbeat.name, heartbeat.daemon) == ("tfgrade-heartbeat", True)
    heartbeat.start()
    try:
        wait_until(lambda: beats_of(settings, "w@host") is not None, 30, "a first heartbeat")
        first = beats_of(settings, "w@host")
        wait_until(lambda: beats_of(settings, "w@host") != first, 30, "a second heartbeat")
    finally:
        heartbeat.stop()
        heartbeat.join(30)
    assert not heartbeat.is_alive()


def test_a_heartbeat_that_fails_says_so_and_tries_again(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path}/missing/db.sqlite", "worker_heartbeat_seconds": 0.05}
    )
    heartbeat = Heartbeat(unreachable, "w@host", recovers_gradings=False)
    with caplog.at_level(logging.ERROR, "workers.heartbeat"):
        heartbeat.start()
        try:
            wait_until(lambda: len(caplog.messages) >= 2, 30, "two failed heartbeats")
        finally:
            heartbeat.stop()
            heartbeat.join(30)
    assert set(caplog.messages) == {"heartbeat failed; retrying"}
    assert not heartbeat.is_alive()


@pytest.fixture
def on_redis(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The test's settings with a Redis of its own as the broker."""
    server = RedisServer()
    server.start()
    try:
        yield settings.model_copy(update={"broker_url": f"{server.url}/0"})
    finally:
        server.stop()


def test_after_the_broker_loses_its_data_every_queued_grading_is_sent_again_at_once(
    on_redis: Settings, student: Login, solution: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    settings = on_redis
    heartbeat = Heartbeat(settings, "recovering@host", recovers_gradings=True)
    heartbeat.tick()  # the broker's first use: nothing was queued, nothing is sent
    assert sent_gradings(settings) == []
    waiting = queued(settings, student, solution)
    graded = queued(settings, student, solution)
    being_graded = queued(settings, student, solution)
    last_seen(settings, "busy@host", minutes_ago=0)
    running_under(settings, being_graded, "busy@host")
    already_done(settings, graded)

    heartbeat.tick()  # the broker still holds its data: nothing is sent again
    assert sent_gradings(settings) == []

    redis.Redis.from_url(settings.broker_url).flushall()
    with caplog.at_level(logging.WARNING, "workers.heartbeat"):
        heartbeat.tick()

    # Stored a moment ago, the waiting grading is sent without the usual grace for the API to send it.
    assert sent_gradings(settings) == [waiting]
    assert caplog.messages == [
        "the broker lost its data; sending 1 queued gradings again",
        f"requeueing grading {waiting} (its worker died or it was never sent)",
    ]
    assert state_of(settings, waiting) == (GradingState.QUEUED, True, None)
    assert state_of(settings, graded) == (GradingState.DONE, True, None)
    assert state_of(settings, being_graded) == (GradingState.RUNNING, True, "busy@host")
    heartbeat.tick()
    assert sent_gradings(settings) == []


def test_a_loss_that_forgot_nothing_leaves_the_api_its_time_to_send(
    on_redis: Settings, student: Login, solution: bytes
) -> None:
    settings = on_redis
    heartbeat = Heartbeat(settings, "recovering@host", recovers_gradings=True)
    heartbeat.tick()
    just_stored = queued(settings, student, solution)
    with session_scope(settings.database_url) as session:
        session.get_one(Grading, just_stored).enqueued_at = None
    redis.Redis.from_url(settings.broker_url).flushall()
    heartbeat.tick()
    assert sent_gradings(settings) == []
    assert state_of(settings, just_stored) == (GradingState.QUEUED, False, None)


def test_an_attempt_given_back_goes_to_the_queue_and_is_marked_sent(
    settings: Settings, student: Login, solution: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    grading_id = queued(settings, student, solution)
    claim = running_under(settings, grading_id, "w@host")
    with caplog.at_level(logging.WARNING, "workers.grading"):
        retry_later(settings, claim)
    assert sent_gradings(settings) == [grading_id]
    assert state_of(settings, grading_id) == (GradingState.QUEUED, True, "w@host")
    assert caplog.messages == [f"grading {grading_id} failed on the grader's side; attempt 1 given back"]


def test_an_attempt_given_back_while_the_broker_is_away_is_left_for_a_heartbeat_to_send(
    settings: Settings, student: Login, solution: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    grading_id = queued(settings, student, solution)
    claim = running_under(settings, grading_id, "w@host")
    away = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    with caplog.at_level(logging.WARNING, "workers.grading"):
        retry_later(away, claim)
    assert state_of(settings, grading_id) == (GradingState.QUEUED, False, "w@host")
    assert caplog.messages == [
        f"grading {grading_id} failed on the grader's side; attempt 1 given back",
        f"broker unavailable; grading {grading_id} will be sent by a worker",
    ]
    assert isinstance(caplog.records[1].exc_info, tuple)  # the broker's own error, for the operator


def test_an_attempt_another_worker_has_taken_over_is_not_given_back(
    settings: Settings, student: Login, solution: bytes
) -> None:
    grading_id = queued(settings, student, solution)
    stale = running_under(settings, grading_id, "first@host")
    running_under(settings, grading_id, "second@host")
    retry_later(settings, stale)
    assert sent_gradings(settings) == []
    assert state_of(settings, grading_id) == (GradingState.RUNNING, True, "second@host")


def test_a_restarted_worker_takes_back_only_what_its_own_name_was_running(
    settings: Settings, student: Login, solution: bytes
) -> None:
    mine = queued(settings, student, solution)
    theirs = queued(settings, student, solution)
    done = queued(settings, student, solution)
    running_under(settings, mine, "w@host")
    running_under(settings, theirs, "other@host")
    running_under(settings, done, "w@host")
    already_done(settings, done)
    with session_scope(settings.database_url) as session:
        session.get_one(Grading, mine).enqueued_at = None
    with session_scope(settings.database_url) as session:
        assert orphaned_gradings(session, worker="w@host") == [mine]
    assert state_of(settings, mine) == (GradingState.QUEUED, True, "w@host")
    assert state_of(settings, theirs) == (GradingState.RUNNING, True, "other@host")
    assert state_of(settings, done) == (GradingState.DONE, True, "w@host")


def test_only_a_grading_still_waiting_names_its_assignment(
    settings: Settings, student: Login, solution: bytes
) -> None:
    waiting = queued(settings, student, solution)
    done = queued(settings, student, solution)
    already_done(settings, done)
    with session_scope(settings.database_url) as session:
        assert waiting_assignment(session, waiting) == WEEK1
        assert waiting_assignment(session, done) is None
        assert waiting_assignment(session, done + 1000) is None


def never_called(notebook: bytes, assignment: object) -> GradeReport:
    raise AssertionError("the grader must not run")


def claim_for(assignment: str, attempt: int) -> Claim:
    return Claim(grading_id=1, attempt=attempt, submission_id="sub-1", assignment=assignment, notebook=b"{}")


def test_a_grading_for_an_assignment_the_worker_lacks_gets_an_error_report() -> None:
    report = produce_report(
        claim_for("no-such-assignment", 1), catalog=Catalog(), grade=never_called, max_attempts=3
    )
    assert (report.submission_id, report.assignment, report.assignment_version, report.status) == (
        "sub-1",
        "no-such-assignment",
        "unknown",
        Status.ERROR,
    )
    assert report.message.startswith("This assignment is not available for grading: ")
    assert "no-such-assignment" in report.message
    assert (report.score, report.max_score, report.checks, report.grader_version) == (
        0,
        0,
        (),
        GRADER_VERSION,
    )


def test_a_grading_past_its_attempts_gets_an_error_report_worth_nothing() -> None:
    assignment = Catalog().get(WEEK1)
    report = produce_report(claim_for(WEEK1, 4), catalog=Catalog(), grade=never_called, max_attempts=3)
    assert (report.submission_id, report.assignment, report.assignment_version, report.status) == (
        "sub-1",
        WEEK1,
        assignment.version,
        Status.ERROR,
    )
    assert report.message == (
        "Grading stopped the grader 3 times, so this notebook was not graded. "
        "Look for code that uses a lot of memory or never ends."
    )
    assert report.score == 0 and report.max_score == assignment.max_score == 10
    assert report.grader_version == GRADER_VERSION


def test_a_grader_that_fails_gets_an_error_report_that_blames_no_one() -> None:
    def failing(notebook: bytes, assignment: object) -> GradeReport:
        raise RuntimeError("bug in the grading core")

    report = produce_report(claim_for(WEEK1, 1), catalog=Catalog(), grade=failing, max_attempts=3)
    assert (report.submission_id, report.status, report.score) == ("sub-1", Status.ERROR, 0)
    assert report.message == "The grader failed on this notebook; staff have been told."


def test_a_delivery_given_up_on_is_failed(settings: Settings, student: Login, solution: bytes) -> None:
    submission_id = submit(settings, student, solution)
    with session_scope(settings.database_url) as session:
        integration = Integration(name=f"lms-{uuid.uuid4().hex}", secret="whsec_x", callback_urls=[])
        session.add(integration)
        session.flush()
        delivery = Delivery(
            submission_id=submission_id,
            integration_id=integration.id,
            webhook_id="msg_1",
            url="http://127.0.0.1:9/",
            payload={},
        )
        session.add(delivery)
        session.flush()
        delivery_id = delivery.id
    with session_scope(settings.database_url) as session:
        give_up(session, delivery_id)
    with session_scope(settings.database_url) as session:
        assert session.get_one(Delivery, delivery_id).state == DeliveryState.FAILED
        assert session.get_one(Submission, submission_id).id == submission_id
