from grader import Assignment, refusal

# Besides the notebook, an upload form or an LMS's JSON: file name, ids, CSRF token, multipart boundaries.
ENVELOPE_BYTES = 64 * 1024


class UploadRejected(Exception):
    """An upload refused before anything is stored; the message is shown to the student."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_upload(data: bytes, assignment: Assignment, max_bytes: int) -> None:
    """Refuses at once, with grading's own words, what could never be graded for this assignment."""
    reason = refusal(data, assignment, max_bytes=max_bytes)
    if reason is not None:
        raise UploadRejected(reason)


def request_body_limit(max_upload_bytes: int) -> int:
    """The largest request body an allowed notebook needs (an LMS sends it in base64, a third larger).
    Anything larger is refused while it arrives, before a form is parsed or a webhook's signature checked,
    so a sender without an account cannot make the server take in a body of any size."""
    return 4 * -(-max_upload_bytes // 3) + ENVELOPE_BYTES
