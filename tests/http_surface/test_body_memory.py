"""Bodies far over the limit, sent to the API under uvicorn without an account or a signature: refused
while they arrive, and the server's memory stays where it was."""

from collections.abc import Iterator

import httpx
import pytest
from helpers import LiveApi

SENT_BYTES = 400 * 1024 * 1024
# Python's allocator and uvicorn's buffers move a little with any traffic; a body taken in would be 400 MB.
ALLOWED_GROWTH_BYTES = 40 * 1024 * 1024


def resident_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


FILE_PART = b'--x\r\nContent-Disposition: form-data; name="notebook"; filename="big.ipynb"\r\n\r\n'


def chunks(size: int, start: bytes) -> Iterator[bytes]:
    """`start`, then spaces up to `size` bytes: a file part that never ends, for a form."""
    yield start
    piece = b" " * (1024 * 1024)
    left = size - len(start)
    while left > 0:
        yield piece[:left]
        left -= len(piece)


def send(url: str, path: str, declared: bool) -> int:
    """The status the server answers with; a server that stops reading may also close the connection."""
    form = path.startswith("/assignments")
    kind = "multipart/form-data; boundary=x" if form else "application/json"
    headers = {"content-type": kind, "webhook-id": "msg_big"}
    if declared:
        headers["content-length"] = str(SENT_BYTES)
    try:
        response = httpx.post(
            f"{url}{path}",
            content=chunks(SENT_BYTES, FILE_PART if form else b""),
            headers=headers,
            timeout=60,
        )
    except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError):
        return 0
    return response.status_code


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/api/v1/lms/submissions", "/assignments/c1w1-housing-prices/submissions"])
def test_a_huge_body_is_refused_as_it_arrives_and_memory_stays_flat(
    live_api: LiveApi, path: str, declared: bool
) -> None:
    before = resident_bytes(live_api.pid)
    assert send(live_api.url, path, declared) in (0, 413)
    assert resident_bytes(live_api.pid) - before < ALLOWED_GROWTH_BYTES
    assert httpx.get(f"{live_api.url}/healthz").status_code == 200
