from conftest import Login, finish_grading, submit
from fastapi.testclient import TestClient

from workers.settings import Settings


def test_healthz_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_no_worker_when_none_beats(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": True, "worker": False}


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
