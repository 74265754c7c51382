import time

from celery import Celery
from kombu.exceptions import OperationalError

from workers.celery_app import DELIVER_TASK, DELIVERIES_QUEUE, GRADE_TASK, GRADING_QUEUE, get_celery
from workers.settings import Settings


def celery_for(settings: Settings) -> Celery:
    return get_celery(settings.broker_url, settings.broker_visibility_timeout_seconds)


def enqueue_grading(settings: Settings, grading_id: int) -> None:
    celery_for(settings).send_task(GRADE_TASK, args=[grading_id], queue=GRADING_QUEUE)


# A worker holds a finished result's callback until the broker is back (about two minutes at most).
BROKER_AWAY_SECONDS = 120.0


def enqueue_delivery(settings: Settings, delivery_id: int) -> None:
    deadline = time.monotonic() + BROKER_AWAY_SECONDS
    while True:
        try:
            celery_for(settings).send_task(DELIVER_TASK, args=[delivery_id], queue=DELIVERIES_QUEUE)
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2.0)
