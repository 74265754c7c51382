from dataclasses import asdict
from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from app.canaries import FailingCanary, failing_canaries
from app.deps import SessionDep, SettingsDep
from workers.models import WorkerHeartbeat, utcnow
from workers.queueing import celery_for
from workers.settings import Settings

router = APIRouter(tags=["operations"])


def database_ready(session: SessionDep) -> bool:
    try:
        session.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def broker_ready(settings: Settings) -> bool:
    try:
        with celery_for(settings).connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        return False
    return True


def worker_seen(session: SessionDep, settings: Settings) -> bool:
    try:
        last_seen = session.scalar(select(func.max(WorkerHeartbeat.seen_at)))
    except Exception:
        return False
    return last_seen is not None and last_seen > utcnow() - timedelta(seconds=settings.worker_stale_seconds)


def failing_canaries_seen(session: SessionDep, settings: Settings) -> list[FailingCanary] | None:
    try:
        return failing_canaries(session, stale_seconds=settings.worker_stale_seconds)
    except Exception:
        return None


def uncapped_workers_seen(session: SessionDep, settings: Settings) -> list[str]:
    """Live workers that grade without memory and pids cgroups, as their operators allowed."""
    try:
        return list(
            session.scalars(
                select(WorkerHeartbeat.hostname)
                .where(WorkerHeartbeat.uncapped)
                .where(WorkerHeartbeat.seen_at > utcnow() - timedelta(seconds=settings.worker_stale_seconds))
                .order_by(WorkerHeartbeat.hostname)
            )
        )
    except Exception:
        return []


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is not ready"}})
def readyz(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    checks = {
        "database": database_ready(session),
        "broker": broker_ready(settings),
        "worker": worker_seen(session, settings),
    }
    # A live worker whose canary fails holds back that assignment's submissions.
    failing = failing_canaries_seen(session, settings)
    checks["canaries"] = failing == []
    ready = all(checks.values())
    # Allowed explicitly (TFGRADE_ALLOW_NO_CGROUP), so not a reason to refuse traffic, but said.
    uncapped = uncapped_workers_seen(session, settings)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "failing_canaries": [asdict(canary) for canary in failing or []],
        "uncapped_workers": uncapped,
        "warnings": [
            f"worker {hostname} runs submissions without memory or pids caps (no cgroup on its host)"
            for hostname in uncapped
        ],
    }
    return JSONResponse(body, 200 if ready else 503)


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
