import os
import socket

from grader import Catalog, SandboxPool
from grader.sandbox.host import detect_host
from workers.canary import Canaries
from workers.celery_app import GRADING_QUEUE
from workers.cgroup_check import check_cgroups
from workers.database import session_scope
from workers.grading import orphaned_gradings
from workers.heartbeat import Heartbeat
from workers.queueing import celery_for, enqueue_grading
from workers.runtime import WorkerRuntime, install_runtime
from workers.settings import Settings


def default_hostname() -> str:
    return f"tfgrade-{os.getpid()}@{socket.gethostname()}"


def requeue_orphans(settings: Settings, hostname: str) -> None:
    """Before consuming: what an earlier process of this hostname left running cannot be running now."""
    with session_scope(settings.database_url) as session:
        orphaned = orphaned_gradings(session, worker=hostname)
    for grading_id in orphaned:
        enqueue_grading(settings, grading_id)


def run_worker(settings: Settings, *, queues: list[str], concurrency: int, hostname: str) -> None:
    """Runs a Celery worker in threads; a grading worker owns one warm sandbox pool for its lifetime."""
    catalog = Catalog()
    grades = GRADING_QUEUE in queues
    uncapped = grades and check_cgroups(detect_host(), allow_without=settings.allow_no_cgroup)
    pool = SandboxPool(catalog, size=concurrency) if grades else None
    canaries = Canaries(retry_seconds=settings.canary_retry_seconds) if grades else None
    install_runtime(
        WorkerRuntime(settings=settings, hostname=hostname, catalog=catalog, pool=pool, canaries=canaries)
    )
    celery = celery_for(settings)
    celery.loader.import_default_modules()
    if grades:
        requeue_orphans(settings, hostname)
    heartbeat = Heartbeat(settings, hostname, recovers_gradings=grades, canaries=canaries, uncapped=uncapped)
    heartbeat.start()
    try:
        celery.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--queues={','.join(queues)}",
                f"--hostname={hostname}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        heartbeat.stop()
        if pool is not None:
            pool.close()
