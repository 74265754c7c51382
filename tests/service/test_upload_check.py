"""The upload check in its own process: what it answers for the notebook, and what it never blames on it."""

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest

from app import uploads
from app.errors import ServiceBusy
from app.uploads import UploadRejected, check_upload
from grader import Catalog

ASSIGNMENT = Catalog(Path(__file__).resolve().parents[2] / "assignments").get("c1w1-housing-prices")
TEMPLATE = ASSIGNMENT.template_path.read_bytes()


def test_a_gradable_notebook_passes_and_a_damaged_one_is_refused_in_grading_words() -> None:
    check_upload(TEMPLATE, ASSIGNMENT, 5_000_000)
    with pytest.raises(UploadRejected, match="not a Jupyter notebook"):
        check_upload(TEMPLATE[:100], ASSIGNMENT, 5_000_000)


def test_an_oversized_notebook_is_refused_by_its_size_alone() -> None:
    with pytest.raises(UploadRejected, match="larger than the 5 MB allowed"):
        check_upload(b"{" + b" " * 5_000_000, ASSIGNMENT, 5_000_000)


def test_a_notebook_that_takes_too_long_to_read_is_refused_with_a_message() -> None:
    notebook = json.loads(TEMPLATE)
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["a\n"] * 12_000_000})
    heavy = json.dumps(notebook).encode()
    started = time.process_time()
    with pytest.raises(UploadRejected, match="could not be read in time"):
        check_upload(heavy, ASSIGNMENT, len(heavy), cpu_seconds=1)
    assert time.process_time() - started < 1, "the API's own process did the reading"


def test_a_check_that_fails_is_the_services_fault_not_a_refusal() -> None:
    broken = dataclasses.replace(ASSIGNMENT, directory=Path("/nonexistent"))
    with pytest.raises(RuntimeError, match="exit code 1"):
        check_upload(TEMPLATE, broken, 5_000_000)


def test_when_every_check_slot_is_taken_an_upload_is_told_to_come_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uploads, "CHECK_QUEUE_SECONDS", 0.1)
    monkeypatch.setattr(uploads, "_checks_running", threading.BoundedSemaphore(1))
    uploads._checks_running.acquire()
    with pytest.raises(ServiceBusy) as busy:
        check_upload(TEMPLATE, ASSIGNMENT, 5_000_000)
    assert (busy.value.status_code, busy.value.headers) == (503, {"Retry-After": "30"})
    uploads._checks_running.release()
    check_upload(TEMPLATE, ASSIGNMENT, 5_000_000)
