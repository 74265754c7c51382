"""The load benchmark's traffic: the LMS receiver on loopback, student logins, uploads through the signed
webhook and the web form, the burst, and the clients that probe the API while grading runs.

`service_processes` comes from tests/service, which bench/load.py puts on the path.
"""

import asyncio
import base64
import json
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from load_kinds import KINDS, SLUG, Kind
from service_processes import callback_receiver
from standardwebhooks import Webhook

from workers.settings import Settings


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes
    signed: bool  # verified on arrival: Standard Webhooks refuses timestamps older than 5 minutes

    @property
    def submission_id(self) -> str | None:
        value = json.loads(self.body).get("submission_id")
        return str(value) if value else None


@dataclass
class Lms:
    url: str
    secret: str = ""
    callbacks: list[Received] = field(default_factory=list)

    def signed(self, body: bytes, headers: dict[str, str]) -> bool:
        try:
            Webhook(self.secret).verify(body, headers)
        except Exception:
            return False
        return True


@contextmanager
def lms_receiver() -> Iterator[Lms]:
    receiver = Lms(url="")

    def answer(headers: dict[str, str], body: bytes) -> int:
        receiver.callbacks.append(Received(time.time(), headers, body, receiver.signed(body, headers)))
        return 204

    with callback_receiver(answer) as url:
        receiver.url = url
        yield receiver


@dataclass
class Planned:
    index: int
    kind: Kind
    channel: str  # "lms" or "web"
    late: bool
    sent_at: float = 0.0
    upload_seconds: float = 0.0
    submission_id: str = ""
    lms_body: bytes = b""
    webhook_id: str = ""


@dataclass
class Student:
    email: str
    password: str
    client: httpx.AsyncClient | None = None
    csrf: str = ""


@dataclass
class Service:
    url: str
    token: str
    secret: str
    lms: Lms
    settings: Settings


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# Below uvicorn's 5 s keep-alive: a connection the server is closing is never reused (a read error).
KEEPALIVE_SECONDS = 2.0


async def log_in(url: str, student: Student) -> None:
    client = httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS)
    )
    page = await client.get("/login")
    found = CSRF.search(page.text)
    assert found, "no CSRF token on the login page"
    answer = await client.post(
        "/login", data={"email": student.email, "password": student.password, "csrf_token": found.group(1)}
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])
    page = await client.get(f"/assignments/{SLUG}")
    found = CSRF.search(page.text)
    assert found, "no CSRF token on the assignment page"
    student.client, student.csrf = client, found.group(1)


def signed_headers(secret: str, webhook_id: str, body: bytes) -> dict[str, str]:
    sent_at = datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body.decode()),
        "content-type": "application/json",
    }


async def upload(
    service: Service, client: httpx.AsyncClient, planned: Planned, student: Student | None
) -> None:
    planned.sent_at = time.time()
    started = time.perf_counter()
    if planned.channel == "lms":
        external = f"ext-{planned.index}-{uuid.uuid4().hex[:8]}"
        planned.webhook_id = f"msg_{external}"
        planned.lms_body = json.dumps(
            {
                "assignment": SLUG,
                "user_id": f"lms-user-{planned.index}",
                "external_submission_id": external,
                "notebook": base64.b64encode(planned.kind.notebook).decode(),
                "callback_url": service.lms.url,
            }
        ).encode()
        answer = await client.post(
            "/api/v1/lms/submissions",
            content=planned.lms_body,
            headers=signed_headers(service.secret, planned.webhook_id, planned.lms_body),
        )
        assert answer.status_code == 202, (answer.status_code, answer.text[:300])
        planned.submission_id = answer.json()["submission_id"]
    else:
        assert student is not None and student.client is not None
        answer = await student.client.post(
            f"/assignments/{SLUG}/submissions",
            data={"csrf_token": student.csrf},
            files={
                "notebook": (f"{planned.kind.name}.ipynb", planned.kind.notebook, "application/x-ipynb+json")
            },
        )
        assert answer.status_code == 303, (answer.status_code, answer.text[:300])
        planned.submission_id = answer.headers["location"].rsplit("/", 1)[1]
    planned.upload_seconds = time.perf_counter() - started


async def burst(service: Service, planned: list[Planned], students: dict[int, Student], clients: int) -> None:
    limit = asyncio.Semaphore(clients)
    async with httpx.AsyncClient(base_url=service.url, timeout=60, limits=_limits(clients)) as client:

        async def one(item: Planned) -> None:
            async with limit:
                await upload(service, client, item, students.get(item.index))

        await asyncio.gather(*(one(item) for item in planned if not item.late))


def _limits(clients: int) -> httpx.Limits:
    return httpx.Limits(
        max_connections=clients + 10,
        max_keepalive_connections=clients + 10,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )


@dataclass
class Probe:
    timings: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    ended: float = 0.0


async def probe(
    service: Service,
    planned: list[Planned],
    students: dict[int, Student],
    clients: int,
    seconds: float,
    think: float,
    seed: int,
) -> Probe:
    """--clients clients for a fixed time while grading runs; late uploads are spread over its first 80%."""
    rng = random.Random(seed)
    result = Probe(
        timings={"new upload": [], "replayed webhook": [], "student progress": [], "REST report": []}
    )
    late = [item for item in planned if item.late]
    late_at = sorted(rng.uniform(0, 0.8 * seconds) for _ in late)
    sent_lms = [item for item in planned if item.channel == "lms" and item.submission_id]
    web = [item for item in planned if item.channel == "web" and item.submission_id]
    auth = {"authorization": f"Bearer {service.token}"}
    result.started = time.perf_counter()
    deadline = result.started + seconds
    pending_late = list(zip(late_at, late, strict=True))
    lock = asyncio.Lock()

    async with httpx.AsyncClient(base_url=service.url, timeout=60, limits=_limits(clients)) as client:

        async def next_late() -> Planned | None:
            async with lock:
                if pending_late and time.perf_counter() - result.started >= pending_late[0][0]:
                    return pending_late.pop(0)[1]
            return None

        async def act(worker_rng: random.Random) -> None:
            item = await next_late()
            started = time.perf_counter()
            if item is not None:
                await upload(service, client, item, students.get(item.index))
                result.timings["new upload"].append(item.upload_seconds)
                return
            choice = worker_rng.random()
            if choice < 0.5 and sent_lms:
                target = worker_rng.choice(sent_lms)
                what = "replayed webhook"
                answer = await client.post(
                    "/api/v1/lms/submissions",
                    content=target.lms_body,
                    headers=signed_headers(service.secret, target.webhook_id, target.lms_body),
                )
                ok = answer.status_code == 202 and answer.json()["submission_id"] == target.submission_id
            elif choice < 0.75 and web:
                target = worker_rng.choice(web)
                student = students[target.index]
                assert student.client is not None
                what = "student progress"
                answer = await student.client.get(f"/submissions/{target.submission_id}/progress")
                ok = answer.status_code == 200
            else:
                target = worker_rng.choice(sent_lms or web)
                what = "REST report"
                answer = await client.get(f"/api/v1/submissions/{target.submission_id}", headers=auth)
                ok = answer.status_code == 200
            result.timings[what].append(time.perf_counter() - started)
            if not ok:
                result.errors[f"{what}: {answer.status_code}"] += 1

        async def one_client(number: int) -> None:
            worker_rng = random.Random(seed * 1000 + number)
            await asyncio.sleep(worker_rng.uniform(0, think))
            while time.perf_counter() < deadline:
                try:
                    await act(worker_rng)
                except (httpx.HTTPError, AssertionError) as error:
                    result.errors[type(error).__name__] += 1
                await asyncio.sleep(worker_rng.expovariate(1 / think) if think > 0 else 0)

        await asyncio.gather(*(one_client(n) for n in range(clients)))
        # Late uploads the clients did not reach (a very short probe) go now, so none is dropped.
        for _, item in pending_late:
            await upload(service, client, item, students.get(item.index))
            result.timings["new upload"].append(item.upload_seconds)
    result.ended = time.perf_counter()
    return result


def plan(count: int, solutions: float, wrong: float, late: float, seed: int) -> list[Planned]:
    rng = random.Random(seed)
    n_solutions, n_wrong = round(count * solutions), round(count * wrong)
    kinds = ["solution"] * n_solutions + ["wrong"] * n_wrong + ["template"] * (count - n_solutions - n_wrong)
    rng.shuffle(kinds)
    channels = ["lms", "web"] * (count // 2) + ["lms"] * (count % 2)
    late_indices = set(rng.sample(range(count), round(count * late)))
    return [
        Planned(index=i, kind=KINDS[kind], channel=channels[i], late=i in late_indices)
        for i, kind in enumerate(kinds)
    ]
