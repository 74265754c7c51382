import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from helpers import (
    WEEK1,
    Backend,
    LiveService,
    Login,
    csrf_from,
    finish_grading,
    free_port,
    healthy,
    new_student,
    running,
    submit,
    tfgrade,
    wait_until,
)

from workers.settings import Settings

BURST = 60


def test_healthz_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_no_worker_when_none_beats(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": True, "worker": False, "canaries": True}
    assert response.json()["failing_canaries"] == []


def test_metrics_count_requests_queue_depth_and_grading_time(
    client: TestClient, settings: Settings, student: Login, solution: bytes
) -> None:
    finish_grading(settings, submit(settings, student, solution), 10)
    submit(settings, student, solution)
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'tfgrade_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    depth = next(
        line for line in text.splitlines() if line.startswith('tfgrade_queue_depth{queue="grading"}')
    )
    assert float(depth.split()[-1]) >= 1
    assert 'tfgrade_grading_seconds_bucket{assignment="c1w1-housing-prices",le="5.0",status="graded"}' in text


def test_a_burst_of_logins_and_pages_wider_than_the_connection_pool_is_answered(live: LiveService) -> None:
    """Logins (slow: Argon2) and pages at once, more than the server has threads and database
    connections: a finished page must give its connection back without waiting for a thread."""
    # A class logging in at once: one student each (the same one again and again would meet its own limit).
    logins = [new_student(live.settings) for _ in range(BURST + 1)]

    async def log_in(client: httpx.AsyncClient, login: Login) -> int:
        token = csrf_from((await client.get("/login")).text)
        form = {"email": login.email, "password": login.password, "csrf_token": token}
        return (await client.post("/login", data=form)).status_code

    async def burst() -> list[int]:
        clients = [httpx.AsyncClient(base_url=live.url, timeout=60) for _ in range(BURST + 1)]
        pages, others = clients[0], clients[1:]
        try:
            await log_in(pages, logins[0])
            answers = await asyncio.gather(
                *(pages.get(f"/assignments/{WEEK1}") for _ in range(BURST)),
                *(log_in(client, login) for client, login in zip(others, logins[1:], strict=True)),
            )
        finally:
            for client in clients:
                await client.aclose()
        return [answer if isinstance(answer, int) else answer.status_code for answer in answers]

    started = time.monotonic()
    with ThreadPoolExecutor(1) as thread:  # a loop of its own: the browser tests leave one running here
        statuses = thread.submit(asyncio.run, burst()).result()
    assert statuses == [200] * BURST + [303] * BURST
    assert time.monotonic() - started < 25  # a pool that deadlocks gives up only after 30 s


def test_an_api_of_several_processes_counts_every_request_in_its_metrics(
    backend: Backend, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = backend.new_env("processes")
    tfgrade(env, "migrate")
    with running(env, tmp_path / "api.log", "api", "--port", str(port), "--processes", "2"):
        wait_until(lambda: healthy(url), 60, "the API")
        for _ in range(20):  # a connection each, so both processes take some
            assert httpx.get(f"{url}/login", headers={"connection": "close"}).status_code == 200
        text = httpx.get(f"{url}/metrics").text
    assert 'tfgrade_http_requests_total{method="GET",route="/login",status="200"} 20.0' in text
