from grader import Assignment, refusal


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
