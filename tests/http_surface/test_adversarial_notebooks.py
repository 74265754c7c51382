"""Notebooks built to make reading them slow: the API under uvicorn answers each upload within 2 s and
keeps answering everyone else within 100 ms meanwhile."""

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from helpers import WEEK1, WEEK1_DIR, LiveApi, csrf_from, new_student

from workers.settings import Settings

TEMPLATE = json.loads((WEEK1_DIR / "template.ipynb").read_text())
LIMIT = 5 * 1024 * 1024
MARKER = "    ### START CODE HERE"
Source = str | list[str]


def with_graded_source(source: Source) -> bytes:
    notebook = json.loads(json.dumps(TEMPLATE))
    graded = next(
        cell
        for cell in notebook["cells"]
        if cell["cell_type"] == "code" and "START CODE HERE" in "".join(cell["source"])
    )
    graded["source"] = source
    return json.dumps(notebook).encode()


def filling(unit: Callable[[int], Source]) -> bytes:
    """The notebook with the most repetitions of `unit` that the upload limit allows."""
    one, two = (len(with_graded_source(unit(count))) for count in (1, 2))
    return with_graded_source(unit((LIMIT - 1 - one) // (two - one) + 1))


# How each is answered: stored for grading (303), or refused with a message (422).
ADVERSARIAL = {
    # Each line just under the line-length cap: a backtracking marker pattern takes about a second on each.
    "blanks-after-markers": (lambda count: (MARKER + " " * 19_000 + "x\n") * count, 303),
    "runs-of-hashes": (lambda count: ("#" * 19_000 + " x\n") * count, 303),
    "marker-fragments": (lambda count: ("## START CODE HERE ## END CODE HERE #" * 500 + "\n") * count, 303),
    "one-very-long-line": (lambda count: "x = 0" + " " * count, 422),
    "a-million-tiny-lines": (lambda count: ["a\n"] * count, 303),
}


def logged_in(url: str, settings: Settings) -> httpx.Client:
    login = new_student(settings)
    client = httpx.Client(base_url=url, timeout=10)
    token = csrf_from(client.get("/login").text)
    answer = client.post(
        "/login", data={"email": login.email, "password": login.password, "csrf_token": token}
    )
    assert answer.status_code == 303
    return client


# Runs in a process of its own, so that the test's own upload does not slow the asking down.
PROBE = """
import sys, time, httpx
slowest, answers = 0.0, 0
with httpx.Client(base_url=sys.argv[1], timeout=10) as client:
    print("ready", flush=True)
    while not sys.stdin.readline().startswith("stop"):
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        slowest, answers = max(slowest, time.perf_counter() - started), answers + 1
print(slowest, answers, flush=True)
"""


class HealthProbe:
    """Asks /healthz every few milliseconds until stopped; keeps the slowest answer's time."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", PROBE, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        assert self.process.stdout.readline() == "ready\n"
        self.ticker = threading.Thread(target=self._tick, daemon=True)
        self.stopped = threading.Event()
        self.ticker.start()

    def _tick(self) -> None:
        assert self.process.stdin is not None
        while not self.stopped.wait(0.005):
            self.process.stdin.write("ask\n")
            self.process.stdin.flush()

    def stop(self) -> tuple[float, int]:
        self.stopped.set()
        self.ticker.join()
        output, _ = self.process.communicate("stop\n", timeout=30)
        slowest, answers = output.split()
        return float(slowest), int(answers)


@pytest.mark.parametrize(("unit", "status"), ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_an_adversarial_notebook_is_answered_quickly_and_holds_no_one_else(
    live_api: LiveApi, unit: Callable[[int], Source], status: int
) -> None:
    url, settings = live_api.url, live_api.settings
    notebook = filling(unit)
    assert LIMIT - 50_000 < len(notebook) <= LIMIT == settings.max_upload_bytes
    student = logged_in(url, settings)
    token = csrf_from(student.get(f"/assignments/{WEEK1}").text)
    probe = HealthProbe(url)
    started = time.perf_counter()
    answer = student.post(
        f"/assignments/{WEEK1}/submissions",
        data={"csrf_token": token},
        files={"notebook": ("mine.ipynb", notebook, "application/x-ipynb+json")},
    )
    took = time.perf_counter() - started
    slowest, answers = probe.stop()
    assert answer.status_code == status, answer.text[:500]
    if status == 422:
        assert "has a line of" in answer.text
    assert took < 2.0
    assert answers >= 3
    assert slowest < 0.1
