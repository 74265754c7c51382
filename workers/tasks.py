import logging

from celery import Task, shared_task

from workers.canary import failing_canary
from workers.celery_app import DELIVER_TASK, GRADE_TASK
from workers.database import session_scope
from workers.delivery import attempt_delivery, give_up
from workers.grading import grade_submission, retrying_database
from workers.queueing import enqueue_delivery
from workers.runtime import current_runtime

log = logging.getLogger(__name__)


# Retried without limit: a grading held back by a failing canary waits for the environment to be repaired.
@shared_task(name=GRADE_TASK, bind=True, max_retries=None)
def grade(self: Task, grading_id: int) -> None:
    runtime = current_runtime()
    settings = runtime.settings
    if runtime.canaries is not None:
        failed = failing_canary(
            grading_id,
            settings=settings,
            catalog=runtime.catalog,
            canaries=runtime.canaries,
            grade=runtime.grade,
        )
        if failed is not None:
            log.warning(
                "grading %s held back: the canary of %s failed; trying again in %g s",
                grading_id,
                failed.assignment,
                settings.canary_retry_seconds,
            )
            raise self.retry(countdown=settings.canary_retry_seconds)
    deliveries = grade_submission(
        grading_id,
        settings=settings,
        catalog=runtime.catalog,
        grade=runtime.grade,
        worker=runtime.hostname,
    )
    for delivery_id in deliveries:
        enqueue_delivery(settings, delivery_id)


@shared_task(name=DELIVER_TASK, bind=True, max_retries=None)
def deliver(self: Task, delivery_id: int) -> None:
    settings = current_runtime().settings

    def attempt() -> bool:
        with session_scope(settings.database_url) as session:
            return attempt_delivery(session, delivery_id, settings)

    finished = retrying_database(attempt)
    if finished:
        return
    retries = self.request.retries
    if retries >= settings.delivery_max_retries:
        with session_scope(settings.database_url) as session:
            give_up(session, delivery_id)
        return
    raise self.retry(countdown=settings.delivery_backoff_seconds * 2**retries)
