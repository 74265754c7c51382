from celery import Celery

from workers.celery_app import DELIVER_TASK, DELIVERIES_QUEUE, GRADE_TASK, GRADING_QUEUE, get_celery
from workers.settings import Settings


def celery_for(settings: Settings) -> Celery:
    return get_celery(settings.broker_url, settings.broker_visibility_timeout_seconds)


def enqueue_grading(settings: Settings, grading_id: int) -> None:
    celery_for(settings).send_task(GRADE_TASK, args=[grading_id], queue=GRADING_QUEUE)


def enqueue_delivery(settings: Settings, delivery_id: int) -> None:
    celery_for(settings).send_task(DELIVER_TASK, args=[delivery_id], queue=DELIVERIES_QUEUE)
