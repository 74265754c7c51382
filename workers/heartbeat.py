import logging
import threading
from typing import Any

from sqlalchemy.orm import Session

from workers.broker_memory import broker_remembers, mark_queued_unsent, remember
from workers.canary import Canaries
from workers.database import session_scope
from workers.grading import abandoned_gradings, unsent_gradings
from workers.models import WorkerHeartbeat, utcnow
from workers.queueing import enqueue_grading
from workers.settings import Settings

log = logging.getLogger(__name__)
# Longer than the API takes between committing a grading and handing it to the broker.
UNSENT_GRACE_SECONDS = 10.0


def beat(
    session: Session, hostname: str, canaries: list[dict[str, Any]] | None = None, *, uncapped: bool = False
) -> None:
    heartbeat = session.get(WorkerHeartbeat, hostname)
    if heartbeat is None:
        session.add(
            WorkerHeartbeat(hostname=hostname, seen_at=utcnow(), canaries=canaries, uncapped=uncapped)
        )
    else:
        heartbeat.seen_at = utcnow()
        heartbeat.canaries = canaries
        heartbeat.uncapped = uncapped


class Heartbeat(threading.Thread):
    """Tells /readyz this worker lives, how its canaries fare and whether it grades without memory and
    pids caps, and requeues gradings whose worker stopped beating."""

    def __init__(
        self,
        settings: Settings,
        hostname: str,
        *,
        recovers_gradings: bool,
        canaries: Canaries | None = None,
        uncapped: bool = False,
    ) -> None:
        super().__init__(name="tfgrade-heartbeat", daemon=True)
        self.settings = settings
        self.hostname = hostname
        self.recovers_gradings = recovers_gradings
        self.canaries = canaries
        self.uncapped = uncapped
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("heartbeat failed; retrying")
            self.stopped.wait(self.settings.worker_heartbeat_seconds)

    def tick(self) -> None:
        with session_scope(self.settings.database_url) as session:
            canaries = self.canaries.records() if self.canaries else None
            beat(session, self.hostname, canaries, uncapped=self.uncapped)
        if not self.recovers_gradings:
            return
        forgotten = 0
        if not broker_remembers(self.settings.broker_url):
            with session_scope(self.settings.database_url) as session:
                forgotten = mark_queued_unsent(session)
            remember(self.settings.broker_url)  # only once the database knows what to send again
            if forgotten:
                log.warning("the broker lost its data; sending %d queued gradings again", forgotten)
        with session_scope(self.settings.database_url) as session:
            recovered = abandoned_gradings(session, stale_seconds=self.settings.worker_stale_seconds)
            # After a loss, no API is about to send those gradings: they go now.
            grace = 0.0 if forgotten else UNSENT_GRACE_SECONDS
            recovered += unsent_gradings(session, older_than_seconds=grace)
            # Sent before the commit: when the broker is away, the marks roll back and the next tick
            # tries again (a grading sent twice is graded once).
            for grading_id in recovered:
                log.warning("requeueing grading %s (its worker died or it was never sent)", grading_id)
                enqueue_grading(self.settings, grading_id)

    def stop(self) -> None:
        self.stopped.set()
