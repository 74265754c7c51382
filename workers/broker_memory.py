"""Noticing that Redis lost its data (restarted without persistence, flushed): the queued messages of
gradings already marked as sent are gone with it, and only the database still knows those gradings."""

from functools import cache

import redis
from sqlalchemy import update
from sqlalchemy.orm import Session

from workers.models import Grading, GradingState

MARK_KEY = "tfgrade:broker-memory"


@cache
def _redis(broker_url: str) -> redis.Redis | None:
    """One client (and its connection pool) per broker, kept for the heartbeat's every tick."""
    if not broker_url.startswith(("redis://", "rediss://")):
        return None  # the embedded broker lives in a file beside the database
    return redis.Redis.from_url(broker_url, socket_timeout=5)


def broker_remembers(broker_url: str) -> bool:
    """The mark set by `remember` lives exactly as long as Redis's data."""
    client = _redis(broker_url)
    return client is None or bool(client.exists(MARK_KEY))


def remember(broker_url: str) -> None:
    client = _redis(broker_url)
    if client is not None:
        client.set(MARK_KEY, "1")


def mark_queued_unsent(session: Session) -> int:
    """Every queued grading counts as never sent, so it is sent again (a grading sent twice is graded
    once). On the broker's first use there is nothing queued yet."""
    result = session.execute(
        update(Grading)
        .where(Grading.state == GradingState.QUEUED, Grading.enqueued_at.is_not(None))
        .values(enqueued_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
