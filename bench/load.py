"""A burst of week-1 submissions against the whole service as real processes, all on 127.0.0.1.

Starts PostgreSQL 15, Redis, the API, grading workers (several processes with their own --hostname, to
show scale-out) and a deliveries worker; creates an instructor token, students and an LMS integration
whose callback URL is a receiver in this script. Then:

  1. bare compute: each kind of notebook's code run in a fresh process that has already imported
     TensorFlow (the ideal's numerator), measured before the service starts, on a quiet machine;
  2. the burst: --count submissions (solutions, untouched templates, wrong models), half through the
     signed LMS webhook and half through the student web form (login with CSRF, multipart upload), sent
     by --clients concurrent clients; --late of them are held back and sent during step 3;
  3. while both grading slots are busy: --clients clients for --probe-seconds, each doing a request and
     then thinking (exponential, mean --think seconds): new uploads (the held-back ones), replayed LMS
     webhooks (same webhook-id, answered 202 with the same submission, nothing new stored),
     a student's progress poll and the instructor's REST report;
  4. waits for every result and callback, then checks through the database and the REST API that each
     submission has exactly one grading, one final result with its kind's score, and (LMS) one delivery
     whose callbacks all carry its webhook-id, and reports throughput, latencies and gradings per worker.

It stops by itself (--timeout bounds the wait for results) and exits 1 when a submission was lost,
graded twice or scored wrongly.
"""

import argparse
import asyncio
import base64
import csv
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from standardwebhooks import Webhook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "service"))

from service_processes import (  # noqa: E402
    callback_receiver,
    create_database,
    free_port,
    postgres,
    ready,
    redis,
    running,
    tfgrade,
    wait_until,
)

from workers.database import session_scope  # noqa: E402
from workers.models import Delivery, Grading, GradingState, Submission  # noqa: E402
from workers.settings import Settings  # noqa: E402

SLUG = "c1w1-housing-prices"
WEEK1 = ROOT / "assignments" / SLUG
WRONG_MODEL = ("tf.keras.layers.Dense(units=1)", "tf.keras.layers.Dense(units=2)")
SHORT_TRAINING = ("epochs=500", "epochs=50")


def wrong_notebook() -> bytes:
    """The solution with a wrong model (a Dense layer of 2 units) trained for 50 epochs: 5 of 10 points."""
    notebook = json.loads((WEEK1 / "solution.ipynb").read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for old, new in (WRONG_MODEL, SHORT_TRAINING):
            source = source.replace(old, new)
        cell["source"] = source
    return json.dumps(notebook).encode()


@dataclass(frozen=True)
class Kind:
    name: str
    notebook: bytes
    score: float


KINDS = {
    "solution": Kind("solution", (WEEK1 / "solution.ipynb").read_bytes(), 10.0),
    "template": Kind("template", (WEEK1 / "template.ipynb").read_bytes(), 0.0),
    "wrong": Kind("wrong", wrong_notebook(), 5.0),
}

# --- bare compute -------------------------------------------------------------------------------------

BARE_RUNNER = """
import json, os, sys, time
started = time.perf_counter()
import tensorflow
imported = time.perf_counter() - started
cells = json.loads(sys.stdin.readline())
os.chdir(sys.argv[1])
cpu, started = time.process_time(), time.perf_counter()
namespace = {"__name__": "__main__"}
for source in cells:
    try:
        exec(compile(source, "<cell>", "exec"), namespace)
    except Exception:
        pass
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  "import_seconds": imported}), flush=True)
"""


def code_cells(notebook: bytes) -> list[str]:
    cells = []
    for cell in json.loads(notebook)["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            cells.append("".join(source) if isinstance(source, list) else source)
    return cells


def bare_compute(kind: Kind) -> dict[str, float]:
    """The notebook's code cells (each on its own, as the grader runs them) in a warm process."""
    scratch = Path(tempfile.mkdtemp(prefix="tfgrade-load-bare-"))
    if (WEEK1 / "data").is_dir():
        (scratch / "data").symlink_to(WEEK1 / "data")
    done = subprocess.run(
        [sys.executable, "-c", BARE_RUNNER, str(scratch)],
        input=json.dumps(code_cells(kind.notebook)) + "\n",
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    measured: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


def bare_compute_side_by_side(kind: Kind, copies: int) -> float:
    """Mean seconds of `copies` bare runs at once: what each core does while all of them are busy.

    On these virtual machines a core runs the same work about a third slower when its sibling is busy
    too, so the solo measurement overstates what the machine can do in parallel.
    """
    with ThreadPoolExecutor(copies) as pool:
        runs = list(pool.map(lambda _: bare_compute(kind), range(copies)))
    return statistics.mean(run["seconds"] for run in runs)


# --- the LMS on loopback ------------------------------------------------------------------------------


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


# --- submissions --------------------------------------------------------------------------------------


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


async def log_in(url: str, student: Student) -> None:
    client = httpx.AsyncClient(base_url=url, timeout=60)
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
    return httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)


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


# --- measurements -------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: with n values, p99 is the largest when n <= 100."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    if not values:
        return "n=0"
    parts = [f"p{p}={percentile(values, p) * scale:.{digits}f}" for p in (50, 95, 99)]
    return f"n={len(values)} " + " ".join(parts) + f" max={max(values) * scale:.{digits}f}"


def cpu_times() -> tuple[float, float]:
    fields = [float(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def busy_fraction(before: tuple[float, float], after: tuple[float, float]) -> float:
    total, idle = after[0] - before[0], after[1] - before[1]
    return 1 - idle / total if total else 0.0


def epoch(moment: datetime | None) -> float:
    assert moment is not None
    return moment.replace(tzinfo=UTC).timestamp()


def running_gradings(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        return (
            session.scalar(select(func.count(Grading.id)).where(Grading.state == GradingState.RUNNING)) or 0
        )


def all_final(settings: Settings, ids: list[str]) -> bool:
    with session_scope(settings.database_url) as session:
        finished = session.scalar(
            select(func.count(Submission.id)).where(Submission.id.in_(ids), Submission.status.is_not(None))
        )
    return finished == len(ids)


def verify(service: Service, planned: list[Planned]) -> tuple[list[str], dict[str, Any]]:
    """Exactly one grading and one result per submission, with its kind's score; one delivery per LMS
    submission, every callback of it carrying its webhook-id and a valid signature."""
    problems: list[str] = []
    facts: dict[str, Any] = {}
    by_id = {item.submission_id: item for item in planned}
    callbacks: dict[str, list[Received]] = {}
    for received in list(service.lms.callbacks):
        callbacks.setdefault(received.submission_id or "?", []).append(received)
    with session_scope(service.settings.database_url) as session:
        stored = session.scalars(select(Submission)).all()
        facts["stored"] = len(stored)
        if len(stored) != len(planned):
            problems.append(f"{len(stored)} submissions stored for {len(planned)} sent")
        per_worker: Counter[str] = Counter()
        attempts: Counter[int] = Counter()
        graded_at: dict[str, float] = {}
        queued_seconds: dict[str, list[float]] = {}
        run_seconds: dict[str, list[float]] = {}
        for submission in stored:
            item = by_id.get(submission.id)
            if item is None:
                problems.append(f"{submission.id}: stored but never sent")
                continue
            gradings = submission.gradings
            if len(gradings) != 1 or gradings[0].state != GradingState.DONE:
                problems.append(f"{submission.id}: gradings {[(g.state, g.status) for g in gradings]}")
                continue
            grading = gradings[0]
            if submission.result_grading_id != grading.id:
                problems.append(f"{submission.id}: result is not its one grading")
            if (submission.status, submission.score) != ("graded", item.kind.score):
                problems.append(
                    f"{submission.id} ({item.kind.name}): {submission.status} {submission.score}, "
                    f"expected graded {item.kind.score}"
                )
            per_worker[grading.worker or "?"] += 1
            attempts[grading.attempts] += 1
            graded_at[submission.id] = epoch(submission.graded_at)
            queued_seconds.setdefault(item.kind.name, []).append(
                (grading.started_at - submission.created_at).total_seconds()  # type: ignore[operator]
            )
            run_seconds.setdefault(item.kind.name, []).append(grading.duration_seconds or 0.0)
            if item.channel == "lms":
                deliveries = session.scalars(
                    select(Delivery).where(Delivery.submission_id == submission.id)
                ).all()
                got = callbacks.get(submission.id, [])
                if len(deliveries) != 1:
                    problems.append(f"{submission.id}: {len(deliveries)} deliveries")
                elif not got:
                    problems.append(f"{submission.id}: no callback received")
                else:
                    if {c.headers.get("webhook-id") for c in got} != {deliveries[0].webhook_id}:
                        problems.append(f"{submission.id}: callbacks with another webhook-id")
                    for callback in got:
                        if not callback.signed:
                            problems.append(f"{submission.id}: a callback without a valid signature")
                        report = json.loads(callback.body)
                        if (report["status"], report["score"]) != ("graded", item.kind.score):
                            problems.append(
                                f"{submission.id}: callback says {report['status']} {report['score']}"
                            )
            elif submission.id in callbacks:
                problems.append(f"{submission.id}: a web-form submission was called back")
    facts.update(
        per_worker=dict(per_worker),
        attempts=dict(attempts),
        graded_at=graded_at,
        queued_seconds=queued_seconds,
        run_seconds=run_seconds,
        callbacks_per_lms_submission=Counter(
            len(callbacks.get(item.submission_id, [])) for item in planned if item.channel == "lms"
        ),
    )
    # The instructor's view agrees with the database.
    with httpx.Client(base_url=service.url, headers={"authorization": f"Bearer {service.token}"}) as client:
        for item in planned:
            report = client.get(f"/api/v1/submissions/{item.submission_id}").json()
            if (report.get("status"), report.get("score")) != ("graded", item.kind.score):
                problems.append(
                    f"{item.submission_id}: REST report says {report.get('status')} {report.get('score')}"
                )
    return problems, facts


# --- the run ------------------------------------------------------------------------------------------


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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200, help="submissions in all")
    parser.add_argument("--solutions", type=float, default=0.25, help="share of full solutions (~17 s each)")
    parser.add_argument(
        "--wrong", type=float, default=0.35, help="share of wrong models; the rest are templates"
    )
    parser.add_argument("--late", type=float, default=0.25, help="share held back and sent during the probe")
    parser.add_argument("--grading-workers", type=int, default=2, help="grading worker processes")
    parser.add_argument("--slots", type=int, default=os.cpu_count() or 1, help="grading slots in all")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--probe-seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a client's requests")
    parser.add_argument("--timeout", type=float, default=1200.0, help="longest wait for all results")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the logs folder")
    args = parser.parse_args()

    planned = plan(args.count, args.solutions, args.wrong, args.late, args.seed)
    mix = Counter(item.kind.name for item in planned)
    print(
        f"plan: {args.count} submissions {dict(mix)}, {sum(i.channel == 'lms' for i in planned)} via LMS, "
        f"{sum(i.channel == 'web' for i in planned)} via the web form, {sum(i.late for i in planned)} late",
        flush=True,
    )

    print(
        f"command: {' '.join([os.path.relpath(sys.executable), *sys.argv])}; load average {os.getloadavg()[0]:.1f}"
    )
    print("bare compute (fresh process, TensorFlow imported first, one kind at a time) ...", flush=True)
    bare = {name: bare_compute(kind) for name, kind in KINDS.items()}
    for name, measured in bare.items():
        print(
            f"  {name:<9} {measured['seconds']:6.2f} s (cpu {measured['cpu']:.2f} s; "
            f"import tensorflow {measured['import_seconds']:.2f} s)",
            flush=True,
        )
    cores = os.cpu_count() or 1
    ideal_seconds = sum(bare[item.kind.name]["seconds"] for item in planned) / cores
    side_by_side = {name: bare_compute_side_by_side(kind, cores) for name, kind in KINDS.items()}
    print(
        f"  side by side ({cores} at once, mean s): "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in side_by_side.items()),
        flush=True,
    )
    parallel_ideal_seconds = sum(side_by_side[item.kind.name] for item in planned) / cores

    root = Path(tempfile.mkdtemp(prefix="tfgrade-load-"))
    code = 0
    with ExitStack() as exits:
        server = exits.enter_context(postgres())
        broker = exits.enter_context(redis())
        receiver = exits.enter_context(lms_receiver())
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            "TFGRADE_SECRET_KEY": "load-secret",
            "TFGRADE_DATA_DIR": str(root / "data"),
            "TFGRADE_DATABASE_URL": create_database(server, "tfgrade_load"),
            "TFGRADE_BROKER_URL": f"{broker}/0",
            "TFGRADE_PUBLIC_URL": url,
            "TFGRADE_DELIVERY_BACKOFF_SECONDS": "1",
        }
        settings = Settings.model_validate({k.removeprefix("TFGRADE_").lower(): v for k, v in env.items()})
        tfgrade(env, "migrate")
        token = tfgrade(env, "tokens", "create", "--name", "load").strip().splitlines()[-1]
        secret = (
            tfgrade(env, "integrations", "create", "--name", "lms", "--callback-url", receiver.url)
            .strip()
            .splitlines()[-1]
        )
        receiver.secret = secret
        web_items = [item for item in planned if item.channel == "web"]
        roster = root / "roster.csv"
        with roster.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["email", "name"])
            for item in web_items:
                writer.writerow([f"student-{item.index}@example.com", f"Student {item.index}"])
        rows = tfgrade(env, "students", "import", str(roster)).strip().splitlines()[1:]
        passwords = dict(row.split(",", 1) for row in rows)
        # One student per web upload: the assignment's 30 s cooldown applies to each student.
        students = {
            item.index: Student(
                f"student-{item.index}@example.com", passwords[f"student-{item.index}@example.com"]
            )
            for item in web_items
        }

        def start(name: str, *arguments: str) -> subprocess.Popen[bytes]:
            return exits.enter_context(running(env, root / f"{name}.log", *arguments))

        start("api", "api", "--port", str(port))
        hostnames = [f"grading-{chr(ord('a') + n)}@bench" for n in range(args.grading_workers)]
        slots = [
            args.slots // args.grading_workers + (n < args.slots % args.grading_workers)
            for n in range(args.grading_workers)
        ]
        for hostname, concurrency in zip(hostnames, slots, strict=True):
            start(
                hostname.split("@")[0],
                "worker",
                "--queues",
                "grading",
                "--concurrency",
                str(concurrency),
                "--hostname",
                hostname,
            )
        start(
            "deliveries",
            "worker",
            "--queues",
            "deliveries",
            "--concurrency",
            "2",
            "--hostname",
            "deliveries@bench",
        )
        wait_until(lambda: ready(url), 120, f"the service (logs in {root})")
        # Let the sandboxes finish importing TensorFlow before the clock starts.
        time.sleep(15)
        print(
            f"service ready at {url}: grading workers {dict(zip(hostnames, slots, strict=True))}, "
            f"deliveries@bench; logs in {root}",
            flush=True,
        )
        service = Service(url, token, secret, receiver, settings)

        async def drive() -> Probe:
            await asyncio.gather(*(log_in(url, student) for student in students.values()))
            burst_started = time.time()
            await burst(service, planned, students, args.clients)
            print(
                f"burst: {sum(not i.late for i in planned)} uploads in {time.time() - burst_started:.1f} s",
                flush=True,
            )
            deadline = time.monotonic() + 120
            while running_gradings(settings) < min(args.slots, len(planned)) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            measured = await probe(
                service, planned, students, args.clients, args.probe_seconds, args.think, args.seed
            )
            for student in students.values():
                if student.client is not None:
                    await student.client.aclose()
            return measured

        cpu_before, load_before = cpu_times(), os.getloadavg()
        probed = asyncio.run(drive())
        print(
            f"probe: {sum(len(v) for v in probed.timings.values())} requests in "
            f"{probed.ended - probed.started:.1f} s, {running_gradings(settings)} gradings running at its end",
            flush=True,
        )
        ids = [item.submission_id for item in planned]
        wait_until(lambda: all_final(settings, ids), args.timeout, f"all results (logs in {root})")
        cpu_after, load_after = cpu_times(), os.getloadavg()
        lms_ids = {item.submission_id for item in planned if item.channel == "lms"}
        wait_until(
            lambda: lms_ids <= {c.submission_id for c in list(receiver.callbacks)}, 120, "every callback"
        )
        time.sleep(3)  # a late repeat of a callback would show now
        problems, facts = verify(service, planned)

    first_sent = min(item.sent_at for item in planned)
    last_result = max(facts["graded_at"].values()) if facts["graded_at"] else time.time()
    elapsed = last_result - first_sent
    to_result = {
        name: [
            facts["graded_at"][i.submission_id] - i.sent_at
            for i in planned
            if i.kind.name == name and i.submission_id in facts["graded_at"]
        ]
        for name in KINDS
    }
    everything = [v for values in to_result.values() for v in values]
    burst_uploads = [item.upload_seconds for item in planned if not item.late]
    all_probe = [v for values in probed.timings.values() for v in values]

    print("\n=== results ===")
    print(
        f"submissions: sent {len(planned)}, stored {facts['stored']}, final {len(facts['graded_at'])}; "
        f"gradings per submission attempts {facts['attempts']}"
    )
    print(f"problems: {len(problems)}")
    for problem in problems[:20]:
        print(f"  - {problem}")
    print(f"callbacks per LMS submission: {dict(facts['callbacks_per_lms_submission'])}")
    print(f"gradings per worker: {facts['per_worker']}")
    print(
        f"throughput: {len(planned)} in {elapsed:.1f} s = {len(planned) / elapsed * 60:.1f}/min; "
        f"ideal {ideal_seconds:.1f} s = {len(planned) / ideal_seconds * 60:.1f}/min "
        f"(bare compute summed / {cores} cores); ratio {ideal_seconds / elapsed:.2f}"
    )
    print(
        f"  ideal from bare compute measured {cores} at once: {parallel_ideal_seconds:.1f} s, "
        f"ratio {parallel_ideal_seconds / elapsed:.2f}"
    )
    print(f"  machine CPU busy {busy_fraction(cpu_before, cpu_after):.0%} from burst to last result")
    bare_cpu = sum(bare[item.kind.name]["cpu"] for item in planned)
    print(
        f"  bare compute CPU {bare_cpu:.0f} s: ideal by CPU {bare_cpu / cores:.1f} s, ratio "
        f"{bare_cpu / cores / elapsed:.2f}; load average {load_before[0]:.1f} before the burst, "
        f"{load_after[0]:.1f} at the last result"
    )
    print(f"upload to result (s): all {summary(everything)}")
    for name, values in to_result.items():
        print(
            f"  {name:<9} {summary(values)}; queued {summary(facts['queued_seconds'].get(name, []))}; "
            f"grading {summary(facts['run_seconds'].get(name, []))}"
        )
    print(f"burst uploads ({args.clients} concurrent clients, ms): {summary(burst_uploads, 1000, 0)}")
    print(
        f"while grading runs ({args.clients} clients, {args.probe_seconds:.0f} s, think {args.think} s, "
        f"{len(all_probe) / (probed.ended - probed.started):.0f} req/s, ms):"
    )
    for what, values in probed.timings.items():
        print(f"  {what:<17} {summary(values, 1000, 0)}")
    print(f"  {'all requests':<17} {summary(all_probe, 1000, 0)}; errors {dict(probed.errors) or 'none'}")
    uploads_busy = probed.timings["new upload"] + probed.timings["replayed webhook"]
    p99 = percentile(uploads_busy, 99) * 1000 if uploads_busy else float("nan")
    print(
        f"targets: upload p99 while busy {p99:.0f} ms (< 100): {'met' if p99 < 100 else 'MISSED'}; "
        f"throughput {ideal_seconds / elapsed:.0%} of ideal (>= 80%): "
        f"{'met' if ideal_seconds / elapsed >= 0.8 else 'MISSED'} "
        f"({parallel_ideal_seconds / elapsed:.0%} of the side-by-side ideal); lost or duplicated: "
        f"{len(problems)} ({'met' if not problems else 'MISSED'})"
    )
    if problems or probed.errors:
        code = 1
    if not args.keep:
        subprocess.run(["rm", "-rf", str(root)], check=False)
    return code


if __name__ == "__main__":
    sys.exit(main())
