from functools import lru_cache

from celery import Celery
from kombu import Queue

GRADING_QUEUE = "grading"
DELIVERIES_QUEUE = "deliveries"
GRADE_TASK = "tfgrade.grade"
DELIVER_TASK = "tfgrade.deliver"


def transport_options(broker_url: str, visibility_timeout_seconds: int) -> dict[str, int]:
    """Redis redelivers a task unacknowledged this long; it must exceed the longest grading."""
    if broker_url.startswith(("redis://", "rediss://")):
        return {"visibility_timeout": visibility_timeout_seconds}
    return {}


@lru_cache
def get_celery(broker_url: str, visibility_timeout_seconds: int) -> Celery:
    celery = Celery("tfgrade", broker=broker_url, include=["workers.tasks"])
    celery.conf.update(
        task_queues=[Queue(GRADING_QUEUE), Queue(DELIVERIES_QUEUE)],
        task_default_queue=GRADING_QUEUE,
        task_routes={GRADE_TASK: {"queue": GRADING_QUEUE}, DELIVER_TASK: {"queue": DELIVERIES_QUEUE}},
        # A crashed worker's task goes back to the queue; workers.grading counts attempts to bound it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options(broker_url, visibility_timeout_seconds),
        worker_hijack_root_logger=False,
    )
    return celery
