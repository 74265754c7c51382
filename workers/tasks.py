from celery import Task, shared_task

from grader import Assignment, GradeReport, grade_notebook
from workers.celery_app import DELIVER_TASK, GRADE_TASK
from workers.database import session_scope
from workers.delivery import attempt_delivery, give_up
from workers.grading import grade_submission, retrying_database
from workers.queueing import enqueue_delivery
from workers.runtime import current_runtime


@shared_task(name=GRADE_TASK)
def grade(grading_id: int) -> None:
    runtime = current_runtime()

    def grade_in_pool(notebook: bytes, assignment: Assignment) -> GradeReport:
        return grade_notebook(notebook, assignment, pool=runtime.pool)

    deliveries = grade_submission(
        grading_id,
        settings=runtime.settings,
        catalog=runtime.catalog,
        grade=grade_in_pool,
        worker=runtime.hostname,
    )
    for delivery_id in deliveries:
        enqueue_delivery(runtime.settings, delivery_id)


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
