"""Checking an upload before it is stored, in a child process so that reading it never holds the API.

Reading a notebook is linear in its size, but `json.loads` of a few megabytes still holds the interpreter
for a good part of a second; in a process of its own it delays no other request.
"""

import multiprocessing
import os
import resource
import signal
import threading
from multiprocessing.connection import Connection

from app.errors import ServiceBusy
from grader import Assignment, refusal

# The child inherits nothing of the API's threads or sockets: it is forked from a small server process
# that has imported only the grader.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["grader.intake"])
CHECK_CPU_SECONDS = 5
CHECK_WALL_SECONDS = 20
# As many checks at once as there are cores; an upload waits this long for its turn, then gets a 503.
CHECK_QUEUE_SECONDS = 10
_checks_running = threading.BoundedSemaphore(os.cpu_count() or 1)
# Besides the notebook, an upload form or an LMS's JSON: file name, ids, CSRF token, multipart boundaries.
ENVELOPE_BYTES = 64 * 1024


class UploadRejected(Exception):
    """An upload refused before anything is stored; the message is shown to the student."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UploadDeferred(UploadRejected):
    """An upload that may be sent again, unchanged, once `retry_after` seconds have passed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def check_upload(
    data: bytes, assignment: Assignment, max_bytes: int, *, cpu_seconds: int = CHECK_CPU_SECONDS
) -> None:
    """Refuses at once, with grading's own words, what could never be graded for this assignment.

    Raises RuntimeError when the check itself fails: that is no answer about the notebook."""
    if len(data) > max_bytes:
        reason = refusal(data, assignment, max_bytes=max_bytes)  # refused by its size, before any reading
    elif not _checks_running.acquire(timeout=CHECK_QUEUE_SECONDS):
        raise ServiceBusy("Too many notebooks are being checked right now. Upload yours again in a minute.")
    else:
        try:
            reason = _refusal_in_child(data, assignment, max_bytes, cpu_seconds)
        finally:
            _checks_running.release()
    if reason is not None:
        raise UploadRejected(reason)


def _refusal_in_child(data: bytes, assignment: Assignment, max_bytes: int, cpu_seconds: int) -> str | None:
    receiving, sending = _CONTEXT.Pipe(duplex=False)
    arguments = (sending, data, assignment, max_bytes, cpu_seconds)
    child = _CONTEXT.Process(target=_answer, args=arguments, daemon=True)
    child.start()
    sending.close()
    try:
        if receiving.poll(CHECK_WALL_SECONDS):
            answer: str | None = receiving.recv()
            return answer
    except EOFError:
        pass
    finally:
        receiving.close()
        child.kill()
        child.join()
    # Only the CPU limit speaks of the notebook; a wall-time overrun speaks of a machine too busy to answer.
    if child.exitcode != -signal.SIGXCPU:
        raise RuntimeError(f"the upload check gave no answer (exit code {child.exitcode})")
    return (
        "This notebook could not be read in time. Clear its outputs (Edit > Clear All Outputs), save it "
        "and upload it again."
    )


def _answer(
    sending: Connection, data: bytes, assignment: Assignment, max_bytes: int, cpu_seconds: int
) -> None:
    os.nice(10)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The soft limit sends SIGXCPU, which names the notebook as the cause; the hard one only SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    sending.send(refusal(data, assignment, max_bytes=max_bytes))


def request_body_limit(max_upload_bytes: int) -> int:
    """The largest request body an allowed notebook needs (an LMS sends it in base64, a third larger).
    Anything larger is refused while it arrives, before a form is parsed or a webhook's signature checked,
    so a sender without an account cannot make the server take in a body of any size."""
    return 4 * -(-max_upload_bytes // 3) + ENVELOPE_BYTES
